//! Raw model files: the serde structs of the TOML schema (stage one of the two-stage configuration; stage two,
//! validation into a ready [`Experiment`](crate::experiment::Experiment), is in [`crate::experiment`]).
//!
//! Every struct denies unknown keys; a typo is reported with the nearest valid key (edit distance). Every key
//! has a default, documented on its field. `--set key=value` overrides are applied to the parsed TOML table
//! before deserialisation ([`apply_override`]), addressing `[[dynamics]]` entries by their label
//! (`dynamics.SAM.rho`). Errors name the file, the dotted key and, where the file has it, the line.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// A whole model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Name of the model; the default output folder is `output/<name>/`. Default: `"model"`.
    pub name: String,
    /// The loss.
    pub landscape: LandscapeConfig,
    /// The gradient-noise model.
    pub noise: NoiseConfig,
    /// Which saddle the analysis is centred on.
    pub saddle: SaddleConfig,
    /// One or more dynamics, run on the same noise path by path. Default: one `sgd` entry.
    pub dynamics: Vec<DynamicsConfig>,
    /// Step rule, step size and horizon.
    pub solver: SolverConfig,
    /// Paths, seed and start.
    pub ensemble: EnsembleConfig,
    /// Exit region around the saddle (exit times).
    pub exit: ExitConfig,
    /// Attractors (basin probabilities).
    pub basins: BasinsConfig,
    /// What to store.
    pub output: OutputConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            name: "model".into(),
            landscape: LandscapeConfig::default(),
            noise: NoiseConfig::default(),
            saddle: SaddleConfig::default(),
            dynamics: vec![DynamicsConfig::default()],
            solver: SolverConfig::default(),
            ensemble: EnsembleConfig::default(),
            exit: ExitConfig::default(),
            basins: BasinsConfig::default(),
            output: OutputConfig::default(),
        }
    }
}

/// `[landscape]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LandscapeConfig {
    /// quadratic | beale | monkey_saddle | double_well | toy_network | expression. Default: `"quadratic"`.
    pub kind: String,
    /// quadratic: the symmetric Hessian H of f = ½(x−c)ᵀH(x−c). Default: `[[1.0, 0.0], [0.0, -0.5]]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hessian: Option<Vec<Vec<f64>>>,
    /// quadratic: the centre c. Default: the origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub center: Option<Vec<f64>>,
    /// expression: the formula f(variables). Required for `kind = "expression"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    /// expression: the variable names, in coordinate order. Default: `["x", "y"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variables: Option<Vec<String>>,
    /// toy_network: number of samples N. Default: 64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples: Option<usize>,
    /// toy_network: teacher weight. Default: 1.0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teacher: Option<f64>,
    /// toy_network: seed of the inputs. Default: 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// double_well: depth a. Default: 1.0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a: Option<f64>,
}

impl Default for LandscapeConfig {
    fn default() -> Self {
        LandscapeConfig {
            kind: "quadratic".into(),
            hessian: None,
            center: None,
            formula: None,
            variables: None,
            samples: None,
            teacher: None,
            seed: None,
            a: None,
        }
    }
}

/// `[noise]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoiseConfig {
    /// isotropic | hessian | finite_sum | linear. Default: `"isotropic"`.
    pub kind: String,
    /// isotropic: per-sample gradient-noise standard deviation σ₁ (Σ_B = σ₁²/B · I). Default: 1.0.
    pub sigma: f64,
    /// Batch size B ≥ 1 (an integer for finite_sum). Default: 1.
    pub batch_size: f64,
    /// hessian: scale c of Σ_B = (c/B)|H|_δ. Default: 1.0.
    pub scale: f64,
    /// hessian: regulariser δ of |λ|. Default: 1e-3.
    pub delta: f64,
    /// finite_sum: sample the batch with replacement. Default: true.
    pub replacement: bool,
    /// linear: per-sample covariance Σ₁ (Σ_B = Σ₁/B). Default: σ₁² I.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covariance: Option<Vec<Vec<f64>>>,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        NoiseConfig {
            kind: "isotropic".into(),
            sigma: 1.0,
            batch_size: 1.0,
            scale: 1.0,
            delta: 1e-3,
            replacement: true,
            covariance: None,
        }
    }
}

