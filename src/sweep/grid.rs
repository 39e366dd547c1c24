//! The grid of a sweep: the varied keys ([`Axis`]) and their cartesian product (last axis fastest).

use crate::error::{Error, Result};
use crate::setup::source::parse_value;

/// One varied parameter: its dotted key (or several keys set to the same value together) and its values.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Axis {
    /// Dotted keys, e.g. `dynamics.SAM.rho`; usually one.
    pub keys: Vec<String>,
    /// Values in grid order.
    pub values: Vec<toml::Value>,
}

impl Axis {
    /// An axis setting `key` to each of `values`.
    pub fn new(key: &str, values: Vec<toml::Value>) -> Axis {
        Axis {
            keys: vec![key.to_string()],
            values,
        }
    }
    /// An axis of numbers.
    pub fn numbers(key: &str, values: &[f64]) -> Axis {
        Axis::new(key, values.iter().map(|&v| toml::Value::Float(v)).collect())
    }
    /// Also sets `key` to the same value at every point (e.g. the ρ of several dynamics).
    pub fn and(mut self, key: &str) -> Axis {
        self.keys.push(key.to_string());
        self
    }
    /// The axis' name in tables: its keys joined by `+`.
    pub fn name(&self) -> String {
        self.keys.join("+")
    }
    /// Parses `KEY=START:STOP:COUNT` (a linear grid) or `KEY=A,B,C` (a list); `KEY` may be `K1+K2` to set
    /// several keys to the same values.
    pub fn parse(v: &str) -> Result<Axis> {
        let bad = |m: &str| Error::Usage(format!("--vary {v}: {m}; use KEY=START:STOP:COUNT or KEY=A,B,C"));
        let (key, spec) = v.split_once('=').ok_or_else(|| bad("missing `=`"))?;
        let parts: Vec<&str> = spec.split(':').collect();
        let values = if parts.len() == 3 {
            let a: f64 = parts[0].trim().parse().map_err(|_| bad("START is not a number"))?;
            let b: f64 = parts[1].trim().parse().map_err(|_| bad("STOP is not a number"))?;
            let n: usize = parts[2]
                .trim()
                .parse()
                .map_err(|_| bad("COUNT is not a whole number"))?;
            if n == 0 || !a.is_finite() || !b.is_finite() {
                return Err(bad("COUNT must be ≥ 1 and the bounds finite"));
            }
            if n > MAX_POINTS {
                return Err(too_many(v, n));
            }
            (0..n)
                .map(|i| {
                    let t = if n == 1 { 0.0 } else { i as f64 / (n - 1) as f64 };
                    toml::Value::Float(a + (b - a) * t)
                })
                .collect()
        } else if parts.len() == 1 {
            let n = spec.split(',').count();
            if n > MAX_POINTS {
                return Err(too_many(v, n));
            }
            spec.split(',').map(|s| parse_value(s.trim())).collect()
        } else {
            return Err(bad("malformed grid"));
        };
        let keys: Vec<String> = key.split('+').map(|k| k.trim().to_string()).collect();
        if keys.iter().any(String::is_empty) {
            return Err(bad("empty key"));
        }
        if let Some(k) = repeated(keys.iter()) {
            return Err(bad(&format!("the key {k} appears twice")));
        }
        Ok(Axis { keys, values })
    }
}

/// The most grid points a sweep may have (each point is validated, run and kept in memory; split larger
/// studies into several sweeps).
pub const MAX_POINTS: usize = 10_000;

fn too_many(v: &str, n: usize) -> Error {
    Error::Usage(format!(
        "--vary {}: {n} values; a sweep has at most {MAX_POINTS} grid points, split it into several sweeps",
        v.chars().take(80).collect::<String>()
    ))
}

/// The first key that occurs twice, if any.
fn repeated<'a>(keys: impl Iterator<Item = &'a String>) -> Option<&'a String> {
    let mut seen = std::collections::BTreeSet::new();
    keys.into_iter().find(|k| !seen.insert(k.as_str()))
}

/// Checks a set of axes: no key varied twice (on one axis or across axes), at most [`MAX_POINTS`] grid points
/// in their product. Usage errors (exit status 2).
pub fn check(axes: &[Axis]) -> Result<usize> {
    if let Some(k) = repeated(axes.iter().flat_map(|a| a.keys.iter())) {
        return Err(Error::Usage(format!(
            "--vary: the key {k} is varied twice; give each key in one --vary (KEY=A,B,C), or link keys with KEY1+KEY2"
        )));
    }
    let mut n: usize = 1;
    for a in axes {
        n = n
            .checked_mul(a.values.len())
            .filter(|&n| n <= MAX_POINTS)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--vary: the grid has {} points; a sweep has at most {MAX_POINTS}, split it into several sweeps",
                    axes.iter()
                        .map(|a| a.values.len().to_string())
                        .collect::<Vec<_>>()
                        .join(" × ")
                ))
            })?;
    }
    Ok(n)
}

/// A TOML value as written in the table (strings unquoted).
pub fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The cartesian product of the axes' value indices, the last axis varying fastest.
pub fn product(axes: &[Axis]) -> Vec<Vec<usize>> {
    let mut grid: Vec<Vec<usize>> = vec![vec![]];
    for a in axes {
        grid = grid
            .into_iter()
            .flat_map(|p| {
                (0..a.values.len()).map(move |i| {
                    let mut q = p.clone();
                    q.push(i);
                    q
                })
            })
            .collect();
    }
    grid
}
