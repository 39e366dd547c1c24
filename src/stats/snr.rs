//! The gradient signal-to-noise ratio a run visits (issue 8): ‖g(x)‖/√tr Σ_B(x) at every snapshot of every
//! path, in a fixed log-spaced histogram, so that its median is streaming, reproducible and mergeable (counts
//! add). It tells whether a normalised-gradient model that divides by the full gradient (`sam_fullbatch`,
//! `dnsam`) is in its regime of validity ‖g‖ ≫ √tr Σ_B, or whether the mini-batch SAM model `sam` (S-SAM-mb,
//! math spec §4.3) is needed.
//!
//! Resolution: [`BINS_PER_DECADE`] = 50 bins per decade on \[1e-8, 1e8\), so the reported median (the geometric
//! centre of the bin holding the lower median) is within a factor 10^{±1/100}, i.e. ±2.3 %, of the sample
//! median. Exact zeros (g = 0 with noise) have their own bin and report 0; values below 1e-8 report 1e-8, values
//! ≥ 1e8 (or Σ_B = 0 with g ≠ 0) report 1e8. Points where both vanish, or that are not finite, are counted
//! apart and excluded.
//!
//! Cost (issue 12): with a constant Σ_B (N0, N3, N1 on a quadratic, [`crate::model::Noise::is_constant`]) tr Σ_B
//! is evaluated once, not per snapshot; the bin of a value is found without `log10`, from its exponent and top
//! mantissa bits (a table of 64 buckets per octave) and a comparison with the exact bin edges, which are the
//! smallest doubles that the defining formula ⌊(log10 r + 8)·50⌋ puts in each bin. The bins are therefore
//! those of that formula bit for bit (tested against it near every edge and on 10⁶ log-uniform values).

use super::Merge;
use crate::ensemble::{Observer, PathView};
use crate::model::{Model, NoiseScratch};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Histogram bins per decade.
pub const BINS_PER_DECADE: usize = 50;
/// log10 of the lower edge of the first regular bin.
const LOG_LO: f64 = -8.0;
/// Decades covered by the regular bins.
const DECADES: usize = 16;
/// Regular bins.
const BINS: usize = BINS_PER_DECADE * DECADES;

/// What the observer evaluates at a snapshot: the model and buffers for g and the noise factor (not
/// serialised; a merged or deserialised histogram has none and only counts).
#[derive(Debug, Clone)]
struct Probe {
    model: Model,
    g: Vec<f64>,
    /// A path's running positions and their gradients, row-major ([`Observer::block`]).
    xs: Vec<f64>,
    gs: Vec<f64>,
    /// Their ratios ‖g‖/√tr Σ_B.
    rs: Vec<f64>,
    f: Vec<f64>,
    scratch: NoiseScratch,
    /// (tr Σ_B, √tr Σ_B) when Σ_B is the same at every x: evaluated once.
    constant_trace: Option<(f64, f64)>,
}

/// Histogram of ‖g‖/√tr Σ_B over snapshots and paths.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct SnrHistogram {
    /// Counts: \[0\] exact zeros, \[1\] below 1e-8, \[2..2+BINS\] the log bins, \[2+BINS\] ≥ 1e8.
    pub counts: Vec<u64>,
    /// Points where g = 0 and Σ_B = 0, or not finite (excluded from the median).
    pub undefined: u64,
    #[serde(skip)]
    probe: Option<Probe>,
}

impl PartialEq for SnrHistogram {
    fn eq(&self, o: &Self) -> bool {
        self.counts == o.counts && self.undefined == o.undefined
    }
}

