//! The plotted box: axis ranges that plotters can always draw, and geometry clipped to them.
//!
//! Every figure takes its ranges from here and passes its points through a [`Frame`] before drawing, so no
//! input (NaN, ±∞, 0 on a log axis, 1e300, all values equal) can make plotters loop, panic or rasterise
//! lines billions of pixels long:
//!
//! - a linear range is finite, has lo < hi, a width above 1e-9 of its magnitude and bounds within
//!   ±[`LIMIT`] ([`linear`], [`sane_linear`]);
//! - a log range holds positive finite values only, within [1/[`LIMIT`], [`LIMIT`]], spans at least a
//!   factor 1.0001 and at most [`MAX_DECADES`] decades (keeping the top) ([`log`], [`sane_log`]);
//! - polylines are split at points that cannot be drawn (non-finite, or ≤ 0 on a log axis: no line from
//!   log 0) and each segment is clipped to the box ([`Frame::polyline`]); bands and bars are clamped into it
//!   ([`Frame::clamp`]); markers outside it are dropped ([`Frame::contains`]).

/// Values beyond ±LIMIT are treated as off-scale: ranges never extend past it.
pub const LIMIT: f64 = 1e300;
/// Largest span of a log axis, in decades.
pub const MAX_DECADES: f64 = 200.0;

/// Smallest and largest finite value of `values`, each clamped to ±[`LIMIT`].
pub fn finite_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for v in values {
        if v.is_finite() {
            let v = v.clamp(-LIMIT, LIMIT);
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    (lo <= hi).then_some((lo, hi))
}

/// Smallest and largest positive finite value of `values`, clamped to [1/[`LIMIT`], [`LIMIT`]].
pub fn positive_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    finite_range(values.into_iter().filter(|v| *v > 0.0)).map(|(lo, hi)| (lo.max(1.0 / LIMIT), hi.max(1.0 / LIMIT)))
}

/// A drawable linear range from the finite values of `values`, padded by `pad` of its width on both sides
/// (see [`sane_linear`]); [0, 1] when there is no finite value.
pub fn linear(values: impl IntoIterator<Item = f64>, pad: f64) -> (f64, f64) {
    match finite_range(values) {
        Some((lo, hi)) => {
            let pad = if pad.is_finite() { pad.clamp(0.0, 1.0) } else { 0.0 };
            let w = hi - lo;
            sane_linear((lo - pad * w, hi + pad * w))
        }
        None => (0.0, 1.0),
    }
}

/// Makes `(lo, hi)` drawable: non-finite bounds fall back to [0, 1] (or to a range around the finite one),
/// bounds are clamped to ±[`LIMIT`] and ordered, and a range narrower than 1e-9 of its magnitude (all values
/// equal) is widened to ±10 % around its centre (±1 at zero).
pub fn sane_linear(r: (f64, f64)) -> (f64, f64) {
    let (a, b) = match (r.0.is_finite(), r.1.is_finite()) {
        (true, true) => (r.0, r.1),
        (true, false) => (r.0, r.0),
        (false, true) => (r.1, r.1),
        (false, false) => return (0.0, 1.0),
    };
    let (lo, hi) = (a.min(b).clamp(-LIMIT, LIMIT), a.max(b).clamp(-LIMIT, LIMIT));
    let scale = lo.abs().max(hi.abs());
    if hi - lo > 1e-9 * scale && hi - lo > 1e-290 {
        return (lo, hi);
    }
    let c = 0.5 * (lo + hi);
    let h = if c.abs() > 1e-280 { 0.1 * c.abs() } else { 1.0 };
    ((c - h).max(-LIMIT), (c + h).min(LIMIT))
}

/// A drawable log range from the positive finite values of `values`, padded by a factor 1.12 of its span
/// on both sides (see [`sane_log`]); `None` when no value is positive and finite.
pub fn log(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = positive_range(values)?;
    let (lo, hi) = sane_log((lo, hi));
    let f = (hi / lo).powf(0.05).min(1e10);
    Some(sane_log((lo / f, hi * f)))
}

