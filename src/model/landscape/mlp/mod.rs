//! A multilayer perceptron on a real data set as a loss landscape (issue 13; noise model N2 of math spec §3
//! through [`FiniteSum`]).
//!
//! # The network
//! Layer sizes n₀ = p (features), n₁ … n_{L−1} (`hidden`), n_L (K classes for `cross_entropy`, 1 for `mse`).
//! Layer l = 1..L computes z_l = W_l a_{l−1} + b_l with W_l ∈ ℝ^{n_l×n_{l−1}}, a₀ = input, a_l = σ(z_l) for the
//! hidden layers and a_L = z_L (no activation on the output). σ ∈ {tanh, relu, linear}; relu has σ'(0) = 0, as
//! in PyTorch.
//!
//! # The loss (PyTorch's conventions)
//! f(x) = (1/N) Σᵢ fᵢ(x) with fᵢ = ℓ(z_L(inputᵢ), yᵢ):
//! - `cross_entropy`: ℓ = log Σ_k e^{z_k} − z_y (`nn.CrossEntropyLoss`, softmax over the K outputs);
//! - `mse`: ℓ = (z − y)² (`nn.MSELoss`, no factor ½).
//!
//! # The parameter vector x
//! Laid out as PyTorch's `nn.Linear` layers in order: W₁ (n₁×n₀, row-major, i.e. `weight[out][in]`), b₁, W₂,
//! b₂, …, so the output of `torch.nn.utils.parameters_to_vector(model.parameters())` for
//! `nn.Sequential(nn.Linear(p, n₁), nn.Tanh(), …, nn.Linear(n_{L−1}, n_L))` is a valid x. See
//! [`Mlp::weight_range`] and [`Mlp::bias_range`].
//!
//! # Derivatives (all exact)
//! - ∇fᵢ by backpropagation: δ_L = ∂ℓ/∂z_L (softmax p − e_y, or 2(z − y)); δ_l = σ'(z_l) ⊙ W_{l+1}ᵀ δ_{l+1};
//!   ∂W_l = δ_l a_{l−1}ᵀ, ∂b_l = δ_l.
//! - Hessian–vector products H v by Pearlmutter's R-operator (forward-over-reverse): with R{·} = d/dε (·)(x+εv),
//!   R{z_l} = V_l a_{l−1} + W_l R{a_{l−1}} + c_l, R{a_l} = σ'(z_l) R{z_l}, R{δ_L} = ∇²ℓ R{z_L}
//!   (∇²ℓ = diag(p) − ppᵀ or 2), R{δ_l} = σ''(z_l) R{z_l} ⊙ W_{l+1}ᵀδ_{l+1} + σ'(z_l) ⊙ (V_{l+1}ᵀ δ_{l+1} +
//!   W_{l+1}ᵀ R{δ_{l+1}}), and H v = (R{δ_l} a_{l−1}ᵀ + δ_l R{a_{l−1}}ᵀ, R{δ_l})_l. Here (V_l, c_l) is v's
//!   block for layer l.
//! - The Hessian H = [H e₁, …, H e_d] from d R-passes per sample with unit directions (which skip the layers
//!   below the direction's layer), symmetrised (H + Hᵀ)/2 against round-off. O(N d²) time.
//! - The third-derivative contraction T[·,·,u] = d/dε H(x + εu) **exactly**, by running the same Hessian code on
//!   dual numbers x + εu (`num_dual::Dual64`): the ε-part of each entry is its derivative along u. For relu the
//!   piecewise-linear σ contributes σ'' = σ''' = 0, so T is the derivative away from the kinks.
//!
//! # Scratch memory and threads
//! The trait methods take `&self` and are called from many threads at once, and the per-step code must not
//! allocate. Every call therefore works in a **thread-local** buffer (one for f64, one for dual numbers), grown
//! to the largest network used on that thread at its first call and reused afterwards: after one warm-up
//! call per thread, `value`, `gradient`, `hessian`, `hessian_vector`, `third` and the [`FiniteSum`] methods do
//! not touch the heap (tested with a counting allocator in `tests/mlp.rs`). Each call is sequential over the
//! samples in a fixed order, so results are bit-identical at any thread count.

