//! Talking to Slurm: `sbatch` to submit the array and the merge job, `squeue` / `scontrol` to follow them.

use super::Job;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The two jobs of a submission (OUT/slurm/jobs.json).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jobs {
    /// Job id of the shard array.
    pub array_job: String,
    /// Job id of the merge job.
    pub merge_job: String,
    /// Number of shards.
    pub shards: u64,
}

/// The first `name` on PATH.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs a Slurm client command; its stdout, or an error with its stderr.
fn slurm(cmd: &str, args: &[String]) -> Result<String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| Error::Slurm(format!("cannot run {cmd}: {e}")))?;
    if !out.status.success() {
        return Err(Error::Slurm(format!(
            "{cmd} {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The job id `sbatch --parsable` printed (`id` or `id;cluster`).
fn job_id(stdout: &str) -> Result<String> {
    let id = stdout.trim().split(';').next().unwrap_or("").trim();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::Slurm(format!("sbatch printed no job id: {stdout:?}")));
    }
    Ok(id.to_string())
}

/// Submits the array, then the merge job depending on it; records both in OUT/slurm/jobs.json. If the merge
/// job cannot be submitted, the array is cancelled.
pub fn submit(job: &Job) -> Result<Jobs> {
    let array = job_id(&slurm("sbatch", &job.shards_argv())?)?;
    let merge = match slurm("sbatch", &job.merge_argv(&array)).and_then(|o| job_id(&o)) {
        Ok(m) => m,
        Err(e) => {
            let _ = slurm("scancel", std::slice::from_ref(&array));
            return Err(Error::Slurm(format!("{e}\n  the shard array {array} was cancelled")));
        }
    };
    let jobs = Jobs {
        array_job: array,
        merge_job: merge,
        shards: job.shards,
    };
    let p = job.slurm_dir().join("jobs.json");
    let text = serde_json::to_string_pretty(&jobs).map_err(|e| Error::Output(e.to_string()))?;
    std::fs::write(&p, text + "\n").map_err(Error::io(&p))?;
    Ok(jobs)
}

/// `KEY=value` fields of one `scontrol show job -o` line.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

/// How long to sleep between two polls, `elapsed` after the start: ½ s during the first 10 s (a small run
/// ends within seconds), then a tenth of the time waited, between 1 and 10 s, so that a long wait does not
/// load the controller.
pub fn poll_delay(elapsed: Duration) -> Duration {
    if elapsed < Duration::from_secs(10) {
        Duration::from_millis(500)
    } else {
        (elapsed / 10).clamp(Duration::from_secs(1), Duration::from_secs(10))
    }
}

/// Follows the merge job until it leaves the queue, then reports: Ok when it completed and OUT holds the
/// merged results (`marker`, e.g. summary.json); otherwise an error listing every shard that did not
/// complete with its log, and the tail of the merge job's log if it ran.
pub fn wait(job: &Job, jobs: &Jobs, marker: &str) -> Result<()> {
    let t0 = Instant::now();
    let merge = jobs.merge_job.clone();
    let mut failures = 0;
    loop {
        // A job that left the queue makes squeue print nothing (or fail with "Invalid job id" once it is
        // purged); other failures (a busy controller) are retried a few times.
        let line = slurm(
            "squeue",
            &["-h".into(), "-j".into(), merge.clone(), "-o".into(), "%T|%r".into()],
        );
        match line.as_deref().map(str::trim) {
            Ok("") => break,
            Err(Error::Slurm(m)) if m.contains("Invalid job id") => break,
            Err(e) => {
                failures += 1;
                if failures >= 5 {
                    return Err(Error::Slurm(format!(
                        "{e}\n  the jobs go on: squeue -j {},{merge}",
                        jobs.array_job
                    )));
                }
            }
            Ok("PENDING|DependencyNeverSatisfied") => {
                // A Slurm that ignores --kill-on-invalid-dep would keep the merge job pending forever.
                let _ = slurm("scancel", std::slice::from_ref(&merge));
                break;
            }
            Ok(_) => failures = 0,
        }
        std::thread::sleep(poll_delay(t0.elapsed()));
    }
    let info = slurm("scontrol", &["show".into(), "job".into(), "-o".into(), merge.clone()]).unwrap_or_default();
    let state = field(&info, "JobState").unwrap_or("UNKNOWN").to_string();
    let done = job.out.join(marker);
    if (state == "COMPLETED" || info.is_empty()) && done.is_file() {
        return Ok(());
    }
    let mut msg = format!(
        "merge job {merge} ended {state}{}; {} holds no {marker}",
        field(&info, "Reason")
            .filter(|r| *r != "None")
            .map(|r| format!(" ({r})"))
            .unwrap_or_default(),
        job.out.display()
    );
    let shards = slurm(
        "scontrol",
        &["show".into(), "job".into(), "-o".into(), jobs.array_job.clone()],
    )
    .unwrap_or_default();
    for l in shards.lines() {
        let s = field(l, "JobState").unwrap_or("?");
        if s != "COMPLETED" {
            let k = field(l, "ArrayTaskId").unwrap_or("?");
            let log = job.logs_dir().join(format!("shard-{}_{k}.out", jobs.array_job));
            msg.push_str(&format!(
                "\n  shard {k}: {s}, exit code {}, log {}",
                field(l, "ExitCode").unwrap_or("?"),
                log.display()
            ));
        }
    }
    let mlog = job.logs_dir().join(format!("merge-{merge}.out"));
    if let Some(tail) = tail(&mlog, 15) {
        msg.push_str(&format!("\n  merge log {}:\n{tail}", mlog.display()));
    }
    Err(Error::Slurm(msg))
}

/// The last `n` lines of a text file, indented, if it exists.
fn tail(p: &Path, n: usize) -> Option<String> {
    let text = std::fs::read_to_string(p).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    Some(
        lines[lines.len().saturating_sub(n)..]
            .iter()
            .map(|l| format!("    {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sbatch_and_scontrol_output() {
        assert_eq!(job_id("123\n").unwrap(), "123");
        assert_eq!(job_id("45;cluster\n").unwrap(), "45");
        assert!(job_id("Submitted batch job 5").is_err());
        let l = "JobId=7 ArrayJobId=6 ArrayTaskId=1 JobName=x JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0";
        assert_eq!(field(l, "JobState"), Some("FAILED"));
        assert_eq!(field(l, "ArrayTaskId"), Some("1"));
        assert_eq!(field(l, "ExitCode"), Some("3:0"));
        assert_eq!(field(l, "JobId"), Some("7"));
        assert_eq!(field(l, "Job"), None);
    }

    #[test]
    fn polling_backs_off_from_half_a_second_to_ten() {
        assert_eq!(poll_delay(Duration::from_secs(0)), Duration::from_millis(500));
        assert_eq!(poll_delay(Duration::from_secs(30)), Duration::from_secs(3));
        assert_eq!(poll_delay(Duration::from_secs(3600)), Duration::from_secs(10));
    }
}
