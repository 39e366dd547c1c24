//! Second-order forward-mode evaluation of a [`Program`] on jets (value, gradient, packed Hessian).
//!
//! A jet of order 0, 1 or 2 is stored as one contiguous run of scalars `[v | g₀ … g_{d−1} | H₀₀ H₀₁ …]`,
//! the Hessian packed as its upper triangle row by row (i ≤ j). Every slot of the program gets one such
//! run in a caller-provided buffer, so evaluation never allocates. The scalar type is generic: `f64` gives
//! f, ∇f, ∇²f; `Dual64` seeded with a direction u gives in addition their derivatives along u.

use super::tape::{Func, Op, Program};
use num_dual::DualNum;

/// The number types a jet can be made of: `f64`, or a dual number over `f64`.
pub(super) trait Scalar: DualNum<Primitive = f64> + Copy {}
impl<T: DualNum<Primitive = f64> + Copy> Scalar for T {}

/// How much of the jet is propagated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Order {
    /// f only.
    Value,
    /// f and ∇f.
    Gradient,
    /// f, ∇f and ∇²f.
    Hessian,
}

/// The shape of one jet: dimension and order.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    pub(super) dim: usize,
    pub(super) order: Order,
}

impl Layout {
    /// Scalars per jet.
    pub(super) fn stride(self) -> usize {
        let d = self.dim;
        match self.order {
            Order::Value => 1,
            Order::Gradient => 1 + d,
            Order::Hessian => 1 + d + d * (d + 1) / 2,
        }
    }

    /// Scalars needed to run `program`.
    pub(super) fn buffer_len(self, program: &Program) -> usize {
        program.slots * self.stride()
    }
}

/// Runs `program` in `buf` (at least [`Layout::buffer_len`] long), the k-th variable having value
/// `seed(k)`; returns the root jet.
pub(super) fn run<'a, S: Scalar>(
    program: &Program,
    layout: Layout,
    buf: &'a mut [S],
    seed: impl Fn(usize) -> S,
) -> &'a [S] {
    let stride = layout.stride();
    let dim = layout.dim;
    for ins in &program.instrs {
        let (before, rest) = buf.split_at_mut(ins.out * stride);
        let (out, after) = rest.split_at_mut(stride);
        let (before, after): (&[S], &[S]) = (before, after);
        let slot = |k: usize| {
            if k < ins.out {
                &before[k * stride..(k + 1) * stride]
            } else {
                let k = k - ins.out - 1;
                &after[k * stride..(k + 1) * stride]
            }
        };
        match ins.op {
            Op::Const(c) => {
                out.fill(S::from(0.0));
                out[0] = S::from(c);
            }
            Op::Var(k) => {
                out.fill(S::from(0.0));
                out[0] = seed(k);
                if layout.order >= Order::Gradient {
                    out[1 + k] = S::from(1.0);
                }
            }
            Op::Add => {
                for (o, (a, b)) in out.iter_mut().zip(slot(ins.a).iter().zip(slot(ins.b))) {
                    *o = *a + *b;
                }
            }
            Op::Sub => {
                for (o, (a, b)) in out.iter_mut().zip(slot(ins.a).iter().zip(slot(ins.b))) {
                    *o = *a - *b;
                }
            }
            Op::Affine { scale, shift } => {
                let a = slot(ins.a);
                out[0] = a[0] * scale + shift;
                for (o, a) in out[1..].iter_mut().zip(&a[1..]) {
                    *o = *a * scale;
                }
            }
            Op::Mul => mul(dim, out, slot(ins.a), slot(ins.b)),
            Op::Div => div(dim, out, slot(ins.a), slot(ins.b)),
            Op::Unary(f) => {
                let a = slot(ins.a);
                let (p0, p1, p2) = derivatives(f, a[0]);
                chain(dim, out, a, p0, p1, p2);
            }
        }
    }
    &buf[program.root * stride..(program.root + 1) * stride]
}

/// Splits a jet into value, gradient (empty at order 0) and packed Hessian (empty below order 2).
fn parts<S>(jet: &[S], dim: usize) -> (S, &[S], &[S])
where
    S: Copy,
{
    let (g, h) = jet[1..].split_at(dim.min(jet.len() - 1));
    (jet[0], g, h)
}

/// Mutable [`parts`].
fn parts_mut<S>(jet: &mut [S], dim: usize) -> (&mut S, &mut [S], &mut [S]) {
    let (v, rest) = jet.split_at_mut(1);
    let n = dim.min(rest.len());
    let (g, h) = rest.split_at_mut(n);
    (&mut v[0], g, h)
}

