//! The values of one axis, typed by the axis' kind.

use super::Kind;
use crate::activations::Activation;
use crate::init::Init;
use crate::optimizers::Kind as OptimizerKind;
use crate::sweep::config::BatchSize;
use serde_json::Value as Json;

/// The values of one axis.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// Whole numbers (bits, widths).
    Count(Vec<usize>),
    /// Architecture names.
    Name(Vec<String>),
    /// Optimizer families.
    Optimizer(Vec<OptimizerKind>),
    /// Flags (nesterov).
    Flag(Vec<bool>),
    /// Batch sizes.
    BatchSize(Vec<BatchSize>),
    /// Activations (`None`: every layer names its own).
    Activation(Vec<Option<Activation>>),
    /// Weight initialisations.
    Init(Vec<Init>),
    /// Numbers.
    Number(Vec<f64>),
}

impl Values {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Values::Count(v) => v.len(),
            Values::Name(v) => v.len(),
            Values::Optimizer(v) => v.len(),
            Values::Flag(v) => v.len(),
            Values::BatchSize(v) => v.len(),
            Values::Activation(v) => v.len(),
            Values::Init(v) => v.len(),
            Values::Number(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i` as JSON (as written in experiment files).
    pub fn json(&self, i: usize) -> Json {
        match self {
            Values::Count(v) => to_json(&v[i]),
            Values::Name(v) => to_json(&v[i]),
            Values::Optimizer(v) => to_json(&v[i]),
            Values::Flag(v) => to_json(&v[i]),
            Values::BatchSize(v) => to_json(&v[i]),
            Values::Activation(v) => to_json(&v[i]),
            Values::Init(v) => to_json(&v[i]),
            Values::Number(v) => to_json(&v[i]),
        }
    }

    /// Value `i` for people: "0.1", "tanh", "uniform(0.5)", "full".
    pub fn label(&self, i: usize) -> String {
        match self {
            Values::Count(v) => v[i].to_string(),
            Values::Name(v) => v[i].clone(),
            Values::Optimizer(v) => v[i].name().to_string(),
            Values::Flag(v) => v[i].to_string(),
            Values::BatchSize(v) => v[i].to_string(),
            Values::Activation(v) => v[i].map_or("(per layer)".into(), |a| a.name()),
            Values::Init(v) => match v[i] {
                Init::GlorotUniform => "glorot_uniform".into(),
                Init::HeNormal => "he_normal".into(),
                Init::Uniform(a) => format!("uniform({a})"),
                Init::Normal(s) => format!("normal({s})"),
            },
            Values::Number(v) => v[i].to_string(),
        }
    }

    /// Value `i` for tables and figures: numbers to 4 significant digits
    /// ([`short_number`]), everything else as [`Self::label`].
    pub fn short(&self, i: usize) -> String {
        match self {
            Values::Number(v) => short_number(v[i]),
            _ => self.label(i),
        }
    }

    /// Value `i` as a number, for axes drawn on a numeric scale.
    pub fn number(&self, i: usize) -> Option<f64> {
        match self {
            Values::Count(v) => Some(v[i] as f64),
            Values::Number(v) => Some(v[i]),
            Values::BatchSize(v) => match v[i] {
                BatchSize::Size(s) => Some(s as f64),
                BatchSize::Full(_) => None,
            },
            _ => None,
        }
    }

    /// The index of the value `want` names: its label, its short form, or
    /// the same number ("0.01", "1e-2", "adam", "full").
    pub fn find(&self, want: &str) -> Option<usize> {
        let want = want.trim();
        let number = want.parse::<f64>().ok();
        (0..self.len()).find(|&i| {
            self.label(i) == want || self.short(i) == want || self.number(i).zip(number).is_some_and(|(v, w)| v == w)
        })
    }

    /// Whether every value is a number.
    pub fn is_numeric(&self) -> bool {
        (0..self.len()).all(|i| self.number(i).is_some())
    }

    /// Parses a JSON list of values of `kind`.
    pub(super) fn parse(kind: Kind, list: Json) -> Result<Values, String> {
        fn vec<T: serde::de::DeserializeOwned>(list: Json) -> Result<Vec<T>, String> {
            serde_json::from_value(list).map_err(|e| e.to_string())
        }
        Ok(match kind {
            Kind::Bits | Kind::Width => Values::Count(vec(list)?),
            Kind::Architecture => Values::Name(vec(list)?),
            Kind::Optimizer => Values::Optimizer(vec(list)?),
            Kind::Nesterov => Values::Flag(vec(list)?),
            Kind::BatchSize => Values::BatchSize(vec(list)?),
            Kind::Activation => Values::Activation(vec(list)?),
            Kind::Init => Values::Init(vec(list)?),
            Kind::Number(_) => Values::Number(vec(list)?),
        })
    }
}

/// A value as JSON (plain data always serialises).
fn to_json<T: serde::Serialize>(v: &T) -> Json {
    serde_json::to_value(v).expect("plain data serialises")
}

/// A number as a person writes it, to 4 significant digits: 0.001, 0.3162,
/// 1, 2000, 1e-5, 2.5e6 (tables and figures; files keep every digit).
pub fn short_number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if (1e-4..1e6).contains(&a) {
        // Up to 4 significant digits, trailing zeros dropped.
        let digits = (4 - 1 - a.log10().floor() as i32).max(0) as usize;
        let s = format!("{v:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        let s = format!("{v:.2e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') { m.trim_end_matches('0').trim_end_matches('.') } else { m };
        format!("{m}e{e}")
    }
}
