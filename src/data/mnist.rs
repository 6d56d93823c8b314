//! MNIST in its original IDX format: `train-images-idx3-ubyte`,
//! `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and
//! `t10k-labels-idx1-ubyte` in one folder, each plain or gzipped (`.gz`
//! suffix; the plain file wins when both exist). Pixels are returned raw
//! (0..=255 as f32), one flattened row of rows·cols values per image.

use super::{DataError, Dataset};
use flate2::read::GzDecoder;
use ndarray::Array2;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Magic number of an IDX image file (unsigned bytes, 3 dimensions).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX label file (unsigned bytes, 1 dimension).
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// Number of classes (digits 0..9).
pub const CLASSES: usize = 10;
/// The four files, in the order (train images, train labels, test images, test labels).
pub const FILES: [&str; 4] =
    ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

/// Loads (train, test) from `dir`; x has rows·cols columns of 0..=255,
/// y one column holding the digit.
pub fn load(dir: &Path) -> Result<(Dataset<f32>, Dataset<f32>), DataError> {
    let paths = FILES.map(|name| locate(dir, name));
    if let Some(missing) = paths.iter().position(Option::is_none) {
        let expected = format!("{} in {} (each plain or .gz)", FILES.join(", "), dir.display());
        return Err(DataError::MissingFile { path: dir.join(FILES[missing]), expected });
    }
    let paths = paths.map(Option::unwrap);
    Ok((pair(&paths[0], &paths[1])?, pair(&paths[2], &paths[3])?))
}

/// Reads an IDX image file (plain or gzipped by its `.gz` suffix): returns
/// (rows, cols, pixels), pixels holding count·rows·cols bytes image by image.
pub fn read_idx_images(path: &Path) -> Result<(usize, usize, Vec<u8>), DataError> {
    let (dims, bytes) = read_idx(path, IMAGES_MAGIC, "images", 3)?;
    Ok((dims[1] as usize, dims[2] as usize, bytes))
}

/// Reads an IDX label file (plain or gzipped): returns the labels, each
/// checked to be below [`CLASSES`].
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    let (_, bytes) = read_idx(path, LABELS_MAGIC, "labels", 1)?;
    if let Some(record) = bytes.iter().position(|&l| l as usize >= CLASSES) {
        return Err(DataError::LabelOutOfRange {
            path: path.into(),
            record,
            label: bytes[record] as i64,
            classes: CLASSES,
        });
    }
    Ok(bytes)
}

fn pair(images: &Path, labels: &Path) -> Result<Dataset<f32>, DataError> {
    let (rows, cols, pixels) = read_idx_images(images)?;
    let labels_v = read_idx_labels(labels)?;
    let n = pixels.len() / (rows * cols).max(1);
    if n != labels_v.len() {
        return Err(DataError::CountMismatch { path: labels.into(), images: n, labels: labels_v.len() });
    }
    if n == 0 {
        return Err(DataError::Empty { path: images.into() });
    }
    let x = Array2::from_shape_vec((n, rows * cols), pixels.into_iter().map(f32::from).collect());
    let y = Array2::from_shape_vec((n, 1), labels_v.into_iter().map(f32::from).collect());
    Ok(Dataset { x: x.expect("sizes checked"), y: y.expect("sizes checked") })
}

/// `dir/name` if it exists, else `dir/name.gz` if that exists.
fn locate(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.join(name), dir.join(format!("{name}.gz"))].into_iter().find(|p| p.is_file())
}

/// Largest IDX body read (the MNIST training images are 47 MB).
const MAX_IDX_BYTES: u64 = 1 << 30;

