//! Chart geometry, independent of the DOM: "nice" axis maxima and ticks, bar rectangles and
//! SVG line paths. The views turn these into `<rect>` and `<path>` elements.

/// The smallest 1, 2 or 5 × 10ⁿ at or above `v` (at least 1).
pub fn nice_max(v: f64) -> f64 {
    if !(v.is_finite() && v > 1.0) {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= v {
            return m * p;
        }
    }
    10.0 * p
}

/// `count + 1` evenly spaced ticks from 0 to `max`.
pub fn ticks(max: f64, count: usize) -> Vec<f64> {
    let count = count.max(1);
    (0..=count).map(|i| max * i as f64 / count as f64).collect()
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// One bar per value across `width`, growing up from `height`, scaled to `max`.
pub fn bars(values: &[f64], width: f64, height: f64, max: f64) -> Vec<Rect> {
    if values.is_empty() {
        return Vec::new();
    }
    let slot = width / values.len() as f64;
    let gap = if slot > 4.0 { slot * 0.2 } else { 0.0 };
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let h = if max > 0.0 {
                (v / max).clamp(0.0, 1.0) * height
            } else {
                0.0
            };
            Rect {
                x: i as f64 * slot + gap / 2.0,
                y: height - h,
                w: (slot - gap).max(0.5),
                h,
            }
        })
        .collect()
}

/// An SVG path through the values, evenly spaced across `width`, 0..`max` mapped to
/// `height`..0.
pub fn line_path(values: &[f64], width: f64, height: f64, max: f64) -> String {
    let n = values.len();
    let mut out = String::new();
    for (i, &v) in values.iter().enumerate() {
        let x = if n > 1 {
            width * i as f64 / (n - 1) as f64
        } else {
            width / 2.0
        };
        let y = height
            - if max > 0.0 {
                (v / max).clamp(0.0, 1.0)
            } else {
                0.0
            } * height;
        out.push_str(&format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { " L" }));
    }
    out
}

/// About `want` indices spread over `0..len` (first and last included), for axis labels.
pub fn label_positions(len: usize, want: usize) -> Vec<usize> {
    if len == 0 {
        return Vec::new();
    }
    if len <= want.max(1) {
        return (0..len).collect();
    }
    let want = want.max(2);
    let mut out: Vec<usize> = (0..want).map(|i| i * (len - 1) / (want - 1)).collect();
    out.dedup();
    out
}

/// A running mean over `window` values (for a trend line over daily counts).
pub fn moving_average(values: &[f64], window: usize) -> Vec<f64> {
    let window = window.max(1);
    let mut out = Vec::with_capacity(values.len());
    let mut sum = 0.0;
    for i in 0..values.len() {
        sum += values[i];
        if i >= window {
            sum -= values[i - window];
        }
        out.push(sum / (i + 1).min(window) as f64);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(13.0), 20.0);
        assert_eq!(nice_max(41.0), 50.0);
        assert_eq!(ticks(10.0, 2), vec![0.0, 5.0, 10.0]);
    }

    #[test]
    fn geometry() {
        let b = bars(&[0.0, 5.0, 10.0], 300.0, 100.0, 10.0);
        assert_eq!(b.len(), 3);
        assert_eq!(b[2].h, 100.0);
        assert_eq!(b[2].y, 0.0);
        assert_eq!(b[0].h, 0.0);
        assert_eq!(
            line_path(&[0.0, 1.0], 10.0, 10.0, 1.0),
            "M0.0,10.0 L10.0,0.0"
        );
        assert_eq!(label_positions(100, 5), vec![0, 24, 49, 74, 99]);
        assert_eq!(moving_average(&[2.0, 4.0, 6.0], 2), vec![2.0, 3.0, 5.0]);
    }
}
