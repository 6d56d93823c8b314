//! Statistics of paired binary outcomes and paired differences: what
//! `sweep compare` reports for two grid points whose seed s starts from the
//! same weights.
//!
//! - The interval for the difference of two paired proportions is
//!   Newcombe's hybrid score ("square-and-add") interval for paired data:
//!   R. G. Newcombe, "Improved confidence intervals for the difference
//!   between binomial proportions based on paired data", Statistics in
//!   Medicine 17:2635–2650 (1998), method 10, with the correlation estimate
//!   φ corrected as recommended there (and in Fagerland, Lydersen & Laake,
//!   Statistics in Medicine 33:2850–2875, 2014, whose worked example the
//!   tests reproduce).
//! - McNemar's exact test: the two-sided binomial test (p = ½) on the
//!   discordant pairs, doubling the smaller tail.
//! - Holm's step-down adjustment of p-values (S. Holm, Scandinavian Journal
//!   of Statistics 6:65–70, 1979).
//! - The Wilcoxon signed-rank test (zeros dropped; exact distribution up to
//!   50 differences without ties, otherwise the normal approximation with
//!   the tie correction and no continuity correction, as scipy's default).
//!
//! Hand-written: each is a few lines, and the crates that have them bring
//! linear algebra along; `libm` supplies `erfc`.

use super::stats::{quantile, wilson, Z95};

/// A paired 2×2 table of outcomes over the seeds two points share: `n10`
/// counts the seeds that succeed at the compared point and fail at the
/// baseline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// Both succeed.
    pub n11: usize,
    /// Compared point only.
    pub n10: usize,
    /// Baseline only.
    pub n01: usize,
    /// Neither.
    pub n00: usize,
}

impl Table {
    /// Pairs.
    pub fn n(&self) -> usize {
        self.n11 + self.n10 + self.n01 + self.n00
    }

    /// Adds one pair.
    pub fn add(&mut self, point: bool, baseline: bool) {
        match (point, baseline) {
            (true, true) => self.n11 += 1,
            (true, false) => self.n10 += 1,
            (false, true) => self.n01 += 1,
            (false, false) => self.n00 += 1,
        }
    }

    /// The compared point's rate minus the baseline's.
    pub fn diff(&self) -> f64 {
        (self.n10 as f64 - self.n01 as f64) / self.n().max(1) as f64
    }

    /// Newcombe's 95% interval for [`Table::diff`] (see the module doc).
    pub fn diff_ci(&self) -> (f64, f64) {
        let n = self.n();
        if n == 0 {
            return (-1.0, 1.0);
        }
        let (a, b, c, d) = (self.n11 as f64, self.n10 as f64, self.n01 as f64, self.n00 as f64);
        let nf = n as f64;
        let (p1, p2) = ((a + b) / nf, (a + c) / nf);
        let (l1, u1) = wilson(self.n11 + self.n10, n, Z95);
        let (l2, u2) = wilson(self.n11 + self.n01, n, Z95);
        let margins = (a + b) * (c + d) * (a + c) * (b + d);
        let phi = if margins == 0.0 {
            0.0
        } else {
            let cross = a * d - b * c;
            let corrected = if cross > nf / 2.0 {
                cross - nf / 2.0
            } else if cross >= 0.0 {
                0.0
            } else {
                cross
            };
            corrected / margins.sqrt()
        };
        let diff = p1 - p2;
        let below = ((p1 - l1).powi(2) - 2.0 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2).powi(2)).max(0.0).sqrt();
        let above = ((u1 - p1).powi(2) - 2.0 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2).powi(2)).max(0.0).sqrt();
        ((diff - below).max(-1.0), (diff + above).min(1.0))
    }

    /// McNemar's exact two-sided p-value.
    pub fn p_mcnemar(&self) -> f64 {
        binomial_two_sided(self.n10, self.n01)
    }
}

