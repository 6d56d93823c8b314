//! One run's result: a line of `runs.jsonl`. The struct is the documented
//! schema (see `docs/results.md`). [`jsonl`] writes the lines with serde_json
//! through a formatter of its own, which remembers the text of repeated f32
//! values: the bytes are serde_json's (a test compares them), written faster
//! (`cargo bench --bench curves`, BENCHMARKS.md).

use super::grid::Params;
use serde::{Deserialize, Serialize};

/// The recorded curves of a run, one value per recorded epoch (see the
/// summary's `record_epochs`). A diverged run's curves stop before the epoch
/// at which its loss stopped being finite.
///
/// The same figures a [`crate::History`] holds for a `Network`, taken from
/// the same [`crate::ensemble::EpochReport`]s, at the epochs of summary.json's
/// `record_epochs` only.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Curves {
    /// Training loss (penalty included).
    pub train_loss: Vec<f32>,
    /// Training metric.
    pub train_metric: Vec<f32>,
    /// Test loss, when the problem has a test set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_loss: Option<Vec<f32>>,
    /// Test metric, when the problem has a test set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_metric: Option<Vec<f32>>,
}

/// How a run ended, from its record's fields (the file keeps the fields:
/// `converged`, `diverged`, `epochs_to_converge`, `diverged_at`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Met the criterion at this epoch (and did not diverge).
    Converged {
        /// First epoch meeting it.
        at: usize,
    },
    /// Trained every epoch without meeting it.
    NotConverged,
    /// Its loss stopped being finite at this epoch; training stopped there.
    Diverged {
        /// The epoch.
        at: usize,
    },
}

/// How a run ended, in the classes a study reads: `converged` (met the
/// criterion and still met it after the last epoch), `transient` (met it,
/// lost it by the end), `diverged` (its loss became NaN or infinite),
/// `plateau` (never met it, and its training loss fell by less than
/// [`super::measure::PLATEAU_TOLERANCE`] over the last
/// [`super::measure::TREND_WINDOW`] of the epochs) and `slow` (never met it,
/// still improving).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Met the criterion and still met it at the end.
    Converged,
    /// Met it at some epoch, lost it by the end.
    Transient,
    /// Loss became NaN or infinite.
    Diverged,
    /// Never met it; training loss flat over the last quarter.
    Plateau,
    /// Never met it; training loss still falling.
    Slow,
}

impl Class {
    /// Every class, in the order of counts and figures.
    pub const ALL: [Class; 5] = [Class::Converged, Class::Transient, Class::Plateau, Class::Slow, Class::Diverged];

    /// The class of a run: whether it diverged, met the criterion at some
    /// epoch, met it at the end, and its training loss at the start of the
    /// trend window and at the end.
    pub fn of(diverged: bool, met: bool, met_at_end: bool, trend: Option<(f32, f32)>) -> Class {
        match (diverged, met, met_at_end) {
            (true, _, _) => Class::Diverged,
            (false, true, true) => Class::Converged,
            (false, true, false) => Class::Transient,
            (false, false, _) => match trend {
                Some((before, end)) if (end as f64) < before as f64 * (1.0 - super::measure::PLATEAU_TOLERANCE) => {
                    Class::Slow
                }
                _ => Class::Plateau,
            },
        }
    }

    /// Its name in files.
    pub fn name(self) -> &'static str {
        match self {
            Class::Converged => "converged",
            Class::Transient => "transient",
            Class::Diverged => "diverged",
            Class::Plateau => "plateau",
            Class::Slow => "slow",
        }
    }
}

impl Outcome {
    /// Whether a run with this outcome (and `converged_at_end`) counts
    /// toward the rate `count` names.
    pub fn counts(self, count: super::config::Count, converged_at_end: bool) -> bool {
        match count {
            super::config::Count::FirstHit => matches!(self, Outcome::Converged { .. }),
            super::config::Count::AtEnd => converged_at_end,
        }
    }

    /// The outcome of a record's fields.
    pub fn of(diverged_at: Option<usize>, epochs_to_converge: Option<usize>, converged: bool) -> Outcome {
        match (diverged_at, epochs_to_converge) {
            (Some(at), _) => Outcome::Diverged { at },
            (None, Some(at)) if converged => Outcome::Converged { at },
            _ => Outcome::NotConverged,
        }
    }
}

