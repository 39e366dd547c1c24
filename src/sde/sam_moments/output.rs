//! Output container (see the module docs of [`super`]).

/// The moments of u = w/‖w‖, w = g + ξ ~ N(g, Σ), in a fixed dimension (buffers allocated once by [`Self::new`]).
/// Matrices are row-major d×d.
#[derive(Clone, Debug, PartialEq)]
pub struct DirectionMoments {
    pub(super) d: usize,
    pub(super) mean: Vec<f64>,
    pub(super) second: Vec<f64>,
    pub(super) cross: Vec<f64>,
    pub(super) inv_norm_mean: f64,
}

impl DirectionMoments {
    /// Zeroed buffers for dimension d.
    pub fn new(d: usize) -> Self {
        DirectionMoments {
            d,
            mean: vec![0.0; d],
            second: vec![0.0; d * d],
            cross: vec![0.0; d * d],
            inv_norm_mean: 0.0,
        }
    }
    /// Dimension d.
    pub fn dim(&self) -> usize {
        self.d
    }
    /// m = E\[u\].
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }
    /// P = E\[u uᵀ\] (row-major).
    pub fn second(&self) -> &[f64] {
        &self.second
    }
    /// C = E\[u ξᵀ\], `C[i*d + j] = E[u_i ξ_j]` (row-major; not symmetric in general; C = E\[(I−uuᵀ)/‖w‖\] Σ).
    pub fn cross(&self) -> &[f64] {
        &self.cross
    }
    /// E\[1/‖w‖\] (+∞ when it diverges: d = 1, rank-1 Σ with g in its range, or Σ = 0 and g = 0).
    pub fn inv_norm_mean(&self) -> f64 {
        self.inv_norm_mean
    }
    pub(super) fn clear(&mut self) {
        self.mean.fill(0.0);
        self.second.fill(0.0);
        self.cross.fill(0.0);
        self.inv_norm_mean = 0.0;
    }
}
