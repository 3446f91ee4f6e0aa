//! How the process hands memory back to the system.

/// glibc's malloc raises its mmap threshold each time a large block is freed, after which
/// Argon2id's ~19 MiB working blocks come from the heap and stay with the process when freed:
/// after a crowd of logins the server kept ~0.6 GB it no longer used. A fixed threshold keeps
/// large blocks mmapped, so each is given back to the system as soon as it is freed (the peak
/// stays bounded by `credential::KdfGate`; afterwards the process falls back to a few MB).
/// `selfos serve` calls it first thing; so does the crowd benchmark.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn return_freed_memory_to_the_system() {
    // SAFETY: mallopt only changes a malloc tuning value and is safe to call at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

/// Other allocators give large blocks back by themselves.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn return_freed_memory_to_the_system() {}

/// This process's resident memory now and at its peak, in MiB (Linux: `/proc/self/status`).
pub fn rss_mb() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}