/// The result of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Run index (identity): point · seeds + seed_index.
    pub run: usize,
    /// Grid point index.
    pub point: usize,
    /// The point's parameters, by axis name in grid order.
    pub params: Params,
    /// Seed index within the point.
    pub seed_index: usize,
    /// The derived seed of the run's ChaCha8 streams, written as a hex
    /// string ("0x…", [`seed_text`]) so that every JSON reader keeps it.
    #[serde(with = "seed_text")]
    pub seed: u64,
    /// Reached the convergence criterion at some epoch (and did not diverge).
    pub converged: bool,
    /// First epoch (from 1) at which the criterion was met, after that epoch's update.
    pub epochs_to_converge: Option<usize>,
    /// The criterion still holds after the last epoch.
    pub converged_at_end: bool,
    /// The loss became NaN or infinite; the run was stopped there.
    pub diverged: bool,
    /// Epoch at which the loss stopped being finite (`diverged_epoch` in
    /// files: pandas reads columns named `*_at` as dates).
    #[serde(rename = "diverged_epoch", alias = "diverged_at")]
    pub diverged_at: Option<usize>,
    /// The run's class: converged, transient, diverged, plateau or slow.
    pub outcome: Class,
    /// Training loss after the last epoch (null if diverged).
    pub final_train_loss: Option<f32>,
    /// Training metric after the last epoch (null if diverged).
    pub final_train_metric: Option<f32>,
    /// Test loss after the last epoch.
    pub final_test_loss: Option<f32>,
    /// Test metric after the last epoch.
    pub final_test_metric: Option<f32>,
    /// Best test metric over all epochs.
    pub best_test_metric: Option<f32>,
    /// Metric on the validation set after the last epoch (problems with a
    /// test set); the best grid point is picked on it, not on the test set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_validation_metric: Option<f32>,
    /// Recorded curves.
    pub curves: Curves,
    /// Final parameters (per Dense layer: weights row-major, then biases), kept for the first seeds of each point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<f32>>,
}

/// The final figures of a record, in the order of [`RunRecord::finals`].
pub const FINAL_NAMES: [&str; 6] = [
    "final_train_loss",
    "final_train_metric",
    "final_test_loss",
    "final_test_metric",
    "best_test_metric",
    "final_validation_metric",
];

/// The curves of a record, in the order of [`RunRecord::curves`] (as
/// `pandas.json_normalize` names them).
pub const CURVE_NAMES: [&str; 4] =
    ["curves.train_loss", "curves.train_metric", "curves.test_loss", "curves.test_metric"];

impl RunRecord {
    /// The final figures, in the order of [`FINAL_NAMES`].
    pub fn finals(&self) -> [Option<f32>; 6] {
        [
            self.final_train_loss,
            self.final_train_metric,
            self.final_test_loss,
            self.final_test_metric,
            self.best_test_metric,
            self.final_validation_metric,
        ]
    }

    /// The curves, in the order of [`CURVE_NAMES`] (test curves only with a test set).
    pub fn curves(&self) -> [Option<&Vec<f32>>; 4] {
        let c = &self.curves;
        [Some(&c.train_loss), Some(&c.train_metric), c.test_loss.as_ref(), c.test_metric.as_ref()]
    }

    /// Whether the run counts toward the rate `count` names.
    pub fn counts_as_success(&self, count: super::config::Count) -> bool {
        self.outcome().counts(count, self.converged_at_end)
    }

    /// How the run ended.
    pub fn outcome(&self) -> Outcome {
        Outcome::of(self.diverged_at, self.epochs_to_converge, self.converged)
    }

    /// Whether this record, read back from a file (to resume, grow or
    /// merge), can be the run it says it is of `plan`: its parameters are
    /// its grid point's, its epochs within the budget, its flags agree with
    /// them, and each curve has one value per recorded epoch it reached.
    /// `Err` names the field. (Its run, point and seed are the reader's to
    /// check: they place the line.)
    pub fn check(&self, plan: &super::plan::Plan) -> Result<(), String> {
        let epochs = plan.epochs;
        let in_budget = |name: &str, e: Option<usize>| match e {
            Some(e) if e == 0 || e > epochs => {
                Err(format!("`{name}` is {e}, outside this sweep's epochs 1..={epochs}"))
            }
            _ => Ok(()),
        };
        in_budget("epochs_to_converge", self.epochs_to_converge)?;
        in_budget("diverged_epoch", self.diverged_at)?;
        if !self.params.same_as(&plan.grid.params(self.point)) {
            return Err(format!("`params` are not those of grid point {}", self.point));
        }
        if self.diverged != self.diverged_at.is_some() {
            return Err("`diverged` and `diverged_epoch` disagree".into());
        }
        if self.converged && self.epochs_to_converge.is_none() {
            return Err("`converged` is true without an `epochs_to_converge`".into());
        }
        if !self.diverged && (self.final_train_loss.is_none() || self.final_train_metric.is_none()) {
            return Err("a run that did not diverge has no `final_train_loss` or `final_train_metric`".into());
        }
        // Every recorded epoch, or those before the loss stopped being finite.
        let reached = plan.record_epochs.iter().take_while(|&&e| self.diverged_at.is_none_or(|d| e < d)).count();
        let test = plan.datasets[0].test.is_some();
        for (name, curve) in CURVE_NAMES.iter().zip(self.curves()) {
            match curve {
                Some(c) if c.len() != reached => {
                    return Err(format!(
                        "curve `{name}` has {} values where the run recorded {reached} epochs",
                        c.len()
                    ))
                }
                None if test => return Err(format!("curve `{name}` is missing")),
                _ => {}
            }
        }
        Ok(())
    }
}

