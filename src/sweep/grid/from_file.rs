//! Building the grid from an experiment file: `[grid]`'s axes (lists,
//! single values, log/linear ranges), checked by field, plus the axes the
//! grid always holds, from `[training]`.

use super::{kind_of, Axis, Grid, Kind, Number, Values, ALWAYS, NOT_AXES, ORDER, WIDTHS};
use crate::optimizers::Kind as OptimizerKind;
use crate::sweep::config::{BatchSize, ExperimentFile, FullBatch, LayerConfig, ProblemConfig, TrainingConfig, Units};
use crate::sweep::error::SweepError;
use serde_json::Value as Json;
use std::collections::BTreeSet;

fn err(msg: impl Into<String>) -> SweepError {
    SweepError::Config(msg.into())
}

impl Grid {
    /// Builds the grid of an experiment file: `[grid]` axes, checked, plus
    /// the axes the grid always holds (one value, from `[training]`).
    pub fn from_file(file: &ExperimentFile) -> Result<Grid, SweepError> {
        let widths = width_names(file);
        check_width_names(file, &widths)?;
        let mut axes = Vec::new();
        for (name, raw) in &file.grid.0 {
            check_name(name, file, &widths)?;
            if let Some(v) = training_value(file, name) {
                return Err(err(format!(
                    "{name} is set in both [training] ({v}) and [grid]: keep one (a one-value grid axis is a constant too)"
                )));
            }
            let values = parse_axis(name, raw).map_err(err)?;
            axes.push(Axis { name: name.clone(), values });
        }
        for name in ALWAYS.iter().chain(matches!(file.problem, ProblemConfig::Parity { .. }).then_some(&"bits")) {
            if !file.grid.0.contains_key(*name) {
                axes.push(Axis { name: name.to_string(), values: default_values(file, name)? });
            }
        }
        for w in &widths {
            if !file.grid.0.contains_key(w) {
                let users = architectures_using(file, w);
                return Err(err(format!(
                    "architecture `{}` has units = \"{w}\", but the grid has no axis `{w}`: add grid.{w} = [...] (its widths)",
                    users.join("`, `")
                )));
            }
        }
        Ok(Grid::new(axes))
    }
}

/// Names used as `units = "name"` by the architectures.
fn width_names(file: &ExperimentFile) -> BTreeSet<String> {
    file.architectures
        .values()
        .flat_map(|a| &a.layers)
        .filter_map(|l| match l {
            LayerConfig::Dense { units: Some(Units::Axis(n)), .. } => Some(n.clone()),
            _ => None,
        })
        .collect()
}

/// A width axis needs a name of its own: not a training field, `architecture`
/// or `bits`, nor a column of summary.csv.
fn check_width_names(file: &ExperimentFile, widths: &BTreeSet<String>) -> Result<(), SweepError> {
    for w in widths {
        let users = architectures_using(file, w).join("`, `");
        let taken = kind_of(w) != Kind::Width || NOT_AXES.contains(&w.as_str());
        if taken || crate::sweep::names::CSV_COLUMNS.contains(&w.as_str()) || w.is_empty() {
            return Err(err(format!(
                "architecture `{users}` has units = \"{w}\", but `{w}` is {}: name the width axis something else, e.g. units = \"hidden\"",
                if taken { "a training field or a built-in axis" } else { "a column of summary.csv" }
            )));
        }
    }
    Ok(())
}

