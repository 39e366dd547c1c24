//! Progress of long work: what the runner reports ([`Tick`], once per finished block of paths) and how it is
//! shown ([`Progress`]).
//!
//! On a terminal, [`Progress`] draws a bar on stderr, redrawn at least once a second (the elapsed time and
//! the ETA move even while a slow block runs), and leaves it visible when done. Without a terminal (a pipe, a
//! file, a batch job) it draws nothing: the command prints only its final lines, except one line with the
//! measured remaining time when a run turns out long ([`LONG`]).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Receives progress from the ensemble runner: [`Tick::advance`] is called once per finished block, from the
/// worker thread that ran it, with the number of paths the block held.
pub trait Tick: Sync {
    /// `paths` more paths are done.
    fn advance(&self, paths: u64);
}

/// Reports nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTick;

impl Tick for NoTick {
    fn advance(&self, _paths: u64) {}
}

/// Without a terminal, a run whose remaining time (measured after at least [`MEASURE`]) exceeds this prints one
/// line saying so.
pub const LONG: Duration = Duration::from_secs(60);

/// How long a run is watched before its remaining time is extrapolated (without a terminal).
pub const MEASURE: Duration = Duration::from_secs(10);

/// A progress display over `total` units (paths): a bar on a terminal, otherwise silent (see the module
/// documentation).
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    done: AtomicU64,
    start: Instant,
    what: String,
    told: AtomicBool,
    message: Mutex<String>,
}

impl Progress {
    /// Counts only; shows nothing.
    pub fn hidden(total: u64, what: &str) -> Progress {
        Progress::make(None, total, what)
    }

    /// A bar on stderr if stderr is a terminal, else [`Progress::hidden`] (with the one long-run line).
    /// `what` names the units, e.g. "paths".
    pub fn stderr(total: u64, what: &str) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress::make(None, total, what);
        }
        let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template(&format!(
                "{{bar:32}} {{human_pos}}/{{human_len}} {what}  {{elapsed_precise}} (eta {{eta}})  {{msg}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb.enable_steady_tick(Duration::from_millis(500));
        Progress::make(Some(pb), total, what)
    }

    fn make(bar: Option<ProgressBar>, total: u64, what: &str) -> Progress {
        Progress {
            bar,
            total,
            done: AtomicU64::new(0),
            start: Instant::now(),
            what: what.into(),
            told: AtomicBool::new(false),
            message: Mutex::new(String::new()),
        }
    }

    /// Whether a bar is drawn.
    pub fn is_drawn(&self) -> bool {
        self.bar.is_some()
    }

    /// Units done so far.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Sets the text after the bar (e.g. the sweep point and its parameters).
    pub fn set_message(&self, msg: &str) {
        if let Ok(mut m) = self.message.lock() {
            m.clear();
            m.push_str(msg);
        }
        if let Some(pb) = &self.bar {
            pb.set_message(msg.to_string());
        }
    }

    /// On a terminal, prints `line` above the bar (which stays below it); without one, nothing.
    pub fn println(&self, line: &str) {
        if let Some(pb) = &self.bar {
            pb.println(line);
        }
    }

    /// Seconds since the display was made.
    pub fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Leaves the bar, full, on the terminal (nothing without one).
    pub fn finish(&self) {
        if let Some(pb) = &self.bar {
            pb.finish();
        }
    }

    /// Without a terminal: once, when at least [`MEASURE`] has passed and the remaining time extrapolated
    /// from the rate so far exceeds [`LONG`], one line on stderr.
    fn tell_if_long(&self, done: u64) {
        let elapsed = self.start.elapsed();
        if self.bar.is_some() || done == 0 || done >= self.total || elapsed < MEASURE {
            return;
        }
        let left = elapsed.as_secs_f64() * (self.total - done) as f64 / done as f64;
        if left > LONG.as_secs_f64() && !self.told.swap(true, Ordering::Relaxed) {
            let msg = self.message.lock().map(|m| m.clone()).unwrap_or_default();
            eprintln!(
                "samsde: {done} of {} {} done in {}; about {} left{}",
                self.total,
                self.what,
                duration(elapsed.as_secs_f64()),
                duration(left),
                if msg.is_empty() {
                    String::new()
                } else {
                    format!(" ({msg})")
                }
            );
        }
    }
}

impl Tick for Progress {
    fn advance(&self, paths: u64) {
        let done = self.done.fetch_add(paths, Ordering::Relaxed) + paths;
        if let Some(pb) = &self.bar {
            pb.inc(paths);
        }
        self.tell_if_long(done);
    }
}

/// A duration for people: "45 s", "12 min", "3.5 h", "2.1 days".
pub fn duration(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{seconds:.1} s")
    } else if seconds < 90.0 * 60.0 {
        format!("{:.0} min", seconds / 60.0)
    } else if seconds < 48.0 * 3600.0 {
        format!("{:.1} h", seconds / 3600.0)
    } else {
        format!("{:.1} days", seconds / 86400.0)
    }
}

/// A byte count for people: "512 B", "3.2 MB", "1.5 GB" (powers of 1000).
pub fn bytes(b: f64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = b;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < units.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{v:.0} {}", units[0])
    } else {
        format!("{v:.1} {}", units[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counting is exact whatever the display, and a hidden display never draws.
    #[test]
    fn counts_and_formats() {
        let p = Progress::hidden(1000, "paths");
        for _ in 0..3 {
            p.advance(256);
        }
        p.advance(232);
        assert_eq!(p.done(), 1000);
        assert!(!p.is_drawn());
        assert_eq!(duration(30.0), "30.0 s");
        assert_eq!(duration(600.0), "10 min");
        assert_eq!(duration(7200.0), "2.0 h");
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(3.2e6), "3.2 MB");
        assert_eq!(bytes(1.5e12), "1.5 TB");
    }
}
