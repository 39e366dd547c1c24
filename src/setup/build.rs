//! The dynamics builder: a validated [`DynamicsSpec`] and [`SolverSpec`] on a [`Model`] become a ready
//! [`Stepper`] in one `match` on [`DynamicsKind`], outside the stepping loop. Adding a dynamics kind is one
//! variant of [`DynamicsKind`], one file (its SDE parts in `crate::sde`, or a stepper) and one arm in [`build`].

use crate::error::{Error, Result, ensure};
use crate::model::Model;
use crate::sde::{Dnsam, HeavyBall, Kim, LinearSde, MomentSource, NoiseStructure, Sam, SamFullbatch, Sde, Sgd, Usam};
use crate::solver::{EulerMaruyama, Milstein, Solver, SolverKind, SolverSpec};
use crate::stepper::{Discrete, DiscreteKind, SdeStepper, Stepper, fixed, fixed_sam};
use serde::{Deserialize, Serialize};

/// The dynamics kinds, as spelled in model files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DynamicsKind {
    /// S-SGD1.
    Sgd,
    /// S-USAM.
    Usam,
    /// S-SAM-mb: the mini-batch SAM optimizer's SDE.
    Sam,
    /// Full-batch SAM drift (S-SAM-ODE) with SGD noise (the `sam` kind before 0.2).
    SamFullbatch,
    /// S-DNSAM.
    Dnsam,
    /// Model K at the saddle.
    Kim,
    /// A-SGD.
    SgdDiscrete,
    /// A-USAM.
    UsamDiscrete,
    /// A-SAM.
    SamDiscrete,
}

impl DynamicsKind {
    /// Every kind, in model-file documentation order.
    pub const ALL: [DynamicsKind; 9] = [
        DynamicsKind::Sgd,
        DynamicsKind::Usam,
        DynamicsKind::Sam,
        DynamicsKind::SamFullbatch,
        DynamicsKind::Dnsam,
        DynamicsKind::Kim,
        DynamicsKind::SgdDiscrete,
        DynamicsKind::UsamDiscrete,
        DynamicsKind::SamDiscrete,
    ];

    /// Whether this is a discrete optimizer (time advances by η per step).
    pub fn is_discrete(self) -> bool {
        matches!(
            self,
            DynamicsKind::SgdDiscrete | DynamicsKind::UsamDiscrete | DynamicsKind::SamDiscrete
        )
    }
    /// The kind spelled `name` in model files (and reports), if any.
    pub fn from_name(name: &str) -> Option<DynamicsKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
    /// Model-file spelling.
    pub fn name(self) -> &'static str {
        match self {
            DynamicsKind::Sgd => "sgd",
            DynamicsKind::Usam => "usam",
            DynamicsKind::Sam => "sam",
            DynamicsKind::SamFullbatch => "sam_fullbatch",
            DynamicsKind::Dnsam => "dnsam",
            DynamicsKind::Kim => "kim",
            DynamicsKind::SgdDiscrete => "sgd_discrete",
            DynamicsKind::UsamDiscrete => "usam_discrete",
            DynamicsKind::SamDiscrete => "sam_discrete",
        }
    }
}

/// Default ε of SAM's ‖g‖_ε (SDEs) and ‖g‖ + ε (discrete, as the official code's 1e−16 but safer in f64).
pub const DEFAULT_EPSILON: f64 = 1e-12;

/// The default ε of `dnsam` on `model` at the saddle `saddle` (and, if the noise vanishes there, at `start`):
/// ε = √tr Σ_B, so that ‖g‖_ε = (‖g‖² + tr Σ_B)^{1/2} is the root-mean-square norm E[‖∇f_γ‖²]^{1/2} of the
/// mini-batch gradient that DNSAM's normalisation stands for. A tiny ε (1e-12) makes DNSAM's diffusion
/// ρ‖H‖/ε near the saddle: nearly every path diverged there. `None` when Σ_B vanishes at both points.
pub fn dnsam_epsilon(model: &Model, saddle: &[f64], start: &[f64]) -> Option<f64> {
    [saddle, start]
        .into_iter()
        .map(|x| model.noise_trace(x).sqrt())
        .find(|e| e.is_finite() && *e > 0.0)
}

