//! What the graph view shows and how it answers the pointer and the keys, without the
//! canvas: the drawing and its layout, which nodes are visible and highlighted, the
//! [`Viewport`], the gestures (pan, drag a node, click to select) and the frame pacing.
//! Times are passed in (milliseconds of a monotonic clock), so all of it is tested natively;
//! `web::graph` paints a scene and feeds it events.

use std::collections::HashMap;

use vault_core::graph::KnowledgeGraph;

use crate::drawing::Drawing;
use crate::layout::Layout;
use crate::viewport::Viewport;

/// Milliseconds of layout work per animation frame, at most.
pub const FRAME_BUDGET_MS: f64 = 7.0;
/// What a frame may cost in all (60 frames per second, with room for the browser).
pub const FRAME_TARGET_MS: f64 = 15.0;
/// Above this many edges, frames drawn while the picture moves (layout, pan, zoom, drag)
/// leave out the faint co-occurrence edges; the still picture has them all again.
pub const FAST_DRAW_EDGES: usize = 2_500;
/// How long after the last pan, zoom or drag the picture counts as still.
pub const STILL_AFTER_MS: f64 = 150.0;
/// A press and release closer than this (CSS pixels, |dx| + |dy|) is a click, not a drag.
const CLICK_SLOP_PX: f64 = 4.0;
/// How far the arrow keys pan, in CSS pixels.
const KEY_PAN_PX: f64 = 60.0;
/// Zoom steps of the `+` and `-` keys and buttons.
pub const ZOOM_IN: f64 = 1.25;
pub const ZOOM_OUT: f64 = 0.8;

/// Layout time for the next frame: what the last drawing leaves of [`FRAME_TARGET_MS`],
/// within 2 ms and [`FRAME_BUDGET_MS`], so a large graph keeps its frame rate and settles
/// more slowly instead.
pub fn layout_budget(last_draw_ms: f64) -> f64 {
    (FRAME_TARGET_MS - last_draw_ms).clamp(2.0, FRAME_BUDGET_MS)
}

/// The cost of the slowest kind of frame, a frame while the layout moves: a moving drawing
/// that took `draw_ms`, plus the layout budget it leaves.
pub fn frame_ms(draw_ms: f64) -> f64 {
    draw_ms + layout_budget(draw_ms)
}

/// A pointer gesture in progress.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Drag {
    /// Started on empty canvas: moves the picture.
    Pan { x0: f64, y0: f64, from: Viewport },
    /// Started on a node: a click selects it, a drag moves it (pinned while held).
    Node {
        index: usize,
        x0: f64,
        y0: f64,
        moved: bool,
    },
}

/// What a key press asks of the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOutcome {
    /// The scene handled it (pan, zoom, fit).
    Handled,
    /// Escape: the selection should be cleared.
    ClearSelection,
    /// Not a key of the graph; let the browser have it.
    Ignored,
}

/// How the animation loop has been doing (for the redraw decision and the page's
/// `data-frame-max-ms`).
#[derive(Debug, Default)]
pub struct Frames {
    pub count: u32,
    /// The slowest frame after the first two (those include start-up work).
    pub max_ms: f64,
    pub last_draw_ms: f64,
    /// The last drawing left edges out (see [`FAST_DRAW_EDGES`]).
    pub drawn_fast: bool,
    /// When each frame started, kept only by the animation benchmark.
    pub starts: Option<Vec<f64>>,
}

impl Frames {
    /// Counts a frame that took `ms`.
    pub fn record(&mut self, ms: f64) {
        self.count += 1;
        if self.count > 2 {
            self.max_ms = self.max_ms.max(ms);
        }
    }
}

/// The graph view's state.
pub struct Scene {
    pub drawing: Drawing,
    pub layout: Layout,
    pub visible: Vec<bool>,
    /// Search hits.
    pub hits: Vec<bool>,
    pub selected: Option<usize>,
    /// The selection's neighbours (the selection itself excluded).
    pub near_selected: Vec<bool>,
    pub hover: Option<usize>,
    pub view: Viewport,
    /// Refit whenever the layout moves or the canvas is resized, until the person pans or
    /// zooms.
    pub auto_fit: bool,
    drag: Option<Drag>,
    /// Something changed since the last drawing.
    pub dirty: bool,
    /// The canvas: CSS width, CSS height, device pixel ratio.
    pub size: (f64, f64, f64),
    /// When the person last panned, zoomed or dragged.
    moved_at: f64,
    pub frames: Frames,
}

