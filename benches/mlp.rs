//! Costs of the `mlp` landscape (issue 13, item 2/3): wall time of each per-call method on iris (N = 150)
//! networks of growing width, and of Lanczos (`model::krylov::hessian_spectrum`, Hessian–vector products only)
//! for the 10 lowest Hessian eigenvalues of a 4 → 256 → 128 → 3 tanh network (d = 34,563) at a random point,
//! with each eigenpair's residual ‖Hq − λq‖ (the bench fails if one exceeds 1e−6 ‖H‖: a timing of a wrong
//! answer is worthless).
//!
//! Run with `cargo bench --bench mlp`; `--skip-lanczos` times the per-call methods only.

use samsde::model::krylov::{LanczosOptions, hessian_spectrum};
use samsde::model::landscape::mlp::{Activation, Loss, Mlp};
use samsde::model::landscape::{FiniteSum, Landscape};
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

fn iris_net(hidden: &[usize]) -> Mlp {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/iris.csv");
    Mlp::from_csv(path, hidden, Activation::Tanh, Loss::CrossEntropy).expect("iris")
}

/// Mean seconds per call of `f` over `reps` calls, after one warm-up call.
fn time(reps: usize, f: &mut dyn FnMut()) -> f64 {
    f();
    let t0 = Instant::now();
    for _ in 0..reps {
        f();
    }
    t0.elapsed().as_secs_f64() / reps as f64
}

fn per_call_costs() {
    for hidden in [vec![4usize], vec![8], vec![16], vec![16, 16]] {
        let net = iris_net(&hidden);
        let d = net.dim();
        let x = net.init(1);
        let (mut g, mut h, mut t) = (vec![0.0; d], vec![0.0; d * d], vec![0.0; d * d]);
        let tv = time(2000, &mut || {
            black_box(net.value(&x));
        });
        let tg = time(2000, &mut || net.gradient(&x, &mut g));
        let v = x.clone();
        let thv = time(1000, &mut || net.hessian_vector(&x, &v, &mut g));
        let th = time(20, &mut || net.hessian(&x, &mut h));
        let tt = time(5, &mut || net.third(&x, &v, &mut t));
        let tsg = time(20000, &mut || net.sample_gradient(5, &x, &mut g));
        let tsh = time(200, &mut || net.sample_hessian(5, &x, &mut h));
        black_box((&g, &h, &t));
        println!(
            "hidden {hidden:?}, d = {d}: value {:.1} µs, gradient {:.1} µs, Hv {:.1} µs, Hessian {:.2} ms, \
             third {:.2} ms, sample_gradient {:.2} µs, sample_hessian {:.1} µs",
            tv * 1e6,
            tg * 1e6,
            thv * 1e6,
            th * 1e3,
            tt * 1e3,
            tsg * 1e6,
            tsh * 1e6
        );
    }
}

fn lanczos_cost_at_large_dimension() {
    let net = iris_net(&[256, 128]);
    let x = net.init(1);
    let mut hv = vec![0.0; net.dim()];
    let t_hvp = time(5, &mut || net.hessian_vector(&x, &x, &mut hv));
    let t0 = Instant::now();
    let spec = hessian_spectrum(
        &net,
        &x,
        &LanczosOptions {
            k: 10,
            stop_at_nonnegative: false,
            ..Default::default()
        },
    )
    .expect("Lanczos");
    let secs = t0.elapsed().as_secs_f64();
    let scale = spec.eigenvalues.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst = spec.residuals.iter().fold(0.0f64, |m, &r| m.max(r));
    println!(
        "Lanczos, d = {}: one Hv {:.1} ms; 10 lowest eigenvalues {:?} in {secs:.2} s with {} products \
         (max residual {worst:.1e})",
        net.dim(),
        t_hvp * 1e3,
        spec.eigenvalues,
        spec.products,
    );
    assert!(worst <= 1e-6 * scale.max(1.0), "residual {worst:e}");
}

fn main() {
    per_call_costs();
    if !std::env::args().any(|a| a == "--skip-lanczos") {
        lanczos_cost_at_large_dimension();
    }
}
