//! The `samsde` binary: parses the command line, runs it, and maps an error to its exit status
//! ([`samsde::Error::exit_code`]: 2 a bad model file, argument or existing output folder; 1 a failure while
//! results are read or written).

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = samsde::cli::Cli::parse();
    match samsde::app::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
