//! Errors raised while loading and preparing data sets from disk (MNIST,
//! CIFAR-10, CSV) or from the bundled digits set. Every message names the
//! file (or the setting) at fault, what was found, and what was expected.
//! I/O errors are kept as text so the type stays `Clone + PartialEq`.

use std::path::PathBuf;

/// What went wrong while reading or preparing a data set.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DataError {
    /// A required file does not exist.
    #[error("{}: file not found; expected {expected}", .path.display())]
    MissingFile {
        /// The path that was looked for.
        path: PathBuf,
        /// The names of all files the loader expects.
        expected: String,
    },
    /// The file exists but could not be read (or decompressed).
    #[error("{}: cannot read: {message}", .path.display())]
    Io {
        /// The file being read.
        path: PathBuf,
        /// The operating system's (or decoder's) error text.
        message: String,
    },
    /// An IDX file starts with the wrong magic number.
    #[error("{}: wrong IDX magic number {got:#010x}, expected {expected:#010x} ({what})", .path.display())]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The magic number the format requires.
        expected: u32,
        /// The magic number found.
        got: u32,
        /// Which kind of file was expected ("images" or "labels").
        what: &'static str,
    },
    /// The file's length disagrees with what its header announces.
    #[error("{}: header promises {expected_bytes} bytes but the file holds {got_bytes}", .path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Length implied by the header (header included).
        expected_bytes: u64,
        /// Actual length (after decompression).
        got_bytes: u64,
    },
    /// A CIFAR-10 batch whose length is not a whole number of records.
    #[error("{}: length {len} bytes is not a multiple of the {record}-byte CIFAR-10 record", .path.display())]
    CifarRecordSize {
        /// The batch file.
        path: PathBuf,
        /// Its length in bytes.
        len: u64,
        /// The record size (1 label byte + 3072 pixels).
        record: u64,
    },
    /// A class label outside `0..classes`.
    #[error("{}: record {record} has label {label}, expected 0..{classes}", .path.display())]
    LabelOutOfRange {
        /// The file.
        path: PathBuf,
        /// Zero-based record (sample) index within the file.
        record: usize,
        /// The label found.
        label: i64,
        /// The number of classes.
        classes: usize,
    },
    /// A CSV label cell that is not a non-negative integer class index.
    #[error("{}: line {line}: label {value:?} is not a non-negative integer class index", .path.display())]
    BadLabel {
        /// The CSV file.
        path: PathBuf,
        /// One-based line number.
        line: usize,
        /// The cell's text.
        value: String,
    },
    /// A CSV row with a different number of fields than the header.
    #[error("{}: line {line} has {got} fields, expected {expected} (as in the header)", .path.display())]
    RaggedCsv {
        /// The CSV file.
        path: PathBuf,
        /// One-based line number.
        line: usize,
        /// Field count of the header.
        expected: usize,
        /// Field count of this row.
        got: usize,
    },
    /// A CSV feature cell that is not a finite number.
    #[error("{}: line {line}, column {column:?}: {value:?} is not a finite number", .path.display())]
    NonNumeric {
        /// The CSV file.
        path: PathBuf,
        /// One-based line number.
        line: usize,
        /// The column's header name.
        column: String,
        /// The cell's text.
        value: String,
    },
    /// The requested label column is not in the CSV header.
    #[error("{}: no column named {column:?}; available columns: {available}", .path.display())]
    MissingColumn {
        /// The CSV file.
        path: PathBuf,
        /// The requested column name.
        column: String,
        /// The header's column names, comma-separated.
        available: String,
    },
    /// Image and label files disagree on the number of samples.
    #[error("{}: holds {labels} labels but the matching images file holds {images} images", .path.display())]
    CountMismatch {
        /// The labels file (or data source).
        path: PathBuf,
        /// Number of images (feature rows).
        images: usize,
        /// Number of labels.
        labels: usize,
    },
    /// A train/test split that cannot be made.
    #[error("cannot split with test_fraction {test_fraction}: {reason}")]
    BadSplit {
        /// The requested fraction.
        test_fraction: f64,
        /// Why not.
        reason: String,
    },
    /// A file (or data source) that holds no samples.
    #[error("{}: holds no samples", .path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// Refuses a data path that is not a regular file (a device such as
/// /dev/zero, a pipe, a folder): reading one need not end, and opening a
/// pipe blocks, so this looks before opening. A missing file passes (the
/// open that follows names it).
pub fn check_regular(path: &std::path::Path) -> Result<(), DataError> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => {
            Err(DataError::io(path, &std::io::Error::other("not a regular file (a device, pipe or folder)")))
        }
        _ => Ok(()),
    }
}

impl DataError {
    /// Wraps an I/O error for `path`.
    pub fn io(path: impl Into<PathBuf>, e: &std::io::Error) -> Self {
        DataError::Io { path: path.into(), message: e.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_file_found_and_expected() {
        let e = DataError::BadMagic {
            path: "data/mnist/train-images-idx3-ubyte".into(),
            expected: 0x803,
            got: 0,
            what: "images",
        };
        assert_eq!(
            e.to_string(),
            "data/mnist/train-images-idx3-ubyte: wrong IDX magic number 0x00000000, expected 0x00000803 (images)"
        );
        let e = DataError::RaggedCsv { path: "a.csv".into(), line: 4, expected: 3, got: 2 };
        assert_eq!(e.to_string(), "a.csv: line 4 has 2 fields, expected 3 (as in the header)");
        let e = DataError::BadSplit { test_fraction: 1.5, reason: "must lie in (0, 1)".into() };
        assert_eq!(e.to_string(), "cannot split with test_fraction 1.5: must lie in (0, 1)");
    }

    #[test]
    fn io_errors_keep_their_text_and_compare() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let e = DataError::io("x.bin", &io);
        assert_eq!(e.clone(), e);
        assert_eq!(e.to_string(), "x.bin: cannot read: denied");
    }
}
