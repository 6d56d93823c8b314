//! Data sets and their checks: the course's XOR problem and its N-bit
//! generalisation (parity), plus the validation every array passes before a
//! network sees it (row counts, column counts, finite values, labels).
//!
//! A data set is loaded once and lent read-only (`ArrayView2`) to every run
//! that trains on it; nothing here is copied per run.

use crate::error::{Error, Result};
use crate::scalar::Real;
use ndarray::{Array2, ArrayView2};

#[cfg(feature = "datasets")]
pub mod cifar10;
#[cfg(feature = "datasets")]
pub mod csv_file;
#[cfg(feature = "datasets")]
pub mod digits;
pub mod error;
#[cfg(feature = "datasets")]
pub mod mnist;
pub mod prepare;

pub use error::DataError;

/// A supervised data set: features x (rows = samples) and targets y.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<F> {
    /// Features, one row per sample.
    pub x: Array2<F>,
    /// Targets: ±1 values (regression) or one column of class indices.
    pub y: Array2<F>,
}

/// The course's XOR data: x in {±1}², y = 1 when both inputs agree
/// (`x = [[-1,-1],[-1,1],[1,-1],[1,1]]`, `y = [[1],[-1],[-1],[1]]`).
pub fn xor<F: Real>() -> Dataset<F> {
    parity(2)
}

/// All 2^bits patterns in {±1}^bits, in binary counting order with -1 as 0;
/// target +1 when the number of -1 entries is even, -1 otherwise. For
/// `bits = 2` this is exactly the course's XOR table.
pub fn parity<F: Real>(bits: usize) -> Dataset<F> {
    let rows = 1usize << bits;
    let x =
        Array2::from_shape_fn((rows, bits), |(r, c)| if (r >> (bits - 1 - c)) & 1 == 1 { F::one() } else { -F::one() });
    let y = Array2::from_shape_fn((rows, 1), |(r, _)| {
        let negatives = bits - (r.count_ones() as usize);
        if negatives.is_multiple_of(2) {
            F::one()
        } else {
            -F::one()
        }
    });
    Dataset { x, y }
}

/// Checks a feature array: not empty, `dim` columns, every value finite.
pub fn check_features<F: Real>(what: &'static str, x: ArrayView2<F>, dim: usize) -> Result<()> {
    if x.nrows() == 0 {
        return Err(Error::Empty { what });
    }
    if x.ncols() != dim {
        return Err(Error::ColumnMismatch { what, expected: dim, got: x.ncols() });
    }
    check_finite(what, x)
}

/// Checks a target array: `cols` columns, finite, and for classification
/// (`classes = Some(c)`) integer labels in 0..c.
pub fn check_targets<F: Real>(what: &'static str, y: ArrayView2<F>, cols: usize, classes: Option<usize>) -> Result<()> {
    if y.ncols() != cols {
        return Err(Error::ColumnMismatch { what, expected: cols, got: y.ncols() });
    }
    check_finite(what, y)?;
    if let Some(c) = classes {
        for ((row, _), &v) in y.indexed_iter() {
            let f = v.to_f64().unwrap_or(f64::NAN);
            if f.fract() != 0.0 || f < 0.0 || f >= c as f64 {
                return Err(Error::BadLabel { what, row, value: f, classes: c });
            }
        }
    }
    Ok(())
}

fn check_finite<F: Real>(what: &'static str, a: ArrayView2<F>) -> Result<()> {
    // Fast vectorisable scan first; the slow indexed search only when something is wrong.
    let all_finite = match a.as_slice() {
        Some(s) => s.iter().fold(true, |ok, v| ok & v.is_finite()),
        None => a.iter().all(|v| v.is_finite()),
    };
    if all_finite {
        return Ok(());
    }
    match a.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some(((row, col), v)) => Err(Error::NonFinite { what, row, col, value: v.to_f64().unwrap_or(f64::NAN) }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn xor_is_the_course_table() {
        let d = xor::<f32>();
        assert_eq!(d.x, array![[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]);
        assert_eq!(d.y, array![[1.0], [-1.0], [-1.0], [1.0]]);
    }

    #[test]
    fn parity_has_every_pattern_once_with_its_label() {
        for bits in 2..=6 {
            let d = parity::<f64>(bits);
            assert_eq!(d.x.nrows(), 1 << bits);
            let mut seen = std::collections::HashSet::new();
            for (row, y) in d.x.rows().into_iter().zip(d.y.iter()) {
                let key: Vec<i8> = row.iter().map(|&v| v as i8).collect();
                assert!(row.iter().all(|&v| v == 1.0 || v == -1.0));
                let product: f64 = row.iter().product();
                // even number of -1 ⇔ product +1 for every N
                assert_eq!(*y, product, "bits {bits} row {key:?}");
                assert!(seen.insert(key));
            }
        }
    }

    #[test]
    fn checks_name_the_problem() {
        let x = array![[1.0f32, f32::NAN]];
        let e = check_features("training data", x.view(), 2).unwrap_err();
        assert_eq!(e.to_string(), "training data holds a non-finite value (NaN) at row 0, column 1");
        let e = check_targets("test data", array![[0.0f32], [2.5]].view(), 1, Some(3)).unwrap_err();
        assert!(e.to_string().contains("row 1 holds label 2.5"));
    }
}
