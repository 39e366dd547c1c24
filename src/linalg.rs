//! Small dense linear algebra on row-major slices, allocation-free so it can run inside the per-step loop.
//!
//! Matrices are `&[f64]` of length `r*c`, row-major: entry (i, j) is `a[i*c + j]`. nalgebra is used
//! everywhere outside the hot loop; these helpers exist because a step must not touch the heap.

/// y = A x for an `r×c` row-major A.
#[inline]
pub fn matvec(a: &[f64], x: &[f64], y: &mut [f64]) {
    let c = x.len();
    for (i, yi) in y.iter_mut().enumerate() {
        let row = &a[i * c..(i + 1) * c];
        *yi = dot(row, x);
    }
}

/// y += A x for an `r×c` row-major A.
#[inline]
pub fn matvec_add(a: &[f64], x: &[f64], y: &mut [f64]) {
    let c = x.len();
    for (i, yi) in y.iter_mut().enumerate() {
        *yi += dot(&a[i * c..(i + 1) * c], x);
    }
}

/// Euclidean inner product.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Euclidean norm.
#[inline]
pub fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// C = A B for row-major `n×k` A and `k×m` B.
pub fn matmul(a: &[f64], b: &[f64], n: usize, k: usize, m: usize, c: &mut [f64]) {
    for i in 0..n {
        for j in 0..m {
            let mut s = 0.0;
            for l in 0..k {
                s += a[i * k + l] * b[l * m + j];
            }
            c[i * m + j] = s;
        }
    }
}

/// S = F Fᵀ for a row-major `d×m` F, into the `d×d` S.
pub fn matmul_transpose(f: &[f64], d: usize, m: usize, s: &mut [f64]) {
    for i in 0..d {
        for j in 0..d {
            s[i * d + j] = dot(&f[i * m..(i + 1) * m], &f[j * m..(j + 1) * m]);
        }
    }
}

