//! Loading the experiment's problem once per sweep: XOR, N-bit parity, the
//! built-in digits, MNIST, CIFAR-10 or a CSV file, split and scaled. The
//! result is shared read-only (behind an `Arc`) by every parallel run.

use super::config::ProblemConfig;
use super::error::SweepError;
use crate::data::{self, prepare, Dataset};

/// Largest parity problem accepted (2^16 patterns).
pub const MAX_BITS: usize = 16;

/// The loaded data of a sweep.
#[derive(Clone, Debug)]
pub struct ProblemData {
    /// Training set.
    pub train: Dataset<f32>,
    /// Test set, for problems that have one.
    pub test: Option<Dataset<f32>>,
    /// Validation set carved from the training data (problems with a test set).
    pub validation: Option<Dataset<f32>>,
    /// True for classification problems (targets are class indices).
    pub classification: bool,
}

impl ProblemData {
    /// Input columns.
    pub fn input_dim(&self) -> usize {
        self.train.x.ncols()
    }

    /// Number of classes (1 + the largest label) for classification problems.
    pub fn classes(&self) -> usize {
        if !self.classification {
            return 0;
        }
        let max = |d: &Dataset<f32>| d.y.iter().fold(0.0f32, |m, &v| m.max(v));
        let m = self.test.as_ref().map_or(0.0, max).max(max(&self.train));
        m as usize + 1
    }
}

/// Validation fraction of problems with a test set, when the file names none.
pub const DEFAULT_VALIDATION: f64 = 0.1;

/// Carves the validation set out of `train` (stratified; seeded by the
/// split's seed + 1), then scales all three with the training part's
/// statistics.
fn with_validation(
    train: Dataset<f32>,
    mut test: Dataset<f32>,
    validation: Option<f64>,
    seed: u64,
    scale: prepare::Scale,
) -> Result<ProblemData, SweepError> {
    let frac = validation.unwrap_or(DEFAULT_VALIDATION);
    if !(0.0..1.0).contains(&frac) {
        return Err(SweepError::Config(format!(
            "problem.validation = {frac}: give a fraction of the training data from 0 (none) to below 1"
        )));
    }
    let (mut train, mut validation) = if frac > 0.0 {
        let (t, v) = prepare::stratified_split(&train, frac, seed.wrapping_add(1))?;
        (t, Some(v))
    } else {
        (train, None)
    };
    let scaler = prepare::Scaler::fit(&train, scale);
    scaler.apply(&mut train);
    scaler.apply(&mut test);
    if let Some(v) = validation.as_mut() {
        scaler.apply(v);
    }
    Ok(ProblemData { train, test: Some(test), validation, classification: true })
}

/// Loads and prepares the problem; `base_seed` seeds the split unless the
/// problem names its own `split_seed`.
pub fn load(p: &ProblemConfig, base_seed: u64) -> Result<ProblemData, SweepError> {
    let split = |d: Dataset<f32>, frac: f64, seed: Option<u64>, validation, scale| -> Result<ProblemData, SweepError> {
        let seed = seed.unwrap_or(base_seed);
        let (train, test) = prepare::stratified_split(&d, frac, seed)?;
        if test.x.nrows() == 0 {
            return Err(SweepError::Config(format!(
                "problem.test_fraction = {frac} leaves no test samples (every class has a single sample?)"
            )));
        }
        with_validation(train, test, validation, seed, scale)
    };
    let given = |(train, test): (Dataset<f32>, Dataset<f32>), validation, scale| {
        if train.x.ncols() != test.x.ncols() {
            return Err(SweepError::Config(format!(
                "the training images have {} values each but the test images {}",
                train.x.ncols(),
                test.x.ncols()
            )));
        }
        with_validation(train, test, validation, base_seed, scale)
    };
    Ok(match p {
        ProblemConfig::Xor => ProblemData { train: data::xor(), test: None, validation: None, classification: false },
        ProblemConfig::Parity { bits } => {
            if !(2..=MAX_BITS).contains(bits) {
                return Err(SweepError::Config(format!("problem.bits = {bits}: parity needs 2 to {MAX_BITS} bits")));
            }
            ProblemData { train: data::parity(*bits), test: None, validation: None, classification: false }
        }
        ProblemConfig::Digits { test_fraction, scale, split_seed, validation } => {
            split(data::digits::load()?, *test_fraction, *split_seed, *validation, *scale)?
        }
        ProblemConfig::Mnist { path, scale, validation } => given(data::mnist::load(path)?, *validation, *scale)?,
        ProblemConfig::Cifar10 { path, scale, validation } => given(data::cifar10::load(path)?, *validation, *scale)?,
        ProblemConfig::Csv { path, label, test_fraction, scale, split_seed, validation } => {
            split(data::csv_file::load(path, label)?, *test_fraction, *split_seed, *validation, *scale)?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::prepare::Scale;

    fn digits(validation: Option<f64>) -> ProblemData {
        let p = ProblemConfig::Digits { test_fraction: 0.2, scale: Scale::Unit, split_seed: Some(3), validation };
        load(&p, 0).unwrap()
    }

    #[test]
    fn validation_is_carved_from_the_training_data_stratified() {
        let d = digits(None);
        let v = d.validation.as_ref().expect("a validation set by default");
        let test = d.test.as_ref().unwrap();
        assert_eq!(d.train.x.nrows() + v.x.nrows() + test.x.nrows(), 1797);
        // About 10% of the 80% training part, in every class.
        assert!((v.x.nrows() as f64 - 0.1 * 1438.0).abs() < 6.0, "{}", v.x.nrows());
        for class in 0..10 {
            let count = |ds: &crate::data::Dataset<f32>| ds.y.iter().filter(|&&y| y == class as f32).count() as f64;
            let share = count(v) / (count(v) + count(&d.train));
            assert!((share - 0.1).abs() < 0.04, "class {class}: {share}");
        }
        // No validation row is a training row (rows are distinct images in digits... compare as bytes).
        let rows = |ds: &crate::data::Dataset<f32>| -> std::collections::HashSet<Vec<u32>> {
            ds.x.rows().into_iter().map(|r| r.iter().map(|v| v.to_bits()).collect()).collect()
        };
        let (train, val) = (rows(&d.train), rows(v));
        let shared = val.intersection(&train).count();
        // The 8×8 digits hold a few exact duplicate images; the split itself is disjoint by index.
        assert!(shared <= 2, "{shared} validation rows also in train");
        assert!(digits(Some(0.0)).validation.is_none());
        assert_eq!(digits(Some(0.0)).train.x.nrows(), 1438);
        assert!(load(
            &ProblemConfig::Digits { test_fraction: 0.2, scale: Scale::Unit, split_seed: None, validation: Some(1.0) },
            0
        )
        .is_err());
    }
}