impl Scene {
    /// The scene of `graph` (`all`: with the values never answered), keeping the positions of
    /// the nodes `old` had.
    pub fn new(graph: &KnowledgeGraph, all: bool, old: Option<&Scene>) -> Scene {
        Scene::from_drawing(Drawing::from_graph(graph, all), old)
    }

    /// The scene of `drawing`. Nodes `old` had keep their place, so an edit does not scramble
    /// the picture; when most nodes are known the layout starts cooler and moves little.
    pub fn from_drawing(drawing: Drawing, old: Option<&Scene>) -> Scene {
        let mut layout = Layout::new(drawing.nodes.len(), &drawing.links());
        if let Some(old) = old {
            let prev: HashMap<&str, usize> = old
                .drawing
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.id.as_str(), i))
                .collect();
            let mut kept = 0;
            for (i, n) in drawing.nodes.iter().enumerate() {
                if let Some(&j) = prev.get(n.id.as_str()) {
                    layout.x[i] = old.layout.x[j];
                    layout.y[i] = old.layout.y[j];
                    kept += 1;
                }
            }
            if kept * 2 > drawing.nodes.len() {
                layout.alpha = 0.3;
            }
        }
        let n = drawing.nodes.len();
        Scene {
            drawing,
            layout,
            visible: vec![true; n],
            hits: vec![false; n],
            selected: None,
            near_selected: vec![false; n],
            hover: None,
            view: Viewport::default(),
            auto_fit: old.is_none_or(|o| o.auto_fit),
            drag: None,
            dirty: true,
            size: (0.0, 0.0, 1.0),
            moved_at: 0.0,
            frames: Frames::default(),
        }
    }

    /// Applies the view's controls: the dimensions shown, the selected node (by id), the
    /// local graph's depth around it (`None`: the whole graph) and the search.
    pub fn show(
        &mut self,
        dimension_on: &[bool],
        selected: Option<&str>,
        local_depth: Option<u32>,
        query: &str,
    ) {
        let n = self.drawing.nodes.len();
        self.selected = selected.and_then(|id| self.drawing.position(id));
        self.near_selected = match self.selected {
            Some(i) => self.drawing.neighbourhood(i, 1),
            None => vec![false; n],
        };
        if let Some(i) = self.selected {
            self.near_selected[i] = false;
        }
        let local_at = self.selected.zip(local_depth);
        self.visible = self.drawing.visible(dimension_on, local_at);
        self.hits = vec![false; n];
        for i in self.drawing.search(query, 200) {
            self.hits[i] = true;
        }
        if local_at.is_some() || self.auto_fit {
            self.auto_fit = true;
            self.fit();
        }
        self.dirty = true;
    }

    /// Fits the visible nodes into the canvas.
    pub fn fit(&mut self) {
        let (w, h, _) = self.size;
        if let Some(bounds) = self.layout.bounds(&self.visible) {
            self.view = Viewport::fitted(bounds, w, h);
            self.dirty = true;
        }
    }

    /// "Fit" (button or `0`): fit now and keep fitting as the layout moves.
    pub fn refit(&mut self) {
        self.auto_fit = true;
        self.fit();
    }

    /// The canvas now measures `w`×`h` CSS pixels at `dpr`; returns whether that changed
    /// (then the backing store must be resized).
    pub fn resize(&mut self, w: f64, h: f64, dpr: f64) -> bool {
        if (w, h, dpr) == self.size || w <= 0.0 || h <= 0.0 {
            return false;
        }
        self.size = (w, h, dpr);
        if self.auto_fit {
            self.fit();
        }
        self.dirty = true;
        true
    }

    /// Zooms by `factor` about the canvas point `(cx, cy)`.
    pub fn zoom(&mut self, factor: f64, cx: f64, cy: f64, now: f64) {
        self.view.zoom_at(factor, cx, cy);
        self.moved(now);
    }

    /// Zooms by `factor` about the canvas's centre (buttons and keys).
    pub fn zoom_centre(&mut self, factor: f64, now: f64) {
        let (w, h, _) = self.size;
        self.zoom(factor, w / 2.0, h / 2.0, now);
    }

    pub fn pan(&mut self, dx: f64, dy: f64, now: f64) {
        self.view.pan(dx, dy);
        self.moved(now);
    }

    /// The person moved the picture: no more fitting; redraw, fast while it keeps moving.
    fn moved(&mut self, now: f64) {
        self.auto_fit = false;
        self.dirty = true;
        self.moved_at = now;
    }

    /// Whether a frame drawn at `now` may leave the faint edges out: a big graph while the
    /// layout or the person moves it.
    pub fn draw_fast(&self, now: f64) -> bool {
        self.drawing.edges.len() > FAST_DRAW_EDGES
            && (!self.layout.settled() || now - self.moved_at < STILL_AFTER_MS)
    }

    /// Whether a frame that may draw `fast` must draw: something changed, or the picture
    /// came to rest after a drawing that left edges out.
    pub fn needs_drawing(&self, fast: bool) -> bool {
        self.dirty || (self.frames.drawn_fast && !fast)
    }

    /// The visible node under the canvas point `(x, y)`.
    pub fn hit(&self, x: f64, y: f64) -> Option<usize> {
        self.view.hit(&self.layout, &self.visible, x, y)
    }

    /// The pointer went down at `(x, y)`: on a node, a node drag (or click) starts; elsewhere
    /// a pan.
    pub fn pointer_down(&mut self, x: f64, y: f64) {
        self.drag = Some(match self.hit(x, y) {
            Some(index) => Drag::Node {
                index,
                x0: x,
                y0: y,
                moved: false,
            },
            None => Drag::Pan {
                x0: x,
                y0: y,
                from: self.view,
            },
        });
    }

    /// The pointer moved to `(x, y)`. Returns the new hover state (`Some(over a node)`) when
    /// it changed, so the cursor can follow.
    pub fn pointer_move(&mut self, x: f64, y: f64, now: f64) -> Option<bool> {
        match &mut self.drag {
            Some(Drag::Pan { x0, y0, from }) => {
                let mut view = *from;
                view.pan(x - *x0, y - *y0);
                self.view = view;
                self.moved(now);
            }
            Some(Drag::Node {
                index,
                x0,
                y0,
                moved,
            }) => {
                if (x - *x0).abs() + (y - *y0).abs() > CLICK_SLOP_PX {
                    *moved = true;
                }
                if *moved {
                    let index = *index;
                    let (lx, ly) = self.view.to_layout(x, y);
                    self.layout.x[index] = lx;
                    self.layout.y[index] = ly;
                    self.layout.pinned = Some(index);
                    self.layout.reheat(0.15);
                    self.moved(now);
                }
            }
            None => {
                let h = self.hit(x, y);
                if h != self.hover {
                    self.hover = h;
                    self.dirty = true;
                    return Some(h.is_some());
                }
            }
        }
        None
    }

    /// The pointer went up at `(x, y)`. Returns the new selection when the gesture was a
    /// click: `Some(Some(id))` on a node, `Some(None)` on empty canvas (clears it).
    pub fn pointer_up(&mut self, x: f64, y: f64) -> Option<Option<String>> {
        self.layout.pinned = None;
        match self.drag.take()? {
            Drag::Node {
                index,
                moved: false,
                ..
            } => Some(Some(self.drawing.nodes[index].id.clone())),
            Drag::Pan { x0, y0, .. } if (x - x0).abs() + (y - y0).abs() < CLICK_SLOP_PX => {
                Some(None)
            }
            _ => None,
        }
    }

    /// A key pressed on the canvas: `+`/`-` zoom, arrows pan, `0` fits, Escape clears the
    /// selection.
    pub fn key(&mut self, key: &str, now: f64) -> KeyOutcome {
        match key {
            "+" | "=" => self.zoom_centre(ZOOM_IN, now),
            "-" | "_" => self.zoom_centre(ZOOM_OUT, now),
            "ArrowLeft" => self.pan(KEY_PAN_PX, 0.0, now),
            "ArrowRight" => self.pan(-KEY_PAN_PX, 0.0, now),
            "ArrowUp" => self.pan(0.0, KEY_PAN_PX, now),
            "ArrowDown" => self.pan(0.0, -KEY_PAN_PX, now),
            "0" => self.refit(),
            "Escape" => return KeyOutcome::ClearSelection,
            _ => return KeyOutcome::Ignored,
        }
        KeyOutcome::Handled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A settled sample scene on an 800×600 canvas, fitted.
    fn scene(n: usize) -> Scene {
        let mut s = Scene::from_drawing(Drawing::sample(n), None);
        for _ in 0..300 {
            s.layout.tick();
        }
        assert!(s.resize(800.0, 600.0, 1.0));
        s
    }

    fn screen_of(s: &Scene, i: usize) -> (f64, f64) {
        s.view.to_screen(s.layout.x[i], s.layout.y[i])
    }

    /// A canvas point with no node within the hit distance.
    fn empty_point(s: &Scene) -> (f64, f64) {
        (0..800)
            .step_by(7)
            .flat_map(|x| {
                (0..600)
                    .step_by(7)
                    .map(move |y| (f64::from(x), f64::from(y)))
            })
            .find(|&(x, y)| s.hit(x, y).is_none())
            .expect("an empty spot on the canvas")
    }

    #[test]
    fn frame_budget_gives_way_to_drawing() {
        assert_eq!(layout_budget(0.0), FRAME_BUDGET_MS);
        assert_eq!(layout_budget(10.0), 5.0);
        assert_eq!(layout_budget(40.0), 2.0);
        assert_eq!(frame_ms(10.0), 15.0);
        assert_eq!(frame_ms(40.0), 42.0);
    }

    #[test]
    fn a_rebuilt_scene_keeps_known_nodes_in_place_and_starts_cool() {
        let mut old = scene(60);
        old.view.pan(10.0, 0.0);
        old.auto_fit = false;
        let new = Scene::from_drawing(Drawing::sample(60), Some(&old));
        assert_eq!(new.layout.x, old.layout.x);
        assert_eq!(new.layout.y, old.layout.y);
        assert_eq!(new.layout.alpha, 0.3);
        assert!(
            !new.auto_fit,
            "a picture the person moved stays where they put it"
        );
        let fresh = Scene::from_drawing(Drawing::sample(60), None);
        assert_eq!(fresh.layout.alpha, 1.0);
        assert!(fresh.auto_fit);
    }

    #[test]
    fn resize_fits_while_auto_fit_and_ignores_an_empty_canvas() {
        let mut s = scene(40);
        let fitted = s.view;
        assert!(!s.resize(800.0, 600.0, 1.0), "same size: nothing to do");
        assert!(
            !s.resize(0.0, 600.0, 1.0),
            "hidden canvas: keep the last size"
        );
        assert!(s.resize(400.0, 300.0, 2.0));
        assert!(s.view.scale < fitted.scale);
        s.pan(5.0, 5.0, 0.0);
        let moved = s.view;
        assert!(s.resize(800.0, 600.0, 2.0));
        assert_eq!(s.view, moved, "after a pan the picture stays put");
    }

    #[test]
    fn click_on_a_node_selects_it_and_on_empty_canvas_clears() {
        let mut s = scene(40);
        let (x, y) = screen_of(&s, 3);
        let hit = s.hit(x, y).expect("a node under its own centre");
        s.pointer_down(x, y);
        assert_eq!(s.pointer_move(x + 1.0, y + 1.0, 10.0), None);
        assert_eq!(
            s.pointer_up(x + 1.0, y + 1.0),
            Some(Some(s.drawing.nodes[hit].id.clone()))
        );
        let (ex, ey) = empty_point(&s);
        s.pointer_down(ex, ey);
        assert_eq!(s.pointer_up(ex + 2.0, ey), Some(None));
        // A release without a press (the press was elsewhere) means nothing.
        assert_eq!(s.pointer_up(ex, ey), None);
    }

    #[test]
    fn dragging_empty_canvas_pans_and_is_no_click() {
        let mut s = scene(40);
        let (ex, ey) = empty_point(&s);
        let before = s.view;
        s.pointer_down(ex, ey);
        s.pointer_move(ex + 30.0, ey - 20.0, 100.0);
        s.pointer_move(ex + 50.0, ey - 10.0, 110.0);
        assert_eq!((s.view.tx, s.view.ty), (before.tx + 50.0, before.ty - 10.0));
        assert!(!s.auto_fit);
        assert!(s.draw_fast(120.0) == (s.drawing.edges.len() > FAST_DRAW_EDGES));
        assert_eq!(s.pointer_up(ex + 50.0, ey - 10.0), None);
    }

    #[test]
    fn dragging_a_node_moves_and_pins_it_until_release() {
        let mut s = scene(40);
        let (x, y) = screen_of(&s, 0);
        let index = s.hit(x, y).expect("a node");
        s.pointer_down(x, y);
        s.pointer_move(x + 40.0, y + 40.0, 5.0);
        assert_eq!(s.layout.pinned, Some(index));
        assert_eq!(
            (s.layout.x[index], s.layout.y[index]),
            s.view.to_layout(x + 40.0, y + 40.0)
        );
        assert!(!s.layout.settled(), "the others make room");
        assert_eq!(s.pointer_up(x + 40.0, y + 40.0), None, "a drag is no click");
        assert_eq!(s.layout.pinned, None);
    }

    #[test]
    fn hovering_reports_only_changes() {
        let mut s = scene(40);
        let (ex, ey) = empty_point(&s);
        let (x, y) = screen_of(&s, 5);
        assert_eq!(
            s.pointer_move(ex, ey, 0.0),
            None,
            "was not hovering, still not"
        );
        assert_eq!(s.pointer_move(x, y, 0.0), Some(true));
        assert!(s.hover.is_some());
        assert_eq!(s.pointer_move(x, y, 0.0), None);
        assert_eq!(s.pointer_move(ex, ey, 0.0), Some(false));
    }

    #[test]
    fn keys_pan_zoom_fit_and_clear() {
        let mut s = scene(40);
        let fitted = s.view;
        assert_eq!(s.key("ArrowLeft", 0.0), KeyOutcome::Handled);
        assert_eq!(s.view.tx, fitted.tx + KEY_PAN_PX);
        assert_eq!(s.key("ArrowUp", 0.0), KeyOutcome::Handled);
        assert_eq!(s.view.ty, fitted.ty + KEY_PAN_PX);
        assert!(!s.auto_fit);
        assert_eq!(s.key("+", 0.0), KeyOutcome::Handled);
        assert!((s.view.scale - fitted.scale * ZOOM_IN).abs() < 1e-9);
        assert_eq!(s.key("0", 0.0), KeyOutcome::Handled);
        assert_eq!(s.view, fitted);
        assert!(s.auto_fit);
        assert_eq!(s.key("Escape", 0.0), KeyOutcome::ClearSelection);
        assert_eq!(s.key("a", 0.0), KeyOutcome::Ignored);
    }

    #[test]
    fn show_selects_highlights_and_narrows_to_the_local_graph() {
        let mut s = scene(80);
        let all_dims = vec![true; s.drawing.dimensions.len()];
        let id = s.drawing.nodes[0].id.clone();
        s.show(&all_dims, Some(&id), None, "");
        assert_eq!(s.selected, Some(0));
        assert!(
            !s.near_selected[0],
            "the selection is not its own neighbour"
        );
        assert_eq!(s.near_selected, {
            let mut n = s.drawing.neighbourhood(0, 1);
            n[0] = false;
            n
        });
        assert!(s.visible.iter().all(|v| *v));
        s.show(&all_dims, Some(&id), Some(1), "");
        assert_eq!(s.visible, s.drawing.neighbourhood(0, 1));
        assert!(s.auto_fit, "a local graph is fitted");
        // An unknown id selects nothing; the search marks its hits.
        let label = s.drawing.nodes[2].label.clone();
        s.show(&all_dims, Some("no such node"), Some(1), &label);
        assert_eq!(s.selected, None);
        assert!(s.hits[2]);
        assert!(s.visible.iter().all(|v| *v));
    }

    #[test]
    fn a_still_picture_is_drawn_again_in_full() {
        let mut s = Scene::from_drawing(Drawing::sample(4_000), None);
        assert!(s.drawing.edges.len() > FAST_DRAW_EDGES);
        s.layout.alpha = 0.0;
        s.resize(800.0, 600.0, 1.0);
        s.pan(1.0, 0.0, 1_000.0);
        assert!(s.draw_fast(1_000.0 + STILL_AFTER_MS - 1.0));
        assert!(!s.draw_fast(1_000.0 + STILL_AFTER_MS));
        s.dirty = false;
        s.frames.drawn_fast = true;
        assert!(
            s.needs_drawing(false),
            "the full picture replaces the fast one"
        );
        assert!(!s.needs_drawing(true));
    }

    #[test]
    fn frames_ignore_the_first_two_for_the_maximum() {
        let mut f = Frames::default();
        f.record(50.0);
        f.record(40.0);
        f.record(9.0);
        f.record(12.0);
        assert_eq!((f.count, f.max_ms), (4, 12.0));
    }
}
