//! The per-step code allocates nothing on the heap (docs/ARCHITECTURE.md, "Conventions"): a counting global
//! allocator watches `Stepper::step` for every dynamics kind, noise model and solver after warm-up.

use samsde::brownian::path_rng;
use samsde::model::Model;
use samsde::model::landscape::{Beale, Expression, Landscape, Quadratic, ToyNetwork};
use samsde::model::noise::Noise;
use samsde::setup::{DynamicsKind, DynamicsSpec, build};
use samsde::solver::{SolverKind, SolverSpec};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

struct Counting;

thread_local! {
    /// Allocations made by this thread (the test harness's own threads allocate at any time, so a global count
    /// would blame the step for them).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// Allocations made so far by the calling thread.
fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn steps_do_not_allocate() {
    let vars = ["x".to_string(), "y".to_string()];
    let landscapes: Vec<(Arc<dyn Landscape>, Vec<f64>)> = vec![
        (Arc::new(Quadratic::diagonal(&[1.0, -0.5]).unwrap()), vec![0.0, 0.0]),
        (Arc::new(Beale), vec![0.0, 1.0]),
        (
            Arc::new(Expression::new("0.25*y^4 - 0.5*y^2 + 0.5*x^2 + 0.1*sin(x*y)", &vars).unwrap()),
            vec![0.0, 0.0],
        ),
    ];
    let kinds = DynamicsKind::ALL;
    let mut checked = 0;
    let mut run = |model: &Model, saddle: &[f64]| {
        for kind in kinds {
            for mu in [0.0, 0.9] {
                for solver in [SolverKind::EulerMaruyama, SolverKind::Milstein] {
                    let spec = DynamicsSpec::new(kind, 1e-3).rho(0.05).momentum(mu);
                    let sol = SolverSpec {
                        kind: solver,
                        dt: 1e-4,
                        allow_dropping_areas: true,
                    };
                    let built = build(&spec, model, &sol, saddle, "dynamics.X").unwrap();
                    let st = built.stepper;
                    let mut s = st.scratch();
                    let mut x = vec![0.0; st.dim()];
                    x[0] = 0.3;
                    x[1] = saddle[1] + 0.2;
                    let mut rng = path_rng(1, 0);
                    st.step(&mut x, &mut rng, &mut s); // warm-up (thread-local tapes grow once)
                    let before = allocations();
                    for _ in 0..50 {
                        st.step(&mut x, &mut rng, &mut s);
                    }
                    let after = allocations();
                    assert_eq!(
                        after, before,
                        "{kind:?} μ = {mu} {solver:?} on {model:?} allocated in the step"
                    );
                    checked += 1;
                }
            }
        }
    };
    for (l, saddle) in &landscapes {
        for noise in [
            Noise::isotropic(0.5, 2.0).unwrap(),
            Noise::hessian(1.0, 4.0, 1e-3).unwrap(),
        ] {
            run(&Model::new(l.clone(), noise).unwrap(), saddle);
        }
    }
    let toy = Arc::new(ToyNetwork::new(16, 1.0, 3).unwrap());
    run(
        &Model::new(toy.clone(), Noise::finite_sum(4, false, toy).unwrap()).unwrap(),
        &[0.0, 0.0],
    );
    assert_eq!(checked, 7 * kinds.len() * 2 * 2);
}

/// The multi-path kernel (`stepper::kernel`, behind `Stepper::run_paths` of the fixed-size steppers) allocates
/// per call, never per step: a path of 20 000 steps allocates exactly as often as one of 100 (with an exit
/// region, the Brownian bridge, basins and snapshots in play).
#[test]
fn kernel_steps_do_not_allocate() {
    use samsde::ensemble::{PathJob, PathRecord, Plan, Region, Schedule};
    let model = Model::new(
        Arc::new(Quadratic::diagonal(&[1.0, -0.5]).unwrap()),
        Noise::isotropic(0.5, 2.0).unwrap(),
    )
    .unwrap();
    let plan = Plan {
        start: vec![0.1, 0.0],
        spread: 0.1,
        saddle: vec![0.0, 0.0],
        region: Some(Region::ball(vec![0.0, 0.0], 1e6).unwrap()),
        bridge: true,
        stop_on_exit: true,
        basins: vec![vec![1e3, 0.0]],
        basin_radius: 0.1,
        stop_on_basin: true,
        blowup: 1e12,
    };
    for kind in [DynamicsKind::Usam, DynamicsKind::SamFullbatch, DynamicsKind::Sam] {
        let sol = SolverSpec {
            kind: SolverKind::EulerMaruyama,
            dt: 1e-3,
            allow_dropping_areas: false,
        };
        let st = build(
            &DynamicsSpec::new(kind, 1e-2).rho(0.05),
            &model,
            &sol,
            &[0.0, 0.0],
            "dynamics.X",
        )
        .unwrap()
        .stepper;
        let count = |steps: usize| {
            let sched = Schedule::new(1e-3, steps as f64 * 1e-3, 11);
            let jobs = [PathJob {
                index: 0,
                seed: 3,
                plan: &plan,
                schedule: &sched,
            }];
            let mut recs = vec![PathRecord::new(2, sched.snapshot_steps.len())];
            let before = allocations();
            st.run_paths(&jobs, &mut recs);
            assert!(recs[0].exit_time.is_none() && recs[0].final_pos.iter().all(|v| v.is_finite()));
            allocations() - before
        };
        count(100);
        assert_eq!(count(100), count(20_000), "{kind:?}: the kernel allocated per step");
    }
}