/// Makes `(lo, hi)` drawable on a log axis: bounds within [1/[`LIMIT`], [`LIMIT`]], a span of at least a
/// factor 1.0001 (else a factor 2 around the value) and at most [`MAX_DECADES`] decades (keeping `hi`).
/// Non-positive or non-finite bounds fall back to the other bound, or to [1e-3, 1].
pub fn sane_log(r: (f64, f64)) -> (f64, f64) {
    let ok = |v: f64| v.is_finite() && v > 0.0;
    let (a, b) = match (ok(r.0), ok(r.1)) {
        (true, true) => (r.0, r.1),
        (true, false) => (r.0, r.0),
        (false, true) => (r.1, r.1),
        (false, false) => return (1e-3, 1.0),
    };
    let (mut lo, mut hi) = (a.min(b).clamp(1.0 / LIMIT, LIMIT), a.max(b).clamp(1.0 / LIMIT, LIMIT));
    if hi / lo < 1.0001 {
        lo = (lo / 2.0).max(1.0 / LIMIT);
        hi = (hi * 2.0).min(LIMIT);
    }
    let max = 10f64.powf(MAX_DECADES);
    if hi / lo > max {
        lo = hi / max;
    }
    (lo, hi)
}

/// The box of a chart, in data coordinates, with the scale of each axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// x range (lo < hi).
    pub x: (f64, f64),
    /// y range (lo < hi).
    pub y: (f64, f64),
    /// Whether x is drawn on a log scale.
    pub log_x: bool,
    /// Whether y is drawn on a log scale.
    pub log_y: bool,
}

impl Frame {
    /// A linear frame; the ranges are made drawable with [`sane_linear`].
    pub fn linear(x: (f64, f64), y: (f64, f64)) -> Self {
        Frame {
            x: sane_linear(x),
            y: sane_linear(y),
            log_x: false,
            log_y: false,
        }
    }

    /// A frame with a linear x and a log y axis ([`sane_linear`], [`sane_log`]).
    pub fn log_y(x: (f64, f64), y: (f64, f64)) -> Self {
        Frame {
            x: sane_linear(x),
            y: sane_log(y),
            log_x: false,
            log_y: true,
        }
    }

    /// Whether `p` can be drawn at all: finite, and positive on a log axis.
    pub fn drawable(&self, p: (f64, f64)) -> bool {
        p.0.is_finite() && p.1.is_finite() && (!self.log_x || p.0 > 0.0) && (!self.log_y || p.1 > 0.0)
    }

    /// Whether `p` is drawable and inside the box (bounds included).
    pub fn contains(&self, p: (f64, f64)) -> bool {
        self.drawable(p) && p.0 >= self.x.0 && p.0 <= self.x.1 && p.1 >= self.y.0 && p.1 <= self.y.1
    }

    /// `p` clamped into the box (non-finite coordinates: NaN stays NaN, ±∞ go to the edges; on a log axis
    /// a value ≤ 0 goes to the lower edge).
    pub fn clamp(&self, p: (f64, f64)) -> (f64, f64) {
        let c = |v: f64, r: (f64, f64), log: bool| {
            if v.is_nan() {
                v
            } else if log && v <= 0.0 {
                r.0
            } else {
                v.clamp(r.0, r.1)
            }
        };
        (c(p.0, self.x, self.log_x), c(p.1, self.y, self.log_y))
    }

    /// `v` clamped into the y range (see [`Frame::clamp`]).
    pub fn clamp_y(&self, v: f64) -> f64 {
        self.clamp((self.x.0, v)).1
    }

    /// Whether `v` lies within the x range.
    pub fn has_x(&self, v: f64) -> bool {
        v.is_finite() && v >= self.x.0 && v <= self.x.1 && (!self.log_x || v > 0.0)
    }

    /// Whether `v` lies within the y range.
    pub fn has_y(&self, v: f64) -> bool {
        v.is_finite() && v >= self.y.0 && v <= self.y.1 && (!self.log_y || v > 0.0)
    }

