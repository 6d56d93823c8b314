//! Errors of the sweep pipeline, split by who has to act: a bad experiment
//! file, argument or data set (exit code 2, nothing written), or a failure
//! while running (exit code 1).

use std::path::PathBuf;
use thiserror::Error;

/// Errors of `sweep run`, `sweep validate` and `sweep plot`.
#[derive(Debug, Error)]
pub enum SweepError {
    /// The experiment file or an override is invalid.
    #[error("{0}")]
    Config(String),
    /// A data set could not be loaded.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// The output folder cannot be used.
    #[error("output folder {}: {msg}", path.display())]
    Output {
        /// The folder.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// A results folder cannot be read.
    #[error("{}: {msg}", path.display())]
    Results {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// Reading or writing failed while running.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Training failed unexpectedly.
    #[error("training failed: {0}")]
    Train(#[from] crate::Error),
    /// Part of a command's work failed, as reported above it (exit code 1).
    #[error("{0}")]
    Failed(String),
    /// The run was interrupted.
    #[error("{0}")]
    Interrupted(String),
    /// A signal (SIGINT, SIGTERM, SIGHUP) stopped the run cleanly: what is
    /// done is saved and the folder can be resumed (exit code 130).
    #[error("{0}")]
    Stopped(String),
}

impl SweepError {
    /// Exit code: 2 for bad input (file, arguments, data, output folder), 1
    /// for failures while running, 130 (128 + SIGINT) when a signal stopped
    /// the run (whichever signal it was: the handler cannot tell them apart).
    pub fn exit_code(&self) -> u8 {
        match self {
            SweepError::Stopped(_) => 130,
            SweepError::Config(_) | SweepError::Data(_) | SweepError::Output { .. } | SweepError::Results { .. } => 2,
            SweepError::Io { .. } | SweepError::Train(_) | SweepError::Interrupted(_) | SweepError::Failed(_) => 1,
        }
    }

    /// An I/O error at `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SweepError::Io { path: path.into(), source }
    }
}
