//! Human names for titles and legends, derived from the identifiers of model files (which must be valid
//! TOML keys and file names): `paper_e1_beale` → "E1 Beale", a dynamics labelled `SAM_r01` of kind
//! `sam_discrete` with ρ = 0.1 → "SAM (ρ = 0.1)", the attractor `basin_1` at (3, 0.5) → "minimum 1 (3, 0.5)".

use super::style::num;
use crate::report::{DynamicsSummary, Report};

/// Readable model name: the words of `name` (split at `_` and `-`) without a leading `paper`, spec ids
/// (e1, o12, thm2) and optimizer acronyms upper-cased, `rho` as ρ, the first letter capitalised.
pub fn model(name: &str) -> String {
    let words: Vec<String> = name
        .split(['_', '-'])
        .filter(|w| !w.is_empty())
        .enumerate()
        .filter(|(i, w)| !(*i == 0 && w.eq_ignore_ascii_case("paper")))
        .map(|(_, w)| word(w))
        .collect();
    let s = words.join(" ");
    if s.is_empty() {
        return name.to_string();
    }
    // Capitalise a Latin first letter only (a capital ρ would read as P).
    let mut c = s.chars();
    match c.next() {
        Some(f) if f.is_ascii_lowercase() => f.to_ascii_uppercase().to_string() + c.as_str(),
        _ => s,
    }
}

fn word(w: &str) -> String {
    let l = w.to_ascii_lowercase();
    const ACRONYMS: [&str; 12] = [
        "sgd", "sam", "usam", "dnsam", "gd", "msd", "ou", "hb", "shb", "ams", "mlp", "sde",
    ];
    if ACRONYMS.contains(&l.as_str()) {
        return l.to_uppercase();
    }
    if l == "rho" {
        return "ρ".into();
    }
    if l == "vs" {
        return l;
    }
    const PROPER: [(&str, &str); 4] = [
        ("beale", "Beale"),
        ("kramers", "Kramers"),
        ("kim", "Kim"),
        ("iris", "Iris"),
    ];
    if let Some((_, p)) = PROPER.iter().find(|(w, _)| *w == l) {
        return p.to_string();
    }
    // Spec ids: e1, o12, w3, thm2 → E1, O12, W3, Thm 2.
    let (head, digits) = l.split_at(l.find(|c: char| c.is_ascii_digit()).unwrap_or(l.len()));
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        match head {
            "e" | "o" | "w" | "n" | "k" => return format!("{}{digits}", head.to_uppercase()),
            "thm" => return format!("Thm {digits}"),
            _ => {}
        }
    }
    w.to_string()
}

/// Display name of a dynamics kind (model-file spelling in, the math spec's name out).
pub fn kind(kind: &str) -> String {
    match kind {
        "sgd" => "SGD".into(),
        "usam" => "USAM".into(),
        "sam" => "SAM".into(),
        "dnsam" => "DNSAM".into(),
        "kim" => "model K".into(),
        "sgd_discrete" => "discrete SGD".into(),
        "usam_discrete" => "discrete USAM".into(),
        "sam_discrete" => "discrete SAM".into(),
        other => other.replace('_', " "),
    }
}

/// Whether a label reads as a name already: no underscore and at most 24 characters.
fn readable(label: &str) -> bool {
    !label.contains('_') && label.chars().count() <= 24 && !label.is_empty()
}

/// A dynamics' name: its label when that reads as a name (`SGD`, `A-USAM`), else the label's first word
/// when it is alphabetic (`SAM_r01` → `SAM`), else the name of its kind.
pub fn dynamics(label: &str, kind_name: &str) -> String {
    if readable(label) {
        return label.to_string();
    }
    match label.split('_').next() {
        Some(w) if w.chars().count() >= 1 && w.chars().all(|c| c.is_alphabetic() || c == '-') => w.to_string(),
        _ => kind(kind_name),
    }
}

/// Legend text of every dynamics of `all`, in order: its [`dynamics`] name and the parameters that tell it
/// apart — ρ when non-zero, η when the dynamics do not all share it, μ when non-zero. Texts that would still
/// coincide get the label appended.
pub fn legends(all: &[DynamicsSummary]) -> Vec<String> {
    let same_lr = all.windows(2).all(|w| w[0].lr == w[1].lr);
    let mut out: Vec<String> = all
        .iter()
        .map(|d| {
            let mut parts = Vec::new();
            if d.rho != 0.0 {
                parts.push(format!("ρ = {}", num(d.rho)));
            }
            if !same_lr {
                parts.push(format!("η = {}", num(d.lr)));
            }
            if d.momentum != 0.0 {
                parts.push(format!("μ = {}", num(d.momentum)));
            }
            let name = dynamics(&d.label, &d.kind);
            if parts.is_empty() {
                name
            } else {
                format!("{name} ({})", parts.join(", "))
            }
        })
        .collect();
    for i in 0..out.len() {
        if out.iter().filter(|o| **o == out[i]).count() > 1 {
            let dup = out[i].clone();
            for (j, o) in out.iter_mut().enumerate() {
                if *o == dup {
                    *o = format!("{dup} [{}]", all[j].label);
                }
            }
        }
    }
    out
}

