//! Known critical points of an [`Mlp`] (issue 13, item 3): the zero-weights saddle and saddles made by
//! merging (splitting) hidden units.
//!
//! **Zero weights.** With every weight and every hidden bias 0, a hidden activation with σ(0) = 0 gives a_l = 0
//! at every hidden layer, so the output is the constant b_L for every sample. Choosing b_L to minimise the loss
//! of a constant — the mean target for `mse`, log class frequencies for `cross_entropy` (softmax(b_L) = the
//! frequencies, up to the invariant shift b_L + c·1) — makes the mean output error E[δ_L] vanish, and then
//! ∇f = 0: ∂W_L = E[δ_L a_{L−1}ᵀ] = 0 because a = 0, ∂b_L = E[δ_L] = 0, and every lower δ_l = σ' ⊙ W_{l+1}ᵀ δ_{l+1}
//! = 0 because W_{l+1} = 0.
//!
//! With **one hidden layer** of h units and σ'(0) = 1 (tanh, linear) the Hessian there is known in closed form.
//! Its only non-zero blocks are E[∇²ℓ] on b₂ (positive semi-definite) and, for every hidden unit j, the
//! coupling ∂²f/∂W₁[j,c]∂W₂[k,j] = M[c,k] with M = (1/N) Σᵢ inputᵢ δᵢᵀ (p×K), δᵢ = ∂ℓ/∂z at the constant
//! output. The block [[0, M], [Mᵀ, 0]] has eigenvalues ±s_r(M), so the negative eigenvalues are −s_r(M) for
//! every non-zero singular value s_r of M, each **h times**: the Morse index is h · rank(M) (≤ h·(K−1) for
//! cross_entropy, since the δᵢ sum to zero over classes; h for mse). Every other eigenvalue of the weight
//! blocks and of b₁ is 0, so the point is a degenerate saddle. With two or more hidden layers the coupling is
//! of third order and the Hessian is only the b_L block: a higher-order saddle, index 0. relu is not
//! differentiable at z = 0, so the point is not offered for relu.
//!
//! **Merged units** (Fukumizu & Amari, *Neural Networks* 13, 2000). If x is a critical point of a network with
//! n units in hidden layer l, duplicating unit j — copying its incoming weights and bias to a new unit n and
//! splitting its outgoing weights v_j into λ v_j (unit j) and (1 − λ) v_j (unit n) — gives a critical point of
//! the network with n + 1 units, for every λ: the function is unchanged, the gradients of the two copies'
//! incoming weights are λ and 1 − λ times the original one (zero), and the outgoing weights see the same
//! activations as before. The λ-line is a line of critical points (so the Hessian has a zero eigenvalue
//! along it); for a minimum x, part of the line is made of saddles.

use super::{Activation, Loss, Mlp};
use crate::error::{Error, Result};
use nalgebra::DMatrix;

impl Mlp {
    /// The zero-weights saddle: every weight and hidden bias 0, the output bias at the optimum of a constant
    /// output (mean target for mse, log class frequencies for cross_entropy). `None` for relu (not
    /// differentiable there). See the module documentation.
    pub fn zero_saddle(&self) -> Option<Vec<f64>> {
        if self.activation() == Activation::Relu {
            return None;
        }
        let mut x = vec![0.0; self.dim];
        let out = self.bias_range(self.layers() - 1);
        let n = self.data().len() as f64;
        match self.loss() {
            Loss::Mse => x[out.start] = self.data().targets().iter().sum::<f64>() / n,
            Loss::CrossEntropy => {
                let mut count = vec![0.0; self.data().classes()];
                self.data().targets().iter().for_each(|&t| count[t as usize] += 1.0);
                for (k, c) in count.iter().enumerate() {
                    x[out.start + k] = (c / n).ln();
                }
            }
        }
        Some(x)
    }