/// `[saddle]`: give at most one of `point` (used as is, after classification) or `guess` (Newton's method
/// from there). Default: Newton from the landscape's known saddle, else the quadratic centre, else the origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SaddleConfig {
    /// The saddle itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point: Option<Vec<f64>>,
    /// A guess for Newton's method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guess: Option<Vec<f64>>,
}

/// One `[[dynamics]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DynamicsConfig {
    /// Label, unique within the file (addresses the entry in `--set dynamics.LABEL.key=…`). Default: the kind
    /// in upper case.
    pub label: String,
    /// sgd | usam | sam | dnsam | kim | sgd_discrete | usam_discrete | sam_discrete. Default: `"sgd"`.
    pub kind: String,
    /// Learning rate η > 0. Default: 0.01.
    pub lr: f64,
    /// SAM radius ρ ≥ 0. Default: 0.05.
    pub rho: f64,
    /// Heavy-ball momentum μ ∈ [0, 1). Default: 0.
    pub momentum: f64,
    /// ε > 0 of SAM's regularised norm. Default: 1e-12.
    pub epsilon: f64,
}

impl Default for DynamicsConfig {
    fn default() -> Self {
        DynamicsConfig {
            label: String::new(),
            kind: "sgd".into(),
            lr: 0.01,
            rho: 0.05,
            momentum: 0.0,
            epsilon: crate::setup::DEFAULT_EPSILON,
        }
    }
}

/// `[solver]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SolverConfig {
    /// euler_maruyama | milstein. Default: `"euler_maruyama"`.
    pub kind: String,
    /// Step dt > 0 of the SDEs (discrete optimizers step by η). Default: 1e-3.
    pub dt: f64,
    /// Horizon T > 0. Default: 10.
    pub t_end: f64,
    /// Let Milstein run on non-commutative noise without Lévy areas (strong order ½). Default: false.
    pub allow_dropping_areas: bool,
}

impl Default for SolverConfig {
    fn default() -> Self {
        SolverConfig {
            kind: "euler_maruyama".into(),
            dt: 1e-3,
            t_end: 10.0,
            allow_dropping_areas: false,
        }
    }
}

/// `[ensemble]`: give `x0`, or `start = "saddle"` with an optional `offset` (the default start).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnsembleConfig {
    /// Number of paths ≥ 1. Default: 1000.
    pub paths: u64,
    /// Master seed. Default: 0.
    pub seed: u64,
    /// Start position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x0: Option<Vec<f64>>,
    /// `"saddle"`: start at the chosen saddle plus `offset`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Offset from the saddle (with `start = "saddle"`). Default: zero.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<Vec<f64>>,
    /// Standard deviation of a Gaussian perturbation of the start. Default: 0.
    pub spread: f64,
    /// A path with an entry beyond this in absolute value has diverged. Default: 1e8.
    pub blowup: f64,
}

impl Default for EnsembleConfig {
    fn default() -> Self {
        EnsembleConfig {
            paths: 1000,
            seed: 0,
            x0: None,
            start: None,
            offset: None,
            spread: 0.0,
            blowup: 1e8,
        }
    }
}

/// `[exit]`: the region around the saddle whose first exit is timed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExitConfig {
    /// none | ball | box | slab. Default: `"none"` (no exit times).
    pub kind: String,
    /// ball: radius; also the default box half-width and slab half-width. Default: 1.0.
    pub radius: f64,
    /// box: half-width per coordinate. Default: `radius` on every axis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub half_widths: Option<Vec<f64>>,
    /// slab: normal. Default: the saddle's most unstable eigenvector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normal: Option<Vec<f64>>,
    /// slab: half-width. Default: `radius`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub half_width: Option<f64>,
    /// Brownian-bridge correction of discretely monitored exits. Default: true.
    pub bridge: bool,
    /// Stop a path at its exit. Default: false, so that the moments at every snapshot cover all paths
    /// (with `true`, later snapshots cover only the paths still inside, and runs are faster).
    pub stop: bool,
}

impl Default for ExitConfig {
    fn default() -> Self {
        ExitConfig {
            kind: "none".into(),
            radius: 1.0,
            half_widths: None,
            normal: None,
            half_width: None,
            bridge: true,
            stop: false,
        }
    }
}

