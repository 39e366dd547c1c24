//! E2 (math spec §7, O3, O4; Kim et al. "traj" figure): f = x² − y² from (−3, −0.01), η = 0.01, 500 steps.
//! GD escapes along y, SAM ρ = 0.5 is trapped on the O4 2-cycle; the critical ρ by bisection, for the
//! discrete optimizer and for the S-SAM-ODE flow b = −(Hx + ρH²x/‖Hx‖).

use super::{Options, Row, Section, bisect, dyn_index, load, run_exp, sci, stepper};
use crate::brownian::path_rng;
use crate::error::Result;
use crate::plot::chart::{self, Figure, Mark, Series};
use crate::theory::attraction;
use std::path::Path;

const MODEL: &str = "e2_saddle.toml";

/// Whether the S-SAM-ODE flow on f = x² − y² from `x0` enters the disk r < ρ before `t_max` (RK4, step h).
fn flow_enters(x0: [f64; 2], rho: f64, t_max: f64, h: f64) -> bool {
    let lam = [2.0, -2.0];
    let b = |x: [f64; 2]| {
        let hx = [lam[0] * x[0], lam[1] * x[1]];
        let n = (hx[0] * hx[0] + hx[1] * hx[1]).sqrt().max(1e-300);
        [-(hx[0] + rho * lam[0] * hx[0] / n), -(hx[1] + rho * lam[1] * hx[1] / n)]
    };
    let mut x = x0;
    let steps = (t_max / h).round() as usize;
    for _ in 0..steps {
        if (x[0] * x[0] + x[1] * x[1]).sqrt() < rho {
            return true;
        }
        let k1 = b(x);
        let k2 = b([x[0] + 0.5 * h * k1[0], x[1] + 0.5 * h * k1[1]]);
        let k3 = b([x[0] + 0.5 * h * k2[0], x[1] + 0.5 * h * k2[1]]);
        let k4 = b([x[0] + h * k3[0], x[1] + h * k3[1]]);
        for i in 0..2 {
            x[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
        if x[1].abs() > 10.0 {
            return false;
        }
    }
    false
}

/// Runs the claim.
pub fn run(opt: &Options, figs: &Path) -> Result<Section> {
    let mut sec = Section::new(
        "E2",
        "f = x² − y² from (−3, −0.01), η = 0.01, 500 steps (Kim traj figure)",
        MODEL,
    );
    let exp = load(MODEL, &[])?;
    let rep = run_exp(&exp, opt)?;
    let x0 = exp.plan.start.clone();
    let eta = exp.meta[0].spec.lr;
    let steps = (exp.t_end / eta).round() as usize;
    sec.notes.push(format!(
        "Deterministic discrete optimizers, float64 (the paper's code is float32), {steps} steps, ε = 1e−16."
    ));
    let end = |label: &str| -> Result<Vec<f64>> {
        Ok(rep.summary.dynamics[dyn_index(&rep, label)?]
            .final_moments
            .mean
            .clone()
            .unwrap_or_else(|| vec![f64::NAN; 2]))
    };
    let gd = end("GD")?;
    sec.rows.push(Row::new(
        "GD crosses and escapes along y",
        "GD escapes; spec [D] final point (−1.2307e−4, −199.5657)",
        format!("({}, {:.4})", sci(gd[0], 4), gd[1]),
        "|y| within 5e−4 of 199.5657 (float64; half a unit of the last printed digit plus rounding)",
        (gd[1].abs() - 199.5657).abs() <= 5e-4,
    ));
    let sam = end("SAM")?;
    let cycle = attraction::sam_two_cycle_amplitude(eta, 2.0, 0.5)?;
    sec.rows.push(Row::new(
        "SAM ρ = 0.5 is attracted to the saddle and ends on the 2-cycle (O4)",
        format!(
            "SAM trapped; spec [D] final point (−5.0504e−3, −6.7e−11); 2-cycle |x| = ηλρ/(2−ηλ) = {}",
            sci(cycle, 5)
        ),
        format!("({}, {})", sci(sam[0], 4), sci(sam[1], 1)),
        "||x| − 5.0504e−3| ≤ 1e−7 and |y| < 1e−6",
        (sam[0].abs() - 5.0504e-3).abs() <= 1e-7 && sam[1].abs() < 1e-6,
    ));

    // Critical ρ: the discrete optimizer enters the disk r < ρ within the run.
    let iters = opt.pick(18, 24);
    let enters = |rho: f64| {
        let st = stepper(&exp, "SAM", Some(rho)).expect("SAM with ρ in (0.01, 0.5) is valid");
        let mut s = st.scratch();
        let mut rng = path_rng(0, 0);
        let mut x = x0.clone();
        for _ in 0..steps {
            st.step(&mut x, &mut rng, &mut s);
            if (x[0] * x[0] + x[1] * x[1]).sqrt() < rho {
                return true;
            }
        }
        false
    };
    let (a, b) = bisect(0.01, 0.5, iters, enters);
    let rc = 0.5 * (a + b);
    sec.rows.push(Row::new(
        "critical ρ of discrete SAM (η = 0.01): trapped iff it enters the disk r < ρ",
        "ρ_c = 0.0948198 (spec [D], O3)",
        format!("ρ_c ∈ ({a:.7}, {b:.7}) ({iters} bisections, {steps} steps)"),
        "|ρ_c − 0.0948198| ≤ 1e−3",
        (rc - 0.0948198).abs() <= 1e-3,
    ));
    let h = opt.pick(1e-4, 2.5e-5);
    let (a, b) = bisect(0.01, 0.5, iters, |r| flow_enters([x0[0], x0[1]], r, 10.0, h));
    let rf = 0.5 * (a + b);
    sec.rows.push(Row::new(
        "critical ρ of the S-SAM-ODE flow",
        "ρ_c = 0.0964211 (spec [D], O3: bisection on the ODE)",
        format!("ρ_c ∈ ({a:.7}, {b:.7}) (RK4, h = {h}, t ≤ 10)"),
        "|ρ_c − 0.0964211| ≤ 1e−3",
        (rf - 0.0964211).abs() <= 1e-3,
    ));

    // Trajectory figure (zoomed on the saddle; GD leaves the frame along y).
    let mut series = Vec::new();
    for (i, d) in rep.summary.dynamics.iter().enumerate() {
        let pts: Vec<(f64, f64)> = rep
            .paths
            .iter()
            .filter(|p| p.label == d.label && p.x.len() >= 2)
            .map(|p| (p.x[0], p.x[1]))
            .collect();
        let name = if d.rho > 0.0 {
            format!("{} (ρ = {})", d.label, d.rho)
        } else {
            d.label.clone()
        };
        series.push(Series::new(name, i, Mark::Line, pts));
    }
    let p = opt.figure(figs, "e2_trajectories");
    chart::render(
        &Figure {
            title: "f = x² − y² from (−3, −0.01), η = 0.01: GD escapes, SAM ρ = 0.5 is trapped".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            x_range: Some((-3.2, 0.6)),
            y_range: Some((-1.0, 1.0)),
            equal_aspect: true,
            vlines: vec![0.0],
            hlines: vec![0.0],
            notes: vec![
                "The saddle is at (0, 0) (grey lines). GD leaves the plot along −y; SAM \
                 settles on the O4 2-cycle around the saddle."
                    .into(),
            ],
            series,
            ..Figure::default()
        },
        &p,
    )?;
    sec.figures.push(p);
    Ok(sec)
}