    /// The negative Hessian eigenvalues at [`Mlp::zero_saddle`] in closed form, ascending with multiplicity:
    /// −s_r(M) repeated h times for every singular value s_r > `rtol`·s_max of M = (1/N) Σᵢ inputᵢ δᵢᵀ. Only
    /// for one hidden layer with tanh or linear activation (`None` otherwise). See the module documentation.
    pub fn zero_saddle_negative_eigenvalues(&self, rtol: f64) -> Option<Vec<f64>> {
        if self.layers() != 2 || self.activation() == Activation::Relu {
            return None;
        }
        let x = self.zero_saddle()?;
        let (p, k, h) = (self.sizes[0], self.sizes[2], self.sizes[1]);
        let mut m = DMatrix::<f64>::zeros(p, k);
        let mut out = vec![0.0; k];
        for i in 0..self.data().len() {
            self.outputs(i, &x, &mut out);
            let delta: Vec<f64> = match self.loss() {
                Loss::Mse => vec![2.0 * (out[0] - self.data().target(i))],
                Loss::CrossEntropy => {
                    let mx = out.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                    let s: f64 = out.iter().map(|o| (o - mx).exp()).sum();
                    let y = self.data().target(i) as usize;
                    (0..k)
                        .map(|c| (out[c] - mx).exp() / s - if c == y { 1.0 } else { 0.0 })
                        .collect()
                }
            };
            for (c, xc) in self.data().input(i).iter().enumerate() {
                for (kk, dk) in delta.iter().enumerate() {
                    m[(c, kk)] += xc * dk;
                }
            }
        }
        m /= self.data().len() as f64;
        let sv = m.singular_values();
        let smax = sv.max();
        let mut neg: Vec<f64> = sv
            .iter()
            .filter(|&&s| s > rtol * smax && s > 0.0)
            .flat_map(|&s| std::iter::repeat_n(-s, h))
            .collect();
        neg.sort_by(f64::total_cmp);
        Some(neg)
    }

    /// Splits hidden unit `unit` of hidden layer `hidden_layer` (0-based: 0 is the layer after the inputs) of
    /// this network at parameters `x`: returns the network with one more unit in that layer and the parameters
    /// in which the new, last unit copies the incoming weights and bias of `unit`, and the outgoing weights v
    /// of `unit` are split into λv (kept) and (1 − λ)v (new unit). The two networks compute the same function;
    /// if x is a critical point, so is the result (see the module documentation).
    pub fn split_unit(&self, x: &[f64], hidden_layer: usize, unit: usize, lambda: f64) -> Result<(Mlp, Vec<f64>)> {
        let hidden = self.hidden();
        if hidden_layer >= hidden.len() {
            return Err(Error::invalid(
                "hidden_layer",
                hidden_layer,
                format!("the network has {} hidden layers (0-based index)", hidden.len()),
            ));
        }
        if unit >= hidden[hidden_layer] {
            return Err(Error::invalid(
                "unit",
                unit,
                format!(
                    "hidden layer {hidden_layer} has {} units (0-based index)",
                    hidden[hidden_layer]
                ),
            ));
        }
        if x.len() != self.dim {
            return Err(Error::Dimension {
                key: "x".into(),
                expected: self.dim,
                found: x.len(),
            });
        }
        if !lambda.is_finite() {
            return Err(Error::invalid(
                "lambda",
                lambda,
                "the split ratio must be a finite number",
            ));
        }
        let mut wider = hidden.to_vec();
        wider[hidden_layer] += 1;
        let big = self.with_hidden(&wider)?;
        let mut y = vec![0.0; big.dim];
        let (li, lo) = (hidden_layer, hidden_layer + 1); // linear layers into and out of the hidden layer
        let n = hidden[hidden_layer];
        for l in 0..self.layers() {
            let (n_in, n_out) = (self.sizes[l], self.sizes[l + 1]);
            let (bn_in, bn_out) = (big.sizes[l], big.sizes[l + 1]);
            for r in 0..bn_out {
                // Source row in the small network (the new unit copies `unit`).
                let sr = if l == li && r == n { unit } else { r };
                for c in 0..bn_in {
                    let sc = if l == lo && c == n { unit } else { c };
                    let mut v = x[self.w_off[l] + sr * n_in + sc];
                    if l == lo && c == unit {
                        v *= lambda;
                    } else if l == lo && c == n {
                        v *= 1.0 - lambda;
                    }
                    y[big.w_off[l] + r * bn_in + c] = v;
                }
                y[big.b_off[l] + r] = x[self.b_off[l] + sr];
            }
            debug_assert!(n_out <= bn_out && n_in <= bn_in);
        }
        Ok((big, y))
    }
}
