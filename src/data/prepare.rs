//! Preparation shared by the classification problems: a seeded, stratified
//! train/test split and feature scaling whose statistics come from the
//! training split only (the test split never leaks into them).

use super::{DataError, Dataset};
use ndarray::Axis;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// Splits `d` into (train, test), stratified by the class index in `y`'s
/// single column. Per class with n samples, round(test_fraction · n)
/// samples go to test, clamped to 1..=n-1 when n ≥ 2 (a lone sample stays
/// in train). Which samples is drawn with a ChaCha8 generator seeded by
/// `seed`, classes visited in ascending order; both outputs keep the
/// original row order. `test_fraction` must lie strictly between 0 and 1.
pub fn stratified_split(
    d: &Dataset<f32>,
    test_fraction: f64,
    seed: u64,
) -> Result<(Dataset<f32>, Dataset<f32>), DataError> {
    let bad = |reason: String| DataError::BadSplit { test_fraction, reason };
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(bad("it must lie strictly between 0 and 1".into()));
    }
    if d.y.ncols() != 1 || d.y.nrows() != d.x.nrows() || d.x.nrows() == 0 {
        let (xr, yr, yc) = (d.x.nrows(), d.y.nrows(), d.y.ncols());
        return Err(bad(format!("expected x rows = y rows > 0 and one y column, got {xr}, {yr}×{yc}")));
    }
    let mut classes: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (row, &v) in d.y.column(0).iter().enumerate() {
        if v.fract() != 0.0 || !(0.0..=16_777_216.0).contains(&v) {
            return Err(bad(format!("row {row} holds {v}, not a class index")));
        }
        classes.entry(v as u32).or_default().push(row);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut in_test = vec![false; d.x.nrows()];
    for rows in classes.values_mut() {
        let n = rows.len();
        let k = if n < 2 { 0 } else { ((test_fraction * n as f64).round() as usize).clamp(1, n - 1) };
        rows.shuffle(&mut rng);
        rows[..k].iter().for_each(|&r| in_test[r] = true);
    }
    let (test, train): (Vec<usize>, Vec<usize>) = (0..d.x.nrows()).partition(|&r| in_test[r]);
    let pick = |idx: &[usize]| Dataset { x: d.x.select(Axis(0), idx), y: d.y.select(Axis(0), idx) };
    Ok((pick(&train), pick(&test)))
}

/// How to scale features before training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Divide every feature by the largest absolute value in the training
    /// features (all columns together), e.g. digits' 0..16 become 0..1.
    Unit,
    /// Per column: subtract the training mean, divide by the training
    /// population standard deviation (only centre when it is zero).
    Standard,
    /// Leave the features unchanged.
    None,
}

/// Scales both splits' features in place with statistics from `train` only.
/// Targets are untouched; an empty training split leaves everything as is.
pub fn scale(train: &mut Dataset<f32>, test: &mut Dataset<f32>, how: Scale) {
    let s = Scaler::fit(train, how);
    s.apply(train);
    s.apply(test);
}

/// A feature scaling fitted on a training set, applied to any set with its
/// columns (the training set, its test and validation sets).
#[derive(Clone, Debug, PartialEq)]
pub enum Scaler {
    /// Leave the values.
    Identity,
    /// Divide by the training set's largest absolute value.
    Divide(f32),
    /// Per column: subtract the training mean, divide by its standard deviation.
    Standard(Vec<(f64, f64)>),
}

impl Scaler {
    /// The scaling `how` of `train`.
    pub fn fit(train: &Dataset<f32>, how: Scale) -> Scaler {
        if train.x.nrows() == 0 {
            return Scaler::Identity;
        }
        match how {
            Scale::None => Scaler::Identity,
            Scale::Unit => {
                let max = train.x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                if max > 0.0 && max.is_finite() {
                    Scaler::Divide(max)
                } else {
                    Scaler::Identity
                }
            }
            Scale::Standard => {
                let n = train.x.nrows() as f64;
                let stats = (0..train.x.ncols())
                    .map(|c| {
                        let col = train.x.column(c);
                        let mean = col.iter().map(|&v| v as f64).sum::<f64>() / n;
                        let var = col.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
                        (mean, if var > 0.0 { var.sqrt() } else { 1.0 })
                    })
                    .collect();
                Scaler::Standard(stats)
            }
        }
    }

    /// Scales `d` in place.
    pub fn apply(&self, d: &mut Dataset<f32>) {
        match self {
            Scaler::Identity => {}
            Scaler::Divide(max) => d.x.mapv_inplace(|v| v / max),
            Scaler::Standard(stats) => {
                for (c, &(mean, sd)) in stats.iter().enumerate().take(d.x.ncols()) {
                    d.x.column_mut(c).iter_mut().for_each(|v| *v = ((*v as f64 - mean) / sd) as f32);
                }
            }
        }
    }
}

