//! A linear SDE dX = (J X + b₀) dt + S dW with constant J, b₀ and S (O1): the form SGD, USAM and model K take
//! on a quadratic landscape with constant noise. Built by probing any affine [`Sde`] (b₀ = b(0),
//! J eⱼ = b(eⱼ) − b₀, S = σ(0)), it steps without calling back into the landscape: the fast path.

use super::{NoiseStructure, Sde, Workspace};
use crate::linalg;

/// A constant-coefficient linear SDE.
#[derive(Debug, Clone)]
pub struct LinearSde {
    n: usize,
    m: usize,
    pos: usize,
    j: Vec<f64>,
    b0: Vec<f64>,
    s: Vec<f64>,
}

impl LinearSde {
    /// Probes an affine SDE (`sde.is_affine()` must hold) into its linear form.
    pub fn from_sde<S: Sde + ?Sized>(sde: &S) -> Self {
        let (n, m) = (sde.dim(), sde.noise_dim());
        let mut ws = sde.workspace();
        let mut x = vec![0.0; n];
        let mut b0 = vec![0.0; n];
        sde.drift(&x, &mut b0, &mut ws);
        let mut j = vec![0.0; n * n];
        let mut col = vec![0.0; n];
        for k in 0..n {
            x[k] = 1.0;
            sde.drift(&x, &mut col, &mut ws);
            x[k] = 0.0;
            for i in 0..n {
                j[i * n + k] = col[i] - b0[i];
            }
        }
        let mut s = vec![0.0; n * m];
        sde.diffusion(&x, &mut s, &mut ws);
        LinearSde {
            n,
            m,
            pos: sde.position_dim(),
            j,
            b0,
            s,
        }
    }

    /// The drift matrix J (so that A = −J in the spec's dX = −AX dt + … notation), row-major n×n.
    pub fn jacobian(&self) -> &[f64] {
        &self.j
    }

    /// The constant diffusion S (n×m).
    pub fn sigma(&self) -> &[f64] {
        &self.s
    }
}

impl Sde for LinearSde {
    fn dim(&self) -> usize {
        self.n
    }
    fn position_dim(&self) -> usize {
        self.pos
    }
    fn noise_dim(&self) -> usize {
        self.m
    }
    fn structure(&self) -> NoiseStructure {
        NoiseStructure::Additive
    }
    fn is_affine(&self) -> bool {
        true
    }
    #[inline]
    fn drift(&self, x: &[f64], b: &mut [f64], _ws: &mut Workspace) {
        b.copy_from_slice(&self.b0);
        linalg::matvec_add(&self.j, x, b);
    }
    #[inline]
    fn diffusion(&self, _x: &[f64], s: &mut [f64], _ws: &mut Workspace) {
        s.copy_from_slice(&self.s);
    }
    fn diffusion_jvp(&self, _x: &[f64], _u: &[f64], ds: &mut [f64], _ws: &mut Workspace) {
        ds.fill(0.0);
    }
    fn workspace(&self) -> Workspace {
        Workspace::new(self.n, self.m, 0)
    }
}
