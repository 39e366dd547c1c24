//! The library's one error type. A bad parameter is rejected once, at construction, with the key it came
//! from and how to fix it; the setup stage locates it in the model file ([`Error::Model`]); the per-step
//! code cannot fail. [`Error::exit_code`] is the process exit status of each kind (docs/ARCHITECTURE.md).

use std::fmt;
use std::path::Path;
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
    /// A model-file problem, located by file, dotted key and (where the file has the key) line.
    #[error("{}", ModelMessage(self))]
    Model {
        /// The model file.
        file: String,
        /// The dotted key (e.g. `dynamics.SAM.rho`), when the problem has one.
        key: Option<String>,
        /// 1-based line of the key in the file (None when the key is not in the file, e.g. set by `--set`).
        line: Option<usize>,
        /// What is wrong.
        message: String,
        /// How to fix it.
        fix: String,
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
    /// A shard folder that cannot be merged with the others (missing, duplicated, from another model or seed,
    /// unreadable), named by its folder.
    #[error("{dir}: {message}\n  fix: {fix}")]
    Shard {
        /// The shard folder (or, for a missing shard, the folder it was expected in).
        dir: String,
        /// What is wrong.
        message: String,
        /// How to fix it.
        fix: String,
    },
    /// A Slurm command or a submitted job failed (`samsde submit`).
    #[error("{0}")]
    Slurm(String),
    /// A command-line usage problem (e.g. the output folder exists and `--force` was not given).
    #[error("{0}")]
    Usage(String),
}

/// Result with the crate's [`Error`](enum@Error).
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(key: impl Into<String>, value: impl fmt::Display, fix: impl Into<String>) -> Self {
        Error::Invalid {
            key: key.into(),
            value: value.to_string(),
            fix: fix.into(),
        }
    }
    /// The [`Error::Io`] for `path`, as a `map_err` argument: `std::fs::write(&p, s).map_err(Error::io(&p))`.
    pub fn io(path: impl AsRef<Path>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.as_ref().display().to_string();
        move |source| Error::Io { path, source }
    }
    /// The process exit status for this error: 1 for a failure while results are read or written (I/O, the
    /// output layer), 2 for everything detected before anything runs (a bad model file, parameter or usage).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Io { .. } | Error::Output(_) | Error::Slurm(_) => 1,
            _ => 2,
        }
    }
}

/// `file: `key` (line n): message` and the fix on a second line.
struct ModelMessage<'a>(&'a Error);

impl fmt::Display for ModelMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Error::Model {
            file,
            key,
            line,
            message,
            fix,
        } = self.0
        else {
            return Ok(());
        };
        write!(f, "{file}: ")?;
        match (key, line) {
            (Some(k), Some(l)) => write!(f, "`{k}` (line {l}): ")?,
            (Some(k), None) => write!(f, "`{k}`: ")?,
            (None, Some(l)) => write!(f, "line {l}: ")?,
            (None, None) => {}
        }
        write!(f, "{message}")?;
        if !fix.is_empty() {
            write!(f, "\n  fix: {fix}")?;
        }
        Ok(())
    }
}

/// Checks `cond`; otherwise an [`Error::Invalid`] for `key`.
pub fn ensure(cond: bool, key: &str, value: impl fmt::Display, fix: &str) -> Result<()> {
    if cond {
        Ok(())
    } else {
        Err(Error::invalid(key, value, fix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2 for what is detected before anything runs, 1 for failures while results are read or written; a model
    /// error prints the file, the key, the line and the fix.
    #[test]
    fn exit_codes_and_model_message() {
        let io = Error::io("out/x")(std::io::Error::other("disk full"));
        assert_eq!(io.exit_code(), 1);
        assert_eq!(io.to_string(), "out/x: disk full");
        assert_eq!(Error::Output("png".into()).exit_code(), 1);
        assert_eq!(Error::Usage("--force".into()).exit_code(), 2);
        assert_eq!(Error::invalid("solver.dt", -1, "must be > 0").exit_code(), 2);
        let m = Error::Model {
            file: "m.toml".into(),
            key: Some("solver.dt".into()),
            line: Some(7),
            message: "invalid value -1".into(),
            fix: "use dt > 0".into(),
        };
        assert_eq!(m.exit_code(), 2);
        assert_eq!(
            m.to_string(),
            "m.toml: `solver.dt` (line 7): invalid value -1\n  fix: use dt > 0"
        );
    }
}
