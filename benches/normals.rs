//! Normal-sampler throughput, single thread (issue 12): rand_distr's scalar ziggurat against the
//! project's scalar ziggurat and its SIMD lanes at every ISA level this CPU has, all in one process.
//!
//! `cargo bench --bench normals` (plain harness). Every variant fills 4096 normals per call into a
//! buffer that stays in L1; the variants run in turn, `ROUNDS` times, each for ≈ `SLICE_MS` ms, and the
//! table reports the median ns per normal, M normals/s and the ratio to rand_distr of the same round
//! (median over rounds), so load from other processes affects numerator and denominator alike.
//! Generator-only rows (`u64` words, same shapes) give the fraction of time spent in xoshiro256++
//! versus the normal transform. Environment: `NORMALS_ROUNDS`, `NORMALS_SLICE_MS`, `NORMALS_FILTER`
//! (comma-separated substrings of variant names; the rand_distr baseline always runs).

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, StandardNormal};
use samsde::brownian::{Isa, LaneNormals, LaneRng, Xoshiro256pp, fill_normals, path_rng};
use std::hint::black_box;
use std::time::Instant;

const N: usize = 4096;

/// A benchmark variant: a name and a closure that produces `N` values per call.
struct Variant {
    name: String,
    group: &'static str,
    run: Box<dyn FnMut()>,
}

fn variant(name: impl Into<String>, group: &'static str, run: impl FnMut() + 'static) -> Variant {
    Variant {
        name: name.into(),
        group,
        run: Box::new(run),
    }
}

/// Lane variants for width L at level `isa`: normals and raw words in blocks of N/L rows, and normals in
/// per-step fills of 2 rows (the 2-D kernel pattern) and through the block buffer.
fn lane_variants<const L: usize>(isa: Isa, out: &mut Vec<Variant>) {
    let eff = isa.for_lanes(L);
    if eff != isa {
        return; // this width runs at a lower level; it is listed there
    }
    let mk = || LaneRng::<L>::from_lanes(core::array::from_fn(|l| path_rng(1, l as u64))).with_isa(isa);
    let mut rng = mk();
    let mut buf = vec![[0.0f64; L]; N / L];
    out.push(variant(format!("lanes L={L:<2} {isa:?}"), "normals", move || {
        rng.fill_normals(&mut buf);
        black_box(&buf);
    }));
    let mut rng = mk();
    let mut wbuf = vec![[0u64; L]; N / L];
    out.push(variant(
        format!("lanes L={L:<2} {isa:?} words only"),
        "generator",
        move || {
            rng.fill_u64(&mut wbuf);
            black_box(&wbuf);
        },
    ));
    if L == 8 || L == 16 {
        let mut rng = mk();
        let mut rows = [[0.0f64; L]; 2];
        out.push(variant(
            format!("lanes L={L:<2} {isa:?} 2 rows/call"),
            "normals",
            move || {
                for _ in 0..N / L / 2 {
                    rng.fill_normals(&mut rows);
                    black_box(&rows);
                }
            },
        ));
        let mut b = LaneNormals::<L, 128>::new(mk());
        out.push(variant(
            format!("LaneNormals<{L},128> {isa:?} next_rows(2)"),
            "normals",
            move || {
                for _ in 0..N / L / 2 {
                    black_box(b.next_rows(2));
                }
            },
        ));
    }
}