/// A u64 seed in files as a hex string, "0x" and 16 digits. Half of all
/// seeds are 2⁶³ or more: as JSON numbers, pyarrow, polars, DuckDB and
/// JavaScript read them as doubles, and pandas reads numeric strings as
/// doubles too, losing digits; no reader turns "0x…" into a number.
/// Reads back the string or a plain number (files of earlier versions).
pub mod seed_text {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `0x` and 16 hex digits.
    pub fn serialize<S: Serializer>(seed: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{seed:#018x}"))
    }

    /// Reads "0x…" hex, a decimal string, or a number.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Text {
            Number(u64),
            Text(String),
        }
        match Text::deserialize(d)? {
            Text::Number(n) => Ok(n),
            Text::Text(t) => match t.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => t.parse(),
            }
            .map_err(|_| serde::de::Error::custom(format!("seed {t:?} is not a 64-bit seed (\"0x\" and hex digits)"))),
        }
    }
}

/// A value as a record keeps it: every NaN as the one `f32::NAN`. IEEE 754
/// and Rust leave the sign and payload of a NaN an operation makes
/// unspecified (the compiler may swap an addition's operands, and x86 passes
/// on the first NaN), so without this the sorted statistics and the bits in
/// runs.parquet could depend on code generation.
#[inline]
pub fn one_nan(x: f32) -> f32 {
    if x.is_nan() {
        f32::NAN
    } else {
        x
    }
}

/// The runs.jsonl lines of records: compact JSON, one per line, the bytes
/// `serde_json::to_writer` writes.
pub fn jsonl(records: &[RunRecord]) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.len() * 4096);
    let mut seen = Box::new([Slot { bits: 0, len: 0, text: [0; 16] }; SLOTS]);
    for r in records {
        let mut json = serde_json::Serializer::with_formatter(&mut out, Remembering { slots: &mut seen });
        // Serialising plain data into a Vec cannot fail.
        r.serialize(&mut json).expect("run records serialise");
        out.push(b'\n');
    }
    out
}

/// serde_json's compact formatting, with the text of recent f32 values kept
/// in a small table by bit pattern. The curves are most of what runs.jsonl
/// holds, and their values repeat: a metric over a few samples takes a few
/// values only (XOR's accuracy: 0, 0.25, 0.5, 0.75 or 1). Formatting one
/// costs 25–29 ns (`cargo bench --bench curves`); a repeated value costs
/// a look-up. The text is zmij's shortest round trip, as serde_json's own
/// formatter writes it (serde_json writes non-finite values as `null`
/// before asking the formatter).
struct Remembering<'a> {
    slots: &'a mut [Slot; SLOTS],
}

/// Table size: 256 × 24 bytes stays in L1.
const SLOTS: usize = 256;

/// An f32's bit pattern and its text (zmij's longest text of an f32 has 16
/// bytes, as `-0.0000010000001`: checked over all 2³² bit patterns; a longer
/// one would be written and not remembered). `len` 0: empty (no text is).
#[derive(Clone, Copy)]
struct Slot {
    bits: u32,
    len: u8,
    text: [u8; 16],
}