mod data;
pub mod saddles;

pub use data::Dataset;

use super::{FiniteSum, Landscape};
use crate::error::{Error, Result};
use num_dual::{Dual64, DualNum};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::cell::RefCell;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::thread::LocalKey;

/// Hidden-layer nonlinearity σ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// σ = tanh, σ' = 1 − tanh², σ'' = −2 tanh (1 − tanh²).
    Tanh,
    /// σ = max(z, 0), σ' = 1 for z > 0 and 0 otherwise (σ'(0) = 0 as in PyTorch), σ'' = 0.
    Relu,
    /// σ = z (a deep linear network).
    Linear,
}

impl Activation {
    /// Parses `tanh`, `relu` or `linear`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "tanh" => Ok(Activation::Tanh),
            "relu" => Ok(Activation::Relu),
            "linear" => Ok(Activation::Linear),
            _ => Err(Error::invalid(
                "landscape.activation",
                s,
                "use \"tanh\", \"relu\" or \"linear\"",
            )),
        }
    }

    /// The name as in model files.
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::Linear => "linear",
        }
    }

    /// (σ(z), σ'(z), σ''(z)).
    #[inline]
    fn eval<S: Scalar>(&self, z: S) -> (S, S, S) {
        match self {
            Activation::Tanh => {
                let t = z.tanh();
                let d1 = S::from(1.0) - t * t;
                (t, d1, t * d1 * (-2.0))
            }
            Activation::Relu => {
                if z > 0.0 {
                    (z, S::from(1.0), S::from(0.0))
                } else {
                    (S::from(0.0), S::from(0.0), S::from(0.0))
                }
            }
            Activation::Linear => (z, S::from(1.0), S::from(0.0)),
        }
    }
}

/// Per-sample loss ℓ on the network output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// ℓ = log Σ_k e^{z_k} − z_y over K ≥ 2 outputs (`nn.CrossEntropyLoss`); integer targets 0..K−1.
    CrossEntropy,
    /// ℓ = (z − y)² with one output (`nn.MSELoss`); numeric targets.
    Mse,
}

impl Loss {
    /// Parses `cross_entropy` or `mse`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "cross_entropy" => Ok(Loss::CrossEntropy),
            "mse" => Ok(Loss::Mse),
            _ => Err(Error::invalid("landscape.loss", s, "use \"cross_entropy\" or \"mse\"")),
        }
    }

    /// The name as in model files.
    pub fn name(&self) -> &'static str {
        match self {
            Loss::CrossEntropy => "cross_entropy",
            Loss::Mse => "mse",
        }
    }
}

/// Scalars the passes run on: f64, and `Dual64` for [`Landscape::third`].
trait Scalar: DualNum<Primitive = f64> + Copy {}
impl<T: DualNum<Primitive = f64> + Copy> Scalar for T {}

/// Largest number of units (Σ_l n_l) or parameters accepted, so that scratch sizes cannot overflow.
pub const MAX_SIZE: usize = 1 << 26;

/// A direction for the R-pass: a dense vector v, or the unit vector e_j.
#[derive(Clone, Copy)]
enum Dir<'a, S> {
    Dense(&'a [S]),
    Unit(usize),
}

/// Views into one scratch buffer: per-unit quantities at every level 0..=L, plus the softmax p.
struct Bufs<'a, S> {
    /// a_l (level 0 = the input; level L = z_L).
    a: &'a mut [S],
    /// z_l (levels 1..=L).
    z: &'a mut [S],
    /// σ'(z_l).
    d1: &'a mut [S],
    /// σ''(z_l).
    d2: &'a mut [S],
    /// δ_l = ∂ℓ/∂z_l.
    gz: &'a mut [S],
    /// ∂ℓ/∂a_l = W_{l+1}ᵀ δ_{l+1} (levels 1..L−1).
    ga: &'a mut [S],
    /// R{z_l}.
    rz: &'a mut [S],
    /// R{a_l}.
    ra: &'a mut [S],
    /// R{δ_l}.
    rgz: &'a mut [S],
    /// softmax probabilities (cross_entropy), length n_L.
    p: &'a mut [S],
}

