//! `sweep`: the command line of netsweep. Parses arguments (clap) and calls
//! one library function per subcommand ([`netsweep::cli`]); `main` alone
//! maps errors to exit codes (0 done, 2 bad file/arguments/data, 1 failure
//! while running, 130 stopped by SIGINT/SIGTERM/SIGHUP, folder resumable).

use clap::{Parser, Subcommand};
use netsweep::cli::{self, RunArgs};
use netsweep::plot::{Format, PlotOptions};
use netsweep::sweep::compare::CompareOptions;
use netsweep::sweep::shard::ShardArg;
use std::path::PathBuf;
use std::process::ExitCode;

/// Examples at the end of `sweep --help`.
const EXAMPLES: &str = "Examples:
  sweep validate experiments/xor_grid.toml               check a file, print its grid and its cost
  sweep run experiments/xor_grid.toml -j 8               train it on 8 threads into results/xor_grid/
  sweep run experiments/xor_grid.toml --set seeds=200    grow a complete 100-seed folder to 200 seeds
  sweep compare results/xor_grid --along l2              paired comparisons, seed by seed
  sweep plot results/xor_grid --at l2=0.01,l1=0          figures and the report page at another slice
  sweep completions bash > /etc/bash_completion.d/sweep  shell completions";

#[derive(Parser)]
#[command(
    name = "sweep",
    version = env!("NETSWEEP_VERSION_LINE"),
    about = "Train grids of seeded small networks in parallel and measure how often and how fast they converge.",
    after_long_help = EXAMPLES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train every run of an experiment file and write results/NAME/.
    Run {
        /// The experiment file (TOML).
        file: PathBuf,
        /// Results folder (default: results/NAME).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads (default: $RAYON_NUM_THREADS, else one per core).
        #[arg(long, short = 'j', default_value_t = 0)]
        threads: usize,
        /// Override a field: --set seeds=10 --set grid.lr=[0.1,0.3].
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// No progress output.
        #[arg(long, short)]
        quiet: bool,
        /// Start over: replace another experiment's results, or earlier results of this one (else resumed).
        #[arg(long)]
        force: bool,
        /// Do not draw plots at the end.
        #[arg(long)]
        no_plot: bool,
        /// Train only shard I of N into OUT/shards/I-of-N/ (`auto`: from Slurm or a Kubernetes Indexed Job).
        #[arg(long, value_name = "I/N|auto")]
        shard: Option<ShardArg>,
        /// N for --shard auto (default: $SWEEP_SHARD_COUNT, else the Slurm array's size).
        #[arg(long, value_name = "N", requires = "shard")]
        shard_count: Option<usize>,
    },
    /// Combine the shards in DIR/shards/ (all N, complete) into DIR's files and plots.
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
    /// Paired comparisons along one axis: each value against a baseline, seed by seed.
    Compare {
        /// A complete results folder.
        dir: PathBuf,
        /// The axis to compare along (lr, l2, optimizer, …; not one that changes the initial weights).
        #[arg(long, value_name = "AXIS")]
        along: String,
        /// The value every other one is compared with (default: the axis' first value).
        #[arg(long, value_name = "VALUE")]
        baseline: Option<String>,
        /// Image format of the figure.
        #[arg(long, default_value = "png", value_parser = format_parser())]
        format: Format,
        /// Do not draw the figure.
        #[arg(long)]
        no_plot: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
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
        #[arg(long, default_value = "png", value_parser = format_parser())]
        format: Format,
        /// Axis of the heatmap columns and of the rate plots' x axis (default: lr).
        #[arg(long, value_name = "AXIS")]
        x: Option<String>,
        /// Axis of the heatmap rows (default: the next varying numeric axis, l2 first).
        #[arg(long, value_name = "AXIS")]
        y: Option<String>,
        /// The slice of the learning curves and time to converge, e.g. l2=0.01,l1=0 (default: the best point's).
        #[arg(long, value_name = "AXIS=VALUE,…")]
        at: Option<String>,
    },
}

/// `l2=0.01,l1=0` as (axis, value) pairs.
fn parse_at(s: &str) -> Result<Vec<(String, String)>, String> {
    s.split(',')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(format!("`{pair}` is not AXIS=VALUE (e.g. --at l2=0.01,l1=0)")),
        })
        .collect()
}

/// `--format png|svg`: the library's plot formats, listed for `--help` and completions.
fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Format::ALL.map(|f| f.ext()))
        .map(|name: String| Format::from_ext(&name).unwrap_or_default())
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Run { file, out, threads, set, quiet, force, no_plot, shard, shard_count } => {
            cli::run(RunArgs { file, out, threads, set, quiet, force, no_plot, shard, shard_count })
        }
        Command::Merge { dir, force, no_plot } => cli::merge(&dir, force, no_plot),
        Command::Compare { dir, along, baseline, format, no_plot } => {
            cli::compare(&dir, &CompareOptions { along, baseline }, format, no_plot)
        }
        Command::Validate { file, set } => cli::validate(&file, &set),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "sweep", &mut script);
            netsweep::say!("{}", String::from_utf8_lossy(&script).trim_end());
            Ok(())
        }
        Command::Plot { path, format, x, y, at } => match at.as_deref().map(parse_at).transpose() {
            Ok(at) => cli::plot(&path, &PlotOptions { format, x, y, at: at.unwrap_or_default() }),
            Err(msg) => Err(netsweep::sweep::SweepError::Config(format!("--at: {msg}"))),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            netsweep::tell!("error: {}", netsweep::console::clip(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
    }
}