fn main() {
    let rounds: usize = std::env::var("NORMALS_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(11);
    let slice_ms: f64 = std::env::var("NORMALS_SLICE_MS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40.0);
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then run one short round as a smoke test.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let (rounds, slice_ms) = if smoke { (1, 2.0) } else { (rounds, slice_ms) };

    let mut vs: Vec<Variant> = Vec::new();
    let mut g = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut buf = vec![0.0f64; N];
    vs.push(variant("rand_distr StandardNormal (scalar)", "normals", move || {
        for z in buf.iter_mut() {
            *z = StandardNormal.sample(&mut g);
        }
        black_box(&buf);
    }));
    let mut g = Xoshiro256pp::seed_from_u64(1);
    let mut buf = vec![0.0f64; N];
    vs.push(variant("samsde fill_normals (scalar)", "normals", move || {
        fill_normals(&mut g, &mut buf);
        black_box(&buf);
    }));
    let mut g = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut buf = vec![0.0f64; N];
    vs.push(variant(
        "samsde fill_normals (scalar, rand's Xoshiro)",
        "normals",
        move || {
            fill_normals(&mut g, &mut buf);
            black_box(&buf);
        },
    ));
    let mut g = Xoshiro256pp::seed_from_u64(1);
    let mut wbuf = vec![0u64; N];
    vs.push(variant("scalar xoshiro256++ words only", "generator", move || {
        for w in wbuf.iter_mut() {
            *w = g.next_u64();
        }
        black_box(&wbuf);
    }));
    for isa in Isa::ALL.into_iter().filter(|i| i.available()) {
        lane_variants::<1>(isa, &mut vs);
        lane_variants::<2>(isa, &mut vs);
        lane_variants::<4>(isa, &mut vs);
        lane_variants::<8>(isa, &mut vs);
        lane_variants::<16>(isa, &mut vs);
    }

    // optional filter (the rand_distr baseline always runs: every ratio is against it)
    if let Ok(f) = std::env::var("NORMALS_FILTER") {
        let keep: Vec<&str> = f.split(',').collect();
        let mut k = 0;
        vs.retain(|v| {
            k += 1;
            k == 1 || keep.iter().any(|w| v.name.contains(w))
        });
    }

    // calibrate: calls per slice
    let calls: Vec<usize> = vs
        .iter_mut()
        .map(|v| {
            let t = Instant::now();
            let mut n = 0;
            while t.elapsed().as_secs_f64() < 0.005 {
                (v.run)();
                n += 1;
            }
            ((n as f64 * slice_ms / 5.0).ceil() as usize).max(1)
        })
        .collect();

    let mut ns = vec![Vec::new(); vs.len()];
    for _ in 0..rounds {
        for (k, v) in vs.iter_mut().enumerate() {
            let t = Instant::now();
            for _ in 0..calls[k] {
                (v.run)();
            }
            ns[k].push(t.elapsed().as_secs_f64() * 1e9 / (calls[k] * N) as f64);
        }
    }
    let median = |x: &[f64]| {
        let mut y = x.to_vec();
        y.sort_by(f64::total_cmp);
        y[y.len() / 2]
    };
    let base = &ns[0];
    let med: Vec<f64> = ns.iter().map(|x| median(x)).collect();
    println!(
        "normals/s per core, single thread; {rounds} rounds × {slice_ms} ms per variant; ISA detected: {:?}",
        Isa::detect()
    );
    println!(
        "{:<46} {:>9} {:>9} {:>8} {:>8}",
        "variant", "ns/value", "M/s", "×rand", "min ns"
    );
    for (k, v) in vs.iter().enumerate() {
        let ratios: Vec<f64> = base.iter().zip(&ns[k]).map(|(b, x)| b / x).collect();
        let m = median(&ns[k]);
        let lo = ns[k].iter().cloned().fold(f64::INFINITY, f64::min);
        println!(
            "{:<46} {:>9.3} {:>9.0} {:>8.2} {:>8.3}  {}",
            v.name,
            m,
            1e3 / m,
            median(&ratios),
            lo,
            v.group
        );
    }
    // generator share: time of the words-only fill over time of the normals fill, same shape
    println!("\ngenerator share of the normals' time (xoshiro256++ words / normals, medians):");
    for (k, v) in vs.iter().enumerate().filter(|(_, v)| v.group == "generator") {
        let target = if v.name.starts_with("scalar xoshiro") {
            "samsde fill_normals (scalar)".to_string()
        } else {
            v.name.trim_end_matches(" words only").to_string()
        };
        if let Some(j) = vs.iter().position(|w| w.name == target) {
            println!(
                "  {:<40} {:>5.1} % generator, {:>5.1} % transform",
                target,
                100.0 * med[k] / med[j],
                100.0 * (1.0 - med[k] / med[j])
            );
        }
    }
}