/// Buffers per level: a, z, d1, d2, gz, ga, rz, ra, rgz.
const PER_UNIT: usize = 9;

thread_local! {
    /// f64 scratch, grown to the largest network used on this thread.
    static SCRATCH_F64: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    /// Dual-number scratch for `third`.
    static SCRATCH_DUAL: RefCell<Vec<Dual64>> = const { RefCell::new(Vec::new()) };
}

/// Calls `f` with `len` scalars of this thread's scratch buffer, growing it on first use only.
fn with_scratch<S: Scalar, R>(key: &'static LocalKey<RefCell<Vec<S>>>, len: usize, f: impl FnOnce(&mut [S]) -> R) -> R {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < len {
                buf.resize(len, S::from(0.0));
            }
            f(&mut buf[..len])
        }
        // Only reachable by re-entrant use from the same thread, which these methods never do.
        Err(_) => f(&mut vec![S::from(0.0); len]),
    })
}

/// A multilayer perceptron with mean loss over a data set (see the module documentation).
#[derive(Debug, Clone)]
pub struct Mlp {
    data: Dataset,
    /// n₀, n₁, …, n_L.
    sizes: Vec<usize>,
    activation: Activation,
    loss: Loss,
    /// Offset of W_l in x, l = 0..L−1 (layer l+1 in the 1-based notation of the docs).
    w_off: Vec<usize>,
    /// Offset of b_l in x.
    b_off: Vec<usize>,
    /// Offset of level k's units in the per-unit buffers, k = 0..=L; `u_off[L+1]` = total units.
    u_off: Vec<usize>,
    dim: usize,
}

impl Mlp {
    /// The network `data.features() → hidden[0] → … → K (or 1)` with the given activation and loss. The data
    /// must have been read for the same loss (class labels for cross_entropy). Errors: a hidden width of 0, a
    /// data set read for the other loss, or a network above [`MAX_SIZE`].
    pub fn new(data: Dataset, hidden: &[usize], activation: Activation, loss: Loss) -> Result<Self> {
        if let Some(i) = hidden.iter().position(|&h| h == 0) {
            return Err(Error::invalid(
                format!("landscape.hidden[{i}]"),
                0,
                "every hidden layer needs at least 1 unit, e.g. hidden = [8]",
            ));
        }
        let out = match loss {
            Loss::CrossEntropy => data.classes(),
            Loss::Mse => 1,
        };
        if out == 0 || (loss == Loss::Mse && data.classes() != 0) {
            return Err(Error::invalid(
                "landscape.loss",
                loss.name(),
                format!(
                    "the data set {} was read for the other loss; read it again with this one",
                    data.source()
                ),
            ));
        }
        let mut sizes = vec![data.features()];
        sizes.extend_from_slice(hidden);
        sizes.push(out);
        let layers = sizes.len() - 1;
        let (mut w_off, mut b_off) = (Vec::with_capacity(layers), Vec::with_capacity(layers));
        let mut off = 0usize;
        for l in 0..layers {
            w_off.push(off);
            off = off.saturating_add(sizes[l].saturating_mul(sizes[l + 1]));
            b_off.push(off);
            off = off.saturating_add(sizes[l + 1]);
        }
        let mut u_off = vec![0usize];
        for &n in &sizes {
            u_off.push(u_off.last().unwrap().saturating_add(n));
        }
        if off > MAX_SIZE || *u_off.last().unwrap() > MAX_SIZE {
            return Err(Error::invalid(
                "landscape.hidden",
                format!("{hidden:?}"),
                format!("the network has {off} parameters; at most {MAX_SIZE} are supported"),
            ));
        }
        Ok(Mlp {
            data,
            sizes,
            activation,
            loss,
            w_off,
            b_off,
            u_off,
            dim: off,
        })
    }