/// Two-sided p-value of `b` successes against `c` failures under p = ½:
/// twice the smaller tail, at most 1. The tail is summed relative to its
/// largest term, which keeps it exact to rounding for any count.
fn binomial_two_sided(b: usize, c: usize) -> f64 {
    let m = b + c;
    let k = b.min(c);
    if m == 0 || 2 * k == m {
        return 1.0;
    }
    // ln P(X = k) = ln C(m, k) − m ln 2.
    let ln_choose: f64 = (1..=k).map(|j| ((m - k + j) as f64 / j as f64).ln()).sum();
    let ln_top = ln_choose - m as f64 * std::f64::consts::LN_2;
    // P(X = i − 1) / P(X = i) = i / (m − i + 1), below 1 for i ≤ k < m/2.
    let (mut term, mut sum) = (1.0f64, 1.0f64);
    for i in (1..=k).rev() {
        term *= i as f64 / (m - i + 1) as f64;
        sum += term;
        if term < sum * 1e-17 {
            break;
        }
    }
    (2.0 * (ln_top + sum.ln()).exp()).min(1.0)
}

/// Holm's adjusted p-values, in the order given (NaN is treated as 1).
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let value = |i: usize| if p[i].is_nan() { 1.0 } else { p[i] };
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&x, &y| value(x).total_cmp(&value(y)).then(x.cmp(&y)));
    let mut out = vec![1.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * value(i)).min(1.0));
        out[i] = running;
    }
    out
}

/// Most differences for which the exact signed-rank distribution is used.
const EXACT_MAX: usize = 50;

/// Two-sided p-value of the Wilcoxon signed-rank test of `d` (zeros
/// dropped); `None` when no difference is non-zero.
pub fn wilcoxon(d: &[f64]) -> Option<f64> {
    let mut nz: Vec<f64> = d.iter().copied().filter(|&x| x != 0.0 && !x.is_nan()).collect();
    let n = nz.len();
    if n == 0 {
        return None;
    }
    nz.sort_by(|x, y| x.abs().total_cmp(&y.abs()));
    // Average ranks of tied |d|, and the tie correction Σ(t³ − t).
    let (mut w_plus, mut ties, mut tied) = (0.0f64, 0.0f64, false);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && nz[j + 1].abs() == nz[i].abs() {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        let rank = (i + j + 2) as f64 / 2.0;
        w_plus += rank * nz[i..=j].iter().filter(|&&x| x > 0.0).count() as f64;
        ties += t * t * t - t;
        tied |= j > i;
        i = j + 1;
    }
    let nf = n as f64;
    let mean = nf * (nf + 1.0) / 4.0;
    if n <= EXACT_MAX && !tied {
        return Some(exact_signed_rank(n, w_plus.round() as usize));
    }
    let var = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - ties / 48.0;
    if var <= 0.0 {
        return Some(1.0);
    }
    let z = (w_plus - mean).abs() / var.sqrt();
    Some(libm::erfc(z / std::f64::consts::SQRT_2).min(1.0))
}

/// Two-sided exact p-value of W+ = `w` with `n` untied ranks: the number of
/// subsets of {1..n} by their sum, counted by dynamic programming.
fn exact_signed_rank(n: usize, w: usize) -> f64 {
    let max = n * (n + 1) / 2;
    let mut count = vec![0.0f64; max + 1];
    count[0] = 1.0;
    for r in 1..=n {
        for s in (r..=max).rev() {
            count[s] += count[s - r];
        }
    }
    let total = 2f64.powi(n as i32);
    let low: f64 = count[..=w.min(max)].iter().sum::<f64>() / total;
    let high: f64 = count[w.min(max)..].iter().sum::<f64>() / total;
    (2.0 * low.min(high)).min(1.0)
}

