//! Anisotropic Σ (see the module docs of [`super`]).

use super::*;

/// Quadrature diagnostics of one anisotropic evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuadInfo {
    /// Number of quadrature nodes used (0 for the deterministic case Σ = 0).
    pub nodes: usize,
    /// Feature range \[v_lo, v_hi\] in v = ln s (s in units of 1/λ_max).
    pub v_lo: f64,
    /// Upper end of the feature range.
    pub v_hi: f64,
}

/// Resolution of the anisotropic rule. The default reaches ≤ 4e-13 (measured); a finer rule (e.g. step 0.15,
/// margin 5, tail 140) costs about twice as many nodes and is meant for convergence checks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AnisoRule {
    /// Trapezoidal step in t (default [`ANISO_STEP`] = 0.3: measured error ≤ 4e-13; 1e-11 at 0.35, 1e-15 at 0.25).
    pub step: f64,
    /// Margin in v = ln s added on both sides of the feature range (default 2).
    pub margin: f64,
    /// Extent in v of the mapped algebraic tails (default 80: they decay at least like e^{−|v|/2}).
    pub tail: f64,
    /// Length scale ℓ of the tail map ψ(t) = t + ℓe^{(t−v_hi)/ℓ} − ℓe^{(v_lo−t)/ℓ} (default 1).
    pub tail_scale: f64,
}

impl Default for AnisoRule {
    fn default() -> Self {
        AnisoRule {
            step: ANISO_STEP,
            margin: 2.0,
            tail: 80.0,
            tail_scale: 1.0,
        }
    }
}

/// Workspace of the anisotropic rule for one dimension d (allocated once; evaluations do not allocate). It holds
/// scratch buffers, so each thread needs its own (it is `Clone`); results do not depend on which one is used.
#[derive(Clone, Debug)]
pub struct AnisotropicMoments {
    core: QuadCore,
    tmp: Vec<f64>,
    g_eig: Vec<f64>,
    eig_a: Vec<f64>,
    eig_v: Vec<f64>,
    eig_l: Vec<f64>,
    eig_moments: DirectionMoments,
}

#[derive(Clone, Debug)]
pub(super) struct QuadCore {
    d: usize,
    rule: AnisoRule,
    lam: Vec<f64>,
    gt: Vec<f64>,
    e: Vec<f64>,
    y: Vec<f64>,
    acc_mean: Vec<f64>,
    acc_pd: Vec<f64>,
    acc_kd: Vec<f64>,
    acc_p: Vec<f64>,
    acc_l: Vec<f64>,
}

impl AnisotropicMoments {
    /// Workspace for dimension d ≥ 1.
    pub fn new(d: usize) -> Result<Self, MomentsError> {
        if d == 0 {
            return Err(MomentsError::ZeroDimension);
        }
        let z = || vec![0.0; d];
        let zz = || vec![0.0; d * d];
        Ok(AnisotropicMoments {
            core: QuadCore {
                d,
                rule: AnisoRule::default(),
                lam: z(),
                gt: z(),
                e: z(),
                y: z(),
                acc_mean: z(),
                acc_pd: z(),
                acc_kd: z(),
                acc_p: zz(),
                acc_l: zz(),
            },
            tmp: zz(),
            g_eig: z(),
            eig_a: zz(),
            eig_v: zz(),
            eig_l: z(),
            eig_moments: DirectionMoments::new(d),
        })
    }

    /// Dimension d.
    pub fn dim(&self) -> usize {
        self.core.d
    }

    /// The quadrature resolution in use.
    pub fn rule(&self) -> AnisoRule {
        self.core.rule
    }

    /// Replaces the quadrature resolution (for convergence checks; invalid values are ignored).
    pub fn set_rule(&mut self, rule: AnisoRule) {
        if rule.step > 0.0 && rule.step <= 1.0 && rule.margin >= 0.0 && rule.tail >= 10.0 && rule.tail_scale > 0.0 {
            self.core.rule = rule;
        }
    }

    /// Moments in Σ's eigenbasis: `eigvals` = λ_i ≥ 0 of Σ, `g_eig` = Qᵀ g; `out` receives m̃, P̃, C̃ (eigenbasis)
    /// and E\[1/‖w‖\]. This is the O(d² · nodes) core; prefer it when the caller works in the eigenbasis.
    pub fn compute_eigenbasis(
        &mut self,
        eigvals: &[f64],
        g_eig: &[f64],
        out: &mut DirectionMoments,
    ) -> Result<QuadInfo, MomentsError> {
        self.core.run(eigvals, g_eig, out)
    }

