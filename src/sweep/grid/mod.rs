//! The grid: a list of named axes, the one home of grid coordinates.
//!
//! Every stage asks this module for a point's coordinates, its parameters
//! by axis name, which axes vary and how to print a value; nothing else
//! knows the axis order or matches coordinates by value.
//!
//! **Axes.** Any field of `[training]` but epochs, loss and metric
//! (`optimizer`, `nesterov`, `batch_size`, `activation`, `init`, `momentum`,
//! `beta1`, `beta2`, `rho`, `epsilon`, `initial_accumulator`, `lr`, `l2`,
//! `l1`), plus `architecture`, `bits` (parity problems) and *width axes*:
//! any other name, used by a layer as `units = "name"`. The grid always holds
//! `architecture`, `optimizer`, `batch_size`, `activation`, `lr`, `l2` and
//! `l1` (one value each when `[grid]` does not list them) and `bits` for
//! parity problems; the other axes exist when `[grid]` names them.
//!
//! **Order** (outermost first; it decides run identity): bits, architecture,
//! width axes (by name), optimizer, nesterov, batch_size, activation | init,
//! momentum, beta1, beta2, rho, epsilon, initial_accumulator, lr, l2, l1;
//! then the seed index. The axes before the bar change a network's shape or
//! its code path and start a new *family*; the axes after it are numbers a
//! member carries in its own lane, so a family's points train together.
//! Point p's coordinates are p written in the mixed radix of the axes' lengths.

mod from_file;
mod values;

pub use from_file::check_training;
pub use values::{short_number, Values};

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value as Json;

/// What an axis holds, decided by its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Parity input sizes.
    Bits,
    /// Architecture names.
    Architecture,
    /// Layer widths (an axis named in `units = "..."`).
    Width,
    /// Optimizer families.
    Optimizer,
    /// Nesterov momentum on or off.
    Nesterov,
    /// Batch sizes.
    BatchSize,
    /// Activations of layers that do not name one.
    Activation,
    /// Weight initialisation of layers that do not name one.
    Init,
    /// A number of the training setup (lr, l1, l2, momentum, optimizer constants).
    Number(Number),
}

/// The numeric training fields, with their valid ranges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Number {
    /// Learning rate, > 0.
    Lr,
    /// Regularisation strengths, ≥ 0.
    Strength,
    /// Decays and momentum, in [0, 1).
    Unit,
    /// ε, > 0.
    Epsilon,
    /// Adagrad's starting accumulator, ≥ 0.
    Accumulator,
}

/// The axes in grid order; width axes take the place of `WIDTHS`.
const ORDER: [(&str, Kind); 17] = [
    ("bits", Kind::Bits),
    ("architecture", Kind::Architecture),
    (WIDTHS, Kind::Width),
    ("optimizer", Kind::Optimizer),
    ("nesterov", Kind::Nesterov),
    ("batch_size", Kind::BatchSize),
    ("activation", Kind::Activation),
    ("init", Kind::Init),
    ("momentum", Kind::Number(Number::Unit)),
    ("beta1", Kind::Number(Number::Unit)),
    ("beta2", Kind::Number(Number::Unit)),
    ("rho", Kind::Number(Number::Unit)),
    ("epsilon", Kind::Number(Number::Epsilon)),
    ("initial_accumulator", Kind::Number(Number::Accumulator)),
    ("lr", Kind::Number(Number::Lr)),
    ("l2", Kind::Number(Number::Strength)),
    ("l1", Kind::Number(Number::Strength)),
];

/// Placeholder in [`ORDER`] for the width axes.
const WIDTHS: &str = "<widths>";

/// The first axis (in [`ORDER`]) that a member carries in its own lane.
const FIRST_LANE_AXIS: &str = "init";

/// Axes the grid always holds.
const ALWAYS: [&str; 7] = ["architecture", "optimizer", "batch_size", "activation", "lr", "l2", "l1"];

/// Fields of `[training]` that cannot be axes.
pub const NOT_AXES: [&str; 3] = ["epochs", "loss", "metric"];

/// The kind of the axis called `name` (any unknown name is a width axis).
pub fn kind_of(name: &str) -> Kind {
    ORDER.iter().find(|(n, _)| *n == name).map_or(Kind::Width, |(_, k)| *k)
}

/// Sort key of an axis in grid order.
fn rank(name: &str) -> (usize, &str) {
    let slot = |n: &str| ORDER.iter().position(|(o, _)| *o == n).expect("ORDER holds the slot");
    match kind_of(name) {
        Kind::Width => (slot(WIDTHS), name),
        _ => (slot(name), ""),
    }
}

