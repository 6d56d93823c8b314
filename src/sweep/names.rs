//! Names that become file and folder names: the experiment's (its results
//! folder) and the architectures' (their figures). A leaf module.

/// Lower-case letters, digits, '-' and '.'; anything else becomes '-'.
pub fn slug(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    // "uniform(1.5)" -> "uniform-1.5", not "uniform-1.5-".
    let trimmed = mapped.trim_end_matches('-');
    if trimmed.is_empty() {
        mapped
    } else {
        trimmed.to_string()
    }
}

/// Longest name (bytes) of an experiment or architecture: both become file
/// or folder names, with room for the figures' prefixes and suffixes.
pub const MAX_NAME: usize = 100;

/// The columns of summary.csv besides the axes': `point` first, then these
/// statistics, in this order (a width axis cannot take one of these names).
pub const CSV_COLUMNS: [&str; 19] = [
    "point",
    "runs",
    "converged",
    "convergence_rate",
    "rate_ci_low",
    "rate_ci_high",
    "solved_at_end",
    "solved_at_end_rate",
    "solved_ci_low",
    "solved_ci_high",
    "transient",
    "plateau",
    "slow",
    "diverged",
    "median_epochs_among_converged",
    "median_epochs_all",
    "final_train_loss_mean",
    "final_train_metric_mean",
    "final_test_metric_median",
];