    /// Reads the data set from a CSV file (see [`Dataset::from_csv`]) and builds the network.
    pub fn from_csv(path: impl AsRef<Path>, hidden: &[usize], activation: Activation, loss: Loss) -> Result<Self> {
        Self::new(Dataset::from_csv(path, loss)?, hidden, activation, loss)
    }

    /// The same data, activation and loss with other hidden widths.
    pub fn with_hidden(&self, hidden: &[usize]) -> Result<Self> {
        Self::new(self.data.clone(), hidden, self.activation, self.loss)
    }

    /// The data set.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// Layer widths n₀ (features), n₁, …, n_L (outputs).
    pub fn layer_sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// The hidden widths n₁ … n_{L−1}.
    pub fn hidden(&self) -> &[usize] {
        &self.sizes[1..self.sizes.len() - 1]
    }

    /// Number of linear layers L.
    pub fn layers(&self) -> usize {
        self.sizes.len() - 1
    }

    /// The activation σ.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// The loss ℓ.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// Where W of linear layer `layer` (0-based: 0 is W₁) sits in x; entry (r, c) is at `start + r·n_in + c`.
    pub fn weight_range(&self, layer: usize) -> Range<usize> {
        self.w_off[layer]..self.b_off[layer]
    }

    /// Where b of linear layer `layer` (0-based) sits in x.
    pub fn bias_range(&self, layer: usize) -> Range<usize> {
        self.b_off[layer]..self.b_off[layer] + self.sizes[layer + 1]
    }

