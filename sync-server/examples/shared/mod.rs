//! What the load benchmarks share: a sealed-entry stand-in and one HTTP/1.1 request on a
//! keep-alive connection (a bare client, so the figures are the server's, not a client
//! library's).
#![allow(dead_code)]

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use vault_core::{Hlc, Namespace, RecordId, StoredRecord};

pub fn entry(client: usize, n: usize) -> StoredRecord {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&(client as u64).to_le_bytes());
    id[8..].copy_from_slice(&(n as u64).to_le_bytes());
    StoredRecord {
        id: RecordId::from_bytes(id),
        namespace: Namespace::new("chatgpt").expect("valid"),
        version: 1,
        hlc: Hlc {
            wall_ms: 1_763_800_000_000 + n as u64,
            counter: 0,
            node: client as u64,
        },
        deleted: false,
        envelope: Some((0..440).map(|b| (b * 31 + n) as u8).collect()),
    }
}

/// One HTTP/1.1 request on a keep-alive connection; returns the status and the body.
pub async fn request(
    conn: &mut BufReader<TcpStream>,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&[u8]>,
) -> Result<(u16, Vec<u8>), String> {
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n");
    if let Some(b) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    head.push_str("\r\n");
    let stream = conn.get_mut();
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    if let Some(b) = body {
        stream.write_all(b).await.map_err(|e| e.to_string())?;
    }
    let mut line = String::new();
    conn.read_line(&mut line).await.map_err(|e| e.to_string())?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {line:?}"))?;
    let mut length = 0usize;
    loop {
        line.clear();
        conn.read_line(&mut line).await.map_err(|e| e.to_string())?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().map_err(|_| "bad content-length")?;
            }
        }
    }
    let mut buf = vec![0u8; length];
    conn.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
    Ok((status, buf))
}
