//! One sort for everything SelfOS builds for the browser.
//!
//! Every `slice::sort_by` call with its own element type and comparator instantiates the
//! standard library's whole stable sort (driftsort: 1.5–3 KB of wasm each); the web app had
//! about thirty, 87 KB of its code. In wasm, [`sort_by`] therefore sorts a permutation of
//! `u32` indices through a single instance ([`sort_indices`], comparator behind `dyn`) and
//! then applies it in place with swaps; natively it is `slice::sort_by`, which is faster.
//! Both orders are stable and identical (the tests compare them).

use std::cmp::Ordering;

/// Stable sort by a comparator (see the module docs for why not `slice::sort_by`).
pub fn sort_by<T>(v: &mut [T], cmp: impl FnMut(&T, &T) -> Ordering) {
    #[cfg(target_arch = "wasm32")]
    indexed_sort_by(v, cmp);
    #[cfg(not(target_arch = "wasm32"))]
    v.sort_by(cmp);
}

/// Stable sort of large elements (an answer record is hundreds of bytes): everywhere the
/// indexed strategy, which compares through a permutation of indices and then moves each
/// element once along its cycle, instead of moving elements through every merge pass (at
/// 10,000 answers: about 4 ms natively, against well under 1 ms sorting indices).
pub fn sort_large_by<T>(v: &mut [T], cmp: impl FnMut(&T, &T) -> Ordering) {
    indexed_sort_by(v, cmp);
}

/// Stable sort by a key.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Stable sort by `Ord`.
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// The wasm strategy (and [`sort_large_by`]'s everywhere).
fn indexed_sort_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let Ok(n) = u32::try_from(v.len()) else {
        // Beyond 4 billion elements (impossible in 32-bit wasm): the direct sort.
        v.sort_by(cmp);
        return;
    };
    let mut order: Vec<u32> = (0..n).collect();
    {
        let v: &[T] = v;
        sort_indices(&mut order, &mut |a, b| cmp(&v[a as usize], &v[b as usize]));
    }
    apply(v, &mut order);
}

/// The one instance of the standard sort (indices compared through `cmp`).
#[inline(never)]
fn sort_indices(order: &mut [u32], cmp: &mut dyn FnMut(u32, u32) -> Ordering) {
    order.sort_by(|&a, &b| cmp(a, b));
}

/// Moves `v[order[k]]` to `k` for every `k`, following each cycle of the permutation with
/// swaps; `order` ends as the identity (each visited slot is marked by pointing at itself).
fn apply<T>(v: &mut [T], order: &mut [u32]) {
    for start in 0..order.len() {
        let mut j = start;
        loop {
            let k = order[j] as usize;
            order[j] = j as u32;
            if k == start {
                break;
            }
            v.swap(j, k);
            j = k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_stable_sort() {
        let mut s = 7u64;
        for len in [0usize, 1, 2, 3, 10, 57, 1000] {
            // Few distinct keys, so stability matters.
            let v: Vec<(u8, usize)> = (0..len)
                .map(|i| {
                    s = crate::cards::scheduler::splitmix(s);
                    ((s % 7) as u8, i)
                })
                .collect();
            let mut want = v.clone();
            want.sort_by_key(|x| std::cmp::Reverse(x.0));
            let mut got = v.clone();
            indexed_sort_by(&mut got, |a, b| b.0.cmp(&a.0));
            assert_eq!(got, want, "len {len}");
            let mut keyed = v;
            sort_by_key(&mut keyed, |x| std::cmp::Reverse(x.0));
            assert_eq!(keyed, want);
        }
    }

    #[test]
    fn moves_values_that_are_not_copy() {
        let mut v = vec![
            "delta".to_string(),
            "alpha".into(),
            "charlie".into(),
            "bravo".into(),
        ];
        indexed_sort_by(&mut v, |a, b| a.cmp(b));
        assert_eq!(v, ["alpha", "bravo", "charlie", "delta"]);
    }
}
