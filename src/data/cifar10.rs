//! CIFAR-10, binary version: `data_batch_1.bin` .. `data_batch_5.bin`
//! (training) and `test_batch.bin` in one folder (the contents of
//! `cifar-10-batches-bin/`). Each record is one label byte (0..9) followed
//! by 3072 pixel bytes: 1024 red, 1024 green, 1024 blue, each plane row by
//! row. Pixels are returned raw (0..=255 as f32) in that channel-major order.

use super::{DataError, Dataset};
use ndarray::Array2;
use std::path::Path;

/// Pixels per image (3 channels of 32×32).
pub const PIXELS: usize = 3072;
/// Bytes per record: the label byte plus the pixels.
pub const RECORD: usize = PIXELS + 1;
/// Number of classes.
pub const CLASSES: usize = 10;
/// The five training batches.
pub const TRAIN_FILES: [&str; 5] =
    ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];
/// The test batch.
pub const TEST_FILE: &str = "test_batch.bin";

/// Loads (train, test) from `dir`: x has 3072 columns of 0..=255, y one
/// column with the class index.
pub fn load(dir: &Path) -> Result<(Dataset<f32>, Dataset<f32>), DataError> {
    let all: Vec<&str> = TRAIN_FILES.iter().copied().chain([TEST_FILE]).collect();
    if let Some(missing) = all.iter().find(|f| !dir.join(f).is_file()) {
        let expected = format!("{} in {}", all.join(", "), dir.display());
        return Err(DataError::MissingFile { path: dir.join(missing), expected });
    }
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for f in TRAIN_FILES {
        read_batch(&dir.join(f), &mut pixels, &mut labels)?;
    }
    let train = assemble(pixels, labels);
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    read_batch(&dir.join(TEST_FILE), &mut pixels, &mut labels)?;
    Ok((train, assemble(pixels, labels)))
}

/// Appends one batch file's pixels and labels (as f32) to the buffers.
pub fn read_batch(path: &Path, pixels: &mut Vec<f32>, labels: &mut Vec<f32>) -> Result<(), DataError> {
    super::error::check_regular(path)?;
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, &e))?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut &file, &mut bytes).map_err(|e| DataError::io(path, &e))?;
    if bytes.is_empty() {
        return Err(DataError::Empty { path: path.into() });
    }
    if bytes.len() % RECORD != 0 {
        return Err(DataError::CifarRecordSize { path: path.into(), len: bytes.len() as u64, record: RECORD as u64 });
    }
    for (record, r) in bytes.chunks_exact(RECORD).enumerate() {
        if r[0] as usize >= CLASSES {
            return Err(DataError::LabelOutOfRange { path: path.into(), record, label: r[0] as i64, classes: CLASSES });
        }
        labels.push(f32::from(r[0]));
        pixels.extend(r[1..].iter().map(|&p| f32::from(p)));
    }
    Ok(())
}

fn assemble(pixels: Vec<f32>, labels: Vec<f32>) -> Dataset<f32> {
    let n = labels.len();
    let x = Array2::from_shape_vec((n, PIXELS), pixels).expect("whole records only");
    Dataset { x, y: Array2::from_shape_vec((n, 1), labels).expect("one label per record") }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record with the given label whose first pixel is `k` and pixel i (i > 0) is `i % 251`.
    fn record(label: u8, k: u8) -> Vec<u8> {
        let mut r = vec![label];
        r.extend((0..PIXELS).map(|i| if i == 0 { k } else { (i % 251) as u8 }));
        r
    }

    fn fixture() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        for (b, f) in TRAIN_FILES.iter().enumerate() {
            let b = b as u8;
            std::fs::write(t.path().join(f), [record(b, 2 * b), record(9 - b, 2 * b + 1)].concat()).unwrap();
        }
        std::fs::write(t.path().join(TEST_FILE), [record(3, 100), record(4, 101)].concat()).unwrap();
        t
    }

    #[test]
    fn reads_all_batches_in_order() {
        let t = fixture();
        let (train, test) = load(t.path()).unwrap();
        assert_eq!(train.x.dim(), (10, PIXELS));
        assert_eq!(train.y.column(0).to_vec(), vec![0.0, 9.0, 1.0, 8.0, 2.0, 7.0, 3.0, 6.0, 4.0, 5.0]);
        assert_eq!(train.x.column(0).to_vec(), (0..10).map(|k| k as f32).collect::<Vec<_>>());
        assert_eq!(train.x[[3, PIXELS - 1]], ((PIXELS - 1) % 251) as f32);
        assert_eq!(test.y.column(0).to_vec(), vec![3.0, 4.0]);
        assert_eq!(test.x.column(0).to_vec(), vec![100.0, 101.0]);
    }

    #[test]
    fn wrong_record_size() {
        let t = fixture();
        let p = t.path().join(TRAIN_FILES[2]);
        std::fs::write(&p, [record(1, 0), vec![0; 10]].concat()).unwrap();
        let e = load(t.path()).unwrap_err();
        assert_eq!(e, DataError::CifarRecordSize { path: p.clone(), len: RECORD as u64 + 10, record: RECORD as u64 });
        assert!(e.to_string().contains(&p.display().to_string()));
    }

    #[test]
    fn label_out_of_range() {
        let t = fixture();
        let p = t.path().join(TEST_FILE);
        std::fs::write(&p, [record(1, 0), record(10, 0)].concat()).unwrap();
        let e = load(t.path()).unwrap_err();
        assert!(matches!(e, DataError::LabelOutOfRange { record: 1, label: 10, classes: 10, .. }));
        assert!(e.to_string().contains(&p.display().to_string()));
    }

    #[test]
    fn missing_file_names_folder_and_all_six() {
        let t = fixture();
        std::fs::remove_file(t.path().join(TRAIN_FILES[4])).unwrap();
        let e = load(t.path()).unwrap_err();
        assert!(matches!(e, DataError::MissingFile { .. }));
        let msg = e.to_string();
        assert!(msg.contains(&t.path().join(TRAIN_FILES[4]).display().to_string()), "{msg}");
        assert!(TRAIN_FILES.iter().chain([&TEST_FILE]).all(|f| msg.contains(f)), "{msg}");
    }
}
