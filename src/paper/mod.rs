//! `samsde paper`: regenerates the figures of the SAM-saddle study (Kim et al., math spec §4.4, §7) from the
//! model files embedded below, and writes `REPORT.md`, one table row per claim: what the paper (or the spec's
//! derived oracle) reports, what samsde measures (with standard errors where statistical), the criterion,
//! and whether they agree.
//!
//! | file | claim | model file |
//! |---|---|---|
//! | [`e1_beale`] | E1: GD vs SAM on Beale, grad-cos, w^p, trapping threshold in ρ | `e1_beale.toml` |
//! | [`e2_saddle`] | E2: f = x² − y², GD escapes, SAM trapped, critical ρ | `e2_saddle.toml` |
//! | [`thm1`] | Kim Thm 1: USAM attraction threshold ρ > 1/\|λ₋\| as a simulated phase diagram | `thm1_usam_phase.toml` |
//! | [`thm2`] | Kim Thm 2 / Cor. 1: MSD of SGD, S-USAM, model K, A-USAM (O2, §4.4) | `thm2_msd.toml` |
//! | [`escape`] | SAM escapes later than SGD: exit-time ratio vs ρ (O5, O7) | `escape_ratio.toml` |
//! | [`momentum`] | momentum (O11): S-HB variance vs μ | `o11_momentum.toml` |
//! | [`batch`] | batch size (O12): mini-batch SAM escape fraction vs σ_B | `o12_batch.toml` |
//! | [`rare_escape`] | rare escapes: mean trapping time vs B and ρ over decades by AMS (O6, O10, O12) | `rare_escape.toml` |
//!
//! Claims only: every run goes through the library — a single run through [`Experiment`] and
//! [`crate::report::run`], a parameter scan through [`crate::sweep::Sweep`], a discrete optimizer stepped by
//! hand through the dynamics builder ([`stepper`]) — and every figure through [`crate::plot`]. Nothing
//! shells out.

pub mod batch;
pub mod e1_beale;
pub mod e2_saddle;
pub mod escape;
pub mod momentum;
pub mod rare_escape;
pub mod report;
pub mod thm1;
pub mod thm2;

use crate::error::{Error, Result};
use crate::plot::Format;
use crate::progress::{Progress, Tick};
use crate::report::{Report, output};
use crate::setup::{Experiment, Source, build};
use crate::stepper::Stepper;
use crate::sweep::{Axis, Sweep};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The embedded model files of the study: (file name, text).
pub const MODELS: [(&str, &str); 8] = [
    ("e1_beale.toml", include_str!("../../models/paper/e1_beale.toml")),
    ("e2_saddle.toml", include_str!("../../models/paper/e2_saddle.toml")),
    (
        "thm1_usam_phase.toml",
        include_str!("../../models/paper/thm1_usam_phase.toml"),
    ),
    ("thm2_msd.toml", include_str!("../../models/paper/thm2_msd.toml")),
    (
        "escape_ratio.toml",
        include_str!("../../models/paper/escape_ratio.toml"),
    ),
    (
        "o11_momentum.toml",
        include_str!("../../models/paper/o11_momentum.toml"),
    ),
    ("o12_batch.toml", include_str!("../../models/paper/o12_batch.toml")),
    ("rare_escape.toml", include_str!("../../models/paper/rare_escape.toml")),
];

/// Run options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Output folder.
    pub out: PathBuf,
    /// Fewer paths and coarser grids (under a minute on 2 cores).
    pub quick: bool,
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// Image format of the figures.
    pub format: Format,
}

impl Options {
    /// `quick` if in quick mode, else `full`.
    pub fn pick<T>(&self, quick: T, full: T) -> T {
        if self.quick { quick } else { full }
    }

    /// The file of the figure `stem` in the folder `figs`, in the chosen format (`figs/stem.png` or
    /// `figs/stem.svg`). Every section names its figures through it.
    pub fn figure(&self, figs: &Path, stem: &str) -> PathBuf {
        self.format.path(figs, stem)
    }
}

/// One row of the report: a claim and its check.
#[derive(Debug, Clone)]
pub struct Row {
    /// The claim.
    pub claim: String,
    /// What the paper / spec reports.
    pub paper: String,
    /// What samsde measures.
    pub measured: String,
    /// The explicit agreement criterion.
    pub criterion: String,
    /// Whether the criterion holds.
    pub agree: bool,
}

impl Row {
    /// A row.
    pub fn new(
        claim: impl Into<String>,
        paper: impl Into<String>,
        measured: impl Into<String>,
        criterion: impl Into<String>,
        agree: bool,
    ) -> Self {
        Row {
            claim: claim.into(),
            paper: paper.into(),
            measured: measured.into(),
            criterion: criterion.into(),
            agree,
        }
    }
}

/// The result of one claim file.
#[derive(Debug, Clone)]
pub struct Section {
    /// Short id (E1, E2, Thm 1, …).
    pub id: String,
    /// Title.
    pub title: String,
    /// Model file it was run from.
    pub model: String,
    /// Rows.
    pub rows: Vec<Row>,
    /// Figures written (absolute or relative to the cwd).
    pub figures: Vec<PathBuf>,
    /// Remarks (setup, caveats).
    pub notes: Vec<String>,
    /// Wall time in seconds.
    pub seconds: f64,
}