/// One dynamics: kind, learning rate η, radius ρ, momentum μ and SAM's ε.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DynamicsSpec {
    /// Which dynamics.
    pub kind: DynamicsKind,
    /// Learning rate η > 0.
    pub lr: f64,
    /// SAM radius ρ ≥ 0 (ignored by SGD).
    pub rho: f64,
    /// Momentum μ ∈ [0, 1).
    pub momentum: f64,
    /// ε > 0 of the normalisation.
    pub epsilon: f64,
}

impl DynamicsSpec {
    /// A spec with ρ = 0, μ = 0 and the default ε.
    pub fn new(kind: DynamicsKind, lr: f64) -> Self {
        DynamicsSpec {
            kind,
            lr,
            rho: 0.0,
            momentum: 0.0,
            epsilon: DEFAULT_EPSILON,
        }
    }
    /// Sets ρ.
    pub fn rho(mut self, rho: f64) -> Self {
        self.rho = rho;
        self
    }
    /// Sets μ.
    pub fn momentum(mut self, mu: f64) -> Self {
        self.momentum = mu;
        self
    }
    /// ρ as it acts on the dynamics: 0 for SGD, which has no ascent step.
    pub fn effective_rho(&self) -> f64 {
        if matches!(self.kind, DynamicsKind::Sgd | DynamicsKind::SgdDiscrete) {
            0.0
        } else {
            self.rho
        }
    }
    /// Checks every parameter; `prefix` is the key prefix for messages (e.g. `dynamics.SAM`).
    pub fn validate(&self, prefix: &str) -> Result<()> {
        let k = |s: &str| format!("{prefix}.{s}");
        ensure(
            self.lr.is_finite() && self.lr > 0.0,
            &k("lr"),
            self.lr,
            "the learning rate η must be a finite number > 0",
        )?;
        ensure(
            self.rho.is_finite() && self.rho >= 0.0,
            &k("rho"),
            self.rho,
            "ρ must be a finite number ≥ 0",
        )?;
        ensure(
            self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum),
            &k("momentum"),
            self.momentum,
            "μ must be in [0, 1)",
        )?;
        ensure(
            self.epsilon.is_finite() && self.epsilon > 0.0,
            &k("epsilon"),
            self.epsilon,
            "ε must be a finite number > 0",
        )
    }
}

/// A ready stepper and what the report says about it.
pub struct Built {
    /// The stepper.
    pub stepper: Box<dyn Stepper>,
    /// Noise structure of the SDE (None for discrete optimizers).
    pub structure: Option<NoiseStructure>,
    /// Strong order of the solver on this SDE (None for discrete optimizers).
    pub strong_order: Option<f64>,
    /// Time per step.
    pub dt: f64,
    /// Remarks (regularisation, approximations, fast path).
    pub notes: Vec<String>,
}