impl SnrHistogram {
    /// An empty histogram that evaluates ‖g‖/√tr Σ_B on `model` at every snapshot.
    pub fn new(model: &Model) -> Self {
        let (d, m) = (model.dim(), model.columns());
        let mut probe = Probe {
            model: model.clone(),
            g: vec![0.0; d],
            xs: Vec::new(),
            gs: Vec::new(),
            rs: Vec::new(),
            f: vec![0.0; d * m],
            scratch: NoiseScratch::new(d, model.samples()),
            constant_trace: None,
        };
        let l = model.landscape().as_ref();
        if model.noise().is_constant(l) {
            let tr = probe.trace(&vec![0.0; d]);
            probe.constant_trace = Some((tr, tr.sqrt()));
        }
        SnrHistogram {
            counts: vec![0; BINS + 3],
            undefined: 0,
            probe: Some(probe),
        }
    }
    /// An empty histogram that observes nothing (no model attached).
    pub fn inactive() -> Self {
        SnrHistogram {
            counts: vec![0; BINS + 3],
            undefined: 0,
            probe: None,
        }
    }
    /// Counts one value of the ratio (NaN: undefined).
    pub fn push(&mut self, ratio: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; BINS + 3];
        }
        match bin(ratio) {
            Some(k) => self.counts[k] += 1,
            None => self.undefined += 1,
        }
    }
    /// Values counted (excluding undefined ones).
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
    /// The median (lower median: the ⌈n/2⌉-th smallest value), to ±2.3 % (see the module docs); None if empty.
    pub fn median(&self) -> Option<f64> {
        let n = self.total();
        if n == 0 {
            return None;
        }
        let want = n.div_ceil(2);
        let mut acc = 0;
        for (k, &c) in self.counts.iter().enumerate() {
            acc += c;
            if acc >= want {
                return Some(match k {
                    0 => 0.0,
                    1 => 10f64.powf(LOG_LO),
                    k if k == BINS + 2 => 1e8,
                    k => 10f64.powf(LOG_LO + ((k - 2) as f64 + 0.5) / BINS_PER_DECADE as f64),
                });
            }
        }
        None
    }
}

impl Probe {
    /// tr Σ_B(x) = Σ F²ᵢⱼ.
    fn trace(&mut self, x: &[f64]) -> f64 {
        let l = self.model.landscape().as_ref();
        self.model.noise().factor(l, x, &mut self.f, &mut self.scratch);
        self.f.iter().map(|v| v * v).sum()
    }
}

/// The histogram bin of a ratio (None: undefined, NaN or negative).
#[inline(always)]
fn bin(ratio: f64) -> Option<usize> {
    bin_in(bin_table(), ratio)
}

/// [`bin`] with the table at hand.
#[inline(always)]
fn bin_in(t: &BinTable, ratio: f64) -> Option<usize> {
    if ratio.is_nan() || ratio < 0.0 {
        None
    } else if ratio == 0.0 {
        Some(0)
    } else if ratio >= 1e8 {
        Some(BINS + 2)
    } else {
        Some(regular_bin_in(t, ratio))
    }
}

/// ‖g‖/√tr Σ_B from ‖g‖² = `gg`, tr Σ_B = `tr` and √tr Σ_B = `sqrt_tr` (NaN where undefined, +∞ without noise).
#[inline(always)]
fn ratio(gg: f64, tr: f64, sqrt_tr: f64) -> f64 {
    let gn = gg.sqrt();
    if !(gn.is_finite() && tr.is_finite()) || (gn == 0.0 && tr == 0.0) {
        f64::NAN
    } else if tr == 0.0 {
        f64::INFINITY
    } else {
        gn / sqrt_tr
    }
}