    /// Moments in the original basis from Σ = Q diag(λ) Qᵀ: `eigvecs` row-major d×d with the eigenvectors as
    /// columns (`eigvecs[i*d + k]` = component i of eigenvector k), which must be orthonormal to 1e-8.
    pub fn compute(
        &mut self,
        eigvals: &[f64],
        eigvecs: &[f64],
        g: &[f64],
        out: &mut DirectionMoments,
    ) -> Result<QuadInfo, MomentsError> {
        compute_rotated(
            &mut self.core,
            &mut self.tmp,
            &mut self.g_eig,
            &mut self.eig_moments,
            eigvals,
            eigvecs,
            g,
            out,
        )
    }

    /// Moments from the full covariance Σ (row-major d×d, symmetric): eigen-decomposes it in the workspace by
    /// cyclic Jacobi ([`jacobi_eigen`]) and proceeds as [`Self::compute`].
    pub fn compute_from_cov(
        &mut self,
        sigma: &[f64],
        g: &[f64],
        out: &mut DirectionMoments,
    ) -> Result<QuadInfo, MomentsError> {
        let d = self.core.d;
        check_len("sigma", d * d, sigma.len())?;
        check_finite("sigma", sigma)?;
        self.eig_a.copy_from_slice(sigma);
        for i in 0..d {
            for j in 0..i {
                let s = 0.5 * (self.eig_a[i * d + j] + self.eig_a[j * d + i]);
                self.eig_a[i * d + j] = s;
                self.eig_a[j * d + i] = s;
            }
        }
        jacobi_eigen(&mut self.eig_a, &mut self.eig_v, d)?;
        for (i, l) in self.eig_l.iter_mut().enumerate() {
            *l = self.eig_a[i * d + i];
        }
        compute_rotated(
            &mut self.core,
            &mut self.tmp,
            &mut self.g_eig,
            &mut self.eig_moments,
            &self.eig_l,
            &self.eig_v,
            g,
            out,
        )
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn compute_rotated(
    core: &mut QuadCore,
    tmp: &mut [f64],
    g_eig: &mut [f64],
    em: &mut DirectionMoments,
    eigvals: &[f64],
    eigvecs: &[f64],
    g: &[f64],
    out: &mut DirectionMoments,
) -> Result<QuadInfo, MomentsError> {
    let d = core.d;
    check_len("eigvecs", d * d, eigvecs.len())?;
    check_len("g", d, g.len())?;
    check_len("out", d, out.d)?;
    check_finite("eigvecs", eigvecs)?;
    check_finite("g", g)?;
    // QᵀQ = I check (O(d³), small next to the quadrature for moderate d).
    let mut defect = 0.0f64;
    for a in 0..d {
        for b in 0..=a {
            let s: f64 = (0..d).map(|i| eigvecs[i * d + a] * eigvecs[i * d + b]).sum();
            defect = defect.max((s - if a == b { 1.0 } else { 0.0 }).abs());
        }
    }
    if defect.is_nan() || defect > 1e-8 {
        return Err(MomentsError::NotOrthonormal { defect });
    }
    for (k, gk) in g_eig.iter_mut().enumerate() {
        *gk = (0..d).map(|i| eigvecs[i * d + k] * g[i]).sum();
    }
    let info = core.run(eigvals, g_eig, em)?;
    rotate_out(eigvecs, em, tmp, out);
    Ok(info)
}

impl QuadCore {
    fn run(&mut self, eigvals: &[f64], g_eig: &[f64], out: &mut DirectionMoments) -> Result<QuadInfo, MomentsError> {
        let d = self.d;
        check_len("eigvals", d, eigvals.len())?;
        check_len("g", d, g_eig.len())?;
        check_len("out", d, out.d)?;
        check_finite("eigvals", eigvals)?;
        check_finite("g", g_eig)?;
        let lmax = eigvals.iter().fold(0.0f64, |m, &l| m.max(l));
        let lmin = eigvals.iter().fold(f64::INFINITY, |m, &l| m.min(l));
        if lmin < -1e-12 * lmax || (lmax == 0.0 && lmin < 0.0) {
            return Err(MomentsError::NotPsd { min_eigenvalue: lmin });
        }
        out.clear();
        if lmax == 0.0 {
            let gn = norm(g_eig);
            deterministic_moments(g_eig, gn, out);
            return Ok(QuadInfo {
                nodes: 0,
                v_lo: 0.0,
                v_hi: 0.0,
            });
        }
        // Scale to λ_max = 1: w' = w/√λ_max (u unchanged, C and E[1/‖w‖] rescaled at the end).
        let sc = lmax.sqrt();
        let mut k_pos = 0usize;
        let mut gnull2 = 0.0;
        let mut g2 = 0.0;
        let mut trace = 0.0;
        let mut lam_min_pos = 1.0f64;
        for i in 0..d {
            let mut l = eigvals[i] / lmax;
            if l < ANISO_LAMBDA_FLOOR {
                l = 0.0;
            }
            let mut gi = g_eig[i] / sc;
            if l == 0.0 && gi.abs() < ANISO_GNULL_FLOOR {
                gi = 0.0;
            }
            self.lam[i] = l;
            self.gt[i] = gi;
            g2 += gi * gi;
            trace += l;
            if l > 0.0 {
                k_pos += 1;
                lam_min_pos = lam_min_pos.min(l);
            } else {
                gnull2 += gi * gi;
            }
        }
        // Feature range in v = ln s.
        let rule = self.rule;
        let v_lo = -(2.0f64.max(trace + g2)).ln() - rule.margin;
        let v_feat = -(2.0 * lam_min_pos).ln();
        let cut = 45.0 + g2.ln_1p();
        let mut s_cut = f64::INFINITY;
        if g2 > 2.0 * cut {
            s_cut = cut / (g2 - 2.0 * cut);
        }
        if gnull2 > 0.0 {
            s_cut = s_cut.min(cut / gnull2);
        }
        let v_cut = s_cut.ln();
        // With g in the null space of Σ the integrands do not decay before the cut-off s gnull² ≈ cut, so the
        // feature range must reach v_cut; otherwise it ends at the smallest positive eigenvalue's scale or at the
        // cut-off, whichever comes first.
        let cut_limited = gnull2 > 0.0 || v_cut < v_feat;
        let v_hi = if gnull2 > 0.0 { v_cut } else { v_feat.min(v_cut) } + rule.margin;
        let v_stop = if cut_limited { v_hi } else { v_hi + rule.tail };
        let e1_finite = !(k_pos == 1 && gnull2 == 0.0);

        self.acc_mean.fill(0.0);
        self.acc_pd.fill(0.0);
        self.acc_kd.fill(0.0);
        self.acc_p.fill(0.0);
        self.acc_l.fill(0.0);
        let mut acc_e1 = 0.0;
        let h = rule.step;
        // ψ(t) = t + ℓ e^{(t − v_hi)/ℓ} − ℓ e^{(v_lo − t)/ℓ}. Left end: t = v_lo − δ with ℓ e^{δ/ℓ} = tail, which
        // gives ψ(t) < v_lo − tail.
        let ell = rule.tail_scale;
        let mut j = -((ell * (rule.tail / ell).ln() / h).ceil() as i64);
        let mut nodes = 0usize;
        let lam = &self.lam[..d];
        let gt = &self.gt[..d];
        let e = &mut self.e[..d];
        let y = &mut self.y[..d];
        // e^{t/2}, e^{(t−v_hi)/ℓ}, e^{(v_lo−t)/ℓ} by recurrence, re-anchored every 32 nodes (drift ≤ 32 ulp), so
        // that a node costs two exponentials: s^{1/2} = e^{t/2} e^{ℓ(a−b)/2} and the Gaussian factor in Z.
        let half_step = (0.5 * h).exp();
        let tail_step = (h / ell).exp();
        let (mut et_half, mut a, mut b) = (0.0, 0.0, 0.0);
        loop {
            let t = v_lo + j as f64 * h;
            if nodes.is_multiple_of(32) {
                et_half = (0.5 * t).exp();
                a = ((t - v_hi) / ell).exp();
                b = ((v_lo - t) / ell).exp();
            } else {
                et_half *= half_step;
                a *= tail_step;
                b /= tail_step;
            }
            let v = t + ell * (a - b);
            let dv = 1.0 + a + b;
            if v > v_stop {
                break;
            }
            j += 1;
            nodes += 1;
            let sq = et_half * (0.5 * ell * (a - b)).exp();
            let s = sq * sq;
            let mut prod = 1.0;
            let mut expo = 0.0;
            for (((ei, yi), &li), &gi) in e.iter_mut().zip(y.iter_mut()).zip(lam).zip(gt) {
                let x = 1.0 / (1.0 + 2.0 * s * li);
                *ei = x;
                *yi = gi * x;
                prod *= x;
                expo += gi * *yi;
            }
            let z = prod.sqrt() * (-s * expo).exp();
            // Weights of ds = s dv for the integrands with s^{−1/2} (w_half), 1 (w_one) and 2s^{1/2} (w_l).
            let w_half = h * dv * sq * z;
            if w_half == 0.0 {
                continue;
            }
            let w_one = w_half * sq;
            let w_l = 2.0 * sq * w_one;
            acc_e1 += w_half;
            for i in 0..d {
                let le = lam[i] * e[i];
                let yi = y[i];
                self.acc_mean[i] += w_half * yi;
                self.acc_pd[i] += w_one * le;
                self.acc_kd[i] += w_half * le;
                let a1 = w_one * yi;
                let a2 = w_l * yi;
                let row = i * d;
                let pr = &mut self.acc_p[row..row + d];
                let lr = &mut self.acc_l[row..row + d];
                for ((p, l), yj) in pr.iter_mut().zip(lr.iter_mut()).zip(y.iter()) {
                    *p += a1 * yj;
                    *l += a2 * yj;
                }
            }
        }
        for i in 0..d {
            out.mean[i] = self.acc_mean[i] * FRAC_1_SQRT_PI;
            for jj in 0..d {
                let (a, b) = if jj <= i { (i, jj) } else { (jj, i) };
                let pij = self.acc_p[a * d + b];
                let lij = self.acc_l[a * d + b];
                let diag = i == jj;
                out.second[i * d + jj] = pij + if diag { self.acc_pd[i] } else { 0.0 };
                let kd = if diag { self.acc_kd[i] } else { 0.0 };
                out.cross[i * d + jj] = (kd - lij * self.lam[jj]) * FRAC_1_SQRT_PI * sc;
            }
        }
        out.inv_norm_mean = if e1_finite {
            acc_e1 * FRAC_1_SQRT_PI / sc
        } else {
            f64::INFINITY
        };
        Ok(QuadInfo { nodes, v_lo, v_hi })
    }
}

/// out = rotation of eigenbasis moments em by Q (m = Q m̃, P = Q P̃ Qᵀ, C = Q C̃ Qᵀ); O(d³), contiguous loops.
pub(super) fn rotate_out(q: &[f64], em: &DirectionMoments, tmp: &mut [f64], out: &mut DirectionMoments) {
    let d = em.d;
    for (i, m) in out.mean.iter_mut().enumerate() {
        *m = q[i * d..(i + 1) * d].iter().zip(&em.mean).map(|(a, b)| a * b).sum();
    }
    for (src, dst) in [(&em.second, &mut out.second), (&em.cross, &mut out.cross)] {
        // tmp = Q · src (row i of tmp = Σ_k Q_ik · row k of src)
        tmp.fill(0.0);
        for i in 0..d {
            let trow = &mut tmp[i * d..(i + 1) * d];
            for k in 0..d {
                let qik = q[i * d + k];
                for (t, s) in trow.iter_mut().zip(&src[k * d..(k + 1) * d]) {
                    *t += qik * s;
                }
            }
        }
        // dst = tmp · Qᵀ: dst_ij = row i of tmp · row j of Q
        for i in 0..d {
            let trow = &tmp[i * d..(i + 1) * d];
            for j in 0..d {
                dst[i * d + j] = trow.iter().zip(&q[j * d..(j + 1) * d]).map(|(a, b)| a * b).sum();
            }
        }
    }
    out.inv_norm_mean = em.inv_norm_mean;
}

/// Cyclic Jacobi eigen-decomposition of the symmetric row-major d×d matrix `a` (overwritten: its diagonal holds
/// the eigenvalues), eigenvectors into the columns of `v` (row-major d×d). Returns the number of sweeps
/// (≤ 100; typically 1 for d = 2 and 6–8 for d = 10).
pub fn jacobi_eigen(a: &mut [f64], v: &mut [f64], d: usize) -> Result<usize, MomentsError> {
    check_len("a", d * d, a.len())?;
    check_len("v", d * d, v.len())?;
    check_finite("a", a)?;
    v.fill(0.0);
    for i in 0..d {
        v[i * d + i] = 1.0;
    }
    let mut sweeps = 0;
    for _ in 0..100 {
        let mut off = 0.0;
        let mut diag = 0.0;
        for i in 0..d {
            diag += a[i * d + i] * a[i * d + i];
            for j in 0..i {
                off += a[i * d + j] * a[i * d + j];
            }
        }
        if off <= 1e-34 * diag || off == 0.0 {
            break;
        }
        sweeps += 1;
        for p in 0..d {
            for q in p + 1..d {
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
                // Exactly zero by construction of t (rounding would otherwise leave an ε‖A‖ floor).
                a[p * d + q] = 0.0;
                a[q * d + p] = 0.0;
                for k in 0..d {
                    let vkp = v[k * d + p];
                    let vkq = v[k * d + q];
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    Ok(sweeps)
}
