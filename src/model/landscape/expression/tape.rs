//! The compiled form of a formula: a straight-line instruction tape.
//!
//! The parser calls [`Builder`] once per operator; the builder folds constants as it goes (`2*pi` is one
//! number, `-(x*3)` one affine instruction, `x^2` a `powi`), then [`Builder::finish`] drops instructions the
//! result does not depend on and assigns every live instruction a slot, reusing the slots of values that
//! are no longer needed (linear-scan allocation), so evaluation touches only a few jets however long the
//! formula is.

/// Largest |n| for which a constant integer exponent uses `powi` (exact repeated multiplication).
const MAX_POWI: f64 = 1024.0;

/// An elementary function applied by a unary instruction. `Recip`, `Powi` and `Powf` are produced by
/// constant folding (`c/x`, `x^c`), the others are the user-callable functions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Func {
    Exp,
    Log,
    Sin,
    Cos,
    Tanh,
    Sqrt,
    Abs,
    Recip,
    Powi(i32),
    Powf(f64),
}

/// The functions a formula may call, in the order error messages list them.
pub(super) const FUNCTION_NAMES: [&str; 7] = ["exp", "log", "sin", "cos", "tanh", "sqrt", "abs"];

impl Func {
    /// The user-callable function of this name.
    pub(super) fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "exp" => Func::Exp,
            "log" => Func::Log,
            "sin" => Func::Sin,
            "cos" => Func::Cos,
            "tanh" => Func::Tanh,
            "sqrt" => Func::Sqrt,
            "abs" => Func::Abs,
            _ => return None,
        })
    }

    /// φ(v) on a plain number, for constant folding.
    fn apply(self, v: f64) -> f64 {
        match self {
            Func::Exp => v.exp(),
            Func::Log => v.ln(),
            Func::Sin => v.sin(),
            Func::Cos => v.cos(),
            Func::Tanh => v.tanh(),
            Func::Sqrt => v.sqrt(),
            Func::Abs => v.abs(),
            Func::Recip => v.recip(),
            Func::Powi(n) => v.powi(n),
            Func::Powf(p) => v.powf(p),
        }
    }
}

/// What an instruction computes. Operands are slots (see [`Instr`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Op {
    /// A number (only when the whole formula is constant; elsewhere constants are folded into operands).
    Const(f64),
    /// The k-th variable.
    Var(usize),
    /// a + b.
    Add,
    /// a − b.
    Sub,
    /// a · b.
    Mul,
    /// a / b.
    Div,
    /// scale · a + shift (negation, and `+ − * /` with one constant operand).
    Affine { scale: f64, shift: f64 },
    /// φ(a).
    Unary(Func),
}

impl Op {
    /// How many operands (a, then b) the instruction reads.
    fn arity(self) -> usize {
        match self {
            Op::Const(_) | Op::Var(_) => 0,
            Op::Affine { .. } | Op::Unary(_) => 1,
            Op::Add | Op::Sub | Op::Mul | Op::Div => 2,
        }
    }
}

/// One instruction: `out ← op(a, b)`, all three slot numbers; `out` never equals an operand slot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Instr {
    pub(super) op: Op,
    pub(super) out: usize,
    pub(super) a: usize,
    pub(super) b: usize,
}

/// A compiled formula: run `instrs` in order; the result is in slot `root`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Program {
    pub(super) instrs: Vec<Instr>,
    pub(super) slots: usize,
    pub(super) root: usize,
}

