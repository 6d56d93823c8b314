//! Plots of a results folder (placeholder while the plotting module is written).
use crate::sweep::SweepError;
use std::path::{Path, PathBuf};

/// Image format of the plots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// PNG (bitmap).
    Png,
    /// SVG (vector).
    Svg,
}

/// Draws the plots of one results folder; returns how many files were written.
pub fn plot_dir(_dir: &Path, _format: Format) -> Result<usize, SweepError> {
    Ok(0)
}

/// Plots one results folder or every results folder inside `path`.
pub fn plot_path(path: &Path, format: Format) -> Result<Vec<(PathBuf, usize)>, SweepError> {
    Ok(vec![(path.to_path_buf(), plot_dir(path, format)?)])
}
