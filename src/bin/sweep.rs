//! `sweep`: the command line of netsweep. Parses arguments (clap) and calls
//! one library function per subcommand; `main` alone maps errors to exit
//! codes (0 done, 2 bad file/arguments/data, 1 failure while running).

use clap::{Parser, Subcommand};
use netsweep::sweep::{self, report, SweepError};
use std::path::PathBuf;
use std::process::ExitCode;

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
        /// Replace a results folder that holds another experiment's results.
        #[arg(long)]
        force: bool,
        /// Do not draw plots at the end.
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
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run { file, out, threads, set, quiet, force, no_plot } => (|| {
            let plan = sweep::load_plan(&file, &set)?;
            let out = out.unwrap_or_else(|| PathBuf::from("results").join(&plan.name));
            if !quiet {
                eprintln!("{}", report::describe(&plan));
            }
            let opts = sweep::RunOptions {
                out: out.clone(),
                threads,
                force,
                quiet,
                experiment_file: file.display().to_string(),
            };
            let result = sweep::run(&plan, &opts)?;
            let plots = if no_plot { None } else { Some(netsweep::plot::plot_dir(&out, netsweep::plot::Format::Png)?) };
            println!("{}", report::final_table(&result.summary, 10));
            println!("{}", report::finished(&result.manifest, &out, plots.as_ref()));
            Ok(())
        })(),
        Command::Validate { file, set } => {
            sweep::load_plan(&file, &set).map(|plan| println!("{}\nOK: nothing trained.", report::describe(&plan)))
        }
        Command::Plot { path, format } => netsweep::plot::plot_path(&path, format).map(|written| {
            for (dir, n) in written {
                println!("{}: {n} plots in {}", dir.display(), dir.join("plots").display());
            }
        }),
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
