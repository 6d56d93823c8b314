//! Plots of a results folder: convergence-rate heatmaps, rate against
//! learning rate, learning curves, time to converge and decision
//! boundaries, written to `plots/` as PNG or SVG with an `index.html`.
//!
//! Every figure is drawn by plotters with an embedded font (no system fonts
//! needed), from `summary.json` and, for decision boundaries, the manifest
//! and the few lines of `runs.jsonl` that hold final weights. Figures are
//! drawn in parallel and each file appears atomically (temp file, rename).

mod axis;
mod boundary;
pub mod compare;
mod curves;
mod ecdf;
mod heatmap;
mod index;
mod layout;
mod load;
mod outcomes;
mod rate;
mod style;
mod text;
mod theme;
mod view;

use crate::sweep::lock::{with_lock, FolderLock};
use crate::sweep::output::{
    remove_listed_plots, remove_stale_temps_of, write_atomic, write_json, written_plots, PLOTS_INDEX, PLOTS_WRITTEN,
};
use crate::sweep::SweepError;
use image::ImageEncoder;
pub use load::too_large;
use load::Results;
use plotters::prelude::*;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use style::{Area, PResult};

/// Image format of the plots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// PNG (bitmap).
    #[default]
    Png,
    /// SVG (vector).
    Svg,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 2] = [Format::Png, Format::Svg];

    /// The format whose extension (`png`, `svg`) is `name`.
    pub fn from_ext(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.ext() == name)
    }

    /// File extension.
    pub fn ext(&self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }
}

pub use crate::sweep::output::PLOTS;

/// How to plot: the image format and the axes of the figures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlotOptions {
    /// Image format.
    pub format: Format,
    /// Heatmap columns and the x axis of rate plots (default: lr).
    pub x: Option<String>,
    /// Heatmap rows (default: the next varying numeric axis, l2 first).
    pub y: Option<String>,
    /// The slice of the learning-curve and time-to-converge figures, as
    /// (axis, value) pairs (default: through the best point).
    pub at: Vec<(String, String)>,
}

/// One picture: its file stem, size, what the index page says about it, and what to draw.
pub(crate) struct Figure {
    /// File name without extension.
    pub stem: String,
    /// Heading on the index page.
    pub heading: String,
    /// One line on what it shows and how to read it.
    pub caption: String,
    /// Pixels.
    pub size: (u32, u32),
    /// The drawing.
    pub kind: Kind,
}

/// What a figure draws.
pub(crate) enum Kind {
    Heatmap(heatmap::Heatmap),
    Rate(rate::RateVsLr),
    Curves(curves::Curves),
    Ecdf(ecdf::TimeToConverge),
    Boundary(boundary::Boundaries),
    Outcomes(outcomes::Outcomes),
}

fn draw<DB: DrawingBackend>(root: &Area<DB>, fig: &Figure, r: &Results) -> PResult {
    match &fig.kind {
        Kind::Heatmap(h) => h.draw(root, r),
        Kind::Rate(x) => x.draw(root, r),
        Kind::Curves(c) => c.draw(root, r),
        Kind::Ecdf(e) => e.draw(root, r),
        Kind::Boundary(b) => b.draw(root, r),
        Kind::Outcomes(o) => o.draw(root, r),
    }
}

/// Every figure of a results folder, in index order.
fn figures(r: &Results, format: Format) -> Result<Vec<Figure>, SweepError> {
    let mut v = heatmap::figures(r);
    v.extend(rate::figures(r));
    v.push(curves::figure(r));
    v.push(ecdf::figure(r));
    v.extend(outcomes::figure(r));
    v.extend(boundary::figure(r, format)?);
    Ok(v)
}

/// A figure that could not be drawn or encoded, in one human line (the
/// files themselves are written by [`write_atomic`], whose errors name the
/// file and the OS error).
fn draw_error(path: &Path, e: impl std::fmt::Display) -> SweepError {
    let why = console_line(&e.to_string());
    SweepError::io(path, std::io::Error::other(format!("could not draw the figure: {why}")))
}

/// The first line of a message, cut to 200 characters.
fn console_line(text: &str) -> String {
    text.lines().next().unwrap_or("").chars().take(200).collect()
}

/// Draws one figure to `plots/<stem>.<ext>` through a temporary file and a rename.
fn render(plots: &Path, fig: &Figure, r: &Results, format: Format) -> Result<PathBuf, SweepError> {
    let path = plots.join(format!("{}.{}", fig.stem, format.ext()));
    struct Of<'a>(&'a Figure, &'a Results);
    impl Drawing for Of<'_> {
        fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> PResult {
            draw(root, self.0, self.1)
        }
    }
    render_file(&path, fig.size, format, &Of(fig, r))?;
    Ok(path)
}

/// What a figure file shows.
pub(crate) trait Drawing {
    /// Draws it on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> PResult;
}

