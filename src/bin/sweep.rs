//! `sweep`: the command line of netsweep. Parses arguments (clap) and calls
//! one library function per subcommand; `main` alone maps errors to exit
//! codes (0 done, 2 bad file/arguments/data, 1 failure while running, 130
//! stopped by SIGINT/SIGTERM/SIGHUP with the folder left resumable).

use clap::{Parser, Subcommand};
use netsweep::sweep::shard::{self, Shard, ShardArg};
use netsweep::sweep::{self, report, resume, runner, SweepError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Set by the first SIGINT/SIGTERM/SIGHUP: stop handing out chunks.
static STOP: AtomicBool = AtomicBool::new(false);
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

#[derive(Parser)]
#[command(
    name = "sweep",
    version,
    about = "Train grids of seeded small networks in parallel and measure how often and how fast they converge."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train every run of an experiment file and write results/<name>/.
    Run {
        /// The experiment file (TOML).
        file: PathBuf,
        /// Results folder (default: results/<name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads (default: one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Override a field: --set seeds=10 --set grid.lr=[0.1,0.3].
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// No progress output.
        #[arg(long, short)]
        quiet: bool,
        /// Start over: replace a results folder that holds another
        /// experiment's results, or earlier results of this one (which are
        /// otherwise resumed).
        #[arg(long)]
        force: bool,
        /// Do not draw plots at the end.
        #[arg(long)]
        no_plot: bool,
        /// Train only shard I of N (I from 0 to N-1) into <out>/shards/I-of-N/;
        /// `auto` reads I and N from a Slurm job array or a Kubernetes Indexed
        /// Job. Combine the shards with `sweep merge <out>`.
        #[arg(long, value_name = "I/N|auto")]
        shard: Option<ShardArg>,
        /// N for --shard auto (default: $SWEEP_SHARD_COUNT, else the Slurm array's size).
        #[arg(long, value_name = "N", requires = "shard")]
        shard_count: Option<usize>,
    },
    /// Combine the shards in DIR/shards/ (all N of one experiment, complete)
    /// into DIR's runs.jsonl, summary.json, summary.csv, manifest and plots.
    Merge {
        /// The sweep's results folder (the --out the shards ran with).
        dir: PathBuf,
        /// Replace results of another experiment found in DIR itself.
        #[arg(long)]
        force: bool,
        /// Do not draw plots.
        #[arg(long)]
        no_plot: bool,
    },
    /// Check an experiment file and print its grid; trains nothing.
    Validate {
        /// The experiment file (TOML).
        file: PathBuf,
        /// Override a field, as for `run`.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Draw the plots of a results folder (or of every results folder inside PATH).
    Plot {
        /// A results folder, or a folder of them (e.g. results/).
        path: PathBuf,
        /// Image format.
        #[arg(long, value_enum, default_value_t = netsweep::plot::Format::Png)]
        format: netsweep::plot::Format,
        /// Axis of the heatmap columns and of the rate plots' x axis (default: lr).
        #[arg(long, value_name = "AXIS")]
        x: Option<String>,
        /// Axis of the heatmap rows (default: the next varying numeric axis, l2 first).
        #[arg(long, value_name = "AXIS")]
        y: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { file, out, threads, set, quiet, force, no_plot, shard, shard_count } => (|| {
            let plan = sweep::load_plan(&file, &set)?;
            let out = out.unwrap_or_else(|| PathBuf::from("results").join(&plan.name));
            let shard = match (shard, shard_count) {
                (None, _) => None,
                (Some(ShardArg::Fixed(s)), Some(n)) if n != s.count => {
                    return Err(SweepError::Config(format!("--shard-count {n} disagrees with --shard {s}")))
                }
                (Some(ShardArg::Fixed(s)), _) => Some(s),
                (Some(ShardArg::Auto), n) => Some(shard::from_env(|k| std::env::var(k).ok(), n)?),
            };
            if !quiet {
                eprintln!("{}", report::describe(&plan));
                if let Some(s) = shard {
                    let mine = shard::chunks_of(&plan.chunks(), s);
                    let runs: usize = mine.iter().map(|c| c.end - c.start).sum();
                    eprintln!("shard {s}: {runs} runs in {} chunks, into {}", mine.len(), s.dir(&out).display());
                }
            }
            let opts = sweep::RunOptions {
                out: out.clone(),
                threads,
                force,
                quiet,
                experiment_file: file.display().to_string(),
            };
            install_signal_handler();
            let stop = Some(&STOP);
            match shard {
                Some(s) => {
                    let r = runner::run_shard(&plan, &opts, s, stop).map_err(with_resume_hint)?;
                    println!("{}", shard_finished(&r, s, &out));
                }
                None => {
                    let result = runner::run_stoppable(&plan, &opts, stop).map_err(with_resume_hint)?;
                    let plots = if no_plot { None } else { Some(netsweep::plot::plot_dir(&out, &Default::default())?) };
                    println!("{}", report::final_table(&result.summary, 10));
                    println!("{}", report::finished(&result.manifest, &out, plots.as_ref()));
                }
            }
            Ok(())
        })(),
        Command::Merge { dir, force, no_plot } => (|| {
            let merged = sweep::merge::merge(&dir, force)?;
            let plots = if no_plot { None } else { Some(netsweep::plot::plot_dir(&dir, &Default::default())?) };
            println!("{}", report::final_table(&merged.summary, 10));
            let m = &merged.manifest;
            println!(
                "merged {} shards: {} runs × {} epochs\nwrote {}/{{manifest.json, runs.jsonl, summary.json, summary.csv}}",
                m.merged.as_ref().map_or(0, |x| x.shards),
                m.runs,
                m.epochs,
                dir.display()
            );
            if let Some(n) = plots {
                println!("wrote {n} plots to {}", dir.join("plots").display());
            }
            Ok(())
        })(),
        Command::Validate { file, set } => {
            sweep::load_plan(&file, &set).map(|plan| println!("{}\nOK: nothing trained.", report::describe(&plan)))
        }
        Command::Plot { path, format, x, y } => {
            netsweep::plot::plot_path(&path, &netsweep::plot::PlotOptions { format, x, y }).map(|written| {
                for (dir, n) in written {
                    println!("{}: {n} plots in {}", dir.display(), dir.join("plots").display());
                }
            })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

fn exit_code(e: &SweepError) -> u8 {
    e.exit_code()
}

/// First SIGINT/SIGTERM/SIGHUP: stop handing out chunks, finish and save the
/// chunks in progress, exit 130. A second one: exit 130 at once (runs.jsonl
/// may end in a torn line, which a resume drops).
fn install_signal_handler() {
    let installed = ctrlc::set_handler(|| {
        if SIGNALS.fetch_add(1, Ordering::SeqCst) == 0 {
            STOP.store(true, Ordering::SeqCst);
            eprintln!(
                "\nsignal received: finishing the chunks in progress, then stopping (send it again to quit at once)"
            );
        } else {
            eprintln!("second signal: quitting now; run the same command again to resume");
            std::process::exit(130);
        }
    });
    if let Err(e) = installed {
        eprintln!("warning: cannot catch Ctrl-C/SIGTERM ({e}); an interrupted sweep can still be resumed");
    }
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
