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