    /// The polyline through `points` as runs of points inside the box: it is broken at points that cannot
    /// be drawn (non-finite, ≤ 0 on a log axis) and where it leaves the box; each segment is clipped to the
    /// box (on the scale of each axis), so a line leaving the plot ends at its edge. Runs have ≥ 2 points.
    pub fn polyline(&self, points: impl IntoIterator<Item = (f64, f64)>) -> Vec<Vec<(f64, f64)>> {
        let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
        let mut cur: Vec<(f64, f64)> = Vec::new();
        let mut prev: Option<(f64, f64)> = None;
        let flush = |cur: &mut Vec<(f64, f64)>, runs: &mut Vec<Vec<(f64, f64)>>| {
            if cur.len() >= 2 {
                runs.push(std::mem::take(cur));
            } else {
                cur.clear();
            }
        };
        for p in points {
            if !self.drawable(p) {
                flush(&mut cur, &mut runs);
                prev = None;
                continue;
            }
            if let Some(a) = prev {
                match self.clip_segment(a, p) {
                    Some((s, e)) => {
                        if cur.last() != Some(&s) {
                            flush(&mut cur, &mut runs);
                            cur.push(s);
                        }
                        cur.push(e);
                        if e != p {
                            // Left the box: the next visible piece starts a new run.
                            flush(&mut cur, &mut runs);
                        }
                    }
                    None => flush(&mut cur, &mut runs),
                }
            }
            prev = Some(p);
        }
        flush(&mut cur, &mut runs);
        runs
    }

    /// The part of the segment a–b inside the box (Liang–Barsky on the axes' scales), if any.
    pub fn clip_segment(&self, a: (f64, f64), b: (f64, f64)) -> Option<((f64, f64), (f64, f64))> {
        if !(self.drawable(a) && self.drawable(b)) {
            return None;
        }
        let tx = |v: f64| if self.log_x { v.log10() } else { v };
        let ty = |v: f64| if self.log_y { v.log10() } else { v };
        let (x0, y0, x1, y1) = (tx(a.0), ty(a.1), tx(b.0), ty(b.1));
        let (xl, xh) = (tx(self.x.0), tx(self.x.1));
        let (yl, yh) = (ty(self.y.0), ty(self.y.1));
        let (dx, dy) = (x1 - x0, y1 - y0);
        if !(dx.is_finite() && dy.is_finite()) {
            return None;
        }
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        for (p, q) in [(-dx, x0 - xl), (dx, xh - x0), (-dy, y0 - yl), (dy, yh - y0)] {
            if p == 0.0 {
                if q < 0.0 {
                    return None;
                }
            } else {
                let r = q / p;
                if p < 0.0 {
                    t0 = t0.max(r);
                } else {
                    t1 = t1.min(r);
                }
            }
        }
        if t0 > t1 {
            return None;
        }
        let ux = |v: f64| if self.log_x { 10f64.powf(v) } else { v };
        let uy = |v: f64| if self.log_y { 10f64.powf(v) } else { v };
        let at = |t: f64| {
            if t == 0.0 {
                a
            } else if t == 1.0 {
                b
            } else {
                self.clamp((ux(x0 + t * dx), uy(y0 + t * dy)))
            }
        };
        Some((at(t0), at(t1)))
    }
}

/// Largest ratio of the x and y spans for which plane figures keep x and y to the same scale.
pub const MAX_ASPECT: f64 = 10.0;

/// Whether the spans of `x` and `y` are within a factor [`MAX_ASPECT`] of each other (then a plane figure
/// draws them to the same scale, see [`equal_aspect`]).
pub fn comparable(x: (f64, f64), y: (f64, f64)) -> bool {
    let (sx, sy) = (x.1 - x.0, y.1 - y.0);
    sx > 0.0 && sy > 0.0 && sx.max(sy) / sx.min(sy) <= MAX_ASPECT
}

