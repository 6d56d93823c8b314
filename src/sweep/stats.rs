//! Small statistics used by the aggregation: quantiles (linear interpolation
//! between order statistics, numpy's default), mean and standard deviation,
//! and the Wilson score interval of a proportion.

use serde::{Deserialize, Serialize};

/// z of a two-sided 95% normal interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The q-quantile (0 ≤ q ≤ 1) of sorted values, interpolating linearly
/// between order statistics (numpy's default, Hyndman–Fan type 7).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    quantile_by(sorted.len(), q, |i| sorted[i])
}

/// [`quantile`] of `n > 0` sorted values read through `at` (which lets a
/// caller keep them in another form, such as f32 sort keys).
pub fn quantile_by(n: usize, q: f64, at: impl Fn(usize) -> f64) -> f64 {
    debug_assert!(n > 0);
    let h = (n - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    at(lo) + (h - lo as f64) * (at(hi) - at(lo))
}

/// Wilson score interval for `k` successes out of `n` at normal quantile `z`.
pub fn wilson(k: usize, n: usize, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((center - half).max(0.0), (center + half).min(1.0))
}

/// Order statistics and mean of a sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    /// Smallest value.
    pub min: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 25th percentile.
    pub p25: f64,
    /// Median.
    pub median: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Largest value.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Quantiles {
    /// Statistics of `values` (None when empty).
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let mut s = values.to_vec();
        s.sort_unstable_by(f64::total_cmp);
        Some(Quantiles {
            min: s[0],
            p10: quantile(&s, 0.1),
            p25: quantile(&s, 0.25),
            median: quantile(&s, 0.5),
            p75: quantile(&s, 0.75),
            p90: quantile(&s, 0.9),
            max: s[s.len() - 1],
            mean: s.iter().sum::<f64>() / s.len() as f64,
        })
    }
}

/// Mean and (population) standard deviation of a sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    /// Mean.
    pub mean: f64,
    /// Standard deviation (population).
    pub std: f64,
    /// Sample size.
    pub n: usize,
}

impl MeanStd {
    /// Statistics of `values` (None when empty).
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
        Some(MeanStd { mean, std: var.sqrt(), n: values.len() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_known_values() {
        // statsmodels.stats.proportion.proportion_confint(k, n, method="wilson")
        let (lo, hi) = wilson(8, 10, Z95);
        assert!((lo - 0.490_162_4).abs() < 1e-6 && (hi - 0.943_317_8).abs() < 1e-6, "{lo} {hi}");
        let (lo, hi) = wilson(0, 100, Z95);
        assert!(lo < 1e-12 && (hi - 0.036_993_50).abs() < 1e-6, "{lo} {hi}");
        let (lo, hi) = wilson(100, 100, Z95);
        assert!((lo - 0.963_006_50).abs() < 1e-6 && hi == 1.0, "{lo} {hi}");
    }

    #[test]
    fn quantiles_match_hand_computed_ones() {
        // numpy.percentile([1, 2, 3, 4, 10], [10, 25, 50, 75, 90]) = [1.4, 2, 3, 4, 7.6]
        let q = Quantiles::of(&[4.0, 1.0, 10.0, 3.0, 2.0]).unwrap();
        assert_eq!((q.min, q.p25, q.median, q.p75, q.max, q.mean), (1.0, 2.0, 3.0, 4.0, 10.0, 4.0));
        assert!((q.p10 - 1.4).abs() < 1e-12 && (q.p90 - 7.6).abs() < 1e-12);
        assert_eq!(Quantiles::of(&[7.0]).unwrap().p90, 7.0);
        assert!(Quantiles::of(&[]).is_none());
        let m = MeanStd::of(&[1.0, 3.0]).unwrap();
        assert_eq!((m.mean, m.std), (2.0, 1.0));
    }
}
