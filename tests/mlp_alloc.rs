//! The `mlp` landscape's per-call methods do not touch the heap after one warm-up call per thread (their
//! scratch is thread-local; see `samsde::landscape::mlp`). A counting global allocator watches them. This binary
//! holds one test only, so that no other test allocates concurrently. Timings: `cargo bench --bench mlp`.

use samsde::model::landscape::mlp::{Activation, Loss, Mlp};
use samsde::model::landscape::{FiniteSum, Landscape};
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn iris_net(hidden: &[usize], a: Activation) -> Mlp {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/iris.csv");
    Mlp::from_csv(path, hidden, a, Loss::CrossEntropy).unwrap()
}

/// Calls every per-call method once.
fn all_methods(net: &Mlp, x: &[f64], bufs: &mut (Vec<f64>, Vec<f64>, Vec<f64>)) -> f64 {
    let (g, h, t) = bufs;
    let mut s = net.value(x);
    net.gradient(x, g);
    net.hessian_vector(x, &x[..net.dim()], t.as_mut_slice().split_at_mut(net.dim()).0);
    net.hessian(x, h);
    net.third(x, x, t);
    net.sample_gradient(3, x, g);
    net.sample_hessian(7, x, h);
    s += g[0] + h[0] + t[0];
    s
}

#[test]
fn per_call_methods_do_not_allocate_after_warm_up() {
    let nets = [
        iris_net(&[8], Activation::Tanh),
        iris_net(&[5, 4], Activation::Relu),
        iris_net(&[3], Activation::Linear),
    ];
    let mut sum = 0.0;
    for net in &nets {
        let d = net.dim();
        let x = net.init(3);
        let mut bufs = (vec![0.0; d], vec![0.0; d * d], vec![0.0; d * d]);
        sum += all_methods(net, &x, &mut bufs); // warm-up: thread-local scratch grows once
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        for _ in 0..3 {
            sum += all_methods(net, &x, &mut bufs);
        }
        let after = ALLOCATIONS.load(Ordering::Relaxed);
        assert_eq!(after, before, "{:?} {:?} allocated", net.hidden(), net.activation());
    }
    // On another thread: its own scratch grows on its first call, then no allocation either.
    let net = &nets[0];
    let x = net.init(4);
    let extra = std::thread::scope(|s| {
        s.spawn(|| {
            let d = net.dim();
            let mut bufs = (vec![0.0; d], vec![0.0; d * d], vec![0.0; d * d]);
            all_methods(net, &x, &mut bufs);
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            let v = all_methods(net, &x, &mut bufs);
            (ALLOCATIONS.load(Ordering::Relaxed) - before, v)
        })
        .join()
        .unwrap()
    });
    assert_eq!(extra.0, 0, "a second thread allocated after its warm-up");
    assert!((sum + extra.1).is_finite());
}