/// The ranges widened (about their centres) so that one unit of x and one unit of y take the same number
/// of pixels in a plot of `px` = (width, height) pixels.
pub fn equal_aspect(x: (f64, f64), y: (f64, f64), px: (u32, u32)) -> ((f64, f64), (f64, f64)) {
    let (w, h) = (px.0.max(1) as f64, px.1.max(1) as f64);
    let u = ((x.1 - x.0) / w).max((y.1 - y.0) / h);
    if !(u.is_finite() && u > 0.0) {
        return (x, y);
    }
    let (cx, cy) = (0.5 * (x.0 + x.1), 0.5 * (y.0 + y.1));
    (
        sane_linear((cx - 0.5 * u * w, cx + 0.5 * u * w)),
        sane_linear((cy - 0.5 * u * h, cy + 0.5 * u * h)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: [f64; 7] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, 1e300, -1e300, f64::MAX];

    #[test]
    fn linear_ranges_are_drawable_for_any_input() {
        for &a in &HOSTILE {
            for &b in &HOSTILE {
                for r in [linear([a, b], 0.05), sane_linear((a, b)), linear([a, b, 1.0], 0.05)] {
                    assert!(r.0.is_finite() && r.1.is_finite() && r.0 < r.1, "{a} {b} → {r:?}");
                    assert!((r.1 - r.0).is_finite() && r.0 >= -LIMIT && r.1 <= LIMIT, "{r:?}");
                    assert!(r.1 - r.0 > 1e-9 * r.0.abs().max(r.1.abs()), "{r:?}");
                }
            }
        }
        // Ordinary data keeps its range (plus the padding).
        assert_eq!(linear([1.0, 3.0], 0.0), (1.0, 3.0));
        assert_eq!(linear([2.0, 2.0], 0.0), (1.8, 2.2));
    }

    #[test]
    fn log_ranges_are_positive_finite_and_bounded() {
        for &a in &HOSTILE {
            for &b in &HOSTILE {
                for r in [log([a, b, 1e-320]).unwrap_or((1.0, 10.0)), sane_log((a, b))] {
                    assert!(r.0 > 0.0 && r.1.is_finite() && r.0 < r.1, "{a} {b} → {r:?}");
                    assert!(
                        r.1 / r.0 >= 1.0001 && (r.1 / r.0).log10() <= MAX_DECADES + 1e-9,
                        "{r:?}"
                    );
                }
            }
        }
        assert!(log([0.0, -1.0, f64::NAN]).is_none());
        // 1e-3 … 1e300 keeps the top 200 decades.
        let r = sane_log((1e-3, 1e300));
        assert_eq!(r.1, 1e300);
        assert!((r.0.log10() - 100.0).abs() < 1e-9);
    }

    #[test]
    fn polylines_break_at_undrawable_points_and_end_at_the_edge() {
        let f = Frame::linear((0.0, 10.0), (0.0, 10.0));
        let runs = f.polyline([
            (1.0, 1.0),
            (2.0, 2.0),
            (f64::NAN, 3.0),
            (3.0, 3.0),
            (4.0, 20.0),
            (5.0, 5.0),
        ]);
        assert_eq!(runs.len(), 3, "{runs:?}");
        assert_eq!(runs[0], vec![(1.0, 1.0), (2.0, 2.0)]);
        // (3,3) → (4,20) leaves through y = 10 at x = 3 + 7/17.
        assert_eq!(runs[1][0], (3.0, 3.0));
        assert!((runs[1][1].0 - (3.0 + 7.0 / 17.0)).abs() < 1e-12 && runs[1][1].1 == 10.0);
        // (4,20) → (5,5) comes back in through y = 10 at x = 4 + 10/15.
        assert!((runs[2][0].0 - (4.0 + 10.0 / 15.0)).abs() < 1e-12 && runs[2][1] == (5.0, 5.0));

        // Log y: the zero breaks the line (no segment from log 0), a value of 1e300 is clipped at the top.
        let f = Frame::log_y((0.0, 10.0), (1e-2, 1e2));
        let runs = f.polyline([(0.0, 0.0), (1.0, 1.0), (2.0, 10.0), (3.0, 1e300)]);
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0][0], (1.0, 1.0));
        let last = *runs[0].last().unwrap();
        assert!(last.1 == 1e2 && last.0 > 2.0 && last.0 < 2.01, "{last:?}");
    }

    #[test]
    fn equal_aspect_gives_both_axes_the_same_units_per_pixel() {
        let (x, y) = equal_aspect((0.0, 1.0), (0.0, 4.0), (800, 400));
        let (ux, uy) = ((x.1 - x.0) / 800.0, (y.1 - y.0) / 400.0);
        assert!((ux - uy).abs() < 1e-12 * ux, "{x:?} {y:?}");
        // Only widened, about the centres.
        assert!(x.0 <= 0.0 && x.1 >= 1.0 && y == (0.0, 4.0), "{x:?} {y:?}");
        assert!((0.5 * (x.0 + x.1) - 0.5).abs() < 1e-12);
        assert!(comparable((0.0, 1.0), (0.0, 10.0)) && !comparable((0.0, 1.0), (0.0, 10.5)));
    }
}