    /// Parameters drawn as PyTorch's default `nn.Linear` initialisation: every weight and bias of a layer with
    /// fan-in n uniform on (−1/√n, 1/√n), drawn in layout order from `Xoshiro256PlusPlus::seed_from_u64(seed)`
    /// (the distribution, not PyTorch's random stream).
    pub fn init(&self, seed: u64) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut x = vec![0.0; self.dim];
        for l in 0..self.layers() {
            let bound = 1.0 / (self.sizes[l] as f64).sqrt();
            for v in &mut x[self.w_off[l]..self.b_off[l] + self.sizes[l + 1]] {
                *v = bound * (2.0 * rng.random::<f64>() - 1.0);
            }
        }
        x
    }

    /// fᵢ(x), the loss of sample i. Panics if i ≥ N.
    pub fn sample_value(&self, i: usize, x: &[f64]) -> f64 {
        self.with_f64(|b| self.forward(x, i, b))
    }

    /// The network outputs z_L for sample i (logits for cross_entropy), written into `out` (length n_L).
    pub fn outputs(&self, i: usize, x: &[f64], out: &mut [f64]) {
        self.with_f64(|b| {
            self.forward(x, i, b);
            let l = self.layers();
            out.copy_from_slice(&b.a[self.u_off[l]..self.u_off[l + 1]]);
        });
    }

    /// Fraction of samples whose largest logit is the true class (cross_entropy), or NaN for mse.
    pub fn accuracy(&self, x: &[f64]) -> f64 {
        if self.loss == Loss::Mse {
            return f64::NAN;
        }
        let mut out = vec![0.0; self.data.classes()];
        let mut hits = 0usize;
        for i in 0..self.data.len() {
            self.outputs(i, x, &mut out);
            let best = (0..out.len()).fold(0, |m, k| if out[k] > out[m] { k } else { m });
            hits += usize::from(best == self.data.target(i) as usize);
        }
        hits as f64 / self.data.len() as f64
    }

    fn scratch_len(&self) -> usize {
        PER_UNIT * self.u_off[self.sizes.len()] + self.sizes[self.layers()]
    }

    fn split<'a, S>(&self, buf: &'a mut [S]) -> Bufs<'a, S> {
        let u = self.u_off[self.sizes.len()];
        let (a, rest) = buf.split_at_mut(u);
        let (z, rest) = rest.split_at_mut(u);
        let (d1, rest) = rest.split_at_mut(u);
        let (d2, rest) = rest.split_at_mut(u);
        let (gz, rest) = rest.split_at_mut(u);
        let (ga, rest) = rest.split_at_mut(u);
        let (rz, rest) = rest.split_at_mut(u);
        let (ra, rest) = rest.split_at_mut(u);
        let (rgz, p) = rest.split_at_mut(u);
        Bufs {
            a,
            z,
            d1,
            d2,
            gz,
            ga,
            rz,
            ra,
            rgz,
            p,
        }
    }

    fn with_f64<R>(&self, f: impl FnOnce(&mut Bufs<f64>) -> R) -> R {
        with_scratch(&SCRATCH_F64, self.scratch_len(), |buf| f(&mut self.split(buf)))
    }

    /// Forward pass of sample i: fills a, z, σ', σ'' at every level, p, and δ_L; returns ℓᵢ.
    fn forward<S: Scalar>(&self, w: &[S], i: usize, b: &mut Bufs<S>) -> S {
        let layers = self.layers();
        let input = self.data.input(i);
        for (a, &v) in b.a[..self.sizes[0]].iter_mut().zip(input) {
            *a = S::from(v);
        }
        for l in 0..layers {
            let (n_in, n_out) = (self.sizes[l], self.sizes[l + 1]);
            let (lo, hi) = (self.u_off[l], self.u_off[l + 1]);
            let (prev, next) = b.a.split_at_mut(hi);
            let a_in = &prev[lo..];
            let wl = &w[self.w_off[l]..self.b_off[l]];
            let bl = &w[self.b_off[l]..self.b_off[l] + n_out];
            for r in 0..n_out {
                let row = &wl[r * n_in..(r + 1) * n_in];
                let mut s = bl[r];
                for c in 0..n_in {
                    s += row[c] * a_in[c];
                }
                let k = hi + r;
                b.z[k] = s;
                if l + 1 < layers {
                    let (sv, s1, s2) = self.activation.eval(s);
                    next[r] = sv;
                    b.d1[k] = s1;
                    b.d2[k] = s2;
                } else {
                    next[r] = s;
                }
            }
        }
        let (lo, hi) = (self.u_off[layers], self.u_off[layers + 1]);
        let out = &b.a[lo..hi];
        let y = self.data.target(i);
        match self.loss {
            Loss::CrossEntropy => {
                let m = out.iter().fold(f64::NEG_INFINITY, |m, v| m.max(v.re()));
                let mut s = S::from(0.0);
                for (p, &o) in b.p.iter_mut().zip(out) {
                    *p = (o - m).exp();
                    s += *p;
                }
                for p in b.p.iter_mut() {
                    *p /= s;
                }
                let yk = y as usize;
                for k in 0..out.len() {
                    b.gz[lo + k] = if k == yk { b.p[k] - 1.0 } else { b.p[k] };
                }
                s.ln() + m - out[yk]
            }
            Loss::Mse => {
                let e = out[0] - y;
                b.gz[lo] = e * 2.0;
                e * e
            }
        }
    }

    /// Backward pass after [`Self::forward`]: fills δ_l and ∂ℓ/∂a_l at every level; adds `scale`·∇fᵢ into
    /// `grad` when given.
    fn backward<S: Scalar>(&self, w: &[S], b: &mut Bufs<S>, mut grad: Option<(&mut [S], f64)>) {
        for l in (0..self.layers()).rev() {
            let (n_in, n_out) = (self.sizes[l], self.sizes[l + 1]);
            let (lo, hi) = (self.u_off[l], self.u_off[l + 1]);
            if let Some((g, scale)) = grad.as_mut() {
                let a_in = &b.a[lo..hi];
                for r in 0..n_out {
                    let dr = b.gz[hi + r] * *scale;
                    let gw = &mut g[self.w_off[l] + r * n_in..self.w_off[l] + (r + 1) * n_in];
                    for c in 0..n_in {
                        gw[c] += dr * a_in[c];
                    }
                    g[self.b_off[l] + r] += dr;
                }
            }
            if l > 0 {
                let wl = &w[self.w_off[l]..self.b_off[l]];
                let (gz_in, gz_out) = b.gz.split_at_mut(hi);
                let ga_in = &mut b.ga[lo..hi];
                ga_in.iter_mut().for_each(|v| *v = S::from(0.0));
                for r in 0..n_out {
                    let dr = gz_out[r];
                    let row = &wl[r * n_in..(r + 1) * n_in];
                    for c in 0..n_in {
                        ga_in[c] += row[c] * dr;
                    }
                }
                for c in 0..n_in {
                    gz_in[lo + c] = b.d1[lo + c] * ga_in[c];
                }
            }
        }
    }

    /// (layer, row, column or None for a bias) of parameter j.
    fn locate(&self, j: usize) -> (usize, usize, Option<usize>) {
        let l = (0..self.layers()).rev().find(|&l| self.w_off[l] <= j).unwrap_or(0);
        if j < self.b_off[l] {
            let k = j - self.w_off[l];
            (l, k / self.sizes[l], Some(k % self.sizes[l]))
        } else {
            (l, j - self.b_off[l], None)
        }
    }

    /// R-pass after [`Self::forward`] and [`Self::backward`]: adds `scale`·∇²fᵢ v into `out`.
    fn r_pass<S: Scalar>(&self, w: &[S], dir: Dir<S>, b: &mut Bufs<S>, out: &mut [S], scale: f64) {
        let layers = self.layers();
        let zero = S::from(0.0);
        // Unit directions leave every layer below their own untouched.
        let first = match dir {
            Dir::Dense(_) => 0,
            Dir::Unit(j) => self.locate(j).0,
        };
        b.ra[..self.u_off[first + 1]].iter_mut().for_each(|v| *v = zero);
        b.rz[..self.u_off[first + 1]].iter_mut().for_each(|v| *v = zero);
        for l in first..layers {
            let (n_in, n_out) = (self.sizes[l], self.sizes[l + 1]);
            let (lo, hi) = (self.u_off[l], self.u_off[l + 1]);
            let wl = &w[self.w_off[l]..self.b_off[l]];
            let a_in = &b.a[lo..hi];
            let (ra_lo, ra_hi) = b.ra.split_at_mut(hi);
            let ra_in = &ra_lo[lo..];
            for r in 0..n_out {
                let row = &wl[r * n_in..(r + 1) * n_in];
                let mut s = zero;
                if l > first {
                    for c in 0..n_in {
                        s += row[c] * ra_in[c];
                    }
                }
                match dir {
                    Dir::Dense(v) => {
                        let vw = &v[self.w_off[l] + r * n_in..self.w_off[l] + (r + 1) * n_in];
                        for c in 0..n_in {
                            s += vw[c] * a_in[c];
                        }
                        s += v[self.b_off[l] + r];
                    }
                    Dir::Unit(_) => {}
                }
                b.rz[hi + r] = s;
            }
            if let (Dir::Unit(j), true) = (dir, l == first) {
                let (_, r0, c0) = self.locate(j);
                b.rz[hi + r0] += match c0 {
                    Some(c) => a_in[c],
                    None => S::from(1.0),
                };
            }
            for r in 0..n_out {
                let k = hi + r;
                ra_hi[r] = if l + 1 < layers { b.d1[k] * b.rz[k] } else { b.rz[k] };
            }
        }
        // Output: R{δ_L} = ∇²ℓ R{z_L}.
        let (lo, hi) = (self.u_off[layers], self.u_off[layers + 1]);
        match self.loss {
            Loss::CrossEntropy => {
                let mut prz = zero;
                for k in 0..hi - lo {
                    prz += b.p[k] * b.rz[lo + k];
                }
                for k in 0..hi - lo {
                    b.rgz[lo + k] = b.p[k] * (b.rz[lo + k] - prz);
                }
            }
            Loss::Mse => b.rgz[lo] = b.rz[lo] * 2.0,
        }
        for l in (0..layers).rev() {
            let (n_in, n_out) = (self.sizes[l], self.sizes[l + 1]);
            let (lo, hi) = (self.u_off[l], self.u_off[l + 1]);
            let a_in = &b.a[lo..hi];
            let ra_in = &b.ra[lo..hi];
            for r in 0..n_out {
                let rd = b.rgz[hi + r] * scale;
                let d = b.gz[hi + r] * scale;
                let o = &mut out[self.w_off[l] + r * n_in..self.w_off[l] + (r + 1) * n_in];
                if l > first {
                    for c in 0..n_in {
                        o[c] += rd * a_in[c] + d * ra_in[c];
                    }
                } else {
                    for c in 0..n_in {
                        o[c] += rd * a_in[c];
                    }
                }
                out[self.b_off[l] + r] += rd;
            }
            if l > 0 {
                let wl = &w[self.w_off[l]..self.b_off[l]];
                let (rgz_in, rgz_out) = b.rgz.split_at_mut(hi);
                let rga = &mut rgz_in[lo..];
                rga.iter_mut().for_each(|v| *v = zero);
                for r in 0..n_out {
                    let rd = rgz_out[r];
                    let d = b.gz[hi + r];
                    let row = &wl[r * n_in..(r + 1) * n_in];
                    match dir {
                        Dir::Dense(v) => {
                            let vw = &v[self.w_off[l] + r * n_in..self.w_off[l] + (r + 1) * n_in];
                            for c in 0..n_in {
                                rga[c] += row[c] * rd + vw[c] * d;
                            }
                        }
                        Dir::Unit(_) => {
                            for c in 0..n_in {
                                rga[c] += row[c] * rd;
                            }
                        }
                    }
                }
                if let Dir::Unit(j) = dir {
                    let (lj, r0, c0) = self.locate(j);
                    if let (true, Some(c)) = (lj == l, c0) {
                        rga[c] += b.gz[hi + r0];
                    }
                }
                // R{δ_l} = σ''(z_l) R{z_l} ⊙ ∂ℓ/∂a_l + σ'(z_l) ⊙ R{∂ℓ/∂a_l} (rga is R{∂ℓ/∂a_l} in place).
                for c in 0..n_in {
                    let k = lo + c;
                    rgz_in[k] = b.d2[k] * b.rz[k] * b.ga[k] + b.d1[k] * rgz_in[k];
                }
            }
        }
    }

    /// H(x) (or ∇²fᵢ for `only = Some(i)`) into `h`, generic so that `third` can run it on dual numbers.
    fn hessian_into<S: Scalar>(&self, w: &[S], only: Option<usize>, b: &mut Bufs<S>, h: &mut [S]) {
        let d = self.dim;
        h.iter_mut().for_each(|v| *v = S::from(0.0));
        let (range, scale) = match only {
            Some(i) => (i..i + 1, 1.0),
            None => (0..self.data.len(), 1.0 / self.data.len() as f64),
        };
        for i in range {
            self.forward(w, i, b);
            self.backward(w, b, None);
            for j in 0..d {
                self.r_pass(w, Dir::Unit(j), b, &mut h[j * d..(j + 1) * d], scale);
            }
        }
        for i in 0..d {
            for j in (i + 1)..d {
                let m = (h[i * d + j] + h[j * d + i]) * 0.5;
                h[i * d + j] = m;
                h[j * d + i] = m;
            }
        }
    }
}

