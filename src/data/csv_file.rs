//! A CSV table as a classification data set: a header row names the
//! columns; the `label` column holds non-negative integer class indices
//! (`3` or `3.0`; labels are not remapped, so classes are 0..=max label);
//! every other column is a numeric feature, in header order. Cells are
//! trimmed of surrounding whitespace; a feature must parse as a finite f32.

use super::{DataError, Dataset};
use ndarray::Array2;
use std::path::Path;

/// Largest label accepted: every integer up to 2^24 is exact in f32.
const MAX_LABEL: f64 = 16_777_216.0;

/// Loads `path`, taking class indices from the column named `label` and
/// features from all other columns.
pub fn load(path: &Path, label: &str) -> Result<Dataset<f32>, DataError> {
    super::error::check_regular(path)?;
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            DataError::MissingFile { path: path.into(), expected: format!("a CSV file with a {label:?} column") }
        }
        _ => DataError::io(path, &e),
    })?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).trim(csv::Trim::All).from_reader(file);
    let csv_err = |e: csv::Error| DataError::Io { path: path.into(), message: e.to_string() };
    let header = reader.headers().map_err(csv_err)?.clone();
    if header.is_empty() {
        return Err(DataError::Empty { path: path.into() });
    }
    let Some(label_col) = header.iter().position(|h| h == label) else {
        let available = header.iter().collect::<Vec<_>>().join(", ");
        return Err(DataError::MissingColumn { path: path.into(), column: label.into(), available });
    };
    if header.len() < 2 {
        return Err(DataError::Io {
            path: path.into(),
            message: format!(
                "holds only the label column {label:?}: a network needs at least one feature column besides it"
            ),
        });
    }
    let (mut x, mut y, mut rows) = (Vec::new(), Vec::new(), 0);
    for rec in reader.records() {
        let rec = rec.map_err(csv_err)?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        if rec.len() != header.len() {
            return Err(DataError::RaggedCsv { path: path.into(), line, expected: header.len(), got: rec.len() });
        }
        for (col, cell) in rec.iter().enumerate() {
            if col == label_col {
                match cell.parse::<f64>() {
                    Ok(v) if v.fract() == 0.0 && (0.0..=MAX_LABEL).contains(&v) => y.push(v as f32),
                    _ => return Err(DataError::BadLabel { path: path.into(), line, value: cell.into() }),
                }
            } else {
                match cell.parse::<f32>() {
                    Ok(v) if v.is_finite() => x.push(v),
                    _ => {
                        let column = header[col].to_string();
                        return Err(DataError::NonNumeric { path: path.into(), line, column, value: cell.into() });
                    }
                }
            }
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(DataError::Empty { path: path.into() });
    }
    let x = Array2::from_shape_vec((rows, header.len() - 1), x).expect("row lengths checked");
    Ok(Dataset { x, y: Array2::from_shape_vec((rows, 1), y).expect("one label per row") })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("table.csv");
        std::fs::write(&p, text).unwrap();
        (t, p)
    }

    fn err(text: &str, label: &str) -> DataError {
        let (_t, p) = write(text);
        let e = load(&p, label).unwrap_err();
        assert!(e.to_string().contains(&p.display().to_string()), "{e}");
        e
    }

    #[test]
    fn reads_features_and_labels() {
        let (_t, p) = write("a,class,b\n1.5,0,2\n-3, 2 ,4e1\n0,1.0,0\n");
        let d = load(&p, "class").unwrap();
        assert_eq!(d.x, array![[1.5f32, 2.0], [-3.0, 40.0], [0.0, 0.0]]);
        assert_eq!(d.y, array![[0.0f32], [2.0], [1.0]]);
    }

    #[test]
    fn missing_file() {
        let t = tempfile::tempdir().unwrap();
        let e = load(&t.path().join("nope.csv"), "y").unwrap_err();
        assert!(matches!(e, DataError::MissingFile { .. }));
        assert!(e.to_string().contains("nope.csv"));
    }

    #[test]
    fn missing_label_column_lists_available() {
        let e = err("a,b\n1,2\n", "label");
        assert!(matches!(e, DataError::MissingColumn { .. }));
        assert!(e.to_string().ends_with("available columns: a, b"), "{e}");
    }

    #[test]
    fn ragged_row_reports_line_and_counts() {
        let e = err("a,y\n1,0\n2\n", "y");
        assert!(matches!(e, DataError::RaggedCsv { line: 3, expected: 2, got: 1, .. }), "{e:?}");
    }

    #[test]
    fn non_numeric_cell_reports_line_column_value() {
        let e = err("a,y,b\n1,0,2\n3,1,x7\n", "y");
        assert!(matches!(&e, DataError::NonNumeric { line: 3, column, value, .. } if column == "b" && value == "x7"));
    }

    #[test]
    fn bad_labels_rejected() {
        for bad in ["-1", "1.5", "cat"] {
            let e = err(&format!("a,y\n1,{bad}\n"), "y");
            assert!(matches!(&e, DataError::BadLabel { line: 2, value, .. } if value == bad), "{e:?}");
        }
    }

    #[test]
    fn empty_file_and_header_only() {
        assert!(matches!(err("", "y"), DataError::Empty { .. }));
        assert!(matches!(err("a,y\n", "y"), DataError::Empty { .. }));
    }
}