/// `[basins]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BasinsConfig {
    /// Radius of each attractor's ball (> 0). Default: 0.1.
    pub radius: f64,
    /// Attractor centres. Default: the minima found by Newton from a grid of starts around the saddle and the
    /// landscape's known points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<Vec<f64>>>,
    /// Stop a path when it reaches an attractor. Default: false.
    pub stop: bool,
}

impl Default for BasinsConfig {
    fn default() -> Self {
        BasinsConfig {
            radius: 0.1,
            points: None,
            stop: false,
        }
    }
}

/// `[output]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// Snapshot times from 0 to T (≥ 2). Default: 101.
    pub snapshots: usize,
    /// Sample paths stored per dynamics in `paths.csv`. Default: 64.
    pub sample_paths: u64,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            snapshots: 101,
            sample_paths: 64,
        }
    }
}

/// A model file as read: its name (for messages), text and the parsed TOML table.
#[derive(Debug, Clone)]
pub struct Source {
    /// File name as given (or `<embedded default>`).
    pub file: String,
    /// The text.
    pub text: String,
    /// Parsed table, with overrides applied.
    pub table: toml::Table,
    /// Dotted keys set by `--set` (their errors cite the override, not a line).
    pub overridden: Vec<String>,
}

impl Source {
    /// Parses `text` (syntax errors are reported with their line).
    pub fn parse(file: &str, text: &str) -> Result<Self> {
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            let key = e.span().and_then(|s| key_at(text, s.start));
            model_error(
                file,
                key.as_deref(),
                line,
                &format!("TOML syntax error: {}", first_line(e.message())),
                "fix the syntax (see https://toml.io)",
            )
        })?;
        Ok(Source {
            file: file.into(),
            text: text.into(),
            table,
            overridden: Vec::new(),
        })
    }

    /// Reads and parses a model file.
    pub fn read(path: &std::path::Path) -> Result<Self> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Model {
            file: file.clone(),
            message: format!("cannot read the model file: {e}"),
        })?;
        Self::parse(&file, &text)
    }

    /// Applies `key=value` (the value is TOML; a bare word is taken as a string).
    pub fn set(&mut self, assignment: &str) -> Result<()> {
        let Some((key, value)) = assignment.split_once('=') else {
            return Err(Error::Usage(format!(
                "--set {assignment}: expected key=value, e.g. --set solver.dt=1e-3"
            )));
        };
        let key = key.trim();
        apply_override(&mut self.table, key, parse_value(value.trim())).map_err(|m| {
            model_error(
                &self.file,
                Some(key),
                None,
                &m,
                "use a key of the model file (see --help)",
            )
        })?;
        self.overridden.push(key.to_string());
        Ok(())
    }

    /// Deserialises into a [`Config`] (unknown keys and wrong types are errors with the key and a fix).
    pub fn config(&self) -> Result<Config> {
        let text = toml::to_string(&self.table).map_err(|e| Error::Output(e.to_string()))?;
        toml::from_str::<Config>(&text).map_err(|e| {
            let key = e.span().and_then(|s| key_at(&text, s.start));
            let msg = first_line(e.message()).to_string();
            let fix = suggestion(&msg).unwrap_or_else(|| "give a value of the documented type".into());
            self.error(key.as_deref(), &msg, &fix)
        })
    }

    /// A [`Error::Model`] for `key`, with the line where the file has it (or a note that `--set` set it).
    pub fn error(&self, key: Option<&str>, message: &str, fix: &str) -> Error {
        let set = key.is_some_and(|k| self.overridden.iter().any(|o| o == k));
        let line = if set {
            None
        } else {
            key.and_then(|k| locate(&self.text, k))
        };
        let mut e = model_error(&self.file, key, line, message, fix);
        if set && let Error::Model { message, .. } = &mut e {
            message.push_str(" (value given by --set)");
        }
        e
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s).trim()
}

fn model_error(file: &str, key: Option<&str>, line: Option<usize>, message: &str, fix: &str) -> Error {
    let key = key.filter(|k| !k.is_empty());
    let mut m = match (key, line) {
        (Some(k), Some(l)) => format!("`{k}` (line {l}): "),
        (Some(k), None) => format!("`{k}`: "),
        (None, Some(l)) => format!("line {l}: "),
        (None, None) => String::new(),
    };
    m.push_str(message);
    if !fix.is_empty() {
        m.push_str(&format!("\n  fix: {fix}"));
    }
    Error::Model {
        file: file.into(),
        message: m,
    }
}

