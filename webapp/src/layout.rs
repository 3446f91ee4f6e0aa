//! Force-directed layout, in the spirit of d3-force, sized for thousands of nodes:
//!
//! - **Repulsion** on a uniform grid (a one-level Barnes–Hut): nodes in the same or a
//!   neighbouring cell repel each other exactly; every farther occupied cell acts as one
//!   body of its node count at its centre of mass. Cost per tick is
//!   `O(n · (occupied cells + nodes nearby))` instead of `O(n²)`.
//! - **Springs** along edges, pulling towards [`LINK_DISTANCE`], each edge's stiffness
//!   `1 / min(degree)` as in d3 (so hubs do not collapse everything onto themselves).
//! - A weak **gravity** towards the origin, so separate components stay on screen.
//! - **Cooling**: `alpha` decays geometrically from 1 to [`ALPHA_MIN`] in about 300 ticks;
//!   forces scale with it, so the drawing settles and stops moving.
//!
//! The caller spends a fixed budget per animation frame ([`Layout::run`]), so the page stays
//! responsive whatever the graph size: big graphs just settle over more frames.

/// Rest length of a spring.
pub const LINK_DISTANCE: f32 = 34.0;
/// Repulsion constant (force `K · alpha / d²` times the other body's mass).
pub const REPULSION: f32 = 70.0;
/// Pull towards the origin per tick, times alpha.
pub const GRAVITY: f32 = 0.03;
/// Velocity kept per tick.
pub const VELOCITY_KEEP: f32 = 0.6;
/// The layout counts as settled below this alpha.
pub const ALPHA_MIN: f32 = 0.004;
/// Per-tick alpha decay: 1 -> ALPHA_MIN in ~300 ticks.
pub const ALPHA_DECAY: f32 = 0.0182;
/// Grid cell edge for the repulsion approximation.
pub const CELL: f32 = 90.0;

pub struct Layout {
    pub x: Vec<f32>,
    pub y: Vec<f32>,
    vx: Vec<f32>,
    vy: Vec<f32>,
    /// (a, b, stiffness, bias towards a)
    springs: Vec<(u32, u32, f32, f32)>,
    pub alpha: f32,
    /// A node held in place (being dragged).
    pub pinned: Option<usize>,
    // Scratch space for the grid, reused across ticks.
    cells: Vec<(i32, i32, f32, f32, f32, u32, u32)>,
    order: Vec<u32>,
}