/// Calls `f(i, j, k)` for the packed upper-triangle entries (i ≤ j), k running 0, 1, ….
#[inline]
fn upper(dim: usize, mut f: impl FnMut(usize, usize, usize)) {
    let mut k = 0;
    for i in 0..dim {
        for j in i..dim {
            f(i, j, k);
            k += 1;
        }
    }
}

/// w = a·b: ∇w = a∇b + b∇a, ∇²w = a∇²b + b∇²a + ∇a∇bᵀ + ∇b∇aᵀ.
fn mul<S: Scalar>(dim: usize, out: &mut [S], a: &[S], b: &[S]) {
    let (a0, ga, ha) = parts(a, dim);
    let (b0, gb, hb) = parts(b, dim);
    let (w, gw, hw) = parts_mut(out, dim);
    *w = a0 * b0;
    for (o, (ga, gb)) in gw.iter_mut().zip(ga.iter().zip(gb)) {
        *o = a0 * *gb + b0 * *ga;
    }
    if !hw.is_empty() {
        upper(dim, |i, j, k| {
            hw[k] = a0 * hb[k] + b0 * ha[k] + ga[i] * gb[j] + gb[i] * ga[j]
        });
    }
}

/// q = a/b, from a = q·b: ∇q = (∇a − q∇b)/b, ∇²q = (∇²a − q∇²b − ∇q∇bᵀ − ∇b∇qᵀ)/b.
fn div<S: Scalar>(dim: usize, out: &mut [S], a: &[S], b: &[S]) {
    let (a0, ga, ha) = parts(a, dim);
    let (b0, gb, hb) = parts(b, dim);
    let (w, gw, hw) = parts_mut(out, dim);
    let q = a0 / b0;
    let rb = b0.recip();
    *w = q;
    for (o, (ga, gb)) in gw.iter_mut().zip(ga.iter().zip(gb)) {
        *o = (*ga - q * *gb) * rb;
    }
    if !hw.is_empty() {
        let gq: &[S] = gw;
        upper(dim, |i, j, k| {
            hw[k] = (ha[k] - q * hb[k] - gq[i] * gb[j] - gb[i] * gq[j]) * rb
        });
    }
}

/// w = φ(a) given φ, φ', φ'' at a: ∇w = φ'∇a, ∇²w = φ'∇²a + φ''∇a∇aᵀ.
fn chain<S: Scalar>(dim: usize, out: &mut [S], a: &[S], p0: S, p1: S, p2: S) {
    let (_, ga, ha) = parts(a, dim);
    let (w, gw, hw) = parts_mut(out, dim);
    *w = p0;
    for (o, ga) in gw.iter_mut().zip(ga) {
        *o = p1 * *ga;
    }
    if !hw.is_empty() {
        upper(dim, |i, j, k| hw[k] = p1 * ha[k] + p2 * ga[i] * ga[j]);
    }
}

/// (φ(v), φ'(v), φ''(v)). Outside the domain these are NaN or ±∞, which then propagate.
fn derivatives<S: Scalar>(f: Func, v: S) -> (S, S, S) {
    match f {
        Func::Exp => {
            let e = v.exp();
            (e, e, e)
        }
        Func::Log => {
            let r = v.recip();
            (v.ln(), r, -(r * r))
        }
        Func::Sin => {
            let (s, c) = v.sin_cos();
            (s, c, -s)
        }
        Func::Cos => {
            let (s, c) = v.sin_cos();
            (c, -s, -c)
        }
        Func::Tanh => {
            let t = v.tanh();
            let sech2 = S::from(1.0) - t * t;
            (t, sech2, t * sech2 * -2.0)
        }
        Func::Sqrt => {
            let r = v.sqrt();
            let d1 = r.recip() * 0.5;
            (r, d1, -(d1 * d1) / r)
        }
        Func::Abs => {
            let re = v.re();
            let sign = if re > 0.0 {
                1.0
            } else if re < 0.0 {
                -1.0
            } else {
                0.0
            };
            // At 0 (a kink) the one-sided slopes differ; 0 is the symmetric choice. A NaN stays NaN.
            let value = if re.is_nan() { v } else { v * sign };
            (value, S::from(sign), S::from(0.0))
        }
        Func::Recip => {
            let r = v.recip();
            let r2 = r * r;
            (r, -r2, r2 * r * 2.0)
        }
        Func::Powi(n) => {
            let nf = f64::from(n);
            (v.powi(n), v.powi(n - 1) * nf, v.powi(n - 2) * (nf * (nf - 1.0)))
        }
        Func::Powf(p) => (v.powf(p), v.powf(p - 1.0) * p, v.powf(p - 2.0) * (p * (p - 1.0))),
    }
}