/// Parses a `--set` value as TOML (`1e-3`, `true`, `[1, 2]`, `"s"`), else as a bare string.
pub fn parse_value(v: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {v}")) {
        Ok(mut t) => t.remove("v").unwrap_or_else(|| toml::Value::String(v.into())),
        Err(_) => toml::Value::String(v.into()),
    }
}

/// Sets the dotted `key` in `table`; `dynamics.LABEL.rest` addresses the `[[dynamics]]` entry with that label.
pub fn apply_override(table: &mut toml::Table, key: &str, value: toml::Value) -> std::result::Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err("empty key component".into());
    }
    if parts[0] == "dynamics" {
        let Some(label) = parts.get(1) else {
            return Err("address a dynamics entry by its label, e.g. dynamics.SAM.rho".into());
        };
        if parts.len() < 3 {
            return Err(format!("give a key after the label, e.g. dynamics.{label}.lr"));
        }
        let Some(toml::Value::Array(arr)) = table.get_mut("dynamics") else {
            return Err("the model has no [[dynamics]] entries".into());
        };
        let labels: Vec<String> = arr.iter().map(entry_label).collect();
        let Some(i) = labels.iter().position(|l| l == label) else {
            let near = nearest(label, labels.iter().map(String::as_str));
            return Err(format!(
                "no dynamics labelled `{label}` (labels: {}){}",
                labels.join(", "),
                near.map(|n| format!("; did you mean `{n}`?")).unwrap_or_default()
            ));
        };
        let Some(toml::Value::Table(t)) = arr.get_mut(i) else {
            return Err("malformed [[dynamics]] entry".into());
        };
        return set_in(t, &parts[2..], value);
    }
    set_in(table, &parts, value)
}

fn set_in(t: &mut toml::Table, parts: &[&str], value: toml::Value) -> std::result::Result<(), String> {
    if parts.len() == 1 {
        t.insert(parts[0].into(), value);
        return Ok(());
    }
    let e = t
        .entry(parts[0].to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    match e {
        toml::Value::Table(inner) => set_in(inner, &parts[1..], value),
        _ => Err(format!("`{}` is not a section", parts[0])),
    }
}

/// The label of a raw `[[dynamics]]` entry as the validated config will see it (default: kind, upper case).
pub fn entry_label(v: &toml::Value) -> String {
    if let Some(l) = v.get("label").and_then(|l| l.as_str()) {
        return l.to_string();
    }
    v.get("kind").and_then(|k| k.as_str()).unwrap_or("sgd").to_uppercase()
}

/// Levenshtein distance.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate nearest to `word` (within a third of its length plus 2 edits).
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= word.chars().count() / 3 + 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (or "unknown variant"): the nearest valid word.
fn suggestion(msg: &str) -> Option<String> {
    if !(msg.starts_with("unknown field") || msg.starts_with("unknown variant")) {
        return None;
    }
    let words: Vec<&str> = msg.split('`').skip(1).step_by(2).collect();
    let (bad, valid) = words.split_first()?;
    let list = valid.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ");
    Some(match nearest(bad, valid.iter().copied()) {
        Some(n) => format!("did you mean `{n}`? (valid keys: {list})"),
        None => format!("remove it; valid keys here: {list}"),
    })
}

/// 1-based line of byte offset `pos`.
pub fn line_of(text: &str, pos: usize) -> usize {
    text[..pos.min(text.len())].matches('\n').count() + 1
}

fn header(line: &str) -> Option<(bool, String)> {
    let l = strip_comment(line).trim();
    if let Some(h) = l.strip_prefix("[[").and_then(|r| r.strip_suffix("]]")) {
        return Some((true, h.trim().to_string()));
    }
    l.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .map(|h| (false, h.trim().to_string()))
}

fn strip_comment(line: &str) -> &str {
    let mut in_str = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '#' if !in_str => return &line[..i],
            _ => {}
        }
    }
    line
}

fn line_key(line: &str) -> Option<String> {
    let l = strip_comment(line);
    let (k, _) = l.split_once('=')?;
    let k = k.trim().trim_matches('"');
    (!k.is_empty() && !k.contains(' ')).then(|| k.to_string())
}