/// Reads an IDX file (plain, or gzipped by its `.gz` suffix): checks the
/// header first (magic, dimensions), then reads exactly the body it promises
/// (at most [`MAX_IDX_BYTES`], 1 GiB), so a bad header or a compressed bomb costs
/// nothing; a file that is not a regular file is refused. Returns the
/// dimensions and the body.
fn read_idx(path: &Path, magic: u32, what: &'static str, ndims: usize) -> Result<(Vec<u64>, Vec<u8>), DataError> {
    super::error::check_regular(path)?;
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DataError::MissingFile { path: path.into(), expected: "an IDX file".into() },
        _ => DataError::io(path, &e),
    })?;
    let meta = file.metadata().map_err(|e| DataError::io(path, &e))?;
    let gz = path.extension().is_some_and(|e| e == "gz");
    let mut reader: Box<dyn Read> = if gz { Box::new(GzDecoder::new(file)) } else { Box::new(file) };
    let head = 4 * (ndims + 1);
    let mut h = vec![0u8; head];
    let got = read_up_to(&mut reader, &mut h).map_err(|e| DataError::io(path, &e))?;
    let dims = header(path, &h[..got], magic, what, ndims)?;
    let body = dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d)).filter(|&b| b <= MAX_IDX_BYTES);
    let Some(body) = body else {
        return Err(DataError::io(
            path,
            &std::io::Error::other(format!(
                "the header promises {dims:?} = more than {MAX_IDX_BYTES} bytes of {what}: not an MNIST-sized IDX file"
            )),
        ));
    };
    let truncated =
        |got: u64| DataError::Truncated { path: path.into(), expected_bytes: body + head as u64, got_bytes: got };
    if !gz && meta.len() != body + head as u64 {
        return Err(truncated(meta.len()));
    }
    // One byte more than promised tells a longer file from an exact one; the
    // buffer grows with what arrives, so a short file costs what it holds.
    let mut out = Vec::new();
    reader.take(body + 1).read_to_end(&mut out).map_err(|e| DataError::io(path, &e))?;
    if out.len() as u64 != body {
        return Err(truncated(head as u64 + out.len() as u64));
    }
    Ok((dims, out))
}