impl Landscape for Mlp {
    fn dim(&self) -> usize {
        self.dim
    }

    /// f = (1/N) Σᵢ ℓ(z_L(inputᵢ), yᵢ).
    fn value(&self, x: &[f64]) -> f64 {
        self.with_f64(|b| {
            let mut s = 0.0;
            for i in 0..self.data.len() {
                s += self.forward(x, i, b);
            }
            s / self.data.len() as f64
        })
    }

    /// ∇f by backpropagation, averaged over the samples.
    fn gradient(&self, x: &[f64], g: &mut [f64]) {
        g.iter_mut().for_each(|v| *v = 0.0);
        let scale = 1.0 / self.data.len() as f64;
        self.with_f64(|b| {
            for i in 0..self.data.len() {
                self.forward(x, i, b);
                self.backward(x, b, Some((&mut *g, scale)));
            }
        });
    }

    /// H from d unit-direction R-passes per sample, symmetrised; O(N d²).
    fn hessian(&self, x: &[f64], h: &mut [f64]) {
        self.with_f64(|b| self.hessian_into(x, None, b, h));
    }

    /// T[·,·,u]: the Hessian code on dual numbers x + εu (exact; see the module documentation). O(N d²).
    fn third(&self, x: &[f64], u: &[f64], t: &mut [f64]) {
        let d = self.dim;
        with_scratch(&SCRATCH_DUAL, self.scratch_len() + d + d * d, |buf| {
            let (xd, rest) = buf.split_at_mut(d);
            let (hd, rest) = rest.split_at_mut(d * d);
            for k in 0..d {
                xd[k] = Dual64::new(x[k], u[k]);
            }
            let mut b = self.split(rest);
            self.hessian_into(xd, None, &mut b, hd);
            for (tk, hk) in t.iter_mut().zip(hd.iter()) {
                *tk = hk.eps;
            }
        });
    }

