//! The 8×8 UCI optical-recognition digits (1,797 samples, 64 pixels of
//! 0..=16 each, ten classes), bundled with smartcore so no download is
//! needed. Values are returned raw; scale them with
//! [`prepare::scale`](super::prepare::scale).

use super::{DataError, Dataset};
use ndarray::Array2;
use std::path::PathBuf;

/// Number of classes (digits 0..9).
pub const CLASSES: usize = 10;

/// Loads the digits: x is 1797×64 with raw pixel values 0..=16, y is
/// 1797×1 holding the digit (0.0..=9.0).
pub fn load() -> Result<Dataset<f32>, DataError> {
    let raw = smartcore::dataset::digits::load_dataset();
    let path = PathBuf::from("smartcore digits");
    let (n, f) = (raw.num_samples, raw.num_features);
    if n == 0 {
        return Err(DataError::Empty { path });
    }
    if raw.data.len() != n * f || raw.target.len() != n {
        return Err(DataError::CountMismatch { path, images: raw.data.len() / f.max(1), labels: raw.target.len() });
    }
    if let Some((record, &label)) =
        raw.target.iter().enumerate().find(|(_, &t)| t.fract() != 0.0 || !(0.0..CLASSES as f32).contains(&t))
    {
        return Err(DataError::LabelOutOfRange { path, record, label: label as i64, classes: CLASSES });
    }
    let x = Array2::from_shape_vec((n, f), raw.data).expect("length checked above");
    let y = Array2::from_shape_vec((n, 1), raw.target).expect("length checked above");
    Ok(Dataset { x, y })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_have_the_uci_shape_range_and_class_counts() {
        let d = load().unwrap();
        assert_eq!(d.x.dim(), (1797, 64));
        assert_eq!(d.y.dim(), (1797, 1));
        assert!(d.x.iter().all(|&v| v.fract() == 0.0 && (0.0..=16.0).contains(&v)));
        assert_eq!(d.x.iter().cloned().fold(0.0f32, f32::max), 16.0);
        let mut counts = [0usize; CLASSES];
        for &c in d.y.iter() {
            counts[c as usize] += 1;
        }
        assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    }
}
