use samsde::brownian::{fill_normals, path_rng};
use std::time::Instant;
fn main() {
    let (m, c, s) = ([[0.99, 0.0], [0.0, 1.00375]], [0.0, 0.0], [[0.15, 0.0], [0.0, 0.075]]);
    let n = 10_000u64;
    let steps = 1000;
    // one path at a time
    let t0 = Instant::now();
    let mut acc = 0.0;
    for p in 0..n {
        let mut rng = path_rng(1, p);
        let mut x = [1.0f64, 0.01];
        for _ in 0..steps {
            let mut z = [0.0; 2];
            fill_normals(&mut rng, &mut z);
            let a0 = c[0] + m[0][0] * x[0] + m[0][1] * x[1];
            let a1 = c[1] + m[1][0] * x[0] + m[1][1] * x[1];
            x = [
                a0 + s[0][0] * z[0] + s[0][1] * z[1],
                a1 + s[1][0] * z[0] + s[1][1] * z[1],
            ];
            if !(x[0].abs() <= 1e12 && x[1].abs() <= 1e12) {
                break;
            }
        }
        acc += x[1];
    }
    println!(
        "1 lane  {acc:.6} {:.1} M/s",
        (n * steps) as f64 / t0.elapsed().as_secs_f64() / 1e6
    );
    // four paths interleaved
    let t0 = Instant::now();
    let mut acc = 0.0;
    for p in (0..n).step_by(4) {
        let mut rngs = [
            path_rng(1, p),
            path_rng(1, p + 1),
            path_rng(1, p + 2),
            path_rng(1, p + 3),
        ];
        let mut xs = [[1.0f64, 0.01]; 4];
        for _ in 0..steps {
            for l in 0..4 {
                let mut z = [0.0; 2];
                fill_normals(&mut rngs[l], &mut z);
                let x = xs[l];
                let a0 = c[0] + m[0][0] * x[0] + m[0][1] * x[1];
                let a1 = c[1] + m[1][0] * x[0] + m[1][1] * x[1];
                xs[l] = [
                    a0 + s[0][0] * z[0] + s[0][1] * z[1],
                    a1 + s[1][0] * z[0] + s[1][1] * z[1],
                ];
            }
        }
        acc += xs.iter().map(|x| x[1]).sum::<f64>();
    }
    println!(
        "4 lanes {acc:.6} {:.1} M/s",
        (n * steps) as f64 / t0.elapsed().as_secs_f64() / 1e6
    );
    let t0 = Instant::now();
    let mut acc = 0.0;
    for p in 0..n {
        let mut rng = path_rng(1, p);
        for _ in 0..steps {
            let mut z = [0.0; 2];
            fill_normals(&mut rng, &mut z);
            acc += z[0] + z[1];
        }
    }
    println!(
        "normals {acc:.3} {:.1} M/s",
        (n * steps) as f64 / t0.elapsed().as_secs_f64() / 1e6
    );
}
