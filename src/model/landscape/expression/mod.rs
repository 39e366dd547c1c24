//! A landscape given by a user formula, e.g. `x^2 - y^2 + 0.1*x^4`, with exact derivatives.
//!
//! # Grammar
//!
//! ```text
//! expr    := term (('+' | '-') term)*            left-associative: a-b-c = (a-b)-c
//! term    := unary (('*' | '/') unary)*          left-associative: x/y/z = (x/y)/z
//! unary   := ('-' | '+') unary | power
//! power   := primary ('^' unary)?                right-associative: 2^3^2 = 2^9 = 512
//! primary := number | variable | constant | function '(' expr ')' | '(' expr ')'
//! ```
//!
//! `^` binds tighter than a leading minus, so `-x^2` = −(x²), while an exponent may carry its own sign
//! (`2^-x`). Numbers are decimal with optional fraction and exponent (`3`, `.5`, `1e-3`, `2.5E+4`); `−`
//! (U+2212) is accepted as minus. Functions: `exp log sin cos tanh sqrt abs` (`log` is the natural
//! logarithm). Constants `pi` and `e` exist unless a variable of that name shadows them. Variables are
//! declared by the caller; the dimension is their number (1 to [`MAX_VARIABLES`]); a declared variable
//! may go unused. Implicit multiplication (`2x`) is not supported.
//!
//! The formula is parsed once into a straight-line instruction tape with constant folding (`2*pi/3` is
//! one number, `x^2` becomes `powi(x, 2)`, `-(3*x)` one affine instruction), dead instructions removed and
//! slots reused; see `tape.rs`.
//!
//! # Derivatives: second-order forward mode
//!
//! The tape is evaluated on jets (v, ∇v, ∇²v) ∈ ℝ × ℝᵈ × ℝᵈˣᵈ (Hessian stored as its upper triangle).
//! A variable xₖ is the jet (xₖ, eₖ, 0), a constant (c, 0, 0), and the rules are
//!
//! * sums and affine maps act entrywise: ∇(αa + βb + γ) = α∇a + β∇b, likewise ∇²;
//! * product w = ab: ∇w = a∇b + b∇a, ∇²w = a∇²b + b∇²a + ∇a∇bᵀ + ∇b∇aᵀ;
//! * quotient q = a/b: ∇q = (∇a − q∇b)/b, ∇²q = (∇²a − q∇²b − ∇q∇bᵀ − ∇b∇qᵀ)/b;
//! * unary w = φ(a): ∇w = φ'(a)∇a, ∇²w = φ'(a)∇²a + φ''(a)∇a∇aᵀ, with φ, φ', φ'' in closed form for
//!   exp, log, sin, cos, tanh, sqrt, abs (φ'' = 0, φ'(0) = 0), 1/a and aᶜ;
//! * powers: `a^c` with constant c is the unary power (integral c via `powi`, exact), `c^b` = exp(ln c·b),
//!   and a general `a^b` = exp(b ln a) (defined for a > 0).
//!
//! The third-derivative contraction T[·,·,u] = Σₖ ∂ₖ∇²f uₖ comes from the same code run on dual numbers
//! (`num_dual::Dual64`): seeding xₖ = xₖ + uₖε makes every jet entry carry its derivative along u, so the
//! ε-part of the Hessian is exactly T[·,·,u]. Each call propagates only what it returns: `value` runs
//! order 0, `gradient` order 1, `hessian` order 2, `third` order 2 on duals.
//!
//! Why our own forward mode rather than num-dual's `HyperDualVec`/`Dual2Vec`: those carry the gradient
//! and Hessian in nalgebra matrices whose size is either a compile-time constant (the dimension here is
//! only known at run time) or heap-allocated per number (`Dyn`), i.e. per tape node per call. The jets
//! here live in a thread-local buffer sized once per thread, so after warm-up an evaluation performs no
//! heap allocation, and the results are exact up to floating-point rounding (no finite-difference
//! step). Results outside a function's domain (log of a negative number, 0/0) are NaN or ±∞ and simply
//! propagate; nothing panics.

mod jet;
mod parse;
mod tape;

use super::Landscape;
use crate::error::{Error, Result};
use jet::{Layout, Order, Scalar};
use num_dual::Dual64;
use std::cell::RefCell;
use std::thread::LocalKey;
use tape::{FUNCTION_NAMES, Program};

/// Largest number of variables (the dimension) a formula may declare.
pub const MAX_VARIABLES: usize = 64;

/// f(x) given by a formula over named variables, with exact gradient, Hessian and third derivatives by
/// forward-mode automatic differentiation (see the [module documentation](self)).
#[derive(Debug, Clone)]
pub struct Expression {
    formula: String,
    variables: Vec<String>,
    program: Program,
    /// Whether the formula is a sum of one-variable terms ([`Program::separable`], computed once).
    separable: bool,
}

