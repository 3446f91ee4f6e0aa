//! Waiting on two futures at once, without an executor or a dependency: on the browser's
//! single thread this is how two pieces of I/O (a WebCrypto derivation and an IndexedDB
//! scan) overlap.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

/// Polls `a` and `b` together; resolves with both outputs once both are ready.
pub async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut out_a, mut out_b) = (None, None);
    poll_fn(move |cx| {
        if out_a.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                out_a = Some(v);
            }
        }
        if out_b.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                out_b = Some(v);
            }
        }
        match (out_a.take(), out_b.take()) {
            (Some(x), Some(y)) => Poll::Ready((x, y)),
            (x, y) => {
                (out_a, out_b) = (x, y);
                Poll::Pending
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pending once, then ready: both halves must be polled again after a wake.
    struct Later(u8, bool);
    impl Future for Later {
        type Output = u8;
        fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<u8> {
            if self.1 {
                Poll::Ready(self.0)
            } else {
                self.1 = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }

    #[test]
    fn both_outputs_arrive() {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = pin!(join2(Later(1, false), async { 2u8 }));
        let mut polls = 0;
        let out = loop {
            polls += 1;
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                break v;
            }
        };
        assert_eq!(out, (1, 2));
        assert_eq!(polls, 2);
    }
}