    /// H v by the R-operator: one forward, backward and R-pass per sample, ~3× the cost of a gradient.
    fn hessian_vector(&self, x: &[f64], v: &[f64], hv: &mut [f64]) {
        hv.iter_mut().for_each(|o| *o = 0.0);
        let scale = 1.0 / self.data.len() as f64;
        self.with_f64(|b| {
            for i in 0..self.data.len() {
                self.forward(x, i, b);
                self.backward(x, b, None);
                self.r_pass(x, Dir::Dense(v), b, hv, scale);
            }
        });
    }

    fn name(&self) -> &'static str {
        "mlp"
    }

    /// `W1[r,c]`, `b1[r]`, `W2[r,c]`, … (layers numbered from 1, like W₁ in the docs).
    fn variable_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.dim);
        for l in 0..self.layers() {
            for r in 0..self.sizes[l + 1] {
                for c in 0..self.sizes[l] {
                    names.push(format!("W{}[{r},{c}]", l + 1));
                }
            }
            for r in 0..self.sizes[l + 1] {
                names.push(format!("b{}[{r}]", l + 1));
            }
        }
        names
    }

    fn finite_sum(self: Arc<Self>) -> Option<Arc<dyn FiniteSum>> {
        Some(self)
    }

    /// The all-zero-weights saddle with the output bias at its optimum ([`Mlp::zero_saddle`]), when the
    /// activation is smooth there (tanh, linear).
    fn known_points(&self) -> Vec<(String, Vec<f64>)> {
        self.zero_saddle()
            .map(|x| vec![("zero_weights".to_string(), x)])
            .unwrap_or_default()
    }
}

impl FiniteSum for Mlp {
    fn samples(&self) -> usize {
        self.data.len()
    }

    /// ∇fᵢ by backpropagation on sample i alone. Panics if i ≥ N.
    fn sample_gradient(&self, i: usize, x: &[f64], g: &mut [f64]) {
        g.iter_mut().for_each(|v| *v = 0.0);
        self.with_f64(|b| {
            self.forward(x, i, b);
            self.backward(x, b, Some((g, 1.0)));
        });
    }

    /// ∇²fᵢ from d R-passes on sample i, symmetrised. O(d²). Panics if i ≥ N.
    fn sample_hessian(&self, i: usize, x: &[f64], h: &mut [f64]) {
        assert!(i < self.data.len(), "sample index {i} out of range");
        self.with_f64(|b| self.hessian_into(x, Some(i), b, h));
    }
}
