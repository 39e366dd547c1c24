//! The data set of an [`super::Mlp`]: N samples of p input features and one target, read from a CSV file.
//!
//! Format: one sample per row, comma-separated numbers, the **last column is the target**: an integer class
//! 0, 1, …, K−1 for `cross_entropy` (PyTorch's `CrossEntropyLoss` convention; every class must occur), any
//! number for `mse`. An optional header row (any row whose fields are not all numbers, first line only) names
//! the columns. Blank lines and lines starting with `#` are skipped. The features are used as given (no
//! standardisation), so that the loss equals the one PyTorch computes on the same file.

use super::Loss;
use crate::error::{Error, Result};
use std::path::Path;

/// Inputs and targets of a supervised data set, row-major.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// N×p inputs, row-major: sample i is `inputs[i*p..(i+1)*p]`.
    inputs: Vec<f64>,
    /// N targets: a class index 0..K−1 (stored as f64) or a real number.
    targets: Vec<f64>,
    /// p, the number of input features.
    features: usize,
    /// K, the number of classes (cross_entropy), or 0 (mse).
    classes: usize,
    /// Column names: the header row if there was one, else x0, x1, …, y.
    names: Vec<String>,
    /// Where the data came from, for messages.
    source: String,
}

/// An [`Error::Model`] for the data file `file` (the caller re-locates it at the model-file key `landscape.data`).
fn bad(file: &str, message: impl Into<String>, fix: impl Into<String>) -> Error {
    Error::Model {
        file: file.to_string(),
        key: None,
        line: None,
        message: message.into(),
        fix: fix.into(),
    }
}

impl Dataset {
    /// A data set from rows in memory: `inputs` is N×`features` row-major, `targets` has N entries (class
    /// indices 0..K−1 as numbers for `cross_entropy`). `source` labels errors. Validates as [`Self::from_csv`].
    pub fn new(inputs: Vec<f64>, features: usize, targets: Vec<f64>, loss: Loss, source: &str) -> Result<Self> {
        let n = targets.len();
        if features == 0 || n == 0 || inputs.len() != n * features {
            return Err(bad(
                source,
                format!(
                    "a data set needs N ≥ 1 samples with p ≥ 1 features and N·p inputs; found N = {n}, p = \
                     {features}, {} inputs",
                    inputs.len()
                ),
                "give one row of p features per target",
            ));
        }
        if let Some(k) = inputs.iter().position(|v| !v.is_finite()) {
            return Err(bad(
                source,
                format!("input {} of sample {} is {}", k % features, k / features, inputs[k]),
                "every feature must be a finite number",
            ));
        }
        let classes = check_targets(&targets, loss, source, |i| format!("sample {i}"))?;
        let mut names: Vec<String> = (0..features).map(|j| format!("x{j}")).collect();
        names.push("y".into());
        Ok(Dataset {
            inputs,
            targets,
            features,
            classes,
            names,
            source: source.to_string(),
        })
    }

