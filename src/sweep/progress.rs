//! Progress of a sweep on stderr: an indicatif bar on a terminal, a plain
//! line every few seconds when stderr is a file or pipe (CI, Slurm logs),
//! nothing with `--quiet`. The ETA is the remaining runs at the mean rate of
//! the runs completed so far (indicatif's own estimate follows the last few
//! steps and swings early in a run).

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How progress is shown.
pub enum Progress {
    /// An animated bar.
    Bar {
        /// The bar.
        bar: ProgressBar,
        /// Start.
        start: Instant,
    },
    /// Periodic plain lines.
    Lines {
        /// Runs done.
        done: usize,
        /// Runs in all.
        total: usize,
        /// Start.
        start: Instant,
        /// Last line printed.
        last: Instant,
    },
    /// Nothing.
    Quiet,
}

impl Progress {
    /// The right kind for this process's stderr.
    pub fn new(total: usize, quiet: bool) -> Self {
        if quiet {
            Progress::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} runs  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            Progress::Bar { bar, start: Instant::now() }
        } else {
            let now = Instant::now();
            Progress::Lines { done: 0, total, start: now, last: now }
        }
    }

    /// `n` more runs are done.
    pub fn inc(&mut self, n: usize) {
        match self {
            Progress::Bar { bar, start } => {
                bar.inc(n as u64);
                let (rate, eta) = rate_and_eta(bar.position() as usize, bar.length().unwrap_or(0) as usize, *start);
                bar.set_message(format!("{rate:.0} runs/s  ETA {}", clock(eta)));
            }
            Progress::Lines { done, total, start, last } => {
                *done += n;
                if last.elapsed() >= Duration::from_secs(5) || *done == *total {
                    *last = Instant::now();
                    let (rate, eta) = rate_and_eta(*done, *total, *start);
                    crate::tell!(
                        "[sweep] {done}/{total} runs ({:.0}%), {rate:.0} runs/s, ETA {}",
                        100.0 * *done as f64 / (*total).max(1) as f64,
                        clock(eta)
                    );
                }
            }
            Progress::Quiet => {}
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Progress::Bar { bar, .. } = self {
            bar.finish_and_clear();
        }
    }
}

/// Runs per second so far, and the seconds left at that rate.
pub fn rate_and_eta(done: usize, total: usize, start: Instant) -> (f64, f64) {
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let rate = done as f64 / secs;
    (rate, total.saturating_sub(done) as f64 / rate.max(1e-9))
}

/// Seconds as "42s", "3m 05s", "2h 07m".
fn clock(s: f64) -> String {
    let s = s.round() as u64;
    match s {
        _ if s < 60 => format!("{s}s"),
        _ if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}
