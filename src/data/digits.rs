//! The 8×8 UCI optical-recognition digits (1,797 samples, 64 pixels of
//! 0..=16 each, ten classes), shipped in the repository
//! (`data/digits/digits.u8.gz`, 46 KB; source and CC BY 4.0 attribution in
//! `data/digits/README.md`) so no download is needed. Values are returned
//! raw; scale them with [`prepare::scale`](super::prepare::scale).

use super::{DataError, Dataset};
use flate2::read::GzDecoder;
use ndarray::Array2;
use std::io::Read;
use std::path::PathBuf;

/// Number of classes (digits 0..9).
pub const CLASSES: usize = 10;
/// Number of images.
pub const SAMPLES: usize = 1797;
/// Pixels per image (8×8).
pub const PIXELS: usize = 64;

/// The compressed records: per image 64 pixel bytes, then the digit.
const GZ: &[u8] = include_bytes!("../../data/digits/digits.u8.gz");

/// Loads the digits: x is 1797×64 with raw pixel values 0..=16, y is
/// 1797×1 holding the digit (0.0..=9.0).
pub fn load() -> Result<Dataset<f32>, DataError> {
    let path = PathBuf::from("data/digits/digits.u8.gz (built in)");
    let bytes = raw().map_err(|e| DataError::io(&path, &e))?;
    let record = PIXELS + 1;
    if bytes.len() != SAMPLES * record {
        return Err(DataError::CountMismatch { path, images: bytes.len() / record, labels: SAMPLES });
    }
    let mut x = Vec::with_capacity(SAMPLES * PIXELS);
    let mut y = Vec::with_capacity(SAMPLES);
    for (i, r) in bytes.chunks_exact(record).enumerate() {
        let label = r[PIXELS];
        if usize::from(label) >= CLASSES {
            return Err(DataError::LabelOutOfRange { path, record: i, label: i64::from(label), classes: CLASSES });
        }
        x.extend(r[..PIXELS].iter().map(|&v| f32::from(v)));
        y.push(f32::from(label));
    }
    let x = Array2::from_shape_vec((SAMPLES, PIXELS), x).expect("length checked above");
    let y = Array2::from_shape_vec((SAMPLES, 1), y).expect("length checked above");
    Ok(Dataset { x, y })
}

/// The uncompressed records.
fn raw() -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(SAMPLES * (PIXELS + 1));
    GzDecoder::new(GZ).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn the_shipped_file_is_the_one_its_readme_names() {
        let bytes = raw().unwrap();
        assert_eq!(bytes.len(), 116_805);
        let hex: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "68aea062d35a127749050fa0e52dca09d6569ac08092c925610e0954e172dde2");
    }

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
        // The first image, a 0, row by row (scikit-learn's load_digits()[0]).
        let first: Vec<f32> = d.x.row(0).iter().take(16).cloned().collect();
        assert_eq!(first, [0., 0., 5., 13., 9., 1., 0., 0., 0., 0., 13., 15., 10., 15., 5., 0.]);
        assert_eq!(d.y[[0, 0]], 0.0);
    }
}