/// Legend text of the dynamics labelled `label` in `report` (see [`legends`]); unknown labels as they are.
pub fn legend(report: &Report, label: &str) -> String {
    let all = &report.summary.dynamics;
    match all.iter().position(|d| d.label == label) {
        Some(i) => legends(all).swap_remove(i),
        None => label.to_string(),
    }
}

/// A note with the parameters every dynamics of `report` shares (η), if there are two or more dynamics.
pub fn shared_parameters(report: &Report) -> Option<String> {
    let all = &report.summary.dynamics;
    let first = all.first()?;
    (all.iter().all(|d| d.lr == first.lr)).then(|| {
        if all.len() > 1 {
            format!("All dynamics use η = {}.", num(first.lr))
        } else {
            format!("η = {}.", num(first.lr))
        }
    })
}

/// Readable basin class: `basin_<k>` → "minimum k", other labels with spaces for underscores; attractors
/// with a centre get its first two coordinates, e.g. "minimum 1 (3, 0.5)".
pub fn basin(label: &str, point: Option<&[f64]>) -> String {
    let base = match label.strip_prefix("basin_") {
        Some(k) if k.chars().all(|c| c.is_ascii_digit()) && !k.is_empty() => format!("minimum {k}"),
        _ => label.replace('_', " "),
    };
    match point.filter(|p| !p.is_empty() && p.iter().all(|v| v.is_finite())) {
        Some(p) => {
            let c: Vec<String> = p.iter().take(3).map(|v| num(round_sig(*v, 3))).collect();
            let more = if p.len() > 3 { ", …" } else { "" };
            format!("{base} ({}{more})", c.join(", "))
        }
        None => base,
    }
}

/// What the basin classes mean (for a figure's caption).
pub const CLASSES_NOTE: &str = "Each path is counted once: the first minimum whose ball it reaches; else \
     diverged (non-finite or beyond the blow-up bound); else trapped (inside the saddle's neighbourhood at T: \
     the exit region, or the basin-radius ball around the saddle); else unresolved (neither at T).";

/// `v` rounded to `sig` significant digits.
pub fn round_sig(v: f64, sig: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let p = 10f64.powi(sig - 1 - v.abs().log10().floor() as i32);
    let r = (v * p).round() / p;
    if r.is_finite() { r } else { v }
}

/// Axis label of a varied key: its symbol where known, then the key, e.g. `ρ  (dynamics.SAM.rho)`.
pub fn axis(key: &str) -> String {
    let sym = match key.rsplit('.').next().unwrap_or(key) {
        "rho" => "ρ",
        "momentum" => "μ",
        "batch_size" => "batch size B",
        "lr" => "η",
        "sigma" => "σ₁",
        "dt" => "dt",
        "t_end" => "T",
        _ => return key.to_string(),
    };
    format!("{sym}  ({key})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_read_as_titles() {
        assert_eq!(model("paper_e1_beale"), "E1 Beale");
        assert_eq!(model("beale_e1"), "Beale E1");
        assert_eq!(model("paper_thm2_msd"), "Thm 2 MSD");
        assert_eq!(
            model("quadratic_saddle_sgd_vs_sam_vs_usam"),
            "Quadratic saddle SGD vs SAM vs USAM"
        );
        assert_eq!(model("rho_batch_phase"), "ρ batch phase");
        assert_eq!(model("default"), "Default");
        assert_eq!(model("paper_o12_batch"), "O12 batch");
    }

    #[test]
    fn dynamics_and_basin_names() {
        assert_eq!(dynamics("SAM_r01", "sam_discrete"), "SAM");
        assert_eq!(dynamics("A-USAM", "usam_discrete"), "A-USAM");
        assert_eq!(dynamics("run_2", "kim"), "run");
        assert_eq!(dynamics("_x", "kim"), "model K");
        assert_eq!(basin("basin_1", Some(&[3.0, 0.5])), "minimum 1 (3, 0.5)");
        assert_eq!(basin("min_up", Some(&[0.0, 1.499999])), "min up (0, 1.5)");
        assert_eq!(basin("trapped", None), "trapped");
        assert_eq!(basin("basin_x", None), "basin x");
    }
}