impl Section {
    fn new(id: &str, title: &str, model: &str) -> Self {
        Section {
            id: id.into(),
            title: title.into(),
            model: model.into(),
            rows: Vec::new(),
            figures: Vec::new(),
            notes: Vec::new(),
            seconds: 0.0,
        }
    }
}

/// What `run` produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Path of REPORT.md.
    pub report: PathBuf,
    /// Every figure written.
    pub figures: Vec<PathBuf>,
    /// The sections, in order.
    pub sections: Vec<Section>,
}

/// The embedded text of model file `name`.
pub fn model_text(name: &str) -> Result<&'static str> {
    MODELS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .ok_or_else(|| Error::Usage(format!("no embedded paper model {name}")))
}

/// Embedded model `name` with `key=value` overrides.
pub fn source(name: &str, sets: &[String]) -> Result<Source> {
    let mut src = Source::parse(&format!("models/paper/{name}"), model_text(name)?)?;
    for s in sets {
        src.set(s)?;
    }
    Ok(src)
}

/// Loads embedded model `name` with `key=value` overrides.
pub fn load(name: &str, sets: &[String]) -> Result<Experiment> {
    Experiment::load(&source(name, sets)?)
}

/// Runs an experiment quietly.
pub fn run_exp(exp: &Experiment, opt: &Options) -> Result<Report> {
    crate::report::run(exp, opt.threads, false)
}

/// Runs embedded model `name` (with the overrides `sets`) at every point of the grid `axes`, quietly;
/// returns the reports in grid order (the last axis varies fastest).
pub fn sweep(name: &str, sets: &[String], axes: Vec<Axis>, opt: &Options) -> Result<(Sweep, Vec<Report>)> {
    let sw = Sweep::new(&source(name, sets)?, axes)?;
    let reports = sw.run_reports(opt.threads, false)?;
    Ok((sw, reports))
}

/// The stepper of the `[[dynamics]]` entry `label` of `exp`, with ρ replaced by `rho` when given, built by the
/// dynamics builder (for stepping a deterministic optimizer by hand, e.g. in a bisection).
pub fn stepper(exp: &Experiment, label: &str, rho: Option<f64>) -> Result<Box<dyn Stepper>> {
    let m = &exp.meta[exp.dynamics_index(label)?];
    let mut spec = m.spec.clone();
    if let Some(r) = rho {
        spec.rho = r;
    }
    let prefix = format!("dynamics.{label}");
    Ok(build(&spec, &exp.model, &exp.solver, &exp.saddle.x, &prefix)?.stepper)
}

/// Index of dynamics `label` in a report.
pub fn dyn_index(r: &Report, label: &str) -> Result<usize> {
    r.summary
        .dynamics
        .iter()
        .position(|d| d.label == label)
        .ok_or_else(|| Error::Output(format!("report has no dynamics {label}")))
}

/// Bisection on a monotone predicate: `pred(lo)` false, `pred(hi)` true; returns the final bracket.
pub fn bisect(mut lo: f64, mut hi: f64, iters: usize, mut pred: impl FnMut(f64) -> bool) -> (f64, f64) {
    for _ in 0..iters {
        let mid = 0.5 * (lo + hi);
        if pred(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    (lo, hi)
}

/// Scientific formatting with `p` significant digits after the point.
pub fn sci(v: f64, p: usize) -> String {
    format!("{v:.p$e}")
}

/// `v ± se` in scientific notation.
pub fn pm(v: f64, se: f64) -> String {
    format!("{} ± {}", sci(v, 4), sci(se, 1))
}

/// Runs every claim into `opt.out` and writes REPORT.md; returns its path and the figures.
pub fn run(opt: &Options) -> Result<Outcome> {
    let out = &opt.out;
    let figs = out.join("figures");
    for d in [out.clone(), figs.clone(), out.join("models")] {
        std::fs::create_dir_all(&d).map_err(Error::io(&d))?;
    }
    for (name, text) in MODELS {
        output::write_file(&out.join("models").join(name), text)?;
    }
    type Claim = fn(&Options, &Path) -> Result<Section>;
    let claims: [(&str, Claim); 8] = [
        ("E1", e1_beale::run),
        ("E2", e2_saddle::run),
        ("Thm 1", thm1::run),
        ("Thm 2", thm2::run),
        ("escape", escape::run),
        ("O11", momentum::run),
        ("O12", batch::run),
        ("rare", rare_escape::run),
    ];
    let mut sections = Vec::new();
    // On a terminal a bar over the claims, with a line per finished claim above it; otherwise silent.
    let bar = Progress::stderr(claims.len() as u64, "claims");
    for (id, f) in claims {
        let t0 = Instant::now();
        bar.set_message(&format!("{id} …"));
        let mut s = f(opt, &figs)?;
        s.seconds = t0.elapsed().as_secs_f64();
        bar.println(&format!(
            "paper: {id} done in {:.1} s ({}/{} rows agree)",
            s.seconds,
            s.rows.iter().filter(|r| r.agree).count(),
            s.rows.len()
        ));
        bar.advance(1);
        sections.push(s);
    }
    bar.set_message("");
    bar.finish();
    let report = out.join("REPORT.md");
    output::write_file(&report, &report::markdown(opt, &sections))?;
    let figures = sections.iter().flat_map(|s| s.figures.clone()).collect();
    Ok(Outcome {
        report,
        figures,
        sections,
    })
}
