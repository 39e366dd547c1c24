//! Kim et al. Thm 1 (math spec §4.4, O3) from simulation: the saddle attracts USAM iff ρ > 1/|λ₋|. A grid
//! over (ρ, |λ₋|) of `thm1_usam_phase.toml` runs (S-USAM with small isotropic noise, started at the saddle);
//! each cell's trapping probability is the fraction of paths still inside the ball of radius 0.5 at t_end.
//! A 2-axis sweep (H, then ρ), rendered with [`Phase`] with the line |λ₋| = 1/ρ.

use super::{Options, Row, Section, sweep};
use crate::error::Result;
use crate::model::Noise;
use crate::plot::phase::Phase;
use crate::sweep::Axis;
use std::path::Path;

const MODEL: &str = "thm1_usam_phase.toml";

/// Runs the claim.
pub fn run(opt: &Options, figs: &Path) -> Result<Section> {
    let mut sec = Section::new(
        "Thm 1",
        "Kim Thm 1: USAM is attracted to the saddle iff ρ > 1/|λ₋|",
        MODEL,
    );
    let n = opt.pick(8, 14);
    let paths = opt.pick(128, 512);
    // Cell centres, offset so that no cell sits exactly on ρ|λ₋| = 1.
    let rhos: Vec<f64> = (0..n).map(|k| 2.0 * (k as f64 + 0.5) / n as f64).collect();
    let lams: Vec<f64> = (0..n).map(|k| 0.2 + 3.8 * (k as f64 + 0.37) / n as f64).collect();
    let row = |a: f64, b: f64| toml::Value::Array(vec![toml::Value::Float(a), toml::Value::Float(b)]);
    let hessians = lams
        .iter()
        .map(|lam| toml::Value::Array(vec![row(1.0, 0.0), row(0.0, -lam)]))
        .collect();
    let (sw, reports) = sweep(
        MODEL,
        &[format!("ensemble.paths={paths}")],
        vec![
            Axis::new("landscape.hessian", hessians),
            Axis::numbers("dynamics.USAM.rho", &rhos),
        ],
        opt,
    )?;
    let exp = &sw.experiments()[0];
    let t_end = exp.t_end;
    let sigma = match exp.model.noise() {
        Noise::Isotropic { sigma, .. } => *sigma,
        _ => f64::NAN,
    };
    let mut values = vec![vec![f64::NAN; n]; n];
    let mut agree = 0usize;
    let mut cells = 0usize;
    for (p, rep) in reports.iter().enumerate() {
        let (iy, ix) = (p / n, p % n);
        let (rho, lam) = (rhos[ix], lams[iy]);
        let d = &rep.summary.dynamics[0];
        let (exited, total) = d
            .exit
            .as_ref()
            .map_or((0, 1), |e| (e.exited, (e.exited + e.censored).max(1)));
        let p_trap = 1.0 - exited as f64 / total as f64;
        values[iy][ix] = p_trap;
        let theory = rho * lam > 1.0;
        cells += 1;
        if (p_trap >= 0.5) == theory {
            agree += 1;
        }
    }
    let frac = agree as f64 / cells as f64;
    sec.notes.push(format!(
        "S-USAM (product diffusion √η(I+ρH)Σ^{{1/2}}), f = ½(x² − |λ₋|y²), isotropic σ₁ = {sigma}, η = 0.01, dt = 0.01, \
         t_end = {t_end}, {paths} paths per cell, {n}×{n} grid; a cell agrees when (P_trap ≥ ½) ⇔ (ρ|λ₋| > 1). \
         Near the line the escape rate |λ₋|(1 − ρ|λ₋|) → 0, so cells just below it need longer than t_end to \
         empty: a thin band of disagreement there is expected of any finite-time simulation."
    ));
    sec.rows.push(Row::new(
        "USAM saddle attraction threshold ρ > 1/|λ₋| (phase diagram from simulation)",
        "saddle attracts iff ρ > 1/|λ₋| (Kim Thm 1 [S]; linearisation λ(1+ρλ) > 0, O3)",
        format!("{agree}/{cells} cells agree with the line ({:.1} %)", 100.0 * frac),
        "≥ 90 % of the cells agree",
        frac >= 0.9,
    ));
    let p = opt.figure(figs, "thm1_usam_phase");
    let line = |r: f64| 1.0 / r;
    Phase {
        title: "Kim Thm 1: S-USAM is attracted to the saddle iff ρ > 1/|λ₋|",
        x_label: "ρ",
        y_label: "|λ₋| (unstable curvature)",
        xs: &rhos,
        ys: &lams,
        values: &values,
        value_label: "P(trapped)",
        boundary: Some((&line, "Thm 1 boundary |λ₋| = 1/ρ")),
        notes: vec![
            "Colour: fraction of paths still within 0.5 of the saddle at t_end (trapped). Above the line the \
             theorem predicts attraction."
                .into(),
        ],
    }
    .render(&p)?;
    sec.figures.push(p);
    Ok(sec)
}