/// Fills `buf` as far as the reader goes; returns how many bytes were read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Checks the magic number and reads the `ndims` big-endian dimensions of a header.
fn header(path: &Path, b: &[u8], magic: u32, what: &'static str, ndims: usize) -> Result<Vec<u64>, DataError> {
    let head = 4 * (ndims + 1);
    let word = |i: usize| u32::from_be_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
    let truncated =
        |expected_bytes| DataError::Truncated { path: path.into(), expected_bytes, got_bytes: b.len() as u64 };
    if b.len() < 4 {
        return Err(truncated(head as u64));
    }
    if word(0) != magic {
        return Err(DataError::BadMagic { path: path.into(), expected: magic, got: word(0), what });
    }
    if b.len() < head {
        return Err(truncated(head as u64));
    }
    Ok((1..=ndims).map(|i| word(i) as u64).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn images(n: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [IMAGES_MAGIC, n, rows, cols] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        v.extend_from_slice(pixels);
        v
    }

    fn labels(l: &[u8]) -> Vec<u8> {
        let mut v = LABELS_MAGIC.to_be_bytes().to_vec();
        v.extend_from_slice(&(l.len() as u32).to_be_bytes());
        v.extend_from_slice(l);
        v
    }

    fn gz(b: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    const PIX: [u8; 12] = [0, 1, 2, 3, 10, 20, 30, 40, 255, 254, 253, 252];

    /// A folder with 3 train images of 2×2 (plain) and 2 test images (gzipped).
    fn fixture() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join(FILES[0]), images(3, 2, 2, &PIX)).unwrap();
        std::fs::write(t.path().join(FILES[1]), labels(&[7, 0, 9])).unwrap();
        std::fs::write(t.path().join(format!("{}.gz", FILES[2])), gz(&images(2, 2, 2, &PIX[4..]))).unwrap();
        std::fs::write(t.path().join(format!("{}.gz", FILES[3])), gz(&labels(&[1, 2]))).unwrap();
        t
    }

    fn message_of(dir: &Path, file: &str, bytes: Vec<u8>) -> DataError {
        std::fs::write(dir.join(file), bytes).unwrap();
        let e = load(dir).unwrap_err();
        assert!(e.to_string().contains(&dir.join(file).display().to_string()), "{e}");
        e
    }

    #[test]
    fn a_bad_header_costs_nothing_however_large_the_file() {
        // 64 MB of zeros after a wrong magic number, gzipped to ~64 KB: refused at the header.
        let dir = tempfile::tempdir().unwrap();
        let mut raw = vec![0u8; 64 << 20];
        raw[..4].copy_from_slice(&[0, 0, 9, 9]);
        let path = dir.path().join("bomb-idx3-ubyte.gz");
        std::fs::write(&path, gz(&raw)).unwrap();
        assert!(matches!(read_idx_images(&path), Err(DataError::BadMagic { .. })));
        // A header promising far more than any IDX file: refused before reading the body.
        let mut promise = images(1, 1, 1, &[0]);
        promise[4..16].copy_from_slice(&[0xff; 12]);
        let path = dir.path().join("huge-idx3-ubyte.gz");
        std::fs::write(&path, gz(&promise)).unwrap();
        let e = read_idx_images(&path).unwrap_err().to_string();
        assert!(e.contains("more than"), "{e}");
        // Not a regular file.
        let e = read_idx_images(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }

    #[test]
    fn reads_plain_and_gzipped_files() {
        let t = fixture();
        let (train, test) = load(t.path()).unwrap();
        assert_eq!(train.x.dim(), (3, 4));
        assert_eq!(train.x.row(2).to_vec(), vec![255.0, 254.0, 253.0, 252.0]);
        assert_eq!(train.y.column(0).to_vec(), vec![7.0, 0.0, 9.0]);
        assert_eq!(test.x.row(0).to_vec(), vec![10.0, 20.0, 30.0, 40.0]);
        assert_eq!(test.y.column(0).to_vec(), vec![1.0, 2.0]);
    }

    #[test]
    fn plain_file_wins_over_gz() {
        let t = fixture();
        std::fs::write(t.path().join(format!("{}.gz", FILES[1])), gz(&labels(&[1, 1, 1]))).unwrap();
        assert_eq!(load(t.path()).unwrap().0.y.column(0).to_vec(), vec![7.0, 0.0, 9.0]);
    }

    #[test]
    fn missing_file_names_folder_and_all_four() {
        let t = fixture();
        std::fs::remove_file(t.path().join(format!("{}.gz", FILES[3]))).unwrap();
        let e = load(t.path()).unwrap_err();
        assert!(matches!(e, DataError::MissingFile { .. }));
        let msg = e.to_string();
        assert!(msg.contains(&t.path().display().to_string()));
        assert!(FILES.iter().all(|f| msg.contains(f)), "{msg}");
    }

    #[test]
    fn wrong_magic() {
        let t = fixture();
        let e = message_of(t.path(), FILES[0], labels(&[1, 2, 3]));
        assert!(matches!(e, DataError::BadMagic { expected: IMAGES_MAGIC, got: LABELS_MAGIC, .. }));
    }

    #[test]
    fn truncated_images() {
        let t = fixture();
        let e = message_of(t.path(), FILES[0], images(3, 2, 2, &PIX[..11]));
        assert_eq!(e, DataError::Truncated { path: t.path().join(FILES[0]), expected_bytes: 28, got_bytes: 27 });
    }

    #[test]
    fn count_mismatch() {
        let t = fixture();
        let e = message_of(t.path(), FILES[1], labels(&[1, 2]));
        assert!(matches!(e, DataError::CountMismatch { images: 3, labels: 2, .. }));
    }

    #[test]
    fn label_out_of_range() {
        let t = fixture();
        let e = message_of(t.path(), FILES[1], labels(&[1, 10, 2]));
        assert!(matches!(e, DataError::LabelOutOfRange { record: 1, label: 10, .. }));
    }
}
