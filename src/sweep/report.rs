//! Text for people: the grid description printed by `sweep validate` and
//! before a run, the table of grid points sorted by convergence rate, and the
//! closing lines (where the files are, throughput).

use super::aggregate::{rank_order, PointSummary};
use super::config::Count;
use super::estimate::{estimate, human_bytes};
use super::grid::Grid;
use super::manifest::Manifest;
use super::measure::Criterion;
use super::output;
use super::plan::Plan;
use std::fmt::Write;
use std::path::Path;

/// The grid's axes, the number of runs and the work.
pub fn describe(plan: &Plan) -> String {
    let g = &plan.grid;
    let mut s = String::new();
    let _ = writeln!(s, "experiment `{}` (hash {})", plan.name, crate::sweep::manifest::short_hash(&plan.hash));
    let d = &plan.datasets[0];
    if plan.datasets.len() > 1 {
        let _ = writeln!(s, "  problem: parity, one data set per N (2^N patterns × N inputs)");
    } else {
        let _ = writeln!(
            s,
            "  problem: {} training samples × {} inputs{}",
            d.train.x.nrows(),
            d.input_dim(),
            d.test.as_ref().map_or(String::new(), |t| format!(", {} test samples", t.x.nrows()))
        );
    }
    let width = g.axes().iter().map(|a| a.name.len()).max().unwrap_or(0) + 1;
    for a in g.axes() {
        let n = a.values.len();
        let shown: Vec<String> = if n <= 12 {
            (0..n).map(|i| a.values.short(i)).collect()
        } else {
            let mut v: Vec<String> = (0..5).map(|i| a.values.short(i)).collect();
            v.push(format!("… ({} values in all) …", n));
            v.extend((n - 2..n).map(|i| a.values.short(i)));
            v
        };
        let _ = writeln!(s, "  {:<width$} {}", format!("{}:", a.name), shown.join(", "));
    }
    let c = &plan.criterion;
    let _ = writeln!(
        s,
        "  converged when {} {} {} on the {} set",
        c.metric.name(),
        if c.metric.higher_is_better() { ">=" } else { "<=" },
        c.threshold,
        if c.on == super::config::Split::Test { "test" } else { "training" }
    );
    let _ = writeln!(
        s,
        "  {} grid points × {} seeds = {} runs × {} epochs = {} network-epochs, in {} families",
        g.points(),
        plan.seeds,
        plan.runs(),
        plan.epochs,
        plan.runs() * plan.epochs,
        plan.families.len()
    );
    if let Some(a) = &plan.adaptive {
        let (lo, hi) = super::adaptive::bounds(plan, a);
        let rounds: Vec<String> = super::adaptive::schedule(a).iter().map(|n| n.to_string()).collect();
        let _ = writeln!(
            s,
            "  adaptive seeds: rounds of {} seeds a point, each point stopping once its 95% interval is within ±{}: between {lo} and {hi} runs ({} to {} network-epochs); the figures below are for the most",
            rounds.join(" → "),
            a.ci_half_width,
            lo * plan.epochs,
            hi * plan.epochs
        );
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let e = estimate(plan, threads);
    let _ = write!(
        s,
        "  writes about {} of runs.jsonl{} and {} of summary.json (upper estimates); peak memory up to about {} on {}",
        human_bytes(e.runs_bytes),
        if e.parquet_bytes > 0 { format!(", {} of runs.parquet", human_bytes(e.parquet_bytes)) } else { String::new() },
        human_bytes(e.summary_bytes),
        human_bytes(e.peak_memory),
        self::threads(threads)
    );
    s
}

/// What the final table shows of a grid point.
#[derive(Clone, Debug, PartialEq)]
pub struct Brief {
    /// Grid point index.
    pub point: usize,
    /// The rate the table leads with (the criterion's `count`).
    pub rate: f64,
    /// Its 95% interval.
    pub ci: (f64, f64),
    /// The other rate.
    pub other: f64,
    /// Median epochs to converge among converged runs.
    pub median_epochs: Option<f64>,
    /// Median epochs to converge over all runs (None: censored).
    pub median_all: Option<f64>,
    /// Mean final test metric (problems with a test set).
    pub test: Option<f64>,
}

/// The best and the worst `n` grid points by convergence rate (ties by point
/// index), kept as points are offered one at a time: memory does not grow
/// with the grid.
#[derive(Clone, Debug)]
pub struct Ranking {
    axes: Grid,
    count: Count,
    epochs: usize,
    /// The metric's name and whether higher is better (for the validation pick).
    metric: (&'static str, bool),
    /// The point with the best mean validation metric: (mean, point, test
    /// mean, its interval, seeds measured, seeds diverged).
    best_validation: Option<(f64, usize, f64, [f64; 2], usize, usize)>,
    n: usize,
    points: usize,
    best: Vec<Brief>,
    worst: Vec<Brief>,
    /// The lowest rate seen and how many points have it.
    lowest: Option<(f64, usize)>,
}

/// The table's order: higher rate first, then faster (median epochs among
/// converged, none last), then lower point index.
fn table_order(a: &Brief, b: &Brief) -> std::cmp::Ordering {
    rank_order((a.rate, a.median_epochs, a.point), (b.rate, b.median_epochs, b.point))
}

impl Ranking {
    /// An empty ranking of the points of `axes` by the rate `count` names,
    /// keeping `n` at each end (`epochs`: the budget, for censored medians).
    pub fn new(axes: &Grid, criterion: &Criterion, epochs: usize, n: usize) -> Self {
        Ranking {
            axes: axes.clone(),
            count: criterion.count,
            epochs,
            metric: (criterion.metric.name(), criterion.metric.higher_is_better()),
            best_validation: None,
            n,
            points: 0,
            best: Vec::new(),
            worst: Vec::new(),
            lowest: None,
        }
    }

    /// Keeps the point with the best mean validation metric (first wins ties).
    fn offer_validation(&mut self, p: &PointSummary) {
        let (Some(v), Some(t), Some(ci)) = (&p.final_validation_metric, &p.final_test_metric, p.test_metric_mean_ci)
        else {
            return;
        };
        let better = |a: f64, b: f64| if self.metric.1 { a > b } else { a < b };
        if self.best_validation.is_none_or(|b| better(v.mean, b.0)) {
            self.best_validation = Some((v.mean, p.point, t.mean, ci, p.runs - p.diverged, p.diverged));
        }
    }

    /// The best points offered, best first (at most `n`).
    pub fn best(&self) -> &[Brief] {
        &self.best
    }

    /// The worst points offered (at most `n`).
    pub fn worst(&self) -> &[Brief] {
        &self.worst
    }

    /// Takes one point into account.
    pub fn offer(&mut self, p: &PointSummary) {
        let first = (p.convergence_rate, (p.rate_ci_low, p.rate_ci_high));
        let end = (p.solved_at_end_rate, (p.solved_ci_low, p.solved_ci_high));
        let (lead, other) = match self.count {
            Count::FirstHit => (first, end.0),
            Count::AtEnd => (end, first.0),
        };
        let b = Brief {
            point: p.point,
            rate: lead.0,
            ci: lead.1,
            other,
            median_epochs: p.epochs_to_converge.as_ref().map(|q| q.median),
            median_all: p.median_epochs_all,
            test: p.final_test_metric.as_ref().map(|q| q.mean),
        };
        self.points += 1;
        self.lowest = match self.lowest {
            Some((low, k)) if b.rate == low => Some((low, k + 1)),
            Some((low, k)) if b.rate > low => Some((low, k)),
            _ => Some((b.rate, 1)),
        };
        self.offer_validation(p);
        let at = self.best.partition_point(|x| table_order(x, &b).is_lt());
        if at < self.n {
            self.best.insert(at, b.clone());
            self.best.truncate(self.n);
        }
        let at = self.worst.partition_point(|x| table_order(x, &b).is_lt());
        if self.n > 0 && (self.worst.len() < self.n || at > 0) {
            self.worst.insert(at, b);
            if self.worst.len() > self.n {
                self.worst.remove(0);
            }
        }
    }

    /// The lines of the table in order: rows, and "more points" notes.
    /// Past 2n points: the best n, a count of those left out, the worst
    /// ones above the lowest rate, and the points tied at the lowest rate as
    /// one row and a count.
    fn lines(&self) -> Vec<Line<'_>> {
        if self.points <= 2 * self.n {
            let mut all: Vec<&Brief> = self.best.iter().chain(&self.worst).collect();
            all.sort_by(|a, b| table_order(a, b));
            all.dedup_by_key(|b| b.point);
            return all.into_iter().map(Line::Row).collect();
        }
        let (low, ties) = self.lowest.unwrap_or((f64::NAN, 0));
        let tied_in_best = self.best.iter().filter(|b| b.rate == low).count();
        let tied = ties - tied_in_best;
        let above: Vec<&Brief> = self.worst.iter().filter(|b| b.rate != low).collect();
        let mut out: Vec<Line> = self.best.iter().map(Line::Row).collect();
        let middle = self.points - self.best.len() - above.len() - tied;
        if middle > 0 {
            out.push(Line::More(middle, None));
        }
        out.extend(above.into_iter().map(Line::Row));
        if let Some(first) = self.worst.iter().find(|b| b.rate == low).filter(|_| tied > 0) {
            out.push(Line::Row(first));
            if tied > 1 {
                out.push(Line::More(tied - 1, Some(low)));
            }
        }
        out
    }
}

/// A line of the final table.
enum Line<'a> {
    /// A grid point.
    Row(&'a Brief),
    /// Points left out, all at this rate when given.
    More(usize, Option<f64>),
}

/// The best and worst grid points of a ranking by its rate. Columns: every
/// axis with more than one value (the architecture when none varies), the
/// leading rate with its 95% interval, the other rate, the median epochs to
/// converge among converged runs and over all runs.
pub fn final_table(ranking: &Ranking) -> String {
    let g = &ranking.axes;
    let mut shown: Vec<usize> =
        g.axes().iter().enumerate().filter(|(_, a)| a.values.len() > 1).map(|(i, _)| i).collect();
    if shown.is_empty() {
        shown = g.axis("architecture").map(|(i, _)| i).into_iter().collect();
    }
    let cell = |p: usize, i: usize| g.axes()[i].values.short(g.coords(p)[i]);
    let widths: Vec<usize> = shown
        .iter()
        .map(|&i| {
            let a = &g.axes()[i];
            (0..a.values.len()).map(|v| a.values.short(v).chars().count()).chain([a.name.len()]).max().unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    let (lead, other) = match ranking.count {
        Count::FirstHit => ("met", "at end"),
        Count::AtEnd => ("at end", "met"),
    };
    let _ = writeln!(
        s,
        "(met: the criterion met at some epoch; at end: still met after the last epoch; median epochs among the converged runs, and over all runs)"
    );
    for (&i, w) in shown.iter().zip(&widths) {
        let _ = write!(s, "{:<w$} ", g.axes()[i].name);
    }
    let with_test = ranking.best.iter().any(|b| b.test.is_some());
    let test_head = if with_test { format!("  {:>9}", format!("test {}", ranking.metric.0)) } else { String::new() };
    let _ = writeln!(
        s,
        "{lead:>6}  {:<15} {other:>6}  {:>22} {:>16}{test_head}",
        "95% CI", "median among converged", "median all runs"
    );
    let row = |s: &mut String, p: &Brief| {
        for (&a, w) in shown.iter().zip(&widths) {
            let _ = write!(s, "{:<w$} ", cell(p.point, a));
        }
        let test = match (with_test, p.test) {
            (true, Some(t)) => format!("  {t:>9.4}"),
            (true, None) => format!("  {:>9}", "-"),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "{:>6.3}  [{:.3}, {:.3}] {:>6.3}  {:>22} {:>16}{test}",
            p.rate,
            p.ci.0,
            p.ci.1,
            p.other,
            p.median_epochs.map_or("-".into(), |m| format!("{m:.0}")),
            p.median_all.map_or(format!(">{}", ranking.epochs), |m| format!("{m:.0}"))
        );
    };
    for line in ranking.lines() {
        match line {
            Line::Row(p) => row(&mut s, p),
            Line::More(k, None) => {
                let _ = writeln!(s, "… {k} more grid points …");
            }
            Line::More(k, Some(rate)) => {
                let _ = writeln!(s, "… {k} more grid points at {rate:.3} …");
            }
        }
    }
    if let Some((v, point, t, ci, seeds, diverged)) = ranking.best_validation {
        let seeds = if diverged > 0 {
            format!("{seeds} seeds ({diverged} diverged, left out)")
        } else {
            format!("{seeds} seeds")
        };
        let name = ranking.metric.0;
        let _ = writeln!(
            s,
            "best point on the validation split ({name} {v:.4}): {}\n  its test {name}: {t:.4} (95% interval of the mean over {seeds}: {:.4}–{:.4}); picked without looking at the test set",
            g.varying_label(point, ""),
            ci[0],
            ci[1]
        );
    }
    s
}

/// Where the files are and how fast it ran.
pub fn finished(m: &Manifest, dir: &Path, plots: Option<&usize>) -> String {
    let wall = m.wall_seconds.unwrap_or(0.0);
    let kept = m.resumed_runs.unwrap_or(0);
    let trained = m.runs - kept.min(m.runs);
    let mut s = if trained == 0 {
        format!(
            "all {} runs were already in {} (same experiment): nothing to train, summary rewritten in {wall:.2} s (--force trains again)\n",
            m.runs,
            dir.display()
        )
    } else {
        let resumed = match m.grown_from_seeds {
            Some(from) => format!(" (grown from {from} to {} seeds a point: {kept} runs kept)", m.seeds),
            None if kept > 0 => format!(" (resumed: {kept} runs kept)"),
            None => String::new(),
        };
        let rate = m.network_epochs_per_second.unwrap_or(0.0);
        // Data problems: what a network-epoch is made of, in samples.
        let samples = match m.train_samples {
            Some(n) if n >= 100 => format!(" ({} samples/s)", human_rate(rate * n as f64)),
            _ => String::new(),
        };
        format!(
            "{trained} runs × {} epochs in {wall:.2} s{resumed}: {} network-epochs/s{samples} on {}\n",
            m.epochs,
            human_rate(rate),
            threads(m.threads)
        )
    };
    let _ = write!(s, "wrote {}/{{{}}}", dir.display(), output::FILES_WRITTEN);
    if let Some(n) = plots {
        let _ = write!(s, "\nwrote {n} plots and index.html to {}", dir.join("plots").display());
    }
    s
}

/// 12.3 million, 45.6 thousand, 789.
pub fn human_rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1} million", v / 1e6)
    } else if v >= 1e4 {
        format!("{:.1} thousand", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// "1 thread", "2 threads".
pub fn threads(n: usize) -> String {
    if n == 1 {
        "1 thread".into()
    } else {
        format!("{n} threads")
    }
}
