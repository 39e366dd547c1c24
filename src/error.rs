//! The library's one error type. A bad parameter is rejected once, at construction, with a message that
//! names the parameter and says how to fix it (architecture lesson 4); the per-step code cannot fail.

use thiserror::Error;

/// Everything that can go wrong before a simulation starts, or while results are read and written.
#[derive(Debug, Error)]
pub enum Error {
    /// A parameter has a value outside its domain, e.g. `dt = -0.1` or `momentum = 1.0`.
    #[error("invalid `{key}` = {value}: {fix}")]
    Invalid {
        /// Dotted key as in the model file, e.g. `solver.dt`.
        key: String,
        /// The offending value, printed.
        value: String,
        /// What the value must be instead.
        fix: String,
    },
    /// Two sizes that must agree do not (e.g. `x0` has 3 entries for a 2-D landscape).
    #[error("dimension mismatch in `{key}`: expected {expected}, found {found}")]
    Dimension {
        /// Dotted key as in the model file.
        key: String,
        /// The size the landscape or another key implies.
        expected: usize,
        /// The size given.
        found: usize,
    },
    /// A formula could not be parsed.
    #[error("cannot parse formula at column {column}: {message}\n  {formula}\n  {caret:>width$}", caret = "^", width = column)]
    Formula {
        /// The formula as written.
        formula: String,
        /// 1-based column of the problem.
        column: usize,
        /// What is wrong there.
        message: String,
    },
    /// A combination that the method cannot handle correctly (e.g. Milstein on non-commutative noise).
    #[error("unsupported: {what} ({fix})")]
    Unsupported {
        /// What was asked for.
        what: String,
        /// How to get a supported setup.
        fix: String,
    },
    /// A numerical procedure (e.g. Newton's method) did not converge.
    #[error("did not converge: {0}")]
    NoConvergence(String),
    /// A model file problem, located by file, key and (where TOML says) line.
    #[error("{file}: {message}")]
    Model {
        /// The model file.
        file: String,
        /// Complete message, naming the key and the fix.
        message: String,
    },
    /// Reading or writing results.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Anything else at the output layer (CSV, JSON, PNG).
    #[error("{0}")]
    Output(String),
    /// A command-line usage problem (e.g. the output folder exists and `--force` was not given).
    #[error("{0}")]
    Usage(String),
}

/// Result with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(key: impl Into<String>, value: impl std::fmt::Display, fix: impl Into<String>) -> Self {
        Error::Invalid {
            key: key.into(),
            value: value.to_string(),
            fix: fix.into(),
        }
    }
}

/// Checks `cond`; otherwise an [`Error::Invalid`] for `key`.
pub fn ensure(cond: bool, key: &str, value: impl std::fmt::Display, fix: &str) -> Result<()> {
    if cond {
        Ok(())
    } else {
        Err(Error::invalid(key, value, fix))
    }
}
