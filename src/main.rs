//! The `samsde` binary: parses the command line, runs it, and maps the outcome to an exit status
//! (0 success; 2 a bad model file, bad arguments or an existing output folder; 1 a runtime I/O failure).

use std::process::ExitCode;

fn main() -> ExitCode {
    let result: anyhow::Result<()> = samsde::cli::main(std::env::args_os()).map_err(anyhow::Error::from);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            match e.downcast_ref::<samsde::Error>() {
                Some(samsde::Error::Io { .. } | samsde::Error::Output(_)) => ExitCode::from(1),
                _ => ExitCode::from(2),
            }
        }
    }
}