    /// Reads a CSV file (see the module documentation). Errors name the file, the line and the column.
    pub fn from_csv(path: impl AsRef<Path>, loss: Loss) -> Result<Self> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: name.clone(),
            source,
        })?;
        Self::from_csv_str(&text, loss, &name)
    }

    /// Parses CSV text (see [`Self::from_csv`]); `source` names it in errors.
    pub fn from_csv_str(text: &str, loss: Loss, source: &str) -> Result<Self> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut header: Option<Vec<String>> = None;
        let mut width: Option<usize> = None;
        let mut inputs = Vec::new();
        let mut targets = Vec::new();
        let mut lines = Vec::new();
        for (k, rec) in reader.records().enumerate() {
            let rec = rec.map_err(|e| {
                bad(
                    source,
                    format!("cannot read the CSV: {e}"),
                    "save the data as plain comma-separated numbers",
                )
            })?;
            let line = rec.position().map_or(k + 1, |p| p.line() as usize);
            if rec.iter().all(|f| f.is_empty()) {
                continue;
            }
            let parsed: Vec<std::result::Result<f64, _>> = rec.iter().map(|f| f.parse::<f64>()).collect();
            if width.is_none() && header.is_none() && inputs.is_empty() && parsed.iter().any(|p| p.is_err()) {
                header = Some(rec.iter().map(str::to_string).collect());
                width = Some(rec.len());
                continue;
            }
            let w = *width.get_or_insert(rec.len());
            if rec.len() != w {
                return Err(bad(
                    source,
                    format!("line {line}: {} columns, but earlier rows have {w}", rec.len()),
                    "every row needs the same columns: the features, then the target",
                ));
            }
            if w < 2 {
                return Err(bad(
                    source,
                    format!("line {line}: found {w} column"),
                    "a row needs at least one feature and the target (last column)",
                ));
            }
            for (j, (p, f)) in parsed.iter().zip(rec.iter()).enumerate() {
                match p {
                    Ok(v) if v.is_finite() => {}
                    _ => {
                        return Err(bad(
                            source,
                            format!("line {line}, column {}: `{f}` is not a finite number", j + 1),
                            "every field must be a number (only the first line may be a header of names)",
                        ));
                    }
                }
            }
            let vals: Vec<f64> = parsed.into_iter().map(|p| p.unwrap_or(f64::NAN)).collect();
            inputs.extend_from_slice(&vals[..w - 1]);
            targets.push(vals[w - 1]);
            lines.push(line);
        }
        let Some(w) = width.filter(|_| !targets.is_empty()) else {
            return Err(bad(
                source,
                "no data rows",
                "the CSV needs one sample per row, the target in the last column",
            ));
        };
        let classes = check_targets(&targets, loss, source, |i| format!("line {}", lines[i]))?;
        let names = match header {
            Some(h) if h.len() == w => h,
            Some(h) => {
                return Err(bad(
                    source,
                    format!("the header has {} names but the rows have {w} columns", h.len()),
                    "give one name per column, or no header",
                ));
            }
            None => {
                let mut n: Vec<String> = (0..w - 1).map(|j| format!("x{j}")).collect();
                n.push("y".into());
                n
            }
        };
        Ok(Dataset {
            inputs,
            targets,
            features: w - 1,
            classes,
            names,
            source: source.to_string(),
        })
    }

    /// The data set with every feature standardised to mean 0 and variance 1 over the samples
    /// ((v − mean)/sd, population sd; a constant feature is only centred), and the (mean, sd) of each feature,
    /// so that a network trained elsewhere on standardised inputs sees the same numbers. Targets are unchanged.
    pub fn standardized(&self) -> (Dataset, Vec<(f64, f64)>) {
        let (n, p) = (self.len() as f64, self.features);
        let stats: Vec<(f64, f64)> = (0..p)
            .map(|c| {
                let mean = (0..self.len()).map(|i| self.input(i)[c]).sum::<f64>() / n;
                let var = (0..self.len()).map(|i| (self.input(i)[c] - mean).powi(2)).sum::<f64>() / n;
                (mean, var.sqrt())
            })
            .collect();
        let mut out = self.clone();
        for (k, v) in out.inputs.iter_mut().enumerate() {
            let (mean, sd) = stats[k % p];
            *v = if sd > 0.0 { (*v - mean) / sd } else { *v - mean };
        }
        (out, stats)
    }

    /// N, the number of samples.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Always false: a data set has at least one sample.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// p, the number of input features.
    pub fn features(&self) -> usize {
        self.features
    }

    /// K, the number of classes (`cross_entropy`), or 0 (`mse`).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Input features of sample i.
    pub fn input(&self, i: usize) -> &[f64] {
        &self.inputs[i * self.features..(i + 1) * self.features]
    }

    /// Target of sample i (a class index as a number, or the regression target).
    pub fn target(&self, i: usize) -> f64 {
        self.targets[i]
    }

    /// All targets.
    pub fn targets(&self) -> &[f64] {
        &self.targets
    }

    /// Column names (features, then the target).
    pub fn column_names(&self) -> &[String] {
        &self.names
    }

    /// The file (or label) the data came from.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// Checks the targets for the loss; returns K for cross_entropy, 0 for mse.
fn check_targets(targets: &[f64], loss: Loss, source: &str, at: impl Fn(usize) -> String) -> Result<usize> {
    match loss {
        Loss::Mse => {
            if let Some(i) = targets.iter().position(|t| !t.is_finite()) {
                return Err(bad(
                    source,
                    format!("{}: the target {} is not a finite number", at(i), targets[i]),
                    "the last column holds the target, a finite number for mse",
                ));
            }
            Ok(0)
        }
        Loss::CrossEntropy => {
            if let Some(i) = targets.iter().position(|&t| !(t >= 0.0 && t.fract() == 0.0 && t < 1e6)) {
                return Err(bad(
                    source,
                    format!("{}: the target `{}` is not a class label", at(i), targets[i]),
                    "cross_entropy needs integer classes 0, 1, …, K−1 in the last column (use loss = \"mse\" for a \
                     numeric target)",
                ));
            }
            let k = targets.iter().fold(0.0f64, |m, &t| m.max(t)) as usize + 1;
            let mut count = vec![0usize; k];
            targets.iter().for_each(|&t| count[t as usize] += 1);
            if let Some(c) = count.iter().position(|&n| n == 0) {
                return Err(bad(
                    source,
                    format!("class {c} has no samples, but the labels go up to {}", k - 1),
                    "cross_entropy needs labels 0, 1, …, K−1 that all occur (subtract 1 if your labels start at 1)",
                ));
            }
            if k < 2 {
                return Err(bad(
                    source,
                    "every sample has class 0",
                    "cross_entropy needs at least 2 classes",
                ));
            }
            Ok(k)
        }
    }
}
