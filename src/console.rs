//! Text for people, on stdout and stderr, that can never fail a command.
//!
//! `println!` panics (exit 101) when stdout is closed (`sweep validate f |
//! head -0`), full (`> /dev/full`) or a broken pipe (`| head -1`). A sweep's
//! results are on disk before its table is printed, and under Slurm a task
//! that fails after writing them also fails the merge that depends on it;
//! so a line that cannot be written is dropped, as ripgrep does on a closed
//! pipe, and the command's exit code says how the work went.

use std::fmt::Display;
use std::io::Write;

/// Writes `text` and a newline to stdout; an error (closed pipe, full disk) drops the line.
pub fn out(text: impl Display) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Writes `text` and a newline to stderr; an error drops the line.
pub fn err(text: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Longest line of a message printed whole.
const MAX_LINE: usize = 400;

/// `text` with every line longer than 400 characters cut in the middle
/// ("… 199,620 characters cut …"): an error quoting a 200 KB value (a
/// generated `--set`, a file's one-line array) stays readable.
pub fn clip(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            let n = line.chars().count();
            if n <= MAX_LINE {
                return line.to_string();
            }
            let head: String = line.chars().take(MAX_LINE / 2).collect();
            let tail: String = line.chars().skip(n - MAX_LINE / 4).collect();
            format!("{head} … {} characters cut … {tail}", n - MAX_LINE / 2 - MAX_LINE / 4)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `println!` that never fails: [`out`] of the formatted text.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::console::out(format_args!($($arg)*))
    };
}

/// `eprintln!` that never fails: [`err`] of the formatted text.
#[macro_export]
macro_rules! tell {
    ($($arg:tt)*) => {
        $crate::console::err(format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_lines_are_cut_and_short_ones_kept() {
        let long = format!("error: {}", "[".repeat(10_000));
        let clipped = super::clip(&format!("first line\n{long}\nlast"));
        let lines: Vec<&str> = clipped.lines().collect();
        assert_eq!((lines[0], lines[2]), ("first line", "last"));
        assert!(lines[1].starts_with("error: [[") && lines[1].contains("9707 characters cut"), "{}", lines[1]);
        assert!(lines[1].chars().count() < 400);
    }
}
