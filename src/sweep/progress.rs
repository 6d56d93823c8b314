//! Progress of a sweep on stderr: an indicatif bar on a terminal, a plain
//! line every few seconds when stderr is a file or pipe (CI, Slurm logs),
//! nothing with `--quiet`.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How progress is shown.
pub enum Progress {
    /// An animated bar.
    Bar(ProgressBar),
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
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} runs  {per_sec}  ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            Progress::Bar(bar)
        } else {
            let now = Instant::now();
            Progress::Lines { done: 0, total, start: now, last: now }
        }
    }

    /// `n` more runs are done.
    pub fn inc(&mut self, n: usize) {
        match self {
            Progress::Bar(b) => b.inc(n as u64),
            Progress::Lines { done, total, start, last } => {
                *done += n;
                if last.elapsed() >= Duration::from_secs(5) || *done == *total {
                    *last = Instant::now();
                    let secs = start.elapsed().as_secs_f64().max(1e-9);
                    let rate = *done as f64 / secs;
                    let eta = (*total - *done) as f64 / rate.max(1e-9);
                    crate::tell!(
                        "[sweep] {done}/{total} runs ({:.0}%), {rate:.0} runs/s, ETA {eta:.0}s",
                        100.0 * *done as f64 / *total as f64
                    );
                }
            }
            Progress::Quiet => {}
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Progress::Bar(b) = self {
            b.finish_and_clear();
        }
    }
}