/// For each line: the section prefix it belongs to (`solver`, `dynamics.SAM`, or "" at top level).
fn sections(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    let mut cur = String::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some((array, name)) = header(l) {
            cur = if array && name == "dynamics" {
                let label = lines[i + 1..].iter().take_while(|m| header(m).is_none()).find_map(|m| {
                    match line_key(m).as_deref() {
                        Some("label") => m
                            .split_once('=')
                            .map(|(_, v)| strip_comment(v).trim().trim_matches('"').to_string()),
                        _ => None,
                    }
                });
                let kind = lines[i + 1..].iter().take_while(|m| header(m).is_none()).find_map(|m| {
                    match line_key(m).as_deref() {
                        Some("kind") => m
                            .split_once('=')
                            .map(|(_, v)| strip_comment(v).trim().trim_matches('"').to_uppercase()),
                        _ => None,
                    }
                });
                format!("dynamics.{}", label.or(kind).unwrap_or_else(|| "SGD".into()))
            } else {
                name
            };
        }
        out.push(cur.clone());
    }
    out
}

/// The dotted key at byte offset `pos` of `text` (the key on that line, in its section).
pub fn key_at(text: &str, pos: usize) -> Option<String> {
    let n = line_of(text, pos) - 1;
    let line = text.lines().nth(n)?;
    let secs = sections(text);
    let sec = secs.get(n).cloned().unwrap_or_default();
    if header(line).is_some() {
        return Some(sec);
    }
    let k = line_key(line)?;
    Some(if sec.is_empty() { k } else { format!("{sec}.{k}") })
}

/// The 1-based line where `text` sets the dotted `key` (array indices like `x0[1]` are ignored), or where
/// its section starts.
pub fn locate(text: &str, key: &str) -> Option<usize> {
    let key = key.split('[').next().unwrap_or(key);
    let secs = sections(text);
    let mut section_line = None;
    for (i, l) in text.lines().enumerate() {
        let sec = &secs[i];
        if header(l).is_some() {
            if sec == key {
                return Some(i + 1);
            }
            if key.starts_with(&format!("{sec}.")) && section_line.is_none() {
                section_line = Some(i + 1);
            }
            continue;
        }
        if let Some(k) = line_key(l) {
            let full = if sec.is_empty() { k } else { format!("{sec}.{k}") };
            if full == key {
                return Some(i + 1);
            }
        }
    }
    section_line
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "name = \"m\"\n[solver]\ndt = 1e-3 # step\n[[dynamics]]\nkind = \"sam\"\nlabel = \"SAM\"\nrho = 0.1\n";

    #[test]
    fn locate_and_key_at_agree() {
        assert_eq!(locate(TEXT, "solver.dt"), Some(3));
        assert_eq!(locate(TEXT, "dynamics.SAM.rho"), Some(7));
        assert_eq!(locate(TEXT, "name"), Some(1));
        let pos = TEXT.find("rho").unwrap_or(0);
        assert_eq!(key_at(TEXT, pos).as_deref(), Some("dynamics.SAM.rho"));
    }

    #[test]
    fn suggestions() {
        assert_eq!(nearest("rhoo", ["lr", "rho", "momentum"]), Some("rho"));
        assert_eq!(nearest("zzzzzzzz", ["lr"]), None);
        let s = suggestion("unknown field `dtt`, expected one of `kind`, `dt`, `t_end`");
        assert!(s.is_some_and(|s| s.contains("did you mean `dt`")));
    }

    #[test]
    fn overrides() {
        let mut s = Source::parse("f", TEXT).expect("parses");
        s.set("dynamics.SAM.rho=0.3").expect("sets");
        s.set("solver.t_end=2").expect("sets");
        let c = s.config().expect("valid");
        assert_eq!(c.dynamics[0].rho, 0.3);
        assert_eq!(c.solver.t_end, 2.0);
        assert!(s.set("dynamics.SAMM.rho=0.3").is_err());
        s.set("solver.dtt=1").expect("sets the raw table");
        let e = s.config().expect_err("unknown key").to_string();
        assert!(e.contains("solver.dtt") && e.contains("did you mean `dt`"), "{e}");
    }
}