impl Program {
    /// Whether the formula is a sum of terms each of at most one variable, f = Σᵢ fᵢ(xᵢ) + c (so ∇²f is
    /// diagonal everywhere and ∂ᵢ∂ᵢf depends on xᵢ alone): a pass over the instructions tracking, per slot, the
    /// variables its value depends on and whether it is such a sum. Conservative: `false` when unsure (more
    /// than 128 variables, or a product of two non-constant factors of different variables).
    pub(super) fn separable(&self) -> bool {
        let single = |m: u128| m.count_ones() <= 1;
        let mut slot = vec![(0u128, true); self.slots];
        for ins in &self.instrs {
            let (da, sa) = slot[ins.a];
            let (db, sb) = slot[ins.b];
            slot[ins.out] = match ins.op {
                Op::Const(_) => (0, true),
                Op::Var(k) if k < 128 => (1u128 << k, true),
                Op::Var(_) => return false,
                Op::Add | Op::Sub => (da | db, sa && sb),
                Op::Mul if da == 0 => (db, sb),
                Op::Mul if db == 0 => (da, sa),
                Op::Div if db == 0 => (da, sa),
                Op::Mul | Op::Div => (da | db, single(da | db)),
                Op::Affine { .. } => (da, sa),
                Op::Unary(_) => (da, single(da)),
            };
        }
        slot[self.root].1
    }
}

/// A value during compilation: a folded constant, or the output of node `n`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Val {
    Const(f64),
    Node(usize),
}

/// An instruction before slot allocation; operands are node numbers.
#[derive(Debug, Clone, Copy)]
struct Node {
    op: Op,
    a: usize,
    b: usize,
}

/// Builds the node list with constant folding.
#[derive(Debug)]
pub(super) struct Builder {
    nodes: Vec<Node>,
    vars: Vec<Option<usize>>,
}

impl Builder {
    /// A builder for a formula over `dim` variables.
    pub(super) fn new(dim: usize) -> Self {
        Builder {
            nodes: Vec::new(),
            vars: vec![None; dim],
        }
    }

    fn push(&mut self, op: Op, a: usize, b: usize) -> Val {
        self.nodes.push(Node { op, a, b });
        Val::Node(self.nodes.len() - 1)
    }

    /// The k-th variable (one node however often it occurs).
    pub(super) fn var(&mut self, k: usize) -> Val {
        if let Some(n) = self.vars[k] {
            return Val::Node(n);
        }
        let v = self.push(Op::Var(k), 0, 0);
        if let Val::Node(n) = v {
            self.vars[k] = Some(n);
        }
        v
    }

    /// scale · v + shift, merged into an affine operand if there is one; the identity is dropped.
    fn affine(&mut self, v: Val, scale: f64, shift: f64) -> Val {
        match v {
            Val::Const(c) => Val::Const(scale * c + shift),
            Val::Node(n) => {
                let (inner, scale, shift) = match self.nodes[n].op {
                    Op::Affine { scale: s, shift: c } => (self.nodes[n].a, scale * s, scale * c + shift),
                    _ => (n, scale, shift),
                };
                if scale == 1.0 && shift == 0.0 {
                    Val::Node(inner)
                } else {
                    self.push(Op::Affine { scale, shift }, inner, 0)
                }
            }
        }
    }

    /// −v.
    pub(super) fn neg(&mut self, v: Val) -> Val {
        match v {
            Val::Const(c) => Val::Const(-c),
            v => self.affine(v, -1.0, 0.0),
        }
    }

    /// l + r.
    pub(super) fn add(&mut self, l: Val, r: Val) -> Val {
        match (l, r) {
            (Val::Const(a), Val::Const(b)) => Val::Const(a + b),
            (Val::Const(c), v) | (v, Val::Const(c)) => self.affine(v, 1.0, c),
            (Val::Node(a), Val::Node(b)) => self.push(Op::Add, a, b),
        }
    }

    /// l − r.
    pub(super) fn sub(&mut self, l: Val, r: Val) -> Val {
        match (l, r) {
            (Val::Const(a), Val::Const(b)) => Val::Const(a - b),
            (Val::Const(c), v) => self.affine(v, -1.0, c),
            (v, Val::Const(c)) => self.affine(v, 1.0, -c),
            (Val::Node(a), Val::Node(b)) => self.push(Op::Sub, a, b),
        }
    }

    /// l · r.
    pub(super) fn mul(&mut self, l: Val, r: Val) -> Val {
        match (l, r) {
            (Val::Const(a), Val::Const(b)) => Val::Const(a * b),
            (Val::Const(c), v) | (v, Val::Const(c)) => self.affine(v, c, 0.0),
            (Val::Node(a), Val::Node(b)) => self.push(Op::Mul, a, b),
        }
    }