fn architectures_using(file: &ExperimentFile, axis: &str) -> Vec<String> {
    file.architectures
        .iter()
        .filter(|(_, a)| {
            a.layers.iter().any(|l| matches!(l, LayerConfig::Dense { units: Some(Units::Axis(n)), .. } if n == axis))
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// Refuses names that are not axes, with the closest valid one.
fn check_name(name: &str, file: &ExperimentFile, widths: &BTreeSet<String>) -> Result<(), SweepError> {
    if NOT_AXES.contains(&name) {
        return Err(err(format!(
            "grid.{name}: {name} cannot be an axis (it defines what is measured); run one sweep per value instead"
        )));
    }
    if name == "bits" && !matches!(file.problem, ProblemConfig::Parity { .. }) {
        return Err(err("grid.bits needs problem.kind = \"parity\""));
    }
    if kind_of(name) != Kind::Width || widths.contains(name) {
        return Ok(());
    }
    let parity = matches!(file.problem, ProblemConfig::Parity { .. });
    let known = ORDER
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| *n != WIDTHS && (parity || *n != "bits"))
        .chain(widths.iter().map(String::as_str));
    let close = known.min_by_key(|k| strsim::damerau_levenshtein(name, k)).unwrap_or_default();
    Err(err(format!(
        "grid.{name} is not an axis: the grid takes fields of [training], architecture, bits, and widths named by a layer's units = \"...\" (did you mean `{close}`?)"
    )))
}

/// The `[training]` value of a field that is also an axis name, as text, when set.
fn training_value(file: &ExperimentFile, name: &str) -> Option<String> {
    if let Some((_, v)) = training_numbers(&file.training).into_iter().find(|(n, _)| *n == name) {
        return v.map(|x| x.to_string());
    }
    let t = serde_json::to_value(&file.training).ok()?;
    t.get(name).filter(|v| !v.is_null()).map(|v| v.to_string())
}

/// The one value of an axis the grid does not list.
fn default_values(file: &ExperimentFile, name: &str) -> Result<Values, SweepError> {
    let t = &file.training;
    Ok(match name {
        "architecture" => Values::Name(file.architectures.keys().cloned().collect()),
        "bits" => match file.problem {
            ProblemConfig::Parity { bits } => Values::Count(vec![bits]),
            _ => unreachable!("bits is added for parity problems only"),
        },
        "optimizer" => Values::Optimizer(vec![t.optimizer.unwrap_or(OptimizerKind::Sgd)]),
        "batch_size" => Values::BatchSize(vec![t.batch_size.unwrap_or(BatchSize::Full(FullBatch::Full))]),
        "activation" => Values::Activation(vec![t.activation]),
        "lr" => Values::Number(vec![t.lr.ok_or_else(|| err("no lr: set training.lr or grid.lr"))?]),
        "l2" => Values::Number(vec![t.l2.unwrap_or(0.0)]),
        "l1" => Values::Number(vec![t.l1.unwrap_or(0.0)]),
        _ => unreachable!("only the axes the grid always holds have defaults here"),
    })
}

/// Parses `[grid]`'s value for axis `name`: a list, a single value or a
/// range. Messages start with `grid.<name>`.
fn parse_axis(name: &str, raw: &toml::Value) -> Result<Values, String> {
    let kind = kind_of(name);
    let key = format!("grid.{name}");
    let list = match raw {
        toml::Value::Table(t) if t.contains_key("log") || t.contains_key("linear") => match kind {
            Kind::Number(_) => {
                Json::Array(range(t).map_err(|e| format!("{key}: {e}"))?.into_iter().map(Json::from).collect())
            }
            _ => {
                return Err(format!(
                    "{key}: ranges ({{ log = [a, b], points = n }}) are for numeric fields such as lr; list the values"
                ))
            }
        },
        toml::Value::Table(_) if matches!(kind, Kind::Number(_)) => {
            return Err(format!(
            "{key}: a table here must be a range, {{ log = [a, b], points = n }} or {{ linear = [a, b], points = n }}"
        ))
        }
        toml::Value::Array(v) if v.is_empty() => return Err(format!("{key} is empty: give at least one value")),
        toml::Value::Array(_) => serde_json::to_value(raw).map_err(|e| format!("{key}: {e}"))?,
        one => Json::Array(vec![serde_json::to_value(one).map_err(|e| format!("{key}: {e}"))?]),
    };
    let values = Values::parse(kind, list).map_err(|e| format!("{key}: {}", what_was_expected(kind, &e)))?;
    check_values(&key, kind, &values)?;
    check_distinct(&key, &values)?;
    Ok(values)
}

/// Each value once: a repeated value would be two grid points that are one.
fn check_distinct(key: &str, values: &Values) -> Result<(), String> {
    let all: Vec<Json> = (0..values.len()).map(|i| values.json(i)).collect();
    for (i, v) in all.iter().enumerate() {
        if all[..i].contains(v) {
            return Err(format!("{key} lists {} twice: give each value once", values.label(i)));
        }
    }
    Ok(())
}

/// A readable message for a value of the wrong type.
fn what_was_expected(kind: Kind, serde_msg: &str) -> String {
    let want = match kind {
        Kind::Bits => "whole numbers N >= 2",
        Kind::Width => "widths: whole numbers >= 1",
        Kind::Architecture => "architecture names",
        Kind::Optimizer => "optimizer names: sgd, adam, rmsprop, adagrad, adadelta",
        Kind::Nesterov => "true or false",
        Kind::BatchSize => "batch sizes: whole numbers >= 1 or \"full\"",
        Kind::Activation => "activations: tanh, relu, sigmoid, linear, leaky_relu or { leaky_relu = a }",
        Kind::Init => "inits: glorot_uniform, he_normal, { uniform = a } or { normal = sigma }",
        Kind::Number(_) => "numbers",
    };
    format!("expected {want} ({serde_msg})")
}

/// Most values a range may hold.
const MAX_RANGE_POINTS: usize = 100_000;

/// `{ log = [a, b], points = n }` or `{ linear = [a, b], points = n }`: n
/// values from a to b inclusive, evenly spaced (in log10 for `log`).
fn range(t: &toml::Table) -> Result<Vec<f64>, String> {
    let allowed = ["log", "linear", "points"];
    if let Some(k) = t.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("unknown key `{k}` in a range (use log or linear, and points)"));
    }
    let log = t.contains_key("log");
    if log && t.contains_key("linear") {
        return Err("a range is either log or linear, not both".into());
    }
    let bounds = t.get(if log { "log" } else { "linear" }).expect("checked above");
    let ends: Vec<f64> = match bounds.as_array() {
        Some(v) if v.len() == 2 => {
            v.iter().map(|x| x.as_float().or(x.as_integer().map(|i| i as f64))).collect::<Option<_>>()
        }
        _ => None,
    }
    .ok_or("the bounds must be two numbers, e.g. log = [0.01, 1.0]")?;
    let (a, b) = (ends[0], ends[1]);
    let n = match t.get("points").map(|p| p.as_integer()) {
        None => return Err("a range needs points = n".into()),
        Some(Some(n)) if n >= 1 => n as usize,
        Some(_) => return Err("points must be a whole number >= 1".into()),
    };
    if n > MAX_RANGE_POINTS {
        return Err(format!("points = {n} is more than a range may hold ({MAX_RANGE_POINTS})"));
    }
    if !(a.is_finite() && b.is_finite()) {
        return Err("the bounds must be finite numbers".into());
    }
    if log && !(a > 0.0 && b > 0.0) {
        return Err(format!("log = [{a}, {b}]: log ranges need bounds > 0"));
    }
    if n == 1 && a != b {
        return Err(format!("points = 1 between {a} and {b} would drop {b}: give a single value instead (e.g. {a})"));
    }
    let at = |i: usize| {
        let t = if n == 1 { 0.0 } else { i as f64 / (n - 1) as f64 };
        match i {
            0 => a,
            _ if i == n - 1 => b,
            _ if log => 10f64.powf(a.log10() + t * (b.log10() - a.log10())),
            _ => a + t * (b - a),
        }
    };
    Ok((0..n).map(at).collect())
}

