//! Prometheus metrics at `GET /metrics` (text exposition format 0.0.4), kept by hand: a few
//! counters and one latency histogram per route, no registry crate needed.
//!
//! Labels are route templates (`/api/v1/push`), never raw paths, so an attacker cannot make
//! the label set grow; nothing per account is exported.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
pub struct Metrics {
    /// (method, route, status) -> requests.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// route -> latency histogram.
    latency: Mutex<BTreeMap<String, Histogram>>,
    pub changes_accepted: AtomicU64,
    pub changes_duplicate: AtomicU64,
    pub changes_pulled: AtomicU64,
    pub rate_limited: AtomicU64,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((method.to_owned(), route.to_owned(), status))
                .or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry(route.to_owned()).or_default();
            for (i, le) in BUCKETS.iter().enumerate() {
                if seconds <= *le {
                    h.counts[i] += 1;
                }
            }
            h.sum += seconds;
            h.count += 1;
        }
    }

    pub fn render(&self, backend: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP selfos_info Server build and storage backend.\n# TYPE selfos_info gauge"
        );
        let _ = writeln!(
            out,
            "selfos_info{{version=\"{}\",backend=\"{backend}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        let _ = writeln!(out, "# HELP selfos_http_requests_total HTTP requests by route and status.\n# TYPE selfos_http_requests_total counter");
        if let Ok(r) = self.requests.lock() {
            for ((method, route, status), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "selfos_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(out, "# HELP selfos_http_request_duration_seconds Time to answer, by route.\n# TYPE selfos_http_request_duration_seconds histogram");
        if let Ok(l) = self.latency.lock() {
            for (route, h) in l.iter() {
                for (le, n) in BUCKETS.iter().zip(h.counts) {
                    let _ = writeln!(
                        out,
                        "selfos_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {n}"
                    );
                }
                let _ = writeln!(out, "selfos_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(
                    out,
                    "selfos_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "selfos_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        for (name, help, v) in [
            (
                "selfos_changes_accepted_total",
                "Changes appended to account logs.",
                &self.changes_accepted,
            ),
            (
                "selfos_changes_duplicate_total",
                "Pushed changes already stored (retries).",
                &self.changes_duplicate,
            ),
            (
                "selfos_changes_pulled_total",
                "Changes served to pulling clients.",
                &self.changes_pulled,
            ),
            (
                "selfos_rate_limited_total",
                "Requests answered 429.",
                &self.rate_limited,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        out
    }
}
