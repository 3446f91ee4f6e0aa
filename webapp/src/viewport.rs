//! Where the graph's layout appears on the canvas: pan and zoom as one map from layout units
//! to CSS pixels, fitting the visible nodes into the canvas, and which node is under the
//! pointer. Plain arithmetic, so it is tested natively; `web::graph` applies it to a canvas.

use crate::layout::Layout;

/// Zoom limits for the wheel, the buttons and the keys.
pub const MIN_SCALE: f64 = 0.03;
pub const MAX_SCALE: f64 = 12.0;
/// Fitting stays within these, so a tiny graph is not blown up nor a huge one lost in a dot.
const FIT_MIN_SCALE: f64 = 0.05;
const FIT_MAX_SCALE: f64 = 3.0;
/// Margin around a fitted drawing, in CSS pixels (both sides together).
const FIT_MARGIN: f64 = 50.0;
/// A node counts as under the pointer up to this many CSS pixels from its centre, whatever
/// the zoom, so small nodes stay easy to pick.
pub const HIT_PX: f64 = 14.0;

/// The map from layout coordinates to CSS pixels on the canvas: `screen = layout · scale +
/// (tx, ty)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    pub scale: f64,
    pub tx: f64,
    pub ty: f64,
}

impl Default for Viewport {
    fn default() -> Self {
        Viewport {
            scale: 1.0,
            tx: 0.0,
            ty: 0.0,
        }
    }
}

impl Viewport {
    /// The layout point under the canvas point `(sx, sy)`.
    pub fn to_layout(&self, sx: f64, sy: f64) -> (f32, f32) {
        (
            ((sx - self.tx) / self.scale) as f32,
            ((sy - self.ty) / self.scale) as f32,
        )
    }

    /// Where the layout point `(x, y)` is drawn on the canvas.
    pub fn to_screen(&self, x: f32, y: f32) -> (f64, f64) {
        (
            f64::from(x) * self.scale + self.tx,
            f64::from(y) * self.scale + self.ty,
        )
    }

    /// Zooms by `factor` (within [`MIN_SCALE`]..[`MAX_SCALE`]) keeping the canvas point
    /// `(cx, cy)` where it is: the point under the wheel stays under it.
    pub fn zoom_at(&mut self, factor: f64, cx: f64, cy: f64) {
        let s = (self.scale * factor).clamp(MIN_SCALE, MAX_SCALE);
        let f = s / self.scale;
        self.tx = cx - (cx - self.tx) * f;
        self.ty = cy - (cy - self.ty) * f;
        self.scale = s;
    }

    /// Moves the picture by `(dx, dy)` CSS pixels.
    pub fn pan(&mut self, dx: f64, dy: f64) {
        self.tx += dx;
        self.ty += dy;
    }

    /// The viewport that shows the layout box `(x0, y0, x1, y1)` whole on a `w`×`h` canvas,
    /// centred, with a margin and room on the right for the labels drawn beside the nodes.
    pub fn fitted((x0, y0, x1, y1): (f32, f32, f32, f32), w: f64, h: f64) -> Viewport {
        let (bw, bh) = (f64::from(x1 - x0).max(1.0), f64::from(y1 - y0).max(1.0));
        let label_room = (w * 0.22).min(150.0);
        let scale = ((w - FIT_MARGIN - label_room) / bw)
            .min((h - FIT_MARGIN) / bh)
            .clamp(FIT_MIN_SCALE, FIT_MAX_SCALE);
        Viewport {
            scale,
            tx: (w - label_room) / 2.0 - f64::from(x0 + x1) / 2.0 * scale,
            ty: h / 2.0 - f64::from(y0 + y1) / 2.0 * scale,
        }
    }

    /// How much node radii grow with the zoom: less than the picture (square root, within
    /// 0.5..2.5), so zooming out keeps nodes visible and zooming in does not make blobs.
    pub fn node_zoom(&self) -> f64 {
        self.scale.sqrt().clamp(0.5, 2.5)
    }