/// Checks each value against its field's valid range.
fn check_values(name: &str, kind: Kind, values: &Values) -> Result<(), String> {
    let bad = |v: String, rule: &str| Err(format!("{name} = {v} is invalid: {rule}"));
    match (kind, values) {
        (Kind::Bits, Values::Count(v)) => {
            match v.iter().find(|b| !(2..=crate::sweep::problem::MAX_BITS).contains(*b)) {
                Some(b) => {
                    bad(b.to_string(), &format!("parity needs 2 <= bits <= {}", crate::sweep::problem::MAX_BITS))
                }
                None => Ok(()),
            }
        }
        (Kind::Width, Values::Count(v)) => match v.iter().find(|w| **w == 0 || **w > crate::sweep::plan::MAX_PARAMS) {
            Some(w) => bad(
                w.to_string(),
                &format!("widths must be whole numbers from 1 to {}", crate::sweep::plan::MAX_PARAMS),
            ),
            None => Ok(()),
        },
        (Kind::BatchSize, Values::BatchSize(v)) if v.contains(&BatchSize::Size(0)) => {
            bad("0".into(), "use at least 1, or \"full\"")
        }
        (Kind::Init, Values::Init(v)) => match v.iter().find(|i| i.validate().is_err()) {
            Some(i) => bad(format!("{i:?}"), "the scale must be a positive number"),
            None => Ok(()),
        },
        (Kind::Number(n), Values::Number(v)) => {
            let (ok, rule): (fn(f64) -> bool, &str) = match n {
                Number::Lr => (|x| x > 0.0, "every lr must be > 0"),
                Number::Strength => (|x| x >= 0.0, "regularization strengths must be >= 0"),
                Number::Unit => (|x| (0.0..1.0).contains(&x), "must be in [0, 1)"),
                Number::Epsilon => (|x| x > 0.0, "must be > 0"),
                Number::Accumulator => (|x| x >= 0.0, "must be >= 0"),
            };
            match v.iter().find(|x| !(x.is_finite() && ok(**x))) {
                Some(x) => bad(x.to_string(), rule),
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// The numeric fields of `[training]` by name (`None`: not set).
fn training_numbers(t: &TrainingConfig) -> [(&'static str, Option<f64>); 9] {
    [
        ("lr", t.lr),
        ("l1", t.l1),
        ("l2", t.l2),
        ("momentum", t.momentum),
        ("beta1", t.beta1),
        ("beta2", t.beta2),
        ("rho", t.rho),
        ("epsilon", t.epsilon),
        ("initial_accumulator", t.initial_accumulator),
    ]
}

/// Checks every `[training]` value that an axis could hold against the
/// same rules as the axis (NaN and infinities included).
pub fn check_training(file: &ExperimentFile) -> Result<(), SweepError> {
    let t = &file.training;
    for (name, v) in training_numbers(t) {
        if let Some(x) = v {
            check_values(&format!("training.{name}"), kind_of(name), &Values::Number(vec![x])).map_err(err)?;
        }
    }
    if let Some(b) = t.batch_size {
        check_values("training.batch_size", Kind::BatchSize, &Values::BatchSize(vec![b])).map_err(err)?;
    }
    if let Some(i) = t.init {
        check_values("training.init", Kind::Init, &Values::Init(vec![i])).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::Init;

    #[test]
    fn ranges_give_their_end_points_and_even_steps() {
        let t = |s: &str| toml::from_str::<toml::Table>(s).unwrap();
        let v = range(&t("log = [0.01, 1.0]\npoints = 5")).unwrap();
        assert_eq!(v[0], 0.01);
        assert_eq!(v[4], 1.0);
        for (x, want) in v.iter().zip([0.01, 0.031_622_776_601_683_79, 0.1, 0.316_227_766_016_837_9, 1.0]) {
            assert!((x / want - 1.0).abs() < 1e-12, "{v:?}");
        }
        assert_eq!(range(&t("linear = [0, 1]\npoints = 3")).unwrap(), [0.0, 0.5, 1.0]);
        assert_eq!(range(&t("linear = [2, 2]\npoints = 1")).unwrap(), [2.0]);
        assert!(range(&t("linear = [2, 5]\npoints = 1")).unwrap_err().contains("would drop 5"));
        assert!(range(&t("log = [0, 1]\npoints = 3")).unwrap_err().contains("> 0"));
        assert!(range(&t("log = [0.1, 1]\npoints = 0")).unwrap_err().contains(">= 1"));
        assert!(range(&t("log = [0.1, 1]")).unwrap_err().contains("points"));
        assert!(range(&t("log = [0.1]\npoints = 2")).is_err());
    }

    #[test]
    fn axis_values_are_checked_by_field() {
        let v = |s: &str| toml::from_str::<toml::Table>(&format!("v = {s}")).unwrap().remove("v").unwrap();
        assert_eq!(parse_axis("lr", &v("0.1")).unwrap(), Values::Number(vec![0.1]));
        assert_eq!(parse_axis("hidden", &v("[2, 8]")).unwrap(), Values::Count(vec![2, 8]));
        assert!(parse_axis("hidden", &v("[2.5]")).unwrap_err().contains("whole numbers"));
        assert!(parse_axis("hidden", &v("[0]")).unwrap_err().contains("from 1 to"));
        assert_eq!(parse_axis("lr", &v("[]")).unwrap_err(), "grid.lr is empty: give at least one value");
        assert!(parse_axis("lr", &v("[-0.1]")).unwrap_err().contains("> 0"));
        assert!(parse_axis("momentum", &v("[1.0]")).unwrap_err().contains("[0, 1)"));
        assert!(parse_axis("hidden", &v("{ log = [1, 8], points = 3 }")).unwrap_err().contains("numeric"));
        assert_eq!(
            parse_axis("init", &v(r#"["he_normal", { uniform = 2.0 }]"#)).unwrap(),
            Values::Init(vec![Init::HeNormal, Init::Uniform(2.0)])
        );
        assert_eq!(parse_axis("nesterov", &v("true")).unwrap(), Values::Flag(vec![true]));
        assert!(parse_axis("batch_size", &v("[0]")).is_err());
        assert!(parse_axis("batch_size", &v("[-1]")).unwrap_err().contains("batch sizes"));
    }
}