    /// l / r.
    pub(super) fn div(&mut self, l: Val, r: Val) -> Val {
        match (l, r) {
            (Val::Const(a), Val::Const(b)) => Val::Const(a / b),
            (Val::Const(c), v) => {
                let inv = self.func(Func::Recip, v);
                self.affine(inv, c, 0.0)
            }
            (v, Val::Const(c)) => self.affine(v, c.recip(), 0.0),
            (Val::Node(a), Val::Node(b)) => self.push(Op::Div, a, b),
        }
    }

    /// φ(v).
    pub(super) fn func(&mut self, f: Func, v: Val) -> Val {
        match v {
            Val::Const(c) => Val::Const(f.apply(c)),
            Val::Node(n) => self.push(Op::Unary(f), n, 0),
        }
    }

    /// l ^ r: `x^c` is a power function (`powi` for integral c), `c^y` = exp(ln c · y), and a general
    /// `x^y` = exp(y · ln x).
    pub(super) fn pow(&mut self, l: Val, r: Val) -> Val {
        match (l, r) {
            (Val::Const(a), Val::Const(b)) => Val::Const(a.powf(b)),
            (_, Val::Const(0.0)) => Val::Const(1.0),
            (v, Val::Const(1.0)) => v,
            (v, Val::Const(c)) if c.fract() == 0.0 && c.abs() <= MAX_POWI => self.func(Func::Powi(c as i32), v),
            (v, Val::Const(c)) => self.func(Func::Powf(c), v),
            (Val::Const(c), v) => {
                let exponent = self.affine(v, c.ln(), 0.0);
                self.func(Func::Exp, exponent)
            }
            (base, exponent) => {
                let ln = self.func(Func::Log, base);
                let product = self.mul(exponent, ln);
                self.func(Func::Exp, product)
            }
        }
    }

    /// The tape computing `root`: dead nodes dropped, slots allocated.
    pub(super) fn finish(self, root: Val) -> Program {
        let root = match root {
            Val::Const(c) => {
                return Program {
                    instrs: vec![Instr {
                        op: Op::Const(c),
                        out: 0,
                        a: 0,
                        b: 0,
                    }],
                    slots: 1,
                    root: 0,
                };
            }
            Val::Node(n) => n,
        };
        let nodes = &self.nodes[..=root];
        let operands = |node: &Node| [node.a, node.b].into_iter().take(node.op.arity());

        // Liveness, backwards from the root (operands always precede their users).
        let mut live = vec![false; nodes.len()];
        live[root] = true;
        for i in (0..nodes.len()).rev() {
            if live[i] {
                for j in operands(&nodes[i]) {
                    live[j] = true;
                }
            }
        }
        // Last reader of each live node; the root is read after the tape.
        let mut last_use = vec![0; nodes.len()];
        for (i, node) in nodes.iter().enumerate().filter(|(i, _)| live[*i]) {
            for j in operands(node) {
                last_use[j] = i;
            }
        }
        last_use[root] = usize::MAX;

        // Linear scan: the output takes a free slot before the operands' slots are released, so an
        // instruction never writes a slot it reads.
        let mut slot_of = vec![0; nodes.len()];
        let mut free: Vec<usize> = Vec::new();
        let mut slots = 0;
        let mut instrs = Vec::with_capacity(nodes.len());
        for (i, node) in nodes.iter().enumerate().filter(|(i, _)| live[*i]) {
            let out = free.pop().unwrap_or_else(|| {
                slots += 1;
                slots - 1
            });
            slot_of[i] = out;
            let a = slot_of[node.a];
            let b = slot_of[node.b];
            instrs.push(Instr { op: node.op, out, a, b });
            let mut released = [usize::MAX; 2];
            for (r, j) in operands(node).enumerate() {
                if last_use[j] == i && !released.contains(&slot_of[j]) {
                    released[r] = slot_of[j];
                    free.push(slot_of[j]);
                }
            }
        }
        Program {
            instrs,
            slots,
            root: slot_of[root],
        }
    }
}
