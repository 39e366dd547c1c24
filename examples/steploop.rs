use samsde::brownian::path_rng;
use samsde::dynamics::{DynamicsKind, DynamicsSpec, Model, SolverKind, SolverSpec, build};
use samsde::landscape::Quadratic;
use samsde::noise::Noise;
use std::sync::Arc;
fn main() {
    let model = Model {
        landscape: Arc::new(Quadratic::diagonal(&[1.0, -0.5]).unwrap()),
        noise: Noise::isotropic(1.0, 1.0).unwrap(),
    };
    let spec = DynamicsSpec::new(DynamicsKind::Usam, 0.01).rho(0.5);
    let solver = SolverSpec {
        kind: SolverKind::EulerMaruyama,
        dt: 0.01,
        allow_dropping_areas: false,
    };
    let b = build(&spec, &model, &solver, &[0.0, 0.0], "d").unwrap();
    eprintln!("{:?}", b.notes);
    let st = b.stepper;
    let mut s = st.scratch();
    let t0 = std::time::Instant::now();
    let mut acc = 0.0;
    for p in 0..10000u64 {
        let mut rng = path_rng(1, p);
        let mut x = [1.0, 0.01];
        for _ in 0..1000 {
            st.step(&mut x, &mut rng, &mut s);
        }
        acc += x[1];
    }
    let e = t0.elapsed().as_secs_f64();
    println!("{acc} {:.1} M/s", 1e7 / e / 1e6);
    let t0 = std::time::Instant::now();
    let mut z = [0.0; 2];
    let mut rng = path_rng(1, 0);
    for _ in 0..10_000_000 {
        samsde::brownian::fill_normals(&mut rng, &mut z);
        acc += z[0];
    }
    println!(
        "{acc} normals-only {:.1} M pairs/s",
        1e7 / t0.elapsed().as_secs_f64() / 1e6
    );
}