#[cfg(all(test, feature = "datasets"))]
mod tests {
    use super::*;
    use ndarray::{array, concatenate, Array2};

    /// Digits with an extra last column holding the original row index.
    fn indexed_digits() -> Dataset<f32> {
        let d = super::super::digits::load().unwrap();
        let idx = Array2::from_shape_fn((d.x.nrows(), 1), |(r, _)| r as f32);
        Dataset { x: concatenate![Axis(1), d.x, idx], y: d.y }
    }

    fn counts(y: &Array2<f32>) -> [usize; 10] {
        let mut c = [0; 10];
        y.iter().for_each(|&v| c[v as usize] += 1);
        c
    }

    #[test]
    fn digits_split_is_stratified_sized_and_disjoint() {
        let d = indexed_digits();
        let (train, test) = stratified_split(&d, 0.2, 7).unwrap();
        assert_eq!(train.x.nrows() + test.x.nrows(), 1797);
        assert!(test.x.nrows().abs_diff(359) <= 10, "{}", test.x.nrows());
        for ((&all, &t), &tr) in counts(&d.y).iter().zip(&counts(&test.y)).zip(&counts(&train.y)) {
            assert!((t as f64 - 0.2 * all as f64).abs() <= 1.0, "{t} of {all}");
            assert_eq!(t + tr, all);
        }
        let mut seen = vec![0u8; 1797];
        for part in [&train, &test] {
            let ids: Vec<usize> = part.x.column(64).iter().map(|&v| v as usize).collect();
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "original order kept");
            for (r, &i) in ids.iter().enumerate() {
                seen[i] += 1;
                assert_eq!(part.x.row(r), d.x.row(i));
                assert_eq!(part.y[[r, 0]], d.y[[i, 0]]);
            }
        }
        assert!(seen.iter().all(|&s| s == 1), "every row in exactly one split");
    }

    #[test]
    fn split_is_deterministic_per_seed() {
        let d = indexed_digits();
        let a = stratified_split(&d, 0.2, 1).unwrap();
        assert_eq!(a, stratified_split(&d, 0.2, 1).unwrap());
        assert_ne!(a.1.x.column(64), stratified_split(&d, 0.2, 2).unwrap().1.x.column(64));
    }

    #[test]
    fn small_classes_and_bad_fractions() {
        let d = Dataset { x: Array2::zeros((5, 1)), y: array![[0.0f32], [0.0], [1.0], [2.0], [2.0]] };
        let (train, test) = stratified_split(&d, 0.1, 3).unwrap();
        assert_eq!((counts(&train.y)[..3].to_vec(), counts(&test.y)[..3].to_vec()), (vec![1, 1, 1], vec![1, 0, 1]));
        for f in [0.0, 1.0, -0.5, f64::NAN] {
            assert!(matches!(stratified_split(&d, f, 0), Err(DataError::BadSplit { .. })));
        }
        let half = Dataset { x: Array2::zeros((1, 1)), y: array![[0.5f32]] };
        assert!(stratified_split(&half, 0.5, 0).unwrap_err().to_string().contains("row 0 holds 0.5"));
    }

    fn pair(train: Array2<f32>, test: Array2<f32>) -> (Dataset<f32>, Dataset<f32>) {
        let y = |n| Array2::zeros((n, 1));
        (Dataset { y: y(train.nrows()), x: train }, Dataset { y: y(test.nrows()), x: test })
    }

    #[test]
    fn unit_scaling_uses_train_max_abs() {
        let (mut tr, mut te) = pair(array![[-8.0, 2.0], [4.0, 0.0]], array![[16.0, -4.0]]);
        scale(&mut tr, &mut te, Scale::Unit);
        assert_eq!(tr.x, array![[-1.0, 0.25], [0.5, 0.0]]);
        assert_eq!(te.x, array![[2.0, -0.5]]);
        let (mut tr, mut te) = pair(array![[0.0]], array![[3.0]]);
        scale(&mut tr, &mut te, Scale::Unit);
        assert_eq!(te.x, array![[3.0]]);
    }

    #[test]
    fn standard_scaling_uses_train_statistics() {
        let (mut tr, mut te) = pair(array![[0.0, 10.0, 5.0], [2.0, 30.0, 5.0]], array![[4.0, 40.0, 7.0]]);
        scale(&mut tr, &mut te, Scale::Standard);
        assert_eq!(tr.x, array![[-1.0, -1.0, 0.0], [1.0, 1.0, 0.0]]);
        assert_eq!(te.x, array![[3.0, 2.0, 2.0]]);
        let before = te.clone();
        scale(&mut tr, &mut te, Scale::None);
        assert_eq!(te, before);
    }

    #[test]
    fn scale_names_are_snake_case() {
        assert_eq!(serde_json::to_string(&Scale::Standard).unwrap(), "\"standard\"");
        assert_eq!(serde_json::from_str::<Scale>("\"unit\"").unwrap(), Scale::Unit);
    }
}
