//! Turning what a run observed into its [`Report`]: the estimates of every observer, per dynamics, with the
//! closed forms beside them ([`super::theory`]) and the paired differences against the first dynamics.

use super::schema::{
    AmsBasinSummary, AmsExit, BasinRow, DynamicsSummary, ExitSummary, FinalMoments, MomentRow, PairedSummary, PathRow,
    Report, Summary, SurvivalRow, Width,
};
use super::theory;
use crate::ams::Estimator;
use crate::setup::{AmsOutcome, DynamicsKind, Experiment, Observations, model};
use crate::stats::DynamicsStats;
use crate::stats::ExitEstimate;

/// `v` where finite, else None (NaN marks a missing estimate).
fn fin(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// `v` when every entry is finite, else None.
fn fin_vec(v: &[f64]) -> Option<Vec<f64>> {
    v.iter().all(|x| x.is_finite()).then(|| v.to_vec())
}

/// The warning for diverged paths of one dynamics (None if none diverged).
fn divergence_warning(exp: &Experiment, i: usize, st: &DynamicsStats) -> Option<String> {
    let dv = &st.diverged;
    if dv.count == 0 {
        return None;
    }
    let m = &exp.meta[i];
    let mut w = format!(
        "{}: {} of {} paths diverged (a state entry became non-finite or exceeded ensemble.blowup = {:e})",
        m.label, dv.count, dv.paths, exp.plan.blowup
    );
    if exp.plan.region.is_some() {
        w.push_str("; each counts as an exit at its divergence time");
    }
    w.push_str(" and in the basin class `diverged`");
    if dv.too_many(None) {
        w.push_str(&format!(
            "; more than {} % diverged, so the final mean, covariance and width of the survivors are withheld (null)",
            100.0 * crate::stats::diverged::MAX_DIVERGED_FRACTION
        ));
    }
    let fix = if m.spec.kind == DynamicsKind::Dnsam {
        "DNSAM's diffusion grows like ρ‖H‖/‖g‖_ε near the saddle: raise this dynamics' epsilon or reduce solver.dt"
    } else if m.spec.kind.is_discrete() {
        "the step η is beyond the optimizer's stability limit (η|λ| ≳ 2): reduce lr, or raise ensemble.blowup if the paths legitimately travel far"
    } else {
        "an explicit scheme is unstable when dt·|λ| is large or the drift grows fast: reduce solver.dt, or raise ensemble.blowup if the paths legitimately travel far"
    };
    w.push_str(&format!(". Fix: {fix}"));
    Some(w)
}

/// Median ‖g‖/√tr Σ_B below which a full-gradient-normalised model (`sam_fullbatch`, `dnsam`) is flagged.
pub const SNR_WARNING: f64 = 3.0;

/// The warning (for `summary.warnings`, printed on stderr by `run` and `sweep`) for dynamics of `kind` whose run
/// had median signal-to-noise ratio `snr`, if it applies:
/// `sam_fullbatch` and `dnsam` divide by the full gradient ‖g‖, valid only where ‖g‖ ≫ √tr Σ_B.
pub fn snr_warning(label: &str, kind: DynamicsKind, snr: Option<f64>) -> Option<String> {
    let snr = snr?;
    (matches!(kind, DynamicsKind::SamFullbatch | DynamicsKind::Dnsam) && snr < SNR_WARNING).then(|| {
        format!(
            "`{label}` ({}) normalises by the full gradient, but the median ‖g‖/√tr Σ_B of this run is {snr:.3} < {SNR_WARNING}: the batch noise dominates g, so the SAM optimizer's ascent direction is mostly noise; use kind = \"sam\" (mini-batch SAM, S-SAM-mb) to model the optimizer",
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
    let mut warnings = exp.warnings.clone();
    let (mut moments, mut survival, mut basins, mut paths) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let traces: Vec<f64> = stats
        .iter()
        .map(|s| {
            if s.diverged.too_many(None) {
                f64::NAN
            } else {
                s.moments.at.last().map_or(f64::NAN, |m| m.estimate().trace)
            }
        })
        .collect();
    for (i, ((st, m), entry)) in stats.iter().zip(&exp.meta).zip(&exp.entries).enumerate() {
        let times = entry.schedule.times();
        warnings.extend(divergence_warning(exp, i, st));
        let withheld = st.diverged.too_many(None);
        let last = st.moments.at.last().map(|m| m.estimate()).filter(|_| !withheld);
        let t = times.last().copied().unwrap_or(exp.t_end);
        let n = st.moments.at.last().map_or(0, |m| m.cloud.n);
        let (final_moments, width) = match &last {
            Some(e) => (
                FinalMoments {
                    t,
                    n,
                    mean: fin_vec(&e.mean),
                    cov: e.cov.iter().map(|r| fin_vec(r)).collect(),
                    mean_stderr: fin_vec(&e.mean_stderr),
                },
                Width {
                    trace: fin(e.trace),
                    trace_stderr: fin(e.trace_stderr),
                    eigenvalues: fin_vec(&e.eigenvalues),
                    msd: fin(e.msd),
                    msd_stderr: fin(e.msd_stderr),
                },
            ),
            None => (
                FinalMoments {
                    t,
                    n,
                    ..FinalMoments::default()
                },
                Width::default(),
            ),
        };
        let exit = st.exit.as_ref().map(|x| {
            for (t, s, at_risk, exits) in x.survival() {
                survival.push(SurvivalRow {
                    label: m.label.clone(),
                    t,
                    survival: s,
                    at_risk,
                    exits,
                });
            }
            let mut estimate = x.estimate();
            let ams = obs.ams.get(i).map(|o| ams_exit(o, &estimate, exp));
            if let Some(a) = &ams {
                let e = &obs.ams[i].exit;
                estimate.mean_time = Some(e.mean_time);
                estimate.mean_time_stderr = Some(e.std_error);
                estimate.ci95 = Some([e.ci95.0, e.ci95.1]);
                estimate.estimator = a.method.clone();
            }
            let bridge = match obs.ams.get(i) {
                Some(o) => o.bridge,
                None => exp.plan.bridge,
            };
            ExitSummary {
                estimate,
                correction: if bridge { "brownian_bridge" } else { "none" }.into(),
                ams,
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
                msd_difference: (md.n > 0).then_some(md.mean),
                msd_difference_stderr: fin(md.stderr()),
                exit_difference: (has_exit && p.exit_difference.n > 0).then_some(p.exit_difference.mean),
                exit_difference_stderr: has_exit.then(|| p.exit_difference.stderr()).and_then(fin),
                width_ratio: fin(traces[i] / traces[0]),
            }
        });
        for (j, mm) in st.moments.at.iter().enumerate() {
            let mut e = mm.estimate();
            if st.diverged.too_many(Some(j)) {
                // Survivors only: withheld.
                let nan = |v: &mut Vec<f64>| v.iter_mut().for_each(|x| *x = f64::NAN);
                nan(&mut e.mean);
                nan(&mut e.mean_stderr);
                e.cov.iter_mut().for_each(nan);
                nan(&mut e.eigenvalues);
                (e.trace, e.trace_stderr, e.msd, e.msd_stderr) = (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
            }
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
                variance: if e.cov.is_empty() { e.variances } else { Vec::new() },
                trace: e.trace,
                trace_stderr: e.trace_stderr,
                eigenvalues: e.eigenvalues,
                msd: e.msd,
                msd_stderr: e.msd_stderr,
                theory_trace: th.as_ref().and_then(|t| t.trace),
                theory_msd: th.as_ref().and_then(|t| t.msd),
                width_ratio: reference
                    .filter(|_| !stats[0].diverged.too_many(Some(j)))
                    .map(|(r, _)| e.trace / r.estimate().trace)
                    .filter(|v| v.is_finite()),
                msd_difference: reference.filter(|(_, d)| d.n > 0).map(|(_, d)| d.mean),
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
        if let Some(w) = snr_warning(&m.label, m.spec.kind, snr_median) {
            notes.push(format!("warning: {w}"));
            warnings.push(w);
        }
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
    let attractors: Vec<Vec<f64>> = dynamics
        .iter()
        .flat_map(|d| d.basins.iter().filter_map(|b| b.point.clone()))
        .collect();
    let drawn = paths
        .iter()
        .map(|p| p.x.as_slice())
        .chain((!paths.is_empty()).then_some(exp.saddle.x.as_slice()))
        .chain(attractors.iter().filter(|_| !paths.is_empty()).map(Vec::as_slice));
    warnings.extend(super::domain::nonfinite_warning(l.as_ref(), drawn));
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
            landscape_parameters: Some(exp.resolved().landscape.clone()),
            noise_parameters: Some(model::noise_parameters(&exp.resolved().noise, l.dim())),
            saddle: exp.saddle.x.clone(),
            saddle_eigenvalues: exp.saddle.eigenvalues.clone(),
            t_end: exp.t_end,
            exit_region: exp.plan.region.clone(),
            dynamics,
            warnings,
            sharding: None,
        },
        moments,
        survival,
        basins,
        paths,
    }
}

/// `exit.ams` of one dynamics from its AMS outcome (`ensemble` is the ensemble's own exit estimate).
fn ams_exit(o: &AmsOutcome, ensemble: &ExitEstimate, exp: &Experiment) -> AmsExit {
    let e = &o.exit;
    let cfg = exp.ams.as_ref().map(|p| &p.config);
    AmsExit {
        method: match e.estimator {
            Estimator::Ams => "ams",
            Estimator::Direct => "direct_restarts",
        }
        .into(),
        escape_probability: e.escape_probability,
        escape_probability_ci95: e.escape_probability_ci95.map(|(lo, hi)| [lo, hi]),
        iterations: e.iterations,
        particles: cfg.map_or(0, |c| c.particles),
        killed: cfg.map_or(0, |c| c.killed),
        replicas: e.replicas,
        extinct_replicas: e.extinct_replicas,
        coordinate: o.coordinate.clone(),
        level_a: e.levels.0,
        entry_level: e.levels.1,
        exit_level: o.target_is_level.then_some(e.levels.2),
        mean_approach_time: e.mean_approach_time,
        mean_loop_time: e.mean_loop_time,
        mean_success_time: e.mean_success_time,
        direct_exits: e.per_replica.iter().map(|r| r.direct_hits).sum(),
        direct_entrances: e.per_replica.iter().map(|r| r.direct_entrances).sum(),
        steps: e.steps,
        seconds: o.seconds,
        ensemble_estimator: ensemble.estimator.clone(),
        ensemble_mean_time: ensemble.headline().0,
        basins: o
            .basins
            .iter()
            .map(|b| AmsBasinSummary {
                label: b.label.clone(),
                probability: b.estimate.probability.probability,
                probability_ci95: [b.estimate.probability.ci95.0, b.estimate.probability.ci95.1],
                share: b.estimate.share,
                share_ci95: b.estimate.share_ci95.map(|(lo, hi)| [lo, hi]),
            })
            .collect(),
    }
}
