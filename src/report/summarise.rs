//! Turning what a run observed into its [`Report`]: the estimates of every observer, per dynamics, with the
//! closed forms beside them ([`super::theory`]) and the paired differences against the first dynamics.

use super::schema::{
    BasinRow, DynamicsSummary, ExitSummary, FinalMoments, MomentRow, PairedSummary, PathRow, Report, Summary,
    SurvivalRow, Width,
};
use super::theory;
use crate::setup::{DynamicsKind, Experiment, Observations};
use crate::stats::DynamicsStats;

/// Median ‖g‖/√tr Σ_B below which a full-gradient-normalised model (`sam_fullbatch`, `dnsam`) is flagged.
pub const SNR_WARNING: f64 = 3.0;

/// The warning for dynamics of `kind` whose run had median signal-to-noise ratio `snr`, if it applies:
/// `sam_fullbatch` and `dnsam` divide by the full gradient ‖g‖, valid only where ‖g‖ ≫ √tr Σ_B.
pub fn snr_warning(label: &str, kind: DynamicsKind, snr: Option<f64>) -> Option<String> {
    let snr = snr?;
    (matches!(kind, DynamicsKind::SamFullbatch | DynamicsKind::Dnsam) && snr < SNR_WARNING).then(|| {
        format!(
            "warning: `{label}` ({}) normalises by the full gradient, but the median ‖g‖/√tr Σ_B of this run is {snr:.3} < {SNR_WARNING}: the batch noise dominates g, so the SAM optimizer's ascent direction is mostly noise; use kind = \"sam\" (mini-batch SAM, S-SAM-mb) to model the optimizer",
            kind.name()
        )
    })
}

/// The report of `exp` from its observations.
pub fn summarise(exp: &Experiment, obs: &Observations) -> Report {
    let stats: &[DynamicsStats] = &obs.stats;
    let l = exp.model.landscape();
    let theories = theory::theory(exp);
    let mut dynamics = Vec::new();
    let (mut moments, mut survival, mut basins, mut paths) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let traces: Vec<f64> = stats
        .iter()
        .map(|s| s.moments.at.last().map_or(f64::NAN, |m| m.estimate().trace))
        .collect();
    for (i, ((st, m), entry)) in stats.iter().zip(&exp.meta).zip(&exp.entries).enumerate() {
        let times = entry.schedule.times();
        let last = st.moments.at.last().map(|m| m.estimate());
        let t = times.last().copied().unwrap_or(exp.t_end);
        let (final_moments, width) = match &last {
            Some(e) => (
                FinalMoments {
                    t,
                    n: e.n,
                    mean: e.mean.clone(),
                    cov: e.cov.clone(),
                    mean_stderr: e.mean_stderr.clone(),
                },
                Width {
                    trace: e.trace,
                    trace_stderr: e.trace_stderr,
                    eigenvalues: e.eigenvalues.clone(),
                    msd: e.msd,
                    msd_stderr: e.msd_stderr,
                },
            ),
            None => (
                FinalMoments {
                    t,
                    n: 0,
                    mean: vec![],
                    cov: vec![],
                    mean_stderr: vec![],
                },
                Width {
                    trace: f64::NAN,
                    trace_stderr: f64::NAN,
                    eigenvalues: vec![],
                    msd: f64::NAN,
                    msd_stderr: f64::NAN,
                },
            ),
        };
        let exit = st.exit.as_ref().map(|x| {
            for (t, s, at_risk) in x.survival() {
                survival.push(SurvivalRow {
                    label: m.label.clone(),
                    t,
                    survival: s,
                    at_risk,
                });
            }
            ExitSummary {
                estimate: x.estimate(),
                correction: if exp.plan.bridge { "brownian_bridge" } else { "none" }.into(),
            }
        });
        let be = st.basins.estimate(&exp.basin_labels);
        basins.extend(be.iter().map(|b| BasinRow {
            label: m.label.clone(),
            class: b.label.clone(),
            count: b.count,
            probability: b.probability,
            ci_lo: b.ci95[0],
            ci_hi: b.ci95[1],
        }));
        let paired = st.paired.as_ref().map(|p| {
            let md = p.msd_difference.last().cloned().unwrap_or_default();
            let has_exit = exp.plan.region.is_some();
            PairedSummary {
                reference: exp.meta[0].label.clone(),
                msd_difference: md.mean,
                msd_difference_stderr: md.stderr(),
                exit_difference: has_exit.then_some(p.exit_difference.mean),
                exit_difference_stderr: has_exit.then(|| p.exit_difference.stderr()),
                width_ratio: traces[i] / traces[0],
            }
        });
        for (j, mm) in st.moments.at.iter().enumerate() {
            let e = mm.estimate();
            let reference = st
                .paired
                .as_ref()
                .map(|p| (&stats[0].moments.at[j], &p.msd_difference[j]));
            let tj = times[j];
            let th = theory::theory_at(exp, i, tj);
            moments.push(MomentRow {
                label: m.label.clone(),
                t: tj,
                n: e.n,
                mean: e.mean,
                cov: e.cov.concat(),
                trace: e.trace,
                trace_stderr: e.trace_stderr,
                eigenvalues: e.eigenvalues,
                msd: e.msd,
                msd_stderr: e.msd_stderr,
                theory_trace: th.as_ref().and_then(|t| t.trace),
                theory_msd: th.as_ref().and_then(|t| t.msd),
                width_ratio: reference
                    .map(|(r, _)| e.trace / r.estimate().trace)
                    .filter(|v| v.is_finite()),
                msd_difference: reference.map(|(_, d)| d.mean),
                msd_difference_stderr: reference.map(|(_, d)| d.stderr()).filter(|v| v.is_finite()),
            });
        }
        for s in &st.samples.paths {
            for (j, p) in s.points.iter().enumerate() {
                if let Some(x) = p {
                    paths.push(PathRow {
                        label: m.label.clone(),
                        path: s.path,
                        t: times[j],
                        x: x.clone(),
                    });
                }
            }
        }
        let snr_median = st.snr.median();
        let mut notes = m.notes.clone();
        notes.extend(snr_warning(&m.label, m.spec.kind, snr_median));
        dynamics.push(DynamicsSummary {
            label: m.label.clone(),
            kind: m.spec.kind.name().into(),
            lr: m.spec.lr,
            rho: m.spec.effective_rho(),
            momentum: m.spec.momentum,
            dt: m.dt,
            solver: if m.spec.kind.is_discrete() {
                "discrete".into()
            } else {
                exp.solver.kind.name().into()
            },
            strong_order: m.strong_order,
            structure: m.structure.map(|s| s.name().to_string()),
            notes,
            final_moments,
            width,
            exit,
            basins: be,
            diverged: st.diverged.count,
            paired,
            theory: theories.get(i).cloned().flatten(),
            snr_median,
        });
    }
    Report {
        summary: Summary {
            samsde_version: env!("CARGO_PKG_VERSION").into(),
            model: exp.name.clone(),
            seed: exp.seed,
            paths: exp.paths,
            threads: obs.threads,
            wall_seconds: obs.wall_seconds,
            landscape: l.name().into(),
            variables: l.variable_names(),
            noise: exp.model.noise().describe(),
            saddle: exp.saddle.x.clone(),
            saddle_eigenvalues: exp.saddle.eigenvalues.clone(),
            t_end: exp.t_end,
            exit_region: exp.plan.region.clone(),
            dynamics,
        },
        moments,
        survival,
        basins,
        paths,
    }
}
