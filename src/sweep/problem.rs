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

/// Loads and prepares the problem; `base_seed` seeds the split unless the
/// problem names its own `split_seed`.
pub fn load(p: &ProblemConfig, base_seed: u64) -> Result<ProblemData, SweepError> {
    let split = |d: Dataset<f32>, frac: f64, seed: Option<u64>, scale| -> Result<ProblemData, SweepError> {
        let (mut train, mut test) = prepare::stratified_split(&d, frac, seed.unwrap_or(base_seed))?;
        if test.x.nrows() == 0 {
            return Err(SweepError::Config(format!(
                "problem.test_fraction = {frac} leaves no test samples (every class has a single sample?)"
            )));
        }
        prepare::scale(&mut train, &mut test, scale);
        Ok(ProblemData { train, test: Some(test), classification: true })
    };
    let given = |(mut train, mut test): (Dataset<f32>, Dataset<f32>), scale| {
        if train.x.ncols() != test.x.ncols() {
            return Err(SweepError::Config(format!(
                "the training images have {} values each but the test images {}",
                train.x.ncols(),
                test.x.ncols()
            )));
        }
        prepare::scale(&mut train, &mut test, scale);
        Ok(ProblemData { train, test: Some(test), classification: true })
    };
    Ok(match p {
        ProblemConfig::Xor => ProblemData { train: data::xor(), test: None, classification: false },
        ProblemConfig::Parity { bits } => {
            if !(2..=MAX_BITS).contains(bits) {
                return Err(SweepError::Config(format!("problem.bits = {bits}: parity needs 2 to {MAX_BITS} bits")));
            }
            ProblemData { train: data::parity(*bits), test: None, classification: false }
        }
        ProblemConfig::Digits { test_fraction, scale, split_seed } => {
            split(data::digits::load()?, *test_fraction, *split_seed, *scale)?
        }
        ProblemConfig::Mnist { path, scale } => given(data::mnist::load(path)?, *scale)?,
        ProblemConfig::Cifar10 { path, scale } => given(data::cifar10::load(path)?, *scale)?,
        ProblemConfig::Csv { path, label, test_fraction, scale, split_seed } => {
            split(data::csv_file::load(path, label)?, *test_fraction, *split_seed, *scale)?
        }
    })
}