impl Expression {
    /// Parses `formula` over `variables` (in coordinate order: x = (`variables[0]`, `variables[1]`, …)).
    ///
    /// Variables must be 1 to [`MAX_VARIABLES`] distinct identifiers (a letter or `_`, then letters, digits
    /// or `_`) that are not function names; otherwise [`Error::Invalid`] for `landscape.variables`. A
    /// formula that does not parse gives [`Error::Formula`] with the column of the problem.
    pub fn new(formula: &str, variables: &[String]) -> Result<Self> {
        validate_variables(variables)?;
        let program = parse::parse(formula, variables)?;
        let separable = program.separable();
        Ok(Expression {
            formula: formula.to_string(),
            variables: variables.to_vec(),
            program,
            separable,
        })
    }

    /// The formula as given.
    pub fn formula(&self) -> &str {
        &self.formula
    }

    /// Number of instructions in the compiled tape after constant folding and dead-code removal.
    pub fn tape_len(&self) -> usize {
        self.program.instrs.len()
    }

    /// Runs the tape at the given order with `f64` jets and hands the root jet to `read`.
    fn eval<R>(&self, order: Order, x: &[f64], read: impl FnOnce(&[f64]) -> R) -> R {
        debug_assert_eq!(x.len(), self.dim(), "x has the wrong dimension");
        let layout = Layout {
            dim: self.variables.len(),
            order,
        };
        with_scratch(&SCRATCH_F64, layout.buffer_len(&self.program), |buf| {
            read(jet::run(&self.program, layout, buf, |k| x[k]))
        })
    }

    /// Writes the packed upper-triangular Hessian of `jet` (order 2) as a full row-major matrix.
    fn unpack<S: Copy>(&self, jet: &[S], out: &mut [f64], part: impl Fn(S) -> f64) {
        let d = self.variables.len();
        let packed = &jet[1 + d..];
        let mut k = 0;
        for i in 0..d {
            for j in i..d {
                let v = part(packed[k]);
                out[i * d + j] = v;
                out[j * d + i] = v;
                k += 1;
            }
        }
    }
}

/// Checks count, syntax and uniqueness of the variable names.
fn validate_variables(variables: &[String]) -> Result<()> {
    let key = "landscape.variables";
    let shown = || format!("{variables:?}");
    if variables.is_empty() || variables.len() > MAX_VARIABLES {
        return Err(Error::invalid(
            key,
            shown(),
            format!("declare between 1 and {MAX_VARIABLES} variables, e.g. [\"x\", \"y\"]"),
        ));
    }
    for (i, name) in variables.iter().enumerate() {
        if !parse::is_identifier(name) {
            return Err(Error::invalid(
                key,
                format!("{name:?}"),
                "a variable name starts with a letter or `_` and continues with letters, digits or `_`",
            ));
        }
        if FUNCTION_NAMES.contains(&name.as_str()) {
            return Err(Error::invalid(
                key,
                name,
                format!(
                    "`{name}` is a function name; the functions {} cannot be variables",
                    FUNCTION_NAMES.join(", ")
                ),
            ));
        }
        if variables[..i].contains(name) {
            return Err(Error::invalid(
                key,
                name,
                format!("variable `{name}` is declared twice in {}", shown()),
            ));
        }
    }
    Ok(())
}

thread_local! {
    /// Jet storage for `f64` evaluations, grown to the largest size needed on this thread.
    static SCRATCH_F64: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    /// Jet storage for dual-number evaluations (`third`).
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
        // Only reachable by re-entrant use from the same thread, which the evaluator never does.
        Err(_) => f(&mut vec![S::from(0.0); len]),
    })
}

impl Landscape for Expression {
    /// Decided from the compiled tape when the formula was parsed (conservative: `false` when unsure).
    fn separable(&self) -> bool {
        self.separable
    }
    fn dim(&self) -> usize {
        self.variables.len()
    }

    fn value(&self, x: &[f64]) -> f64 {
        self.eval(Order::Value, x, |jet| jet[0])
    }

    fn gradient(&self, x: &[f64], g: &mut [f64]) {
        self.eval(Order::Gradient, x, |jet| g.copy_from_slice(&jet[1..]));
    }

    fn hessian(&self, x: &[f64], h: &mut [f64]) {
        self.eval(Order::Hessian, x, |jet| self.unpack(jet, h, |v| v));
    }

    fn third(&self, x: &[f64], u: &[f64], t: &mut [f64]) {
        debug_assert_eq!(x.len(), self.dim(), "x has the wrong dimension");
        debug_assert_eq!(u.len(), self.dim(), "u has the wrong dimension");
        let layout = Layout {
            dim: self.variables.len(),
            order: Order::Hessian,
        };
        with_scratch(&SCRATCH_DUAL, layout.buffer_len(&self.program), |buf| {
            let jet = jet::run(&self.program, layout, buf, |k| Dual64::new(x[k], u[k]));
            self.unpack(jet, t, |v| v.eps);
        });
    }

    fn name(&self) -> &'static str {
        "expression"
    }

    fn variable_names(&self) -> Vec<String> {
        self.variables.clone()
    }
}
