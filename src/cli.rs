//! What each `sweep` subcommand does once its arguments are parsed: one
//! function per subcommand (the binary, `src/bin/sweep.rs`, only parses
//! arguments and maps errors to exit codes), plus the signal handling that
//! makes an interrupted sweep stop cleanly and resumable.

use crate::plot::{self, PlotOptions};
use crate::sweep::shard::{self, Shard, ShardArg};
use crate::sweep::{self, report, resume, runner, SweepError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Set by the first SIGINT/SIGTERM/SIGHUP: stop handing out chunks.
static STOP: AtomicBool = AtomicBool::new(false);
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

/// `sweep run`'s arguments.
#[derive(Clone, Debug, Default)]
pub struct RunArgs {
    /// The experiment file.
    pub file: PathBuf,
    /// Results folder (default: `results/<name>`).
    pub out: Option<PathBuf>,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// `--set` overrides, in order.
    pub set: Vec<String>,
    /// No progress output.
    pub quiet: bool,
    /// Start over in a folder that holds results.
    pub force: bool,
    /// Do not draw plots at the end.
    pub no_plot: bool,
    /// Train one shard only.
    pub shard: Option<ShardArg>,
    /// N for `--shard auto`.
    pub shard_count: Option<usize>,
}

/// `sweep run`: trains an experiment (or one shard of it), then prints the
/// best and worst points and where the files are.
pub fn run(args: RunArgs) -> Result<(), SweepError> {
    let plan = sweep::load_plan(&args.file, &args.set)?;
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("results").join(&plan.name));
    let shard = resolve_shard(args.shard, args.shard_count)?;
    if !args.quiet {
        crate::tell!("{}", report::describe(&plan));
        if let Some(s) = shard {
            let mine = shard::chunks_of(&plan.chunks(), s);
            let runs: usize = mine.iter().map(|c| c.end - c.start).sum();
            crate::tell!("shard {s}: {runs} runs in {} chunks, into {}", mine.len(), s.dir(&out).display());
        }
    }
    let opts = sweep::RunOptions {
        out: out.clone(),
        threads: args.threads,
        force: args.force,
        quiet: args.quiet,
        experiment_file: args.file.display().to_string(),
    };
    install_signal_handler();
    let stop = Some(&STOP);
    if let Some(s) = shard {
        let r = runner::run_shard(&plan, &opts, s, stop).map_err(with_resume_hint)?;
        crate::say!("{}", shard_finished(&r, s, &out));
        return Ok(());
    }
    let result = runner::run_stoppable(&plan, &opts, stop).map_err(with_resume_hint)?;
    let plots = if args.no_plot { None } else { draw_after(&out)? };
    crate::say!("{}", report::final_table(&result.ranking));
    crate::say!("{}", report::finished(&result.manifest, &out, plots.as_ref()));
    Ok(())
}

/// The shard to train: `--shard I/N`, or read from the environment for `auto`.
fn resolve_shard(arg: Option<ShardArg>, count: Option<usize>) -> Result<Option<Shard>, SweepError> {
    match (arg, count) {
        (None, _) => Ok(None),
        (Some(ShardArg::Fixed(s)), Some(n)) if n != s.count => {
            Err(SweepError::Config(format!("--shard-count {n} disagrees with --shard {s}")))
        }
        (Some(ShardArg::Fixed(s)), _) => Ok(Some(s)),
        (Some(ShardArg::Auto), n) => shard::from_env(|k| std::env::var(k).ok(), n).map(Some),
    }
}

/// `sweep merge`: combines a sweep's shards into its folder.
pub fn merge(dir: &Path, force: bool, no_plot: bool) -> Result<(), SweepError> {
    let merged = sweep::merge::merge(dir, force)?;
    let plots = if no_plot { None } else { draw_after(dir)? };
    crate::say!("{}", report::final_table(&merged.ranking));
    let m = &merged.manifest;
    crate::say!(
        "merged {} shards: {} runs × {} epochs\nwrote {}/{{{}}}",
        m.merged.as_ref().map_or(0, |x| x.shards),
        m.runs,
        m.epochs,
        dir.display(),
        sweep::output::FILES_WRITTEN
    );
    if let Some(n) = plots {
        crate::say!("wrote {n} plots to {}", dir.join("plots").display());
    }
    Ok(())
}

