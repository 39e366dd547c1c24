//! Replica statistics: means in a fixed order (never a parallel float reduction), Student-t quantiles and
//! the delta method for smooth functions of replica means.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// 0.975 quantile of Student's t with `df` degrees of freedom (df ≥ 1).
pub fn t975(df: usize) -> f64 {
    StudentsT::new(0.0, 1.0, df.max(1) as f64)
        .expect("valid Student-t parameters")
        .inverse_cdf(0.975)
}

/// Mean and standard error (sample sd/√n, n − 1 in the variance) of `xs`, summed in order.
pub fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (m, f64::NAN);
    }
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, (v / n).sqrt())
}

/// Mean vector and sample covariance matrix (n − 1) of the rows of `rows` (each of length `D`).
pub fn mean_cov<const D: usize>(rows: &[[f64; D]]) -> ([f64; D], [[f64; D]; D]) {
    let n = rows.len() as f64;
    let mut m = [0.0; D];
    for r in rows {
        for j in 0..D {
            m[j] += r[j];
        }
    }
    for mj in m.iter_mut() {
        *mj /= n;
    }
    let mut c = [[0.0; D]; D];
    for r in rows {
        for i in 0..D {
            for j in 0..D {
                c[i][j] += (r[i] - m[i]) * (r[j] - m[j]);
            }
        }
    }
    for row in c.iter_mut() {
        for v in row.iter_mut() {
            *v /= (n - 1.0).max(1.0);
        }
    }
    (m, c)
}

/// Standard error of g(mean) by the delta method: √(∇gᵀ Σ ∇g / n), with Σ the sample covariance of the
/// n rows and ∇g the gradient at the mean.
pub fn delta_se<const D: usize>(grad: &[f64; D], cov: &[[f64; D]; D], n: usize) -> f64 {
    let mut v = 0.0;
    for i in 0..D {
        for j in 0..D {
            v += grad[i] * cov[i][j] * grad[j];
        }
    }
    (v.max(0.0) / n as f64).sqrt()
}

/// Mean vector and sample covariance matrix (n − 1) of `rows`, each of length `d`.
pub fn mean_cov_dyn(rows: &[Vec<f64>], d: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = rows.len() as f64;
    let mut m = vec![0.0; d];
    for r in rows {
        for j in 0..d {
            m[j] += r[j];
        }
    }
    for mj in m.iter_mut() {
        *mj /= n;
    }
    let mut c = vec![vec![0.0; d]; d];
    for r in rows {
        for i in 0..d {
            for j in 0..d {
                c[i][j] += (r[i] - m[i]) * (r[j] - m[j]);
            }
        }
    }
    for row in c.iter_mut() {
        for v in row.iter_mut() {
            *v /= (n - 1.0).max(1.0);
        }
    }
    (m, c)
}

/// [`delta_se`] for a gradient and covariance of run-time size.
pub fn delta_se_dyn(grad: &[f64], cov: &[Vec<f64>], n: usize) -> f64 {
    let mut v = 0.0;
    for i in 0..grad.len() {
        for j in 0..grad.len() {
            v += grad[i] * cov[i][j] * grad[j];
        }
    }
    (v.max(0.0) / n as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        // Standard table values of t_{0.975}.
        assert!((t975(1) - 12.706).abs() < 1e-3);
        assert!((t975(9) - 2.262).abs() < 1e-3);
        assert!((t975(19) - 2.093).abs() < 1e-3);
        assert!((t975(1000) - 1.962).abs() < 1e-3);
    }

    #[test]
    fn delta_method_of_a_linear_map_is_exact() {
        // g(x, y) = 2x − 3y: Var(mean g) = (4 Var x − 12 Cov + 9 Var y)/n; compare with the direct SE of g.
        let rows = [[1.0, 2.0], [2.0, 2.5], [4.0, 1.0], [0.5, 3.0], [3.0, 3.5]];
        let (_, c) = mean_cov(&rows);
        let g: Vec<f64> = rows.iter().map(|r| 2.0 * r[0] - 3.0 * r[1]).collect();
        let (_, se) = mean_se(&g);
        assert!((delta_se(&[2.0, -3.0], &c, rows.len()) - se).abs() < 1e-12);
        let dynamic: Vec<Vec<f64>> = rows.iter().map(|r| r.to_vec()).collect();
        let (_, cd) = mean_cov_dyn(&dynamic, 2);
        assert!((delta_se_dyn(&[2.0, -3.0], &cd, rows.len()) - se).abs() < 1e-12);
    }
}