/// Whether an axis is carried per member (lr, init, momentum, …) rather
/// than starting a new family.
pub fn is_lane(name: &str) -> bool {
    rank(name).0 >= rank(FIRST_LANE_AXIS).0
}

/// One named axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Its name (`lr`, `architecture`, `hidden`, …).
    pub name: String,
    /// Its values, in the order given.
    pub values: Values,
}

impl Axis {
    /// The kind its name gives it.
    pub fn kind(&self) -> Kind {
        kind_of(&self.name)
    }
}

/// An axis in files: `{"name": "lr", "values": [0.1, 0.3]}`.
#[derive(Serialize, Deserialize)]
struct AxisFile {
    name: String,
    values: Json,
}

impl Serialize for Axis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let values = Json::Array((0..self.values.len()).map(|i| self.values.json(i)).collect());
        AxisFile { name: self.name.clone(), values }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Axis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = AxisFile::deserialize(d)?;
        let values = Values::parse(kind_of(&f.name), f.values)
            .map_err(|e| serde::de::Error::custom(format!("axis `{}`: {e}", f.name)))?;
        Ok(Axis { name: f.name, values })
    }
}

/// The axes of a sweep, in grid order. Read from files, it is checked: every
/// axis has values, names are distinct and in grid order, and the grid has
/// at most [`crate::sweep::plan::MAX_RUNS`] points.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Grid {
    axes: Vec<Axis>,
}

impl<'de> Deserialize<'de> for Grid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let axes = Vec::<Axis>::deserialize(d)?;
        let bad = |m: String| serde::de::Error::custom(format!("the grid's axes: {m}"));
        if let Some(a) = axes.iter().find(|a| a.values.is_empty()) {
            return Err(bad(format!("axis `{}` has no values", a.name)));
        }
        if let Some(w) = axes.windows(2).find(|w| rank(&w[0].name) >= rank(&w[1].name)) {
            return Err(bad(format!("`{}` and `{}` are repeated or out of grid order", w[0].name, w[1].name)));
        }
        let points = axes.iter().try_fold(1usize, |acc, a| acc.checked_mul(a.values.len()));
        if points.is_none_or(|p| p > crate::sweep::plan::MAX_RUNS) {
            return Err(bad("more grid points than this tool accepts".into()));
        }
        Ok(Grid { axes })
    }
}

/// A point's parameters by axis name, in grid order (a JSON object in files).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Params(pub Vec<(String, Json)>);

impl Params {
    /// The same values by axis name, in any order (a tool that rewrote a
    /// line of runs.jsonl may have reordered its keys).
    pub fn same_as(&self, other: &Params) -> bool {
        self.0.len() == other.0.len() && other.0.iter().all(|(n, v)| self.get(n) == Some(v))
    }

    /// The value of axis `name`.
    pub fn get(&self, name: &str) -> Option<&Json> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

impl Serialize for Params {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Params {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Ordered;
        impl<'de> Visitor<'de> for Ordered {
            type Value = Params;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of axis values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Params, A::Error> {
                let mut v = Vec::new();
                while let Some(entry) = map.next_entry::<String, Json>()? {
                    v.push(entry);
                }
                Ok(Params(v))
            }
        }
        d.deserialize_map(Ordered)
    }
}

impl Grid {
    /// A grid of the given axes, put in grid order. Axis names must be distinct.
    pub fn new(mut axes: Vec<Axis>) -> Grid {
        axes.sort_by(|a, b| rank(&a.name).cmp(&rank(&b.name)));
        Grid { axes }
    }

    /// The axes, outermost first.
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// The axis called `name` and its position.
    pub fn axis(&self, name: &str) -> Option<(usize, &Axis)> {
        self.axes.iter().enumerate().find(|(_, a)| a.name == name)
    }

    /// Number of values of each axis, outermost first.
    pub fn radices(&self) -> Vec<usize> {
        self.axes.iter().map(|a| a.values.len()).collect()
    }

    /// Number of grid points (the product of the radices).
    pub fn points(&self) -> usize {
        self.axes.iter().map(|a| a.values.len()).product()
    }

    /// Point `p`'s coordinates: one value index per axis.
    pub fn coords(&self, p: usize) -> Vec<usize> {
        let mut c = vec![0; self.axes.len()];
        let mut rest = p;
        for (i, a) in self.axes.iter().enumerate().rev() {
            let n = a.values.len();
            c[i] = rest % n;
            rest /= n;
        }
        c
    }

