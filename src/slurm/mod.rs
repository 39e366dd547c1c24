//! `samsde submit`: a sharded run (or sweep) as a Slurm job array of N shard tasks and a merge job that
//! depends on it (`--dependency=afterok:<array>`, `--kill-on-invalid-dep=yes`).
//!
//! [`Job`] holds everything the two batch scripts need (absolute paths: the jobs may run in another working
//! directory, on another host); [`Job::shards_script`] and [`Job::merge_script`] render the embedded
//! templates; [`submit`] calls `sbatch` and [`wait`] follows the merge job with `squeue` / `scontrol` (not
//! `sbatch --wait`, which reports 0 for a merge job cancelled because a shard failed).
//!
//! Layout of the output folder OUT: `slurm/shards.sbatch`, `slurm/merge.sbatch`, `slurm/jobs.json`,
//! `slurm/logs/shard-<array>_<K>.out`, `slurm/logs/merge-<job>.out`, `shards/<K>/` (the shard folders), and
//! the merged results at the top of OUT.

pub mod jobs;

pub use jobs::{Jobs, submit, wait};

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

const SHARDS_TEMPLATE: &str = include_str!("shards.sbatch.tmpl");
const MERGE_TEMPLATE: &str = include_str!("merge.sbatch.tmpl");

/// sbatch options `samsde submit` sets itself (refused in `--sbatch`).
const OWNED: [&str; 7] = ["--array", "-a", "--dependency", "-d", "--wait", "-W", "--parsable"];

/// A sharded run or sweep to submit.
#[derive(Debug, Clone)]
pub struct Job {
    /// The samsde binary (absolute).
    pub exe: PathBuf,
    /// `run` or `sweep`.
    pub subcommand: &'static str,
    /// The model file (absolute).
    pub model: PathBuf,
    /// Arguments after the model for every shard: the overrides (`--paths`, `--seed`, `--set`, `--vary`).
    pub args: Vec<String>,
    /// The output folder OUT (absolute).
    pub out: PathBuf,
    /// Working directory of the jobs (absolute): where `samsde submit` was called.
    pub submit_dir: PathBuf,
    /// Number of shards N.
    pub shards: u64,
    /// Extra sbatch options, passed to both sbatch calls.
    pub sbatch: Vec<String>,
}

/// POSIX single-quoting: `'…'` with `'` written as `'\''`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Refuses the sbatch options samsde sets itself, anything that is not an option, and newlines.
pub fn check_sbatch_args(args: &[String]) -> Result<()> {
    for a in args {
        let name = a.split('=').next().unwrap_or(a);
        let owned = OWNED
            .iter()
            .any(|o| name == *o || (o.len() == 2 && a.starts_with(o) && !a.starts_with("--")));
        if owned {
            return Err(Error::Usage(format!(
                "--sbatch {a}: samsde submit sets {name} itself (the array, the merge job's dependency, the waiting)"
            )));
        }
        if !a.starts_with('-') || a.contains('\n') {
            return Err(Error::Usage(format!(
                "--sbatch {a:?}: expected one sbatch option with its value after `=`, e.g. --sbatch --partition=short"
            )));
        }
    }
    Ok(())
}

/// A path that can be written into `#SBATCH` lines and shell words: absolute, without `"`, `\` or newlines.
pub fn check_path(what: &str, p: &Path) -> Result<()> {
    let s = p.to_string_lossy();
    if s.contains(['"', '\\', '\n', '\r']) || p.to_str().is_none() {
        return Err(Error::Usage(format!(
            "{what} {s:?}: a path with `\"`, `\\`, a newline or non-UTF-8 bytes cannot be used in a batch script; \
             choose another folder"
        )));
    }
    Ok(())
}

