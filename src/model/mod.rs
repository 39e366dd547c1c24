//! The problem a run studies: the loss landscape f with its exact derivatives (math spec §1), the gradient-noise
//! model Σ_B (§3, N0–N3), the critical points of f (how the saddle is chosen, which minima are the default
//! basins) and the regions around the saddle whose exits and traps are counted.
//!
//! A [`Model`] pairs a landscape with a noise model and is checked once, in [`Model::new`]; everything that
//! moves a path (the `sde`, `stepper` modules) takes it as given.

pub mod critical;
pub mod krylov;
pub mod landscape;
pub mod noise;
pub mod region;

pub use critical::{CriticalKind, CriticalPoint};
pub use landscape::{FiniteSum, Landscape};
pub use noise::{Noise, NoiseScratch};
pub use region::Region;

use crate::error::{Error, Result};
use std::sync::Arc;

/// The landscape and the gradient-noise model shared by every dynamics of a run, validated together.
#[derive(Debug, Clone)]
pub struct Model {
    landscape: Arc<dyn Landscape>,
    noise: Noise,
}

impl Model {
    /// Pairs `landscape` with `noise`. Rejects an N2 noise model whose per-sample losses are not those of
    /// this landscape (Σ_B would describe another loss) and an N3 covariance of another dimension.
    pub fn new(landscape: Arc<dyn Landscape>, noise: Noise) -> Result<Model> {
        let d = landscape.dim();
        match &noise {
            Noise::FiniteSum { losses, .. } => {
                let own = landscape.clone().finite_sum();
                let same = own.is_some_and(|l| std::ptr::addr_eq(Arc::as_ptr(&l), Arc::as_ptr(losses)));
                if !same {
                    return Err(Error::invalid(
                        "noise.kind",
                        "finite_sum",
                        format!(
                            "finite_sum noise needs the per-sample losses of the landscape, and `{}` has none",
                            landscape.name()
                        ),
                    ));
                }
            }
            Noise::Linear { cov, .. } if cov.len() != d * d => {
                return Err(Error::Dimension {
                    key: "noise.covariance".into(),
                    expected: d,
                    found: (cov.len() as f64).sqrt() as usize,
                });
            }
            _ => {}
        }
        Ok(Model { landscape, noise })
    }
    /// The loss f.
    pub fn landscape(&self) -> &Arc<dyn Landscape> {
        &self.landscape
    }
    /// The noise model Σ_B.
    pub fn noise(&self) -> &Noise {
        &self.noise
    }
    /// Dimension d.
    pub fn dim(&self) -> usize {
        self.landscape.dim()
    }
    /// Noise columns m (d, or N for N2).
    pub fn columns(&self) -> usize {
        self.noise.columns(self.landscape.as_ref())
    }
    /// Finite-sum samples N of an N2 model (0 otherwise): the size of the batch-index scratch.
    pub fn samples(&self) -> usize {
        match &self.noise {
            Noise::FiniteSum { losses, .. } => losses.samples(),
            _ => 0,
        }
    }
    /// Whether Σ_B is the same at every x.
    pub fn noise_is_constant(&self) -> bool {
        self.noise.is_constant(self.landscape.as_ref())
    }
    /// tr Σ_B(x) = ‖F(x)‖²_F, the mean squared norm of the gradient noise at x (allocates: not for the step).
    pub fn noise_trace(&self, x: &[f64]) -> f64 {
        let (d, m) = (self.dim(), self.columns());
        let mut f = vec![0.0; d * m];
        self.noise.factor(
            self.landscape.as_ref(),
            x,
            &mut f,
            &mut NoiseScratch::new(d, self.samples()),
        );
        f.iter().map(|v| v * v).sum()
    }
    /// Whether f is quadratic and Σ_B constant, so that SGD, USAM and model K are linear SDEs (O1).
    pub fn is_linear_gaussian(&self) -> bool {
        self.landscape.constant_hessian().is_some() && self.noise_is_constant()
    }
}

#[cfg(test)]
mod tests {
    use super::landscape::{Quadratic, ToyNetwork};
    use super::*;

    /// N2 belongs to its own landscape: another finite sum, or a landscape without one, is rejected.
    #[test]
    fn finite_sum_noise_is_paired_with_its_landscape() {
        let net = Arc::new(ToyNetwork::new(8, 1.0, 1).expect("toy network"));
        let other = Arc::new(ToyNetwork::new(8, 1.0, 2).expect("toy network"));
        let noise = |l: &Arc<ToyNetwork>| Noise::finite_sum(2, true, l.clone()).expect("N2");
        let m = Model::new(net.clone(), noise(&net)).expect("paired");
        assert_eq!((m.columns(), m.samples()), (8, 8));
        assert!(matches!(
            Model::new(net.clone(), noise(&other)),
            Err(Error::Invalid { ref key, .. }) if key == "noise.kind"
        ));
        let quad = Arc::new(Quadratic::diagonal(&[1.0, -1.0]).expect("quadratic"));
        assert!(Model::new(quad, noise(&net)).is_err());
    }
}