    /// The point at `coords` (the inverse of [`Self::coords`]).
    pub fn point(&self, coords: &[usize]) -> usize {
        self.axes.iter().zip(coords).fold(0, |acc, (a, &i)| acc * a.values.len() + i)
    }

    /// Names of the axes with more than one value, in grid order.
    pub fn varying(&self) -> Vec<&str> {
        self.axes.iter().filter(|a| a.values.len() > 1).map(|a| a.name.as_str()).collect()
    }

    /// Point `p`'s parameters by axis name.
    pub fn params(&self, p: usize) -> Params {
        let c = self.coords(p);
        Params(self.axes.iter().zip(&c).map(|(a, &i)| (a.name.clone(), a.values.json(i))).collect())
    }

    /// Point `p` by the axes that vary, but `except`: "lr=0.1 l2=0" (tables
    /// and row labels; empty when no other axis varies).
    pub fn varying_label(&self, p: usize, except: &str) -> String {
        let c = self.coords(p);
        self.axes
            .iter()
            .zip(c)
            .filter(|(a, _)| a.values.len() > 1 && a.name != except)
            .map(|(a, i)| format!("{}={}", a.name, a.values.short(i)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Point `p` by the named axes: "lr 0.1 · l2 0".
    pub fn describe(&self, p: usize, names: &[&str]) -> String {
        let c = self.coords(p);
        names
            .iter()
            .filter_map(|n| self.axis(n).map(|(i, a)| format!("{n} {}", a.values.short(c[i]))))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// Grid points per family: the product of the lane axes' lengths.
    pub fn family_points(&self) -> usize {
        self.axes.iter().filter(|a| is_lane(&a.name)).map(|a| a.values.len()).product()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::Init;
    use std::collections::BTreeSet;

    fn num(name: &str, v: &[f64]) -> Axis {
        Axis { name: name.into(), values: Values::Number(v.to_vec()) }
    }

    #[test]
    fn axes_are_put_in_grid_order() {
        let g = Grid::new(vec![
            num("l1", &[0.0]),
            num("lr", &[0.1, 0.3]),
            Axis { name: "hidden".into(), values: Values::Count(vec![2, 4]) },
            num("momentum", &[0.0, 0.9]),
            Axis { name: "architecture".into(), values: Values::Name(vec!["a".into()]) },
            Axis { name: "depth".into(), values: Values::Count(vec![1]) },
        ]);
        let names: Vec<&str> = g.axes().iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["architecture", "depth", "hidden", "momentum", "lr", "l1"]);
        assert_eq!(g.varying(), ["hidden", "momentum", "lr"]);
        assert_eq!(g.family_points(), 4);
        assert!(is_lane("lr") && is_lane("init") && is_lane("momentum"));
        assert!(!is_lane("hidden") && !is_lane("activation") && !is_lane("nesterov"));
    }

    #[test]
    fn every_point_round_trips_through_its_coordinates() {
        let g = Grid::new(vec![
            num("lr", &[0.1, 0.3, 1.0]),
            Axis { name: "hidden".into(), values: Values::Count(vec![2, 3, 4, 8]) },
            num("l2", &[0.0, 0.01]),
            Axis { name: "architecture".into(), values: Values::Name(vec!["a".into(), "b".into()]) },
        ]);
        assert_eq!(g.points(), 48);
        let mut seen = BTreeSet::new();
        for p in 0..g.points() {
            let c = g.coords(p);
            assert!(c.iter().zip(g.radices()).all(|(i, n)| *i < n));
            assert_eq!(g.point(&c), p);
            assert!(seen.insert(c));
        }
        // The last axis varies fastest: point 1 is the next l2.
        assert_eq!(g.coords(1), [0, 0, 0, 1]);
        let p = g.params(1 + 2 * 3);
        assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"architecture":"a","hidden":3,"lr":0.1,"l2":0.01}"#);
    }

    #[test]
    fn params_and_axes_keep_their_order_through_json() {
        let g = Grid::new(vec![
            Axis { name: "architecture".into(), values: Values::Name(vec!["x".into()]) },
            Axis { name: "init".into(), values: Values::Init(vec![Init::GlorotUniform, Init::Uniform(0.5)]) },
            num("lr", &[0.5]),
        ]);
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(
            json,
            r#"[{"name":"architecture","values":["x"]},{"name":"init","values":["glorot_uniform",{"uniform":0.5}]},{"name":"lr","values":[0.5]}]"#
        );
        assert_eq!(serde_json::from_str::<Grid>(&json).unwrap(), g);
        let p = g.params(1);
        let back: Params = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
        assert_eq!(g.axes()[1].values.label(1), "uniform(0.5)");
    }
}
