//! Accepting connections, plain or TLS, with the limits a public server needs: a cap on open
//! connections in total and per client address, a header-read timeout, an idle timeout (no
//! byte either way), HTTP/1.1 only (an HTTP/2 preface is refused at once instead of leaving
//! the connection waiting), and a graceful shutdown that lets requests in flight finish.
//!
//! One loop for both schemes, so every limit holds with TLS as without.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::config::{Connections, TrustedProxies};

/// How long open connections may take to finish after a shutdown signal.
const DRAIN: Duration = Duration::from_secs(30);

/// Open connections per address and in total; a [`Slot`] gives its place back on drop.
struct Counts {
    per_address: Mutex<HashMap<IpAddr, usize>>,
    limits: Connections,
    trusted: TrustedProxies,
}

struct Slot {
    counts: Arc<Counts>,
    key: IpAddr,
}

impl Counts {
    /// The address connections are counted by: IPv6 grouped by /64 as for rate limits, and a
    /// trusted proxy not counted per address (all its clients share its address).
    fn key(&self, ip: IpAddr) -> Option<IpAddr> {
        if self.trusted.contains(ip) {
            return None;
        }
        Some(match crate::config::canonical(ip) {
            IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
            v4 => v4,
        })
    }

    fn take(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let key = self.key(ip);
        let mut map = self.per_address.lock().ok()?;
        if map.values().sum::<usize>() >= self.limits.max_total {
            return None;
        }
        // Trusted proxies share one uncapped entry (the unspecified address).
        let k = key.unwrap_or(IpAddr::from([0u8; 16]));
        let n = map.entry(k).or_insert(0);
        if key.is_some() && *n >= self.limits.max_per_address {
            return None;
        }
        *n += 1;
        Some(Slot {
            counts: self.clone(),
            key: k,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut map) = self.counts.per_address.lock() {
            if let Some(n) = map.get_mut(&self.key) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&self.key);
                }
            }
        }
    }
}

/// A stream that notes when a byte last moved, for the idle timeout.
struct Watched<S> {
    inner: S,
    last: Arc<AtomicU64>,
    born: Instant,
}

impl<S> Watched<S> {
    fn touch(&self) {
        self.last
            .store(self.born.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.touch();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting (the
/// listener is closed at once) and gives open connections up to [`DRAIN`] to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: Connections,
    trusted: TrustedProxies,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let counts = Arc::new(Counts {
        per_address: Mutex::new(HashMap::new()),
        limits,
        trusted,
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, addr): (TcpStream, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(slot) = counts.take(addr.ip()) else {
            // Over a cap: closed at once, before any byte is read.
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let service =
            TowerToHyperService::new(router.clone().layer(axum::Extension(ConnectInfo(addr))));
        let tls = tls.clone();
        let stop = stop_rx.clone();
        tasks.spawn(async move {
            let _slot = slot;
            match tls {
                None => connection(tcp, service, limits, stop).await,
                Some(acceptor) => {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(limits.header_timeout, acceptor.accept(tcp)).await
                    else {
                        return; // a failed or stalled handshake is the client's problem
                    };
                    connection(stream, service, limits, stop).await
                }
            }
        });
        // Reap finished connections so the set does not grow with the server's age.
        while tasks.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained =
        tokio::time::timeout(DRAIN, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            "connections still open after {} s; stopping anyway",
            DRAIN.as_secs()
        );
        tasks.abort_all();
    }
    Ok(())
}

/// One HTTP/1.1 connection until it ends, idles out, or the server stops.
async fn connection<S>(
    io: S,
    service: TowerToHyperService<Router>,
    limits: Connections,
    mut stop: tokio::sync::watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let last = Arc::new(AtomicU64::new(0));
    let born = Instant::now();
    let io = Watched {
        inner: io,
        last: last.clone(),
        born,
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut stopping = *stop.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let idle_for = born
            .elapsed()
            .saturating_sub(Duration::from_millis(last.load(Ordering::Relaxed)));
        let wake = limits.idle_timeout.saturating_sub(idle_for);
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!("connection: {e}");
                }
                return;
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
            _ = tokio::time::sleep(wake) => {
                let idle_for = born
                    .elapsed()
                    .saturating_sub(Duration::from_millis(last.load(Ordering::Relaxed)));
                if idle_for >= limits.idle_timeout {
                    return; // nothing moved either way for the whole idle timeout: drop it
                }
            }
        }
    }
}