impl serde_json::ser::Formatter for Remembering<'_> {
    fn write_f32<W: ?Sized + std::io::Write>(&mut self, writer: &mut W, value: f32) -> std::io::Result<()> {
        let bits = value.to_bits();
        let slot = &mut self.slots[(bits.wrapping_mul(0x9E37_79B1) >> 24) as usize];
        if slot.len != 0 && slot.bits == bits {
            return writer.write_all(&slot.text[..usize::from(slot.len)]);
        }
        let mut buffer = zmij::Buffer::new();
        let text = buffer.format_finite(value).as_bytes();
        // Written from zmij's buffer first, remembered after: a copy of
        // bytes stored moments ago waits for the stores (store-to-load
        // forwarding fails across zmij's narrow stores), and this way only
        // the first copy waits.
        writer.write_all(text)?;
        if let Some(into) = slot.text.get_mut(..text.len()) {
            into.copy_from_slice(text);
            slot.len = text.len() as u8;
            slot.bits = bits;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records whose curves hold `values`, and whose other fields are those
    /// of a shipped XOR record.
    fn with_curves(values: &[f32]) -> Vec<RunRecord> {
        let line = r#"{"run":0,"point":0,"params":{"architecture":"2-2-1","lr":0.01},"seed_index":0,"seed":"0xa9bb601aeda8555c","converged":true,"epochs_to_converge":953,"converged_at_end":true,"diverged":false,"diverged_epoch":null,"outcome":"converged","final_train_loss":0.023263032,"final_train_metric":1.0,"final_test_loss":null,"final_test_metric":null,"best_test_metric":null,"curves":{"train_loss":[],"train_metric":[]}}"#;
        let template: RunRecord = serde_json::from_str(line).expect("the template parses");
        values
            .chunks(7)
            .enumerate()
            .map(|(run, chunk)| {
                let mut r = template.clone();
                r.run = run;
                r.final_train_loss = chunk.first().copied();
                r.curves.train_loss = chunk.to_vec();
                r.curves.train_metric = chunk.iter().rev().copied().collect();
                r
            })
            .collect()
    }

    #[test]
    fn runs_jsonl_is_what_serde_json_writes() {
        let mut values = vec![
            0.0f32,
            -0.0,
            1.0,
            0.25,
            0.1,
            1.0 / 3.0,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE * 0.999,
            f32::from_bits(1),
            f32::MAX,
            f32::MIN,
            f32::EPSILON,
            1e-38,
            123_456_790.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ];
        // Many values, repeats and table collisions among them: every bit
        // pattern below 2^32 in steps of a large odd number.
        values.extend((0..20_000u32).map(|i| f32::from_bits(i.wrapping_mul(0x9E37_79B9))));
        values.extend((0..2_000u32).map(|i| (i % 5) as f32 / 4.0));
        let records = with_curves(&values);
        let mut want = Vec::new();
        for r in &records {
            serde_json::to_writer(&mut want, r).expect("records serialise");
            want.push(b'\n');
        }
        let got = jsonl(&records);
        assert!(got == want, "runs.jsonl differs from serde_json's bytes");
        // Every line reads back to its record, the non-finite values as null.
        let back: Vec<serde_json::Value> =
            got.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect();
        assert_eq!(back.len(), records.len());
        assert_eq!(back[2]["curves"]["train_loss"][0], serde_json::Value::Null);
    }

    #[test]
    fn every_nan_is_kept_as_one_value() {
        let negative = f32::from_bits(0xFFC0_0000);
        let payload = f32::from_bits(0x7FC0_1234);
        assert!(negative.is_nan() && payload.is_nan());
        for x in [negative, payload, -f32::NAN, f32::NAN] {
            assert_eq!(one_nan(x).to_bits(), 0x7FC0_0000);
        }
        for x in [0.0f32, -0.0, 1.5, -2.25, f32::INFINITY, f32::NEG_INFINITY, f32::MIN_POSITIVE] {
            assert_eq!(one_nan(x).to_bits(), x.to_bits());
        }
    }

    #[test]
    fn seeds_are_hex_strings_and_earlier_files_still_read() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct S {
            #[serde(with = "seed_text")]
            seed: u64,
        }
        for v in [0u64, 1, 1 << 53, (1 << 63) + 12345, u64::MAX] {
            let text = serde_json::to_string(&S { seed: v }).unwrap();
            assert_eq!(serde_json::from_str::<S>(&text).unwrap().seed, v, "{text}");
        }
        assert_eq!(serde_json::to_string(&S { seed: 10 }).unwrap(), r#"{"seed":"0x000000000000000a"}"#);
        // Earlier files: a number, or a decimal string.
        assert_eq!(serde_json::from_str::<S>(r#"{"seed":18446744073709551615}"#).unwrap().seed, u64::MAX);
        assert_eq!(serde_json::from_str::<S>(r#"{"seed":"42"}"#).unwrap().seed, 42);
        assert!(serde_json::from_str::<S>(r#"{"seed":"0xzz"}"#).is_err());
    }

    #[test]
    fn classes_of_run_endings() {
        assert_eq!(Class::of(true, true, false, None), Class::Diverged);
        assert_eq!(Class::of(false, true, true, Some((0.5, 0.1))), Class::Converged);
        assert_eq!(Class::of(false, true, false, Some((0.5, 0.5))), Class::Transient);
        // Never met: flat (less than 1% lower over the window) or still falling.
        assert_eq!(Class::of(false, false, false, Some((1.0, 0.995))), Class::Plateau);
        assert_eq!(Class::of(false, false, false, Some((1.0, 1.2))), Class::Plateau);
        assert_eq!(Class::of(false, false, false, Some((1.0, 0.98))), Class::Slow);
        assert_eq!(Class::of(false, false, false, None), Class::Plateau);
        assert_eq!(super::super::measure::trend_epoch(2000), 1500);
        assert_eq!(super::super::measure::trend_epoch(10), 8);
        assert_eq!(super::super::measure::trend_epoch(1), 1);
    }
}