/// Builds the stepper for `spec` on `model`; `saddle` is where model K is linearised.
pub fn build(spec: &DynamicsSpec, model: &Model, solver: &SolverSpec, saddle: &[f64], prefix: &str) -> Result<Built> {
    spec.validate(prefix)?;
    ensure(
        solver.dt.is_finite() && solver.dt > 0.0,
        "solver.dt",
        solver.dt,
        "the step dt must be a finite number > 0",
    )?;
    let (eta, rho, mu, eps) = (spec.lr, spec.rho, spec.momentum, spec.epsilon);
    let discrete = |k| -> Result<Built> {
        Ok(Built {
            stepper: Box::new(Discrete::new(model.clone(), k, eta, rho, mu, eps)),
            structure: None,
            strong_order: None,
            dt: eta,
            notes: vec![format!(
                "discrete optimizer: one step per η = {eta}, t = k·η; PyTorch heavy ball μ = {mu}"
            )],
        })
    };
    let sde: Box<dyn Sde> = match spec.kind {
        DynamicsKind::Sgd => Box::new(Sgd::new(model.clone(), eta)),
        DynamicsKind::Usam => Box::new(Usam::new(model.clone(), eta, rho)),
        DynamicsKind::Sam => {
            let sam = Sam::new(model.clone(), eta, rho, eps);
            if let Some(fast) = sam_fast_path(&sam, mu, solver) {
                return Ok(fast);
            }
            Box::new(sam)
        }
        DynamicsKind::SamFullbatch => Box::new(SamFullbatch::new(model.clone(), eta, rho, eps)),
        DynamicsKind::Dnsam => Box::new(Dnsam::new(model.clone(), eta, rho, eps)),
        DynamicsKind::Kim => Box::new(Kim::new(model.landscape().as_ref(), model.noise(), saddle, eta, rho)),
        DynamicsKind::SgdDiscrete => return discrete(DiscreteKind::Sgd),
        DynamicsKind::UsamDiscrete => return discrete(DiscreteKind::Usam),
        DynamicsKind::SamDiscrete => return discrete(DiscreteKind::Sam),
    };
    if spec.kind == DynamicsKind::SamFullbatch
        && mu == 0.0
        && model.columns() == model.dim()
        && let Some(h) = model.landscape().constant_hessian()
        && model.noise_is_constant()
    {
        let d = model.dim();
        let (mut ws, mut g0, mut s) = (sde.workspace(), vec![0.0; d], vec![0.0; d * d]);
        model.landscape().gradient(&vec![0.0; d], &mut g0);
        sde.diffusion(&vec![0.0; d], &mut s, &mut ws);
        if let Some(stepper) = fixed::sam_fast_path(h, &g0, &s, rho, eps, solver.dt) {
            let mut notes = sde.notes();
            notes.push("full-batch SAM on a quadratic with constant noise: run by the fixed-size fast path".into());
            let structure = Some(NoiseStructure::Additive);
            return Ok(Built {
                stepper,
                structure,
                strong_order: Some(1.0),
                dt: solver.dt,
                notes,
            });
        }
    }
    let sde: Box<dyn Sde> = if mu > 0.0 {
        Box::new(HeavyBall::new(sde, eta, mu))
    } else {
        sde
    };
    match solver.kind {
        SolverKind::EulerMaruyama => finish(sde, EulerMaruyama, solver.dt),
        SolverKind::Milstein => {
            let m = Milstein {
                allow_dropping_areas: solver.allow_dropping_areas,
            };
            if !m.supports(sde.structure()) {
                return Err(Error::Unsupported {
                    what: format!("milstein on `{}` with non-commutative noise ({prefix})", spec.kind.name()),
                    fix: "set solver.allow_dropping_areas = true to run without Lévy areas (strong order ½, weak order 1), or use euler_maruyama".into(),
                });
            }
            finish(sde, m, solver.dt)
        }
    }
}

fn finish<V: Solver + 'static>(sde: Box<dyn Sde>, solver: V, dt: f64) -> Result<Built> {
    let structure = sde.structure();
    let mut notes = sde.notes();
    let strong_order = Some(solver.strong_order(structure));
    if structure == NoiseStructure::General && V::NAME == "milstein" {
        notes.push("Milstein without Lévy areas on non-commutative noise: strong order ½, weak order 1".into());
    }
    let stepper: Box<dyn Stepper> = if sde.is_affine() {
        notes.push("linear SDE with constant noise: run by the linear fast path".into());
        let linear = LinearSde::from_sde(&sde);
        match fixed::linear_fast_path(&linear, dt) {
            Some(fast) => fast,
            None => Box::new(SdeStepper::new(linear, solver, dt)),
        }
    } else {
        Box::new(SdeStepper::new(sde, solver, dt))
    };
    Ok(Built {
        stepper,
        structure: Some(structure),
        strong_order,
        dt,
        notes,
    })
}

/// S-SAM-mb on its fixed-size fast path, when it qualifies: Euler–Maruyama, no momentum, a quadratic landscape
/// with isotropic constant noise, d ≤ 4.
fn sam_fast_path(sam: &Sam, mu: f64, solver: &SolverSpec) -> Option<Built> {
    let model = sam.model();
    let h = model.landscape().constant_hessian()?;
    let MomentSource::Isotropic { table, s } = sam.source() else {
        return None;
    };
    if mu != 0.0 || solver.kind != SolverKind::EulerMaruyama {
        return None;
    }
    let d = model.dim();
    let mut g0 = vec![0.0; d];
    model.landscape().gradient(&vec![0.0; d], &mut g0);
    let stepper = fixed_sam::sam_mb_fast_path(table.clone(), h, &g0, *s, sam.rho(), sam.eta(), solver.dt)?;
    let mut notes = sam.notes();
    notes.push("mini-batch SAM on a quadratic with isotropic constant noise: run by the fixed-size fast path".into());
    Some(Built {
        stepper,
        structure: Some(sam.structure()),
        strong_order: Some(EulerMaruyama.strong_order(sam.structure())),
        dt: solver.dt,
        notes,
    })
}