impl Layout {
    /// `n` nodes on a phyllotaxis spiral (deterministic, evenly spread), linked by `edges`.
    pub fn new(n: usize, edges: &[(usize, usize)]) -> Layout {
        let (mut x, mut y) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let golden = std::f32::consts::PI * (3.0 - 5f32.sqrt());
        for i in 0..n {
            let r = 10.0 * (0.5 + i as f32).sqrt();
            let a = i as f32 * golden;
            x.push(r * a.cos());
            y.push(r * a.sin());
        }
        let mut degree = vec![0u32; n];
        for &(a, b) in edges {
            if a < n && b < n && a != b {
                degree[a] += 1;
                degree[b] += 1;
            }
        }
        let springs = edges
            .iter()
            .filter(|&&(a, b)| a < n && b < n && a != b)
            .map(|&(a, b)| {
                let (da, db) = (degree[a] as f32, degree[b] as f32);
                (
                    a as u32,
                    b as u32,
                    1.0 / da.min(db).max(1.0),
                    da / (da + db),
                )
            })
            .collect();
        Layout {
            x,
            y,
            vx: vec![0.0; n],
            vy: vec![0.0; n],
            springs,
            alpha: 1.0,
            pinned: None,
            cells: Vec::new(),
            order: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.x.len()
    }

    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    pub fn settled(&self) -> bool {
        self.alpha < ALPHA_MIN
    }

    /// Warms the layout up again (after a drag, or a filter change), at least to `alpha`.
    pub fn reheat(&mut self, alpha: f32) {
        self.alpha = self.alpha.max(alpha);
    }

    /// Runs ticks until `budget_ms` of `clock()` time has passed or the layout settled, at
    /// least one tick when not settled. Returns the number of ticks run.
    pub fn run(&mut self, budget_ms: f64, clock: impl Fn() -> f64) -> usize {
        let start = clock();
        let mut ticks = 0;
        while !self.settled() {
            self.tick();
            ticks += 1;
            if clock() - start >= budget_ms {
                break;
            }
        }
        ticks
    }

    /// One simulation step.
    pub fn tick(&mut self) {
        let n = self.len();
        if n == 0 {
            return;
        }
        self.alpha *= 1.0 - ALPHA_DECAY;
        let alpha = self.alpha;
        self.repel(alpha);
        for &(a, b, k, bias) in &self.springs {
            let (a, b) = (a as usize, b as usize);
            let dx = self.x[b] + self.vx[b] - self.x[a] - self.vx[a];
            let dy = self.y[b] + self.vy[b] - self.y[a] - self.vy[a];
            let d = (dx * dx + dy * dy).sqrt().max(0.01);
            let l = (d - LINK_DISTANCE) / d * alpha * k;
            let (fx, fy) = (dx * l, dy * l);
            self.vx[b] -= fx * bias;
            self.vy[b] -= fy * bias;
            self.vx[a] += fx * (1.0 - bias);
            self.vy[a] += fy * (1.0 - bias);
        }
        for i in 0..n {
            self.vx[i] -= self.x[i] * GRAVITY * alpha;
            self.vy[i] -= self.y[i] * GRAVITY * alpha;
            if self.pinned == Some(i) {
                self.vx[i] = 0.0;
                self.vy[i] = 0.0;
                continue;
            }
            self.vx[i] *= VELOCITY_KEEP;
            self.vy[i] *= VELOCITY_KEEP;
            self.x[i] += self.vx[i];
            self.y[i] += self.vy[i];
        }
    }

    fn cell_of(&self, i: usize) -> (i32, i32) {
        (
            (self.x[i] / CELL).floor() as i32,
            (self.y[i] / CELL).floor() as i32,
        )
    }

    /// Grid-approximated many-body repulsion (see the module docs).
    fn repel(&mut self, alpha: f32) {
        let n = self.len();
        // Sort node indices by cell, then summarise each occupied cell:
        // (cx, cy, sum x, sum y, mass, first position in `order`, count).
        let mut keyed: Vec<((i32, i32), u32)> =
            (0..n).map(|i| (self.cell_of(i), i as u32)).collect();
        vault_core::sort::sort(&mut keyed);
        self.order.clear();
        self.cells.clear();
        for (k, (cell, i)) in keyed.iter().enumerate() {
            let (px, py) = (self.x[*i as usize], self.y[*i as usize]);
            match self.cells.last_mut() {
                Some(c) if (c.0, c.1) == *cell => {
                    c.2 += px;
                    c.3 += py;
                    c.4 += 1.0;
                    c.6 += 1;
                }
                _ => self.cells.push((cell.0, cell.1, px, py, 1.0, k as u32, 1)),
            }
            self.order.push(*i);
        }
        let strength = REPULSION * alpha;
        for ci in 0..self.cells.len() {
            let (cx, cy, _, _, _, start, count) = self.cells[ci];
            for slot in start..start + count {
                let i = self.order[slot as usize] as usize;
                let (xi, yi) = (self.x[i], self.y[i]);
                let (mut fx, mut fy) = (0.0f32, 0.0f32);
                for &(ox, oy, sx, sy, mass, ostart, ocount) in &self.cells {
                    if (ox - cx).abs() <= 1 && (oy - cy).abs() <= 1 {
                        for oslot in ostart..ostart + ocount {
                            let j = self.order[oslot as usize] as usize;
                            if j == i {
                                continue;
                            }
                            let (mut dx, mut dy) = (xi - self.x[j], yi - self.y[j]);
                            if dx == 0.0 && dy == 0.0 {
                                // Coincident nodes: a deterministic nudge apart.
                                dx = ((i * 7 + j) % 13) as f32 * 0.01 - 0.06;
                                dy = ((i * 3 + j) % 11) as f32 * 0.01 - 0.05;
                            }
                            let d2 = (dx * dx + dy * dy).max(1.0);
                            fx += dx / d2;
                            fy += dy / d2;
                        }
                    } else {
                        let (dx, dy) = (xi - sx / mass, yi - sy / mass);
                        let d2 = (dx * dx + dy * dy).max(1.0);
                        fx += dx * mass / d2;
                        fy += dy * mass / d2;
                    }
                }
                self.vx[i] += fx * strength;
                self.vy[i] += fy * strength;
            }
        }
    }

    /// The node nearest to `(x, y)` within `max_dist` (layout units), among `visible`.
    pub fn nearest(&self, x: f32, y: f32, max_dist: f32, visible: &[bool]) -> Option<usize> {
        let mut best = None;
        let mut best_d2 = max_dist * max_dist;
        for i in 0..self.len() {
            if !visible.get(i).copied().unwrap_or(true) {
                continue;
            }
            let d2 = (self.x[i] - x).powi(2) + (self.y[i] - y).powi(2);
            if d2 <= best_d2 {
                best_d2 = d2;
                best = Some(i);
            }
        }
        best
    }

    /// Bounding box `(min x, min y, max x, max y)` of the visible nodes.
    pub fn bounds(&self, visible: &[bool]) -> Option<(f32, f32, f32, f32)> {
        let mut b: Option<(f32, f32, f32, f32)> = None;
        for i in 0..self.len() {
            if !visible.get(i).copied().unwrap_or(true) {
                continue;
            }
            let (x, y) = (self.x[i], self.y[i]);
            b = Some(match b {
                None => (x, y, x, y),
                Some((a, c, d, e)) => (a.min(x), c.min(y), d.max(x), e.max(y)),
            });
        }
        b
    }
}

/// A graph shaped like the profile's (ten hubs with many leaves, plus random cross links),
/// for the benchmark and tests.
pub fn sample(n: usize) -> Vec<(usize, usize)> {
    if n < 2 {
        return Vec::new();
    }
    let hubs = 10.min(n);
    let mut edges: Vec<(usize, usize)> = (hubs..n).map(|i| (i, i % hubs)).collect();
    let mut s = 12345u64;
    for _ in 0..n * 2 {
        s = vault_core::cards::scheduler::splitmix(s);
        let a = (s % n as u64) as usize;
        let b = ((s >> 32) % n as u64) as usize;
        if a != b {
            edges.push((a, b));
        }
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settles_and_keeps_links_short() {
        let n = 600;
        let edges = sample(n);
        let mut l = Layout::new(n, &edges);
        let mut ticks = 0;
        while !l.settled() {
            l.tick();
            ticks += 1;
            assert!(ticks < 400, "does not settle");
        }
        assert!(l.x.iter().chain(&l.y).all(|v| v.is_finite()));
        // Leaves sit nearer their hub than to a random other node, on average.
        let dist =
            |a: usize, b: usize| ((l.x[a] - l.x[b]).powi(2) + (l.y[a] - l.y[b]).powi(2)).sqrt();
        let linked: f32 = (10..n).map(|i| dist(i, i % 10)).sum::<f32>() / (n - 10) as f32;
        let other: f32 = (10..n).map(|i| dist(i, (i + 1) % 10)).sum::<f32>() / (n - 10) as f32;
        assert!(linked < other, "linked {linked} vs unlinked {other}");
        // Nodes are spread out, not collapsed.
        let (x0, y0, x1, y1) = l.bounds(&[]).unwrap();
        assert!(x1 - x0 > 200.0 && y1 - y0 > 200.0);
    }

    #[test]
    fn a_tick_at_two_thousand_nodes_is_cheap() {
        let n = 2_000;
        let edges = sample(n);
        let mut l = Layout::new(n, &edges);
        for _ in 0..20 {
            l.tick();
        }
        let t = std::time::Instant::now();
        for _ in 0..20 {
            l.tick();
        }
        let per_tick = t.elapsed().as_secs_f64() * 1000.0 / 20.0;
        println!("layout tick at 2,000 nodes: {per_tick:.2} ms");
        // Debug builds are slow; the browser build is optimized. Generous bound.
        assert!(per_tick < 200.0);
    }

    #[test]
    fn picks_the_nearest_visible() {
        let l = Layout::new(3, &[]);
        let i = l.nearest(l.x[2], l.y[2], 5.0, &[]).unwrap();
        assert_eq!(i, 2);
        assert_eq!(l.nearest(l.x[2], l.y[2], 0.5, &[true, true, false]), None);
    }
}