/// Eigen-decomposition of a symmetric `d×d` matrix by cyclic Jacobi rotations, in place and allocation-free.
///
/// On return `vals[j]` are the eigenvalues (ascending) and column j of `vecs` (row-major `d×d`) is the unit
/// eigenvector q_j, so that A = Q diag(vals) Qᵀ. `a` is destroyed. Accurate to a few ulps of ‖A‖ for the
/// small matrices (d ≤ 64) used here.
pub fn sym_eigen(a: &mut [f64], d: usize, vals: &mut [f64], vecs: &mut [f64]) {
    for i in 0..d {
        for j in 0..d {
            vecs[i * d + j] = if i == j { 1.0 } else { 0.0 };
        }
    }
    for _sweep in 0..64 {
        let mut off = 0.0;
        let mut diag = 0.0;
        for i in 0..d {
            diag += a[i * d + i] * a[i * d + i];
            for j in (i + 1)..d {
                off += a[i * d + j] * a[i * d + j];
            }
        }
        if off <= 1e-30 * diag.max(f64::MIN_POSITIVE) || off == 0.0 {
            break;
        }
        for p in 0..d {
            for q in (p + 1)..d {
                let apq = a[p * d + q];
                if apq == 0.0 {
                    continue;
                }
                let app = a[p * d + p];
                let aqq = a[q * d + q];
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let akp = a[k * d + p];
                    let akq = a[k * d + q];
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for k in 0..d {
                    let apk = a[p * d + k];
                    let aqk = a[q * d + k];
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
                for k in 0..d {
                    let vkp = vecs[k * d + p];
                    let vkq = vecs[k * d + q];
                    vecs[k * d + p] = c * vkp - s * vkq;
                    vecs[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    for i in 0..d {
        vals[i] = a[i * d + i];
    }
    // Selection sort of eigenpairs, ascending (d is small).
    for i in 0..d {
        let mut m = i;
        for j in (i + 1)..d {
            if vals[j] < vals[m] {
                m = j;
            }
        }
        if m != i {
            vals.swap(i, m);
            for k in 0..d {
                vecs.swap(k * d + i, k * d + m);
            }
        }
    }
}

/// out = Q diag(φ(λ)) Qᵀ from an eigen-decomposition (`vals`, `vecs` as returned by [`sym_eigen`]).
pub fn sym_apply(vals: &[f64], vecs: &[f64], phi: impl Fn(f64) -> f64, out: &mut [f64]) {
    let d = vals.len();
    for i in 0..d {
        for j in 0..d {
            let mut s = 0.0;
            for k in 0..d {
                s += vecs[i * d + k] * phi(vals[k]) * vecs[j * d + k];
            }
            out[i * d + j] = s;
        }
    }
}

/// The symmetric square root A^{1/2} = Q diag(√max(λ, 0)) Qᵀ of a symmetric positive semi-definite `d×d`
/// matrix `a` (negative eigenvalues from rounding are clamped to 0), into `out`; `vals` (d) and `vecs` (d×d)
/// receive the eigen-decomposition of A (for [`sym_sqrt_jvp`]). `a` is destroyed. Allocation-free.
pub fn sym_sqrt(a: &mut [f64], d: usize, vals: &mut [f64], vecs: &mut [f64], out: &mut [f64]) {
    sym_eigen(a, d, vals, vecs);
    sym_apply(vals, vecs, |l| l.max(0.0).sqrt(), out);
}

/// The directional derivative D(A^{1/2})\[E\] of the symmetric square root at A = Q diag(λ) Qᵀ (`vals`,
/// `vecs` from [`sym_sqrt`]) along the symmetric `d×d` matrix `e`, by the Daleckii–Krein formula
/// D h(A)\[E\] = Q (h\[λᵢ, λⱼ\] ∘ Qᵀ E Q) Qᵀ with h = √· and h\[λᵢ, λⱼ\] = 1/(√λᵢ + √λⱼ) (math spec §5); where
/// both eigenvalues are 0 the divided difference is infinite and the entry is set to 0 (the square root is
/// not differentiable there). `tmp`, `tmp2`: `d×d` scratch. Allocation-free.
pub fn sym_sqrt_jvp(vals: &[f64], vecs: &[f64], e: &[f64], tmp: &mut [f64], tmp2: &mut [f64], out: &mut [f64]) {
    let d = vals.len();
    // tmp2 = Qᵀ E Q
    matmul(e, vecs, d, d, d, tmp);
    for i in 0..d {
        for j in 0..d {
            let mut acc = 0.0;
            for k in 0..d {
                acc += vecs[k * d + i] * tmp[k * d + j];
            }
            let den = vals[i].max(0.0).sqrt() + vals[j].max(0.0).sqrt();
            tmp2[i * d + j] = if den > 0.0 { acc / den } else { 0.0 };
        }
    }
    // out = Q tmp2 Qᵀ
    matmul(vecs, tmp2, d, d, d, tmp);
    for i in 0..d {
        for j in 0..d {
            let mut acc = 0.0;
            for k in 0..d {
                acc += tmp[i * d + k] * vecs[j * d + k];
            }
            out[i * d + j] = acc;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_reconstructs_a_symmetric_matrix() {
        let a0 = [4.0, 1.0, -2.0, 1.0, 2.0, 0.5, -2.0, 0.5, -3.0];
        let mut a = a0;
        let (mut vals, mut vecs) = ([0.0; 3], [0.0; 9]);
        sym_eigen(&mut a, 3, &mut vals, &mut vecs);
        assert!(vals[0] <= vals[1] && vals[1] <= vals[2]);
        let mut back = [0.0; 9];
        sym_apply(&vals, &vecs, |l| l, &mut back);
        for (x, y) in back.iter().zip(a0.iter()) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
        // trace and determinant are invariants
        assert!((vals.iter().sum::<f64>() - 3.0).abs() < 1e-12);
    }

    /// √A squares back to A, and its Daleckii–Krein derivative matches a central difference of √(A + hE).
    #[test]
    fn sym_sqrt_and_its_derivative() {
        let a0 = [2.0, 0.3, -0.1, 0.3, 1.0, 0.2, -0.1, 0.2, 0.5];
        let e = [0.1, -0.2, 0.05, -0.2, 0.3, 0.0, 0.05, 0.0, -0.4];
        let (mut vals, mut vecs, mut r) = ([0.0; 3], [0.0; 9], [0.0; 9]);
        let mut a = a0;
        sym_sqrt(&mut a, 3, &mut vals, &mut vecs, &mut r);
        let mut rr = [0.0; 9];
        matmul(&r, &r, 3, 3, 3, &mut rr);
        for (x, y) in rr.iter().zip(a0.iter()) {
            assert!((x - y).abs() < 1e-13, "{x} vs {y}");
        }
        let (mut t1, mut t2, mut dr) = ([0.0; 9], [0.0; 9], [0.0; 9]);
        sym_sqrt_jvp(&vals, &vecs, &e, &mut t1, &mut t2, &mut dr);
        let h = 1e-5;
        let root = |c: f64| {
            let mut m: [f64; 9] = std::array::from_fn(|k| a0[k] + c * e[k]);
            let (mut v, mut q, mut o) = ([0.0; 3], [0.0; 9], [0.0; 9]);
            sym_sqrt(&mut m, 3, &mut v, &mut q, &mut o);
            o
        };
        let (p, n) = (root(h), root(-h));
        for k in 0..9 {
            let fd = (p[k] - n[k]) / (2.0 * h);
            // central difference: error O(h²) ≈ 1e-10 plus rounding ε/h ≈ 1e-11
            assert!((fd - dr[k]).abs() < 1e-8, "entry {k}: {fd} vs {}", dr[k]);
        }
    }
}
