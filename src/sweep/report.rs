//! Text for people: the grid description printed by `sweep validate` and
//! before a run, the table of grid points sorted by convergence rate, and the
//! closing lines (where the files are, throughput).

use super::aggregate::Summary;
use super::output::Manifest;
use super::plan::{Plan, PointParams};
use std::fmt::Write;
use std::path::Path;

fn list<T: std::fmt::Display>(v: &[T]) -> String {
    v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ")
}

/// The grid's axes, the number of runs and the work.
pub fn describe(plan: &Plan) -> String {
    let a = &plan.axes;
    let mut s = String::new();
    let _ = writeln!(s, "experiment `{}` (hash {})", plan.name, &plan.hash[..12]);
    let d = plan.data();
    if a.bits.len() > 1 {
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
    if a.bits.len() > 1 {
        let _ = writeln!(s, "  bits:         {}", list(&a.bits.iter().flatten().collect::<Vec<_>>()));
    }
    let _ = writeln!(s, "  architecture: {}", list(&a.architecture));
    let _ = writeln!(s, "  optimizer:    {}", list(&a.optimizer.iter().map(|o| o.as_str()).collect::<Vec<_>>()));
    let _ = writeln!(s, "  batch_size:   {}", list(&a.batch_size));
    let acts: Vec<String> = a.activation.iter().map(|x| x.map_or("(per layer)".into(), |x| x.name())).collect();
    let _ = writeln!(s, "  activation:   {}", list(&acts));
    let _ = writeln!(s, "  lr:           {}", list(&a.lr));
    let _ = writeln!(s, "  l2:           {}", list(&a.l2));
    let _ = writeln!(s, "  l1:           {}", list(&a.l1));
    let c = &plan.criterion;
    let _ = writeln!(
        s,
        "  converged when {} {} {} on the {} set",
        c.metric.name(),
        if c.metric.higher_is_better() { ">=" } else { "<=" },
        c.threshold,
        if c.on == super::config::Split::Test { "test" } else { "training" }
    );
    let _ = write!(
        s,
        "  {} grid points × {} seeds = {} runs × {} epochs = {} network-epochs",
        a.points(),
        plan.seeds(),
        plan.runs(),
        plan.epochs(),
        plan.runs() * plan.epochs()
    );
    s
}

/// The best and worst `n` grid points by convergence rate. Columns: the
/// architecture, every axis with more than one value, lr, l2, l1, the rate
/// with its 95% interval and the median epochs to converge.
pub fn final_table(summary: &Summary, n: usize) -> String {
    type Col = (&'static str, usize, fn(&PointParams) -> String);
    let a = &summary.axes;
    let all: [(bool, Col); 8] = [
        (a.bits.len() > 1, ("bits", 4, |p| p.bits.map_or("-".into(), |b| b.to_string()))),
        (true, ("architecture", 14, |p| p.architecture.clone())),
        (a.optimizer.len() > 1, ("optimizer", 9, |p| p.optimizer.as_str().into())),
        (a.batch_size.len() > 1, ("batch", 6, |p| p.batch_size.to_string())),
        (a.activation.len() > 1, ("activation", 11, |p| p.activation.map_or("-".into(), |x| x.name()))),
        (true, ("lr", 7, |p| p.lr.to_string())),
        (true, ("l2", 7, |p| p.l2.to_string())),
        (true, ("l1", 7, |p| p.l1.to_string())),
    ];
    let cols: Vec<Col> = all.into_iter().filter(|(show, _)| *show).map(|(_, c)| c).collect();
    let mut idx: Vec<usize> = (0..summary.points.len()).collect();
    idx.sort_by(|&x, &y| {
        let (px, py) = (&summary.points[x], &summary.points[y]);
        py.convergence_rate.total_cmp(&px.convergence_rate).then(x.cmp(&y))
    });
    let mut s = String::new();
    for (h, w, _) in &cols {
        let _ = write!(s, "{h:<w$} ");
    }
    let _ = writeln!(s, "{:>6}  {:<15} {:>10}", "rate", "95% CI", "median ep.");
    let row = |s: &mut String, i: usize| {
        let p = &summary.points[i];
        for (_, w, f) in &cols {
            let _ = write!(s, "{:<w$} ", f(&p.params));
        }
        let _ = writeln!(
            s,
            "{:>6.3}  [{:.3}, {:.3}] {:>10}",
            p.convergence_rate,
            p.rate_ci_low,
            p.rate_ci_high,
            p.epochs_to_converge.as_ref().map_or("-".into(), |q| format!("{:.0}", q.median))
        );
    };
    if idx.len() <= 2 * n {
        idx.iter().for_each(|&i| row(&mut s, i));
    } else {
        idx[..n].iter().for_each(|&i| row(&mut s, i));
        let _ = writeln!(s, "… {} more grid points …", idx.len() - 2 * n);
        idx[idx.len() - n..].iter().for_each(|&i| row(&mut s, i));
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
        let resumed = if kept > 0 { format!(" (resumed: {kept} runs kept)") } else { String::new() };
        format!(
            "{trained} runs × {} epochs in {wall:.2} s{resumed}: {} network-epochs/s on {}\n",
            m.epochs,
            human_rate(m.network_epochs_per_second.unwrap_or(0.0)),
            threads(m.threads)
        )
    };
    let _ = write!(s, "wrote {}/{{manifest.json, runs.jsonl, summary.json, summary.csv}}", dir.display());
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
