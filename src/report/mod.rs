//! The report of a run: its schema (what `summary.json` and the CSV files hold), how observations become a
//! report (with the closed forms beside the estimates), how a report is written to and read from an output
//! folder, and the output folder itself.

pub mod domain;
pub mod files;
pub mod output;
pub mod schema;
pub mod summarise;
pub mod theory;

pub use schema::{
    AmsBasinSummary, AmsExit, BasinRow, DynamicsSummary, ExitSummary, FinalMoments, MomentRow, PairedSummary, PathRow,
    Report, Sharding, Summary, SurvivalRow, Theory, Width,
};
pub use summarise::{SNR_WARNING, snr_warning, summarise};

use crate::error::Result;
use crate::setup::Experiment;

/// Prints the report's warnings on stderr, one `warning: …` line each, after `prefix`.
pub fn print_warnings(report: &Report, prefix: &str) {
    for w in &report.summary.warnings {
        eprintln!("warning: {prefix}{w}");
    }
}

/// Runs `exp` on `threads` workers (0: all cores) and summarises it.
pub fn run(exp: &Experiment, threads: usize, progress: bool) -> Result<Report> {
    Ok(summarise(exp, &exp.run(threads, progress)?))
}