    /// The visible node under the canvas point `(sx, sy)`, if one is within [`HIT_PX`].
    pub fn hit(&self, layout: &Layout, visible: &[bool], sx: f64, sy: f64) -> Option<usize> {
        let (lx, ly) = self.to_layout(sx, sy);
        layout.nearest(lx, ly, (HIT_PX / self.scale) as f32, visible)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn screen_and_layout_are_inverse() {
        let v = Viewport {
            scale: 2.5,
            tx: 40.0,
            ty: -12.0,
        };
        let (sx, sy) = v.to_screen(10.0, -4.0);
        assert!(close(sx, 65.0) && close(sy, -22.0));
        assert_eq!(v.to_layout(sx, sy), (10.0, -4.0));
    }

    #[test]
    fn zoom_keeps_the_point_under_the_pointer() {
        let mut v = Viewport {
            scale: 1.0,
            tx: 100.0,
            ty: 50.0,
        };
        let before = v.to_layout(300.0, 200.0);
        v.zoom_at(1.25, 300.0, 200.0);
        assert!(close(v.scale, 1.25));
        let after = v.to_layout(300.0, 200.0);
        assert!((before.0 - after.0).abs() < 1e-4 && (before.1 - after.1).abs() < 1e-4);
    }

    #[test]
    fn zoom_stops_at_the_limits() {
        let mut v = Viewport::default();
        for _ in 0..100 {
            v.zoom_at(1.25, 0.0, 0.0);
        }
        assert!(close(v.scale, MAX_SCALE));
        for _ in 0..100 {
            v.zoom_at(0.8, 0.0, 0.0);
        }
        assert!(close(v.scale, MIN_SCALE));
    }

    #[test]
    fn pan_moves_the_picture() {
        let mut v = Viewport::default();
        v.pan(60.0, -30.0);
        assert_eq!(v.to_screen(0.0, 0.0), (60.0, -30.0));
    }

    #[test]
    fn fitted_box_lies_inside_the_canvas_left_of_the_label_room() {
        let (w, h) = (1280.0, 800.0);
        let v = Viewport::fitted((-300.0, -200.0, 500.0, 100.0), w, h);
        let (l, t) = v.to_screen(-300.0, -200.0);
        let (r, b) = v.to_screen(500.0, 100.0);
        let label_room = 150.0;
        assert!(
            l >= 0.0 && t >= 0.0 && r <= w - label_room && b <= h,
            "{l} {t} {r} {b}"
        );
        // Centred in the room left for the drawing, and as large as the margin allows.
        assert!(close((l + r) / 2.0, (w - label_room) / 2.0));
        assert!(close((t + b) / 2.0, h / 2.0));
        assert!(close(r - l, w - 50.0 - label_room) || close(b - t, h - 50.0));
    }

    #[test]
    fn fitting_a_point_does_not_blow_it_up() {
        let v = Viewport::fitted((5.0, 5.0, 5.0, 5.0), 800.0, 600.0);
        assert!(close(v.scale, FIT_MAX_SCALE));
        let v = Viewport::fitted((-1e6, -1e6, 1e6, 1e6), 800.0, 600.0);
        assert!(close(v.scale, FIT_MIN_SCALE));
    }

    #[test]
    fn nodes_grow_slower_than_the_picture() {
        let at = |scale| {
            Viewport {
                scale,
                ..Viewport::default()
            }
            .node_zoom()
        };
        assert!(close(at(4.0), 2.0));
        assert!(close(at(100.0), 2.5));
        assert!(close(at(0.01), 0.5));
    }

    #[test]
    fn hit_finds_the_node_within_a_fixed_pixel_distance_at_any_zoom() {
        let mut layout = Layout::new(2, &[]);
        (layout.x[0], layout.y[0]) = (0.0, 0.0);
        (layout.x[1], layout.y[1]) = (100.0, 0.0);
        let visible = [true, true];
        for scale in [0.2, 1.0, 5.0] {
            let v = Viewport {
                scale,
                tx: 30.0,
                ty: 20.0,
            };
            let (sx, sy) = v.to_screen(100.0, 0.0);
            assert_eq!(v.hit(&layout, &visible, sx + 10.0, sy), Some(1), "{scale}");
            assert_eq!(v.hit(&layout, &visible, sx + 20.0, sy), None, "{scale}");
            assert_eq!(v.hit(&layout, &[true, false], sx, sy), None, "{scale}");
        }
    }
}