/// Draws `what` (`size` pixels) to `path` in `format`, through a temporary
/// file and a rename.
pub(crate) fn render_file(
    path: &Path,
    size: (u32, u32),
    format: Format,
    what: &impl Drawing,
) -> Result<(), SweepError> {
    match format {
        Format::Png => {
            // Drawn in memory and encoded as plotters' own `present` encodes
            // a file (image's PNG encoder, its defaults), but written by us:
            // through a temporary created afresh, never through a link.
            let mut pixels = vec![0u8; 3 * size.0 as usize * size.1 as usize];
            {
                let root = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
                what.draw(&root).map_err(|e| draw_error(path, e.0))?;
                root.present().map_err(|e| draw_error(path, e))?;
            }
            let mut png = Vec::new();
            image::codecs::png::PngEncoder::new(&mut png)
                .write_image(&pixels, size.0, size.1, image::ColorType::Rgb8)
                .map_err(|e| draw_error(path, e))?;
            write_atomic(path, &png)
        }
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                what.draw(&root).map_err(|e| draw_error(path, e.0))?;
                root.present().map_err(|e| draw_error(path, e))?;
            }
            write_atomic(path, svg.as_bytes())
        }
    }
}

/// Draws the plots of one results folder; returns how many files were written.
pub fn plot_dir(dir: &Path, opts: &PlotOptions) -> Result<usize, SweepError> {
    let format = opts.format;
    let choice = view::Choice { x: opts.x.clone(), y: opts.y.clone(), at: opts.at.clone() };
    // The lock first: a folder a sweep is writing says so, not "no summary".
    if !dir.is_dir() {
        return Results::load(dir, &choice).map(|_| 0);
    }
    with_lock(dir, "sweep plot", |lock| draw_all(dir, &choice, format, lock))
}

/// [`plot_dir`] once the folder is locked.
fn draw_all(dir: &Path, choice: &view::Choice, format: Format, lock: &mut FolderLock) -> Result<usize, SweepError> {
    // Figures are written and deleted in plots/ itself, not through a link.
    crate::sweep::output::refuse_links(dir, &[PLOTS], "")?;
    let plots = dir.join(PLOTS);
    if plots.exists() && !plots.is_dir() {
        return Err(SweepError::Output {
            path: dir.to_path_buf(),
            msg: format!("{PLOTS} is not a folder: netsweep draws its figures in {PLOTS}/; move that file away"),
        });
    }
    let results = Results::load(dir, choice)?;
    style::register_font().map_err(|msg| SweepError::Results { path: dir.to_path_buf(), msg })?;
    let figs = figures(&results, format)?;
    // Past every refusal: others who find the folder locked are told it is us.
    lock.announce()?;
    std::fs::create_dir_all(&plots).map_err(|e| SweepError::io(&plots, e))?;
    // Every file this plotting may write is listed before it is written (so a
    // failure half-way leaves no figure unlisted); once all are written, the
    // earlier ones not written again (another format, another view) go.
    let mut names: Vec<String> = figs.iter().map(|f| format!("{}.{}", f.stem, format.ext())).collect();
    names.push(PLOTS_INDEX.into());
    let mut both = written_plots(&plots);
    both.extend(names.iter().cloned());
    both.sort();
    both.dedup();
    write_json(&plots.join(PLOTS_WRITTEN), &both)?;
    // What a killed plotting left half-written (the lock is held: no one else writes here).
    both.push(PLOTS_WRITTEN.into());
    remove_stale_temps_of(&plots, &both);
    let written = figs.par_iter().map(|f| render(&plots, f, &results, format)).collect::<Result<Vec<_>, _>>()?;
    write_atomic(&plots.join(PLOTS_INDEX), index::html(&results, &figs, format).as_bytes())?;
    remove_listed_plots(&plots, &names)?;
    Ok(written.len())
}

/// What plotting each folder gave: its figure count, or why it failed.
pub type Plotted = Vec<(PathBuf, Result<usize, SweepError>)>;

/// Plots one results folder or every results folder inside `path`; a folder
/// that fails does not stop the others (each one's outcome is returned).
pub fn plot_path(path: &Path, opts: &PlotOptions) -> Result<Plotted, SweepError> {
    let err = |msg: &str| SweepError::Results { path: path.to_path_buf(), msg: msg.into() };
    if !path.exists() {
        return Err(err("no such folder"));
    }
    if !path.is_dir() {
        return Err(err("is not a folder (give a results folder, or a folder of them)"));
    }
    let ours = |f| path.join(f).exists();
    // A folder a sweep has just taken holds only its lock file for a moment:
    // it is still a results folder, and plotting it says who is writing it.
    let taken = ours(crate::sweep::lock::HOLDER);
    if ours(crate::sweep::output::SUMMARY) || ours(crate::sweep::output::MANIFEST) || taken {
        return Ok(vec![(path.to_path_buf(), plot_dir(path, opts))]);
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| SweepError::io(path, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.join(crate::sweep::output::SUMMARY).is_file())
        .collect();
    if dirs.is_empty() {
        return Err(err(
            "no summary.json: not a results folder, and no folder inside it is one (run `sweep run` first)",
        ));
    }
    dirs.sort();
    Ok(dirs.into_iter().map(|d| (d.clone(), plot_dir(&d, opts))).collect())
}