/// Median of values (mean of the middle two for an even count).
pub fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(quantile(v, 0.5))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(got: f64, want: f64, tol: f64) {
        assert!((got - want).abs() <= tol, "got {got}, want {want}");
    }

    #[test]
    fn newcombe_interval_matches_the_published_example() {
        // Cavo et al. (2012) in Fagerland, Lydersen & Laake (2014), Table 1:
        // 59 both, 6 before only, 16 after only, 80 neither; Newcombe's
        // square-and-add interval -0.0621 (-0.1186 to -0.0046).
        let t = Table { n11: 59, n10: 6, n01: 16, n00: 80 };
        near(t.diff(), -0.0621, 5e-5);
        let (lo, hi) = t.diff_ci();
        near(lo, -0.1186, 5e-5);
        near(hi, -0.0046, 5e-5);
        // Swapping the points mirrors the interval.
        let (lo2, hi2) = Table { n11: 59, n10: 16, n01: 6, n00: 80 }.diff_ci();
        near(lo2, -hi, 1e-12);
        near(hi2, -lo, 1e-12);
        // Identical outcomes: a zero difference with a non-degenerate interval.
        let (lo, hi) = Table { n11: 30, n10: 0, n01: 0, n00: 70 }.diff_ci();
        assert!(lo < 0.0 && hi > 0.0 && lo > -0.1 && hi < 0.1, "{lo} {hi}");
    }

    #[test]
    fn mcnemar_exact_p_values() {
        // scipy.stats.binomtest(min(b, c), b + c, 0.5).pvalue
        // (computed in logarithms: equal to 1e-11 relative).
        let p = |b, c| Table { n11: 5, n10: b, n01: c, n00: 5 }.p_mcnemar();
        let rel = |got: f64, want: f64| assert!((got / want - 1.0).abs() < 1e-11, "got {got}, want {want}");
        rel(p(6, 16), 0.052478790283203125);
        rel(p(1, 7), 0.0703125);
        rel(p(0, 5), 0.0625);
        rel(p(10, 30), 0.0022214337732293643);
        rel(p(400, 460), 0.04416954819458914);
        assert_eq!(p(0, 0), 1.0);
        assert_eq!(p(3, 3), 1.0);
        // By hand: 2 (1 + 8) / 2^8, either way round.
        rel(p(7, 1), 18.0 / 256.0);
        // Far tails stay positive and tiny (no underflow to 0 before 1e-300).
        let tiny = p(0, 900);
        assert!(tiny > 0.0 && tiny < 1e-250, "{tiny}");
    }

    #[test]
    fn holm_adjustment() {
        // statsmodels.stats.multitest.multipletests(p, method="holm")
        assert_eq!(holm(&[0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02]);
        let got = holm(&[0.5, 0.001, 0.2, 0.04, 0.04, 0.9]);
        let want = [1.0, 0.006, 0.6, 0.2, 0.2, 1.0];
        got.iter().zip(want).for_each(|(&g, w)| near(g, w, 1e-15));
        assert!(holm(&[]).is_empty());
    }

    #[test]
    fn wilcoxon_signed_rank_p_values() {
        // scipy.stats.wilcoxon(d).pvalue (exact: no ties, n <= 50)
        assert_eq!(wilcoxon(&[1.5, -2.0, 3.0, 4.0, 5.5, -6.5, 7.0, 8.0]), Some(0.1953125));
        let d = [2.0, -1.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, -11.0, 12.0];
        assert_eq!(wilcoxon(&d), Some(0.0341796875));
        // Ties and zeros: normal approximation,
        // scipy.stats.wilcoxon(d, zero_method="wilcox", correction=False, method="approx")
        let d = [1., 1., -1., 2., 2., 0., 3., -3., 3., 4., 0., 5., 5., -2., 6., 6., 6., 1.];
        near(wilcoxon(&d).unwrap(), 0.008757258463628566, 1e-12);
        // n = 60 > 50: approximation, no ties.
        let mut d: Vec<f64> = (1..=60).map(f64::from).collect();
        for i in [3, 10, 20] {
            d[i] = -d[i];
        }
        let p = wilcoxon(&d).unwrap();
        assert!((p / 9.745376089158193e-11 - 1.0).abs() < 1e-6, "{p}");
        assert_eq!(wilcoxon(&[0.0, 0.0]), None);
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }
}
