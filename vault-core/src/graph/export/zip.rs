//! A store-only ZIP writer (PKWARE APPNOTE 6.3: local headers, central directory, end
//! record; no compression, UTF-8 names), so the Markdown vault downloads as one file from
//! the browser and the command line without a compression dependency in the wasm build.
//! Notes are small text; a user who wants it smaller can recompress.

use super::super::overview::civil;
use super::super::{GraphError, DAY_MS};

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as ZIP requires.
pub fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        t
    });
    !data.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8)
    })
}

/// MS-DOS `(time, date)` of a Unix time in ms (UTC; DOS dates start in 1980).
fn dos_time(ms: u64) -> (u16, u16) {
    let day = (ms / DAY_MS) as i64;
    let (y, m, d) = civil(day);
    let secs = (ms % DAY_MS) / 1000;
    let time = (((secs / 3600) << 11) | (((secs % 3600) / 60) << 5) | ((secs % 60) / 2)) as u16;
    let date = ((((y.clamp(1980, 2107) - 1980) as u32) << 9) | (m << 5) | d) as u16;
    (time, date)
}

fn safe_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.contains('\0')
        && path
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..")
}

/// Packs `(relative path, bytes)` into a ZIP archive stamped with `modified_ms`.
pub fn zip_store<P: AsRef<str>, B: AsRef<[u8]>>(
    files: &[(P, B)],
    modified_ms: u64,
) -> Result<Vec<u8>, GraphError> {
    if files.len() > usize::from(u16::MAX) {
        return Err(GraphError::TooManyFiles { files: files.len() });
    }
    let (time, date) = dos_time(modified_ms);
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (path, bytes) in files {
        let (path, bytes) = (path.as_ref(), bytes.as_ref());
        if !safe_path(path) || path.len() > usize::from(u16::MAX) {
            return Err(GraphError::BadPath(path.to_owned()));
        }
        let size = u32::try_from(bytes.len()).map_err(|_| GraphError::FileTooLarge {
            path: path.to_owned(),
            bytes: bytes.len(),
        })?;
        let offset = u32::try_from(out.len()).map_err(|_| GraphError::ArchiveTooLarge)?;
        let crc = crc32(bytes);
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&10u16.to_le_bytes()); // version needed: 1.0 (stored)
            v.extend_from_slice(&0x0800u16.to_le_bytes()); // flags: UTF-8 names
            v.extend_from_slice(&0u16.to_le_bytes()); // method: stored
            v.extend_from_slice(&time.to_le_bytes());
            v.extend_from_slice(&date.to_le_bytes());
            v.extend_from_slice(&crc.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes()); // compressed
            v.extend_from_slice(&size.to_le_bytes()); // uncompressed
            v.extend_from_slice(&(path.len() as u16).to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra length
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(path.as_bytes());
        out.extend_from_slice(bytes);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // made by: MS-DOS, 2.0
        common(&mut central);
        central.extend_from_slice(&0u16.to_le_bytes()); // comment length
        central.extend_from_slice(&0u16.to_le_bytes()); // disk number
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(path.as_bytes());
    }
    let cd_offset = u32::try_from(out.len()).map_err(|_| GraphError::ArchiveTooLarge)?;
    let cd_size = u32::try_from(central.len()).map_err(|_| GraphError::ArchiveTooLarge)?;
    out.extend_from_slice(&central);
    u32::try_from(out.len() + 22).map_err(|_| GraphError::ArchiveTooLarge)?;
    let n = files.len() as u16;
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]); // this disk, disk with the directory
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment length
    Ok(out)
}

/// Reads back a store-only archive as `(path, bytes)`, checking every CRC. For tests and
/// for callers that want to verify what they wrote; not a general ZIP reader.
pub fn read_stored(zip: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let le16 = |i: usize| -> Result<usize, String> {
        zip.get(i..i + 2)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
            .ok_or_else(|| "truncated".to_string())
    };
    let le32 = |i: usize| -> Result<u32, String> {
        zip.get(i..i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| "truncated".to_string())
    };
    let mut out = Vec::new();
    let mut i = 0;
    while le32(i)? == 0x0403_4b50 {
        if le16(i + 8)? != 0 {
            return Err("compressed entry".into());
        }
        let crc = le32(i + 14)?;
        let size = le32(i + 18)? as usize;
        let name_len = le16(i + 26)?;
        let extra = le16(i + 28)?;
        let name_start = i + 30;
        let data_start = name_start + name_len + extra;
        let name = zip
            .get(name_start..name_start + name_len)
            .ok_or("truncated name")?;
        let data = zip
            .get(data_start..data_start + size)
            .ok_or("truncated data")?;
        if crc32(data) != crc {
            return Err(format!("CRC mismatch in {}", String::from_utf8_lossy(name)));
        }
        out.push((
            String::from_utf8(name.to_vec()).map_err(|e| e.to_string())?,
            data.to_vec(),
        ));
        i = data_start + size;
    }
    if le32(i)? != 0x0201_4b50 && !out.is_empty() {
        return Err("no central directory after the entries".into());
    }
    let end = zip.len().checked_sub(22).ok_or("no end record")?;
    if le32(end)? != 0x0605_4b50 || le16(end + 10)? != out.len() {
        return Err("end record does not match the entries".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_known_strings() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn round_trip_and_unsafe_paths() {
        let files = [("index.md", "héllo".as_bytes()), ("nodes/a/b.md", b"x")];
        let z = zip_store(&files, 1_700_000_000_000).unwrap();
        let back = read_stored(&z).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].0, "index.md");
        assert_eq!(back[0].1, "héllo".as_bytes());
        for bad in ["../x", "/etc/passwd", "a//b", "a\\b", ""] {
            assert!(zip_store(&[(bad, b"x")], 0).is_err(), "{bad}");
        }
        let (t, d) = dos_time(1_700_000_000_000); // 2023-11-14 22:13:20 UTC
        assert_eq!(d >> 9, 2023 - 1980);
        assert_eq!((d >> 5) & 0xf, 11);
        assert_eq!(d & 0x1f, 14);
        assert_eq!(t >> 11, 22);
    }
}