/// [`ratio`] of every gradient in `gs` (row-major, n×d) into `rs`, for a constant tr Σ_B: with tr finite
/// and positive, ‖g‖/√tr for finite ‖g‖ and NaN otherwise (what [`ratio`] gives then), in a loop compiled for
/// d ≤ 4 that the compiler vectorises across points.
fn ratios(d: usize, gs: &[f64], tr: f64, sqrt_tr: f64, rs: &mut Vec<f64>) {
    // ‖g‖² summed from its first term (0.0 + a square is the square: the same bits as `linalg::dot`).
    #[inline(always)]
    fn each<const D: usize>(gs: &[f64], sqrt_tr: f64, rs: &mut [f64]) {
        for (r, g) in rs.iter_mut().zip(gs.chunks_exact(D)) {
            let mut q = g[0] * g[0];
            for v in &g[1..D] {
                q += v * v;
            }
            let gn = q.sqrt();
            let r1 = gn / sqrt_tr;
            *r = if gn.is_finite() { r1 } else { f64::NAN };
        }
    }
    rs.clear();
    if !(tr.is_finite() && tr > 0.0) || d > 4 {
        rs.extend(gs.chunks_exact(d).map(|g| ratio(crate::linalg::dot(g, g), tr, sqrt_tr)));
        return;
    }
    rs.resize(gs.len() / d, 0.0);
    match d {
        1 => each::<1>(gs, sqrt_tr, rs),
        2 => each::<2>(gs, sqrt_tr, rs),
        3 => each::<3>(gs, sqrt_tr, rs),
        _ => each::<4>(gs, sqrt_tr, rs),
    }
}

/// The defining bin formula for 0 < r < 1e8: 1 below 1e-8, else 2 + min(⌊(log10 r + 8)·50⌋, BINS − 1).
fn bin_by_log10(r: f64) -> usize {
    let pos = (r.log10() - LOG_LO) * BINS_PER_DECADE as f64;
    if pos < 0.0 { 1 } else { 2 + (pos as usize).min(BINS - 1) }
}

/// Mantissa bits of a bucket key: 2⁶ = 64 buckets per octave, each narrower than a third of a bin.
const BUCKET_BITS: u32 = 6;
/// Key (bits >> (52 − BUCKET_BITS)) of the first bucket, at 2⁻²⁷ < 1e-8; the last octave starts at 2²⁶ < 1e8 < 2²⁷.
const FIRST_KEY: u64 = (1023 - 27) << BUCKET_BITS;
/// Buckets from 2⁻²⁷ to 2²⁷.
const BUCKETS: usize = 54 << BUCKET_BITS;

/// The bin edges and the bucket table of [`regular_bin_in`].
struct BinTable {
    /// edge\[k\]: the smallest double r > 0 with `bin_by_log10(r)` ≥ 2 + k (k = 0..BINS), ascending;
    /// edge\[BINS\] = +∞.
    edge: Vec<f64>,
    /// below\[b\]: the number of edges ≤ the first double of bucket b.
    below: Vec<u16>,
}

fn bin_table() -> &'static BinTable {
    static TABLE: OnceLock<BinTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        // bin_by_log10 is non-decreasing in r, so each edge is found by bisection on the bit patterns of
        // positive doubles (ordered like the doubles), between 1e-9 (bin 1) and 1e8.
        let edge: Vec<f64> = (0..BINS)
            .map(|k| {
                let (mut lo, mut hi) = (1e-9f64.to_bits(), 1e8f64.to_bits());
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if bin_by_log10(f64::from_bits(mid)) >= 2 + k {
                        hi = mid;
                    } else {
                        lo = mid;
                    }
                }
                f64::from_bits(hi)
            })
            .chain([f64::INFINITY])
            .collect();
        let below: Vec<u16> = (0..BUCKETS as u64)
            .map(|b| {
                let start = f64::from_bits((FIRST_KEY + b) << (52 - BUCKET_BITS));
                edge.partition_point(|&e| e <= start) as u16
            })
            .collect();
        // every bucket holds at most one edge, so one comparison finishes the lookup
        let mut bounds: Vec<u16> = below.clone();
        bounds.push(BINS as u16);
        assert!(
            bounds.windows(2).all(|w| w[1] - w[0] <= 1),
            "a bucket holds two bin edges"
        );
        BinTable { edge, below }
    })
}