impl Job {
    /// `samsde-<model file stem>`.
    fn job_name(&self) -> String {
        let stem = self
            .model
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let clean: String = stem
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("samsde-{clean}")
    }
    /// The scripts' folder, OUT/slurm.
    pub fn slurm_dir(&self) -> PathBuf {
        self.out.join("slurm")
    }
    /// The folder of the job logs, OUT/slurm/logs.
    pub fn logs_dir(&self) -> PathBuf {
        self.slurm_dir().join("logs")
    }
    /// The shard array's script.
    pub fn shards_path(&self) -> PathBuf {
        self.slurm_dir().join("shards.sbatch")
    }
    /// The merge job's script.
    pub fn merge_path(&self) -> PathBuf {
        self.slurm_dir().join("merge.sbatch")
    }
    /// The command line that submitted this, for the scripts' headers.
    pub fn submit_command(&self) -> String {
        let mut c = format!(
            "samsde submit {} --shards {}",
            sh_quote(&self.model.to_string_lossy()),
            self.shards
        );
        for a in &self.args {
            c.push(' ');
            c.push_str(&sh_quote(a));
        }
        c.push_str(&format!(" --out {}", sh_quote(&self.out.to_string_lossy())));
        for a in &self.sbatch {
            c.push_str(&format!(" --sbatch {}", sh_quote(a)));
        }
        c
    }
    fn render(&self, template: &str) -> String {
        let out = self.out.to_string_lossy();
        let words = |v: &[String]| v.iter().map(|a| format!(" {}", sh_quote(a))).collect::<String>();
        let subs: [(&str, String); 15] = [
            ("SAMSDE_VERSION", env!("CARGO_PKG_VERSION").into()),
            ("SUBCOMMAND", self.subcommand.into()),
            ("MODEL_SH", sh_quote(&self.model.to_string_lossy())),
            ("MODEL", self.model.to_string_lossy().into()),
            ("SAMSDE_SH", sh_quote(&self.exe.to_string_lossy())),
            ("ARGS_SH", words(&self.args)),
            ("OUT_SH", sh_quote(&out)),
            ("OUT_PCT", out.replace('%', "%%")),
            ("OUT", out.to_string()),
            ("SUBMIT_DIR", self.submit_dir.to_string_lossy().into()),
            ("SUBMIT_COMMAND", self.submit_command().replace('\n', " ")),
            ("N_MINUS_1", (self.shards - 1).to_string()),
            ("N", self.shards.to_string()),
            ("JOB_NAME", self.job_name()),
            ("SBATCH_ARGS_SH", words(&self.sbatch)),
        ];
        let mut t = template.to_string();
        for (k, v) in subs {
            t = t.replace(&format!("{{{{{k}}}}}"), &v);
        }
        debug_assert!(!t.contains("{{"), "unfilled placeholder in\n{t}");
        t
    }
    /// OUT/slurm/shards.sbatch: array task K runs shard K/N into OUT/shards/K.
    pub fn shards_script(&self) -> String {
        self.render(SHARDS_TEMPLATE)
    }
    /// OUT/slurm/merge.sbatch: merges OUT/shards/0 … N-1 into OUT.
    pub fn merge_script(&self) -> String {
        self.render(MERGE_TEMPLATE)
    }
    /// The arguments of the array's sbatch call.
    pub fn shards_argv(&self) -> Vec<String> {
        let mut v = vec!["--parsable".to_string()];
        v.extend(self.sbatch.iter().cloned());
        v.push(self.shards_path().to_string_lossy().into());
        v
    }
    /// The arguments of the merge job's sbatch call, after the array `array`.
    pub fn merge_argv(&self, array: &str) -> Vec<String> {
        let mut v = vec!["--parsable".to_string(), format!("--dependency=afterok:{array}")];
        v.extend(self.sbatch.iter().cloned());
        v.push(self.merge_path().to_string_lossy().into());
        v
    }
    /// Writes both scripts into `root/slurm/` and creates `root/slurm/logs/` (Slurm does not create it: a job
    /// whose log folder is missing fails at launch); `root` is OUT, or the temporary folder that becomes OUT.
    pub fn write_scripts(&self, root: &Path) -> Result<()> {
        let logs = root.join("slurm").join("logs");
        std::fs::create_dir_all(&logs).map_err(Error::io(&logs))?;
        for (name, text) in [
            ("shards.sbatch", self.shards_script()),
            ("merge.sbatch", self.merge_script()),
        ] {
            let p = root.join("slurm").join(name);
            std::fs::write(&p, text).map_err(Error::io(&p))?;
        }
        Ok(())
    }
    /// What `--dry-run` prints: each sbatch command line, then its script.
    pub fn dry_run(&self) -> String {
        let line = |argv: Vec<String>| {
            let words: Vec<String> = argv.iter().map(|a| sh_quote(a)).collect();
            format!("# sbatch {}", words.join(" "))
        };
        format!(
            "{}\n{}\n{}\n{}",
            line(self.shards_argv()),
            self.shards_script(),
            line(self.merge_argv("<array job id>")),
            self.merge_script()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job {
            exe: "/opt/bin/samsde".into(),
            subcommand: "run",
            model: "/home/u/it's.toml".into(),
            args: vec!["--set".into(), "dynamics.SAM.rho=0.1".into()],
            out: "/scratch/a b%c".into(),
            submit_dir: "/home/u".into(),
            shards: 3,
            sbatch: vec!["--time=5".into(), "--comment=it's a test".into()],
        }
    }

    /// The shard script: array 0-2, the shard command with quoted paths and overrides, the log path with `%`
    /// doubled; the merge script lists the shard folders by name; no placeholder is left.
    #[test]
    fn scripts_are_filled_and_quoted() {
        let j = job();
        let s = j.shards_script();
        assert!(s.contains("#SBATCH --array=0-2\n"), "{s}");
        assert!(
            s.contains("#SBATCH --output=\"/scratch/a b%%c/slurm/logs/shard-%A_%a.out\""),
            "{s}"
        );
        assert!(s.contains("#SBATCH --chdir=\"/home/u\""), "{s}");
        assert!(
            s.contains("exec '/opt/bin/samsde' run '/home/u/it'\\''s.toml' '--set' 'dynamics.SAM.rho=0.1' \\"),
            "{s}"
        );
        assert!(
            s.contains("--out '/scratch/a b%c'/shards/\"${SLURM_ARRAY_TASK_ID}\""),
            "{s}"
        );
        assert!(s.contains("#SBATCH --job-name=samsde-it_s-shards"), "{s}");
        let m = j.merge_script();
        assert!(m.contains("for ((k = 0; k < 3; k++)); do"), "{m}");
        assert!(
            m.contains("exec '/opt/bin/samsde' merge \"${shards[@]}\" --out '/scratch/a b%c'"),
            "{m}"
        );
        assert!(m.contains("#SBATCH --kill-on-invalid-dep=yes"), "{m}");
        assert!(!s.contains("{{") && !m.contains("{{"));
        assert_eq!(
            j.merge_argv("17"),
            [
                "--parsable",
                "--dependency=afterok:17",
                "--time=5",
                "--comment=it's a test",
                "/scratch/a b%c/slurm/merge.sbatch"
            ]
        );
    }

    /// The shell reads the quoted words back as the original strings.
    #[test]
    fn quoting_round_trips_through_the_shell() {
        let words = ["plain", "it's", "a b", "$HOME", "\"q\"", "%j"];
        let script = format!("printf '%s\\n' {}", words.map(sh_quote).join(" "));
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .output()
            .expect("sh");
        let got = String::from_utf8(out.stdout).unwrap();
        assert_eq!(got.lines().collect::<Vec<_>>(), words);
    }

    #[test]
    fn owned_and_malformed_sbatch_options_are_refused() {
        for bad in [
            "--array=0-3",
            "-a0-3",
            "--dependency=afterok:1",
            "-dafterok:1",
            "--wait",
            "-W",
            "--parsable",
            "short",
            "--x=a\nb",
        ] {
            let e = check_sbatch_args(&[bad.to_string()]).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
        }
        check_sbatch_args(&[
            "--account=x".into(),
            "--deadline=now+1hour".into(),
            "-pdebug".into(),
            "--time=5".into(),
        ])
        .unwrap();
        assert!(check_path("--out", Path::new("/a/\"b")).is_err());
        assert!(check_path("--out", Path::new("/a/b c%'d")).is_ok());
    }
}