/// `sweep compare`: paired comparisons along an axis; prints them, writes
/// `compare-<axis>.json`/`.csv` and, unless `no_plot`, their figure.
pub fn compare(
    dir: &Path,
    opts: &sweep::compare::CompareOptions,
    format: plot::Format,
    no_plot: bool,
) -> Result<(), SweepError> {
    let (file, grid) = sweep::compare::compare(dir, opts)?;
    crate::say!("{}", sweep::compare::table(&grid, &file));
    let (json, csv) = sweep::compare::file_names(dir, &file.axis);
    crate::say!("wrote {} and {}", json.display(), csv.display());
    if !no_plot {
        let path = plot::compare::draw(dir, &file, &grid, format).map_err(after_results)?;
        crate::say!("wrote {}", path.display());
        // The report page links the comparisons: draw it again where there is one.
        if dir.join("plots").join("index.html").is_file() && plot::too_large(dir).is_none() {
            let n = plot::plot_dir(dir, &PlotOptions { format, ..PlotOptions::default() }).map_err(after_results)?;
            crate::say!("redrew {n} plots and the report page, which now links this comparison");
        }
    }
    Ok(())
}

/// `sweep validate`: resolves the experiment and prints its grid.
pub fn validate(file: &Path, set: &[String]) -> Result<(), SweepError> {
    let plan = sweep::load_plan(file, set)?;
    crate::say!("{}\nOK: nothing trained.", report::describe(&plan));
    Ok(())
}

/// `sweep plot`: draws the figures of one results folder or of every folder inside `path`.
pub fn plot(path: &Path, opts: &PlotOptions) -> Result<(), SweepError> {
    let mut plotted = plot::plot_path(path, opts)?;
    if plotted.len() == 1 {
        let (dir, n) = plotted.remove(0);
        crate::say!("{}: {} plots in {}", dir.display(), n?, dir.join("plots").display());
        return Ok(());
    }
    let (total, mut failed) = (plotted.len(), 0);
    for (dir, outcome) in plotted {
        match outcome {
            Ok(n) => crate::say!("{}: {n} plots in {}", dir.display(), dir.join("plots").display()),
            Err(e) => {
                failed += 1;
                crate::tell!("error: {}", crate::console::clip(&e.to_string()));
            }
        }
    }
    if failed > 0 {
        return Err(SweepError::Failed(format!(
            "{failed} of {total} results folders could not be plotted (see above)"
        )));
    }
    Ok(())
}

/// First SIGINT/SIGTERM/SIGHUP: stop handing out chunks, finish and save the
/// chunks in progress, exit 130. A second one: exit 130 at once (runs.jsonl
/// may end in a torn line, which a resume drops).
fn install_signal_handler() {
    let installed = ctrlc::set_handler(|| {
        if SIGNALS.fetch_add(1, Ordering::SeqCst) == 0 {
            STOP.store(true, Ordering::SeqCst);
            crate::tell!(
                "\nsignal received: finishing the chunks in progress, then stopping (send it again to quit at once)"
            );
        } else {
            crate::tell!("second signal: quitting now; run the same command again to resume");
            std::process::exit(130);
        }
    });
    if let Err(e) = installed {
        crate::tell!("warning: cannot catch Ctrl-C/SIGTERM ({e}); an interrupted sweep can still be resumed");
    }
}

/// The figures drawn after a sweep or a merge, unless the summary is too
/// large to draw from (said, and not an error: the results are complete).
fn draw_after(dir: &Path) -> Result<Option<usize>, SweepError> {
    if let Some(why) = plot::too_large(dir) {
        crate::tell!("figures not drawn: {why}");
        return Ok(None);
    }
    plot::plot_dir(dir, &PlotOptions::default()).map(Some).map_err(after_results)
}

/// A figure failure after the results were written is not a refusal (exit
/// code 2 promises nothing was written): exit code 1, saying so.
fn after_results(e: SweepError) -> SweepError {
    SweepError::Failed(format!(
        "the results are written, but the figures could not be drawn: {e}; run `sweep plot` later"
    ))
}

/// Adds the exact command that resumes a stopped sweep.
fn with_resume_hint(e: SweepError) -> SweepError {
    match e {
        SweepError::Stopped(msg) => {
            let argv: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
            SweepError::Stopped(format!(
                "{msg}\nTo resume, run the same command again:\n  {}",
                resume::resume_command(&argv)
            ))
        }
        e => e,
    }
}

fn shard_finished(r: &runner::ShardResult, s: Shard, out: &Path) -> String {
    let m = &r.manifest;
    format!(
        "shard {s}: {} runs × {} epochs in {:.2} s: {} network-epochs/s on {}\nwrote {}/{{manifest.json, runs.jsonl}}\nonce all {} shards are done: sweep merge {}",
        m.runs,
        m.epochs,
        m.wall_seconds.unwrap_or(0.0),
        report::human_rate(m.network_epochs_per_second.unwrap_or(0.0)),
        report::threads(m.threads),
        r.dir.display(),
        s.count,
        resume::shell_quote(&out.display().to_string())
    )
}