/// `bin_by_log10(r)` for 0 < r < 1e8 without a logarithm: the bucket of r's exponent and top mantissa bits
/// gives the number of edges below it, and the (at most one) edge inside the bucket is compared directly,
/// without a branch.
#[inline(always)]
fn regular_bin_in(t: &BinTable, r: f64) -> usize {
    let key = r.to_bits() >> (52 - BUCKET_BITS);
    if key < FIRST_KEY {
        return 1;
    }
    let k = t.below[(key - FIRST_KEY) as usize] as usize;
    1 + k + usize::from(t.edge[k] <= r)
}

impl Merge for SnrHistogram {
    fn merge(&mut self, b: Self) {
        if self.counts.is_empty() {
            self.counts = vec![0; BINS + 3];
        }
        for (a, c) in self.counts.iter_mut().zip(&b.counts) {
            *a += c;
        }
        self.undefined += b.undefined;
    }
}

impl Observer for SnrHistogram {
    fn snapshot(&mut self, _path: &PathView<'_>, _j: usize, x: &[f64]) {
        let Some(p) = self.probe.as_mut() else { return };
        let l = p.model.landscape().as_ref();
        if x.len() != p.g.len() {
            return;
        }
        l.gradient(x, &mut p.g);
        let gg = crate::linalg::dot(&p.g, &p.g);
        let (tr, sqrt_tr) = match p.constant_trace {
            Some(c) => c,
            None => {
                let tr = p.trace(x);
                (tr, tr.sqrt())
            }
        };
        self.push(ratio(gg, tr, sqrt_tr));
    }
    /// With a constant Σ_B: every ‖g‖² of the block first, then the ratios (their square roots and
    /// divisions independent of each other, so they overlap instead of waiting on one another); the same
    /// values and counts as [`Observer::snapshot`] point by point.
    fn block(&mut self, paths: &[PathView<'_>], _reference: Option<&[PathView<'_>]>) {
        let Some(p) = self.probe.as_mut() else { return };
        let Some((tr, sqrt_tr)) = p.constant_trace else {
            for v in paths {
                for j in 0..v.record.alive.len() {
                    if let Some(x) = v.position(j) {
                        self.snapshot(v, j, x);
                    }
                }
            }
            return;
        };
        // Path by path: its running positions in a row and their gradients in one call; the ratios are
        // counted into four interleaved histograms (consecutive snapshots of a path often share a bin, and one
        // counter incremented back to back waits on its own store), added up at the end.
        const W: usize = BINS + 3;
        let mut sub = vec![0u64; 4 * W];
        let (mut undefined, mut i) = (0, 0);
        let d = p.g.len();
        let (xs, gs, rs) = (&mut p.xs, &mut p.gs, &mut p.rs);
        let table = bin_table();
        for v in paths.iter().filter(|v| v.dim() == d) {
            // A path runs from its first snapshot until it ends: its positions are then the record's first
            // rows, used in place; otherwise they are gathered.
            let alive = &v.record.alive;
            let k = alive.iter().take_while(|&&a| a).count();
            let at: &[f64] = if alive[k..].iter().all(|&a| !a) {
                &v.record.snaps[..k * d]
            } else {
                xs.clear();
                for j in 0..alive.len() {
                    if let Some(x) = v.position(j) {
                        xs.extend_from_slice(x);
                    }
                }
                xs
            };
            gs.resize(at.len(), 0.0);
            p.model.landscape().gradients(at, gs);
            // The ratios first (square roots and divisions independent of each other), then their bins.
            ratios(d, gs, tr, sqrt_tr, rs);
            for &r in rs.iter() {
                match bin_in(table, r) {
                    Some(k) => sub[(i & 3) * W + k] += 1,
                    None => undefined += 1,
                }
                i += 1;
            }
        }
        if self.counts.is_empty() {
            self.counts = vec![0; W];
        }
        for (k, c) in self.counts.iter_mut().enumerate() {
            *c += sub[k] + sub[W + k] + sub[2 * W + k] + sub[3 * W + k];
        }
        self.undefined += undefined;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The median of known values lands in their bin (±2.3 %), zeros and extremes go to their own bins, and
    /// merging two halves equals counting everything in one histogram.
    #[test]
    fn median_resolution_and_merge() {
        let mut a = SnrHistogram::inactive();
        let mut b = SnrHistogram::inactive();
        let values: Vec<f64> = (1..=1001).map(|k| 0.01 * k as f64).collect(); // median 5.01
        for (i, v) in values.iter().enumerate() {
            if i % 2 == 0 { a.push(*v) } else { b.push(*v) }
        }
        let mut all = SnrHistogram::inactive();
        values.iter().for_each(|v| all.push(*v));
        a.merge(b);
        assert_eq!(a, all);
        let m = a.median().unwrap();
        assert!((m / 5.01 - 1.0).abs() < 0.024, "median {m}");
        let mut z = SnrHistogram::inactive();
        [0.0, 0.0, 3.0, f64::NAN].iter().for_each(|v| z.push(*v));
        assert_eq!((z.median(), z.undefined, z.total()), (Some(0.0), 1, 3));
        let mut big = SnrHistogram::inactive();
        [f64::INFINITY, 1e9, 1e-12].iter().for_each(|v| big.push(*v));
        assert_eq!(big.median(), Some(1e8));
        assert_eq!(SnrHistogram::inactive().median(), None);
    }

    /// The block hook (gradients in one call per path, ratios then bins, four interleaved histograms) counts
    /// exactly what the point-by-point hook counts: 256 paths running for different numbers of snapshots (a
    /// few with a gap), in
    /// d = 1, 2, 3, 4 and 6, with positions at the saddle (ratio 0), far out (≥ 1e8 and below 1e-8 bins) and
    /// not finite (undefined).
    #[test]
    fn block_counts_what_the_snapshots_count() {
        use crate::ensemble::PathView;
        use crate::model::landscape::Quadratic;
        use crate::model::noise::Noise;
        for d in [1, 2, 3, 4, 6] {
            let lambda: Vec<f64> = (0..d).map(|i| if i % 2 == 0 { 1.0 + i as f64 } else { -0.5 }).collect();
            let model = Model::new(
                std::sync::Arc::new(Quadratic::diagonal(&lambda).unwrap()),
                Noise::isotropic(0.7, 3.0).unwrap(),
            )
            .unwrap();
            let plan = crate::stepper::Plan::at_origin(d);
            let snaps = 9;
            let mut rng = crate::brownian::path_rng(5, d as u64);
            let special = [0.0, 1e9, 1e-12, f64::NAN, f64::INFINITY];
            let records: Vec<crate::stepper::PathRecord> = (0..256)
                .map(|p| {
                    let mut r = crate::stepper::PathRecord::new(d, snaps);
                    for j in 0..snaps - p % 4 {
                        for i in 0..d {
                            let z = crate::brownian::normal(&mut rng);
                            r.snaps[j * d + i] = if p % 7 == 0 && j == 1 { special[(p / 7) % 5] } else { z };
                        }
                        r.alive[j] = true;
                    }
                    // a few records with a gap (gathered rather than read in place)
                    r.alive[1] &= p % 11 != 0;
                    r
                })
                .collect();
            let views: Vec<PathView> = records
                .iter()
                .enumerate()
                .map(|(p, record)| PathView {
                    index: p as u64,
                    record,
                    plan: &plan,
                    t_end: 1.0,
                })
                .collect();
            let mut block = SnrHistogram::new(&model);
            block.block(&views, None);
            let mut points = SnrHistogram::new(&model);
            for v in &views {
                for j in 0..snaps {
                    if let Some(x) = v.position(j) {
                        points.snapshot(v, j, x);
                    }
                }
            }
            assert_eq!(block, points, "d = {d}");
            assert!(
                block.undefined > 0 && block.counts[0] > 0 && block.counts[BINS + 2] > 0,
                "d = {d}"
            );
            assert_eq!(
                block.total() + block.undefined,
                views
                    .iter()
                    .map(|v| (0..snaps).filter(|&j| v.position(j).is_some()).count() as u64)
                    .sum::<u64>()
            );
        }
    }

    /// The table lookup gives the bins of the defining formula ⌊(log10 r + 8)·50⌋ bit for bit: on the 128
    /// doubles around every edge and every 10^(k/50), around every bucket start, and on 10⁶ values
    /// log-uniform on [1e-9, 1e8).
    #[test]
    fn bin_lookup_equals_log10_formula() {
        let check = |r: f64| {
            if r > 0.0 && r < 1e8 {
                assert_eq!(
                    regular_bin_in(bin_table(), r),
                    bin_by_log10(r),
                    "r = {r:e} ({:#x})",
                    r.to_bits()
                );
            }
        };
        let around = |c: f64| {
            let b = c.to_bits();
            (b - 64..b + 64).map(f64::from_bits).for_each(check);
        };
        let t = bin_table();
        assert!(t.edge.windows(2).all(|w| w[0] < w[1]));
        assert_eq!((t.edge.len(), t.edge[BINS]), (BINS + 1, f64::INFINITY));
        // log10 rounds doubles a few ulps below 1e-8 to −8 exactly, so the first edge sits just below 1e-8
        assert!((t.edge[0] / 1e-8 - 1.0).abs() < 1e-13, "first edge {:e}", t.edge[0]);
        t.edge[..BINS].iter().for_each(|&e| around(e));
        (0..=BINS).for_each(|k| around(10f64.powf(LOG_LO + k as f64 / BINS_PER_DECADE as f64)));
        (0..BUCKETS as u64).for_each(|b| around(f64::from_bits((FIRST_KEY + b) << (52 - BUCKET_BITS))));
        let mut rng = crate::brownian::path_rng(5, 0);
        for _ in 0..1_000_000 {
            check(10f64.powf(-9.0 + 17.0 * crate::brownian::uniform(&mut rng)));
        }
    }

    /// With constant noise tr Σ_B is evaluated once; the histogram equals the one that evaluates the factor at
    /// every snapshot (the cache is only a cache).
    #[test]
    fn constant_trace_is_only_a_cache() {
        use crate::ensemble::PathView;
        use crate::model::landscape::Quadratic;
        use crate::model::noise::Noise;
        let model = Model::new(
            std::sync::Arc::new(Quadratic::diagonal(&[1.0, -0.5]).unwrap()),
            Noise::isotropic(0.7, 3.0).unwrap(),
        )
        .unwrap();
        let mut cached = SnrHistogram::new(&model);
        assert!(cached.probe.as_ref().unwrap().constant_trace.is_some());
        let mut fresh = SnrHistogram::new(&model);
        fresh.probe.as_mut().unwrap().constant_trace = None;
        let plan = crate::stepper::Plan::at_origin(2);
        let record = crate::stepper::PathRecord::new(2, 1);
        let view = PathView {
            index: 0,
            record: &record,
            plan: &plan,
            t_end: 1.0,
        };
        let mut rng = crate::brownian::path_rng(9, 0);
        for j in 0..10_000 {
            let x = [
                crate::brownian::normal(&mut rng),
                1e-6 * crate::brownian::normal(&mut rng),
            ];
            cached.snapshot(&view, j, &x);
            fresh.snapshot(&view, j, &x);
        }
        cached.snapshot(&view, 0, &[0.0, 0.0]);
        fresh.snapshot(&view, 0, &[0.0, 0.0]);
        assert_eq!(cached, fresh);
        assert_eq!(cached.counts[0], 1);
    }
}
