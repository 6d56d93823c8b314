//! Which grid axis each part of a figure shows. Every figure has the same
//! roles: the architecture (lines or files), `x` (heatmap columns, the
//! x axis of rate plots, the colours of curves), `y` (heatmap rows), `z`
//! (panels) and *facets*: every other axis, combined, drawn as extra panel
//! rows or files. Coordinates come from the grid's point index (never by
//! matching values).
//!
//! Defaults: x, y and z are the varying axes among lr, l2, l1 in that
//! order, then the other varying numeric axes in grid order (bits, widths,
//! momentum, …); x and y fall back to lr, l2, l1 when fewer vary, z is left
//! out. `sweep plot --x AXIS --y AXIS` picks x and y.

use crate::sweep::grid::{Axis, Grid};

/// A facet: an index over the combined values of the facet axes.
pub type Facet = usize;

/// A grid coordinate in figure roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coord {
    /// Architecture value.
    pub arch: usize,
    /// Facet.
    pub facet: Facet,
    /// x value.
    pub x: usize,
    /// y value.
    pub y: usize,
    /// z value.
    pub z: usize,
}

/// The axis shown in one role: its position in the grid, or none (a role
/// with a single, implicit value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Role(pub Option<usize>);

/// How a role's values are placed along a numeric axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// log10 of the value (positive values spanning a decade or more).
    Log,
    /// The value.
    Linear,
    /// Evenly spaced, by value index.
    Category,
}

impl Role {
    fn axis<'g>(&self, g: &'g Grid) -> Option<&'g Axis> {
        self.0.map(|i| &g.axes()[i])
    }

    /// Number of values (1 for no axis).
    pub fn len(&self, g: &Grid) -> usize {
        self.axis(g).map_or(1, |a| a.values.len())
    }

    /// Value `i` for people.
    pub fn label(&self, g: &Grid, i: usize) -> String {
        self.axis(g).map_or(String::new(), |a| a.values.short(i))
    }

    /// The axis name ("" for none).
    pub fn name<'g>(&self, g: &'g Grid) -> &'g str {
        self.axis(g).map_or("", |a| a.name.as_str())
    }

    /// Short name for captions: "lr", "L2", "L1", else the axis name.
    pub fn short(&self, g: &Grid) -> String {
        match self.name(g) {
            "l2" => "L2".into(),
            "l1" => "L1".into(),
            n => n.into(),
        }
    }

    /// Axis title: "learning rate", "L2 strength", …, else the axis name.
    pub fn title(&self, g: &Grid) -> String {
        match self.name(g) {
            "lr" => "learning rate".into(),
            "l2" => "L2 strength".into(),
            "l1" => "L1 strength".into(),
            "bits" => "parity bits".into(),
            n => n.replace('_', " "),
        }
    }

    /// Value `i` as a tick label: numbers in the figures' format.
    pub fn tick(&self, g: &Grid, i: usize) -> String {
        self.axis(g).map_or(String::new(), |a| a.values.short(i))
    }

    /// "L2 = 0.01" for value `i` ("" for no axis).
    pub fn caption(&self, g: &Grid, i: usize) -> String {
        match self.axis(g) {
            Some(a) => format!("{} = {}", self.short(g), a.values.short(i)),
            None => String::new(),
        }
    }

    /// How values are placed on a numeric axis.
    pub fn scale(&self, g: &Grid) -> Scale {
        let Some(a) = self.axis(g).filter(|a| a.values.is_numeric()) else { return Scale::Category };
        let v: Vec<f64> = (0..a.values.len()).filter_map(|i| a.values.number(i)).collect();
        let (lo, hi) = v.iter().fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(*x), h.max(*x)));
        let min_pos = v.iter().copied().filter(|x| *x > 0.0).fold(f64::MAX, f64::min);
        if lo > 0.0 && hi / lo >= 10.0 {
            Scale::Log
        } else if lo <= 0.0 && hi / min_pos >= 10.0 && v.len() > 2 {
            // 0 next to values spanning decades: no linear or log scale shows both.
            Scale::Category
        } else {
            Scale::Linear
        }
    }

    /// Where value `i` sits on the role's numeric axis (see [`Self::scale`]).
    pub fn position(&self, g: &Grid, i: usize) -> f64 {
        let n = self.axis(g).and_then(|a| a.values.number(i));
        match (self.scale(g), n) {
            (Scale::Log, Some(v)) => v.log10(),
            (Scale::Linear, Some(v)) => v,
            _ => i as f64,
        }
    }
}

/// The axes a user asked to see (`sweep plot --x AXIS --y AXIS --at …`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Choice {
    /// The slice the learning-curve and time-to-converge figures show:
    /// (axis, value) pairs; the rest from the best point.
    pub at: Vec<(String, String)>,
    /// Heatmap columns and the x axis of rate plots.
    pub x: Option<String>,
    /// Heatmap rows.
    pub y: Option<String>,
}

/// The roles of a results folder's figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// The architecture axis.
    pub arch: Role,
    /// Heatmap columns, rate-plot x axis, curve colours.
    pub x: Role,
    /// Heatmap rows.
    pub y: Role,
    /// Panels.
    pub z: Role,
    /// The other axes, outermost first.
    facet_axes: Vec<usize>,
}

impl View {
    /// The roles for a grid: the user's choice, defaults for the rest.
    pub fn new(g: &Grid, choice: &Choice) -> Result<View, String> {
        let find = |name: &str| -> Result<usize, String> {
            if name == "architecture" {
                return Err("the architecture has its own place in every figure (lines and files): choose another axis for --x/--y".into());
            }
            g.axis(name).map(|(i, _)| i).ok_or_else(|| {
                let names: Vec<&str> = g.axes().iter().map(|a| a.name.as_str()).collect();
                format!("has no axis `{name}` (its axes: {})", names.join(", "))
            })
        };
        let x = choice.x.as_deref().map(find).transpose()?;
        let y = choice.y.as_deref().map(find).transpose()?;
        if x.is_some() && x == y {
            return Err("--x and --y name the same axis".into());
        }
        let free = |c: &usize| Some(*c) != x && Some(*c) != y;
        let mut varying = defaults(g).into_iter().filter(free);
        let mut fallback = ["lr", "l2", "l1"].into_iter().filter_map(|n| g.axis(n).map(|(i, _)| i)).filter(free);
        let x = x.or_else(|| varying.next()).or_else(|| fallback.next());
        let y = y.or_else(|| varying.next()).or_else(|| fallback.find(|i| Some(*i) != x));
        // Panels only for a varying axis; one-value axes are facets (named in subtitles).
        let z = varying.next();
        let arch = g.axis("architecture").map(|(i, _)| i);
        let taken = [arch, x, y, z];
        let facet_axes = (0..g.axes().len()).filter(|i| !taken.contains(&Some(*i))).collect();
        Ok(View { arch: Role(arch), x: Role(x), y: Role(y), z: Role(z), facet_axes })
    }

    /// Number of facets (the product of the facet axes' lengths).
    pub fn facets(&self, g: &Grid) -> usize {
        self.facet_axes.iter().map(|&i| g.axes()[i].values.len()).product()
    }

    /// The facet axes with their value index at facet `f`.
    pub fn facet_values<'g>(&self, g: &'g Grid, f: Facet) -> Vec<(&'g Axis, usize)> {
        let mut rest = f;
        let mut out: Vec<(&Axis, usize)> = self
            .facet_axes
            .iter()
            .rev()
            .map(|&i| {
                let a = &g.axes()[i];
                let v = rest % a.values.len();
                rest /= a.values.len();
                (a, v)
            })
            .collect();
        out.reverse();
        out
    }

    /// Point `p` in roles.
    pub fn coord(&self, g: &Grid, p: usize) -> Coord {
        let c = g.coords(p);
        let at = |r: Role| r.0.map_or(0, |i| c[i]);
        let facet = self.facet_axes.iter().fold(0, |acc, &i| acc * g.axes()[i].values.len() + c[i]);
        Coord { arch: at(self.arch), facet, x: at(self.x), y: at(self.y), z: at(self.z) }
    }

    /// The grid point at a coordinate.
    pub fn point(&self, g: &Grid, c: Coord) -> usize {
        let mut coords = vec![0; g.axes().len()];
        for (r, v) in [(self.arch, c.arch), (self.x, c.x), (self.y, c.y), (self.z, c.z)] {
            if let Some(i) = r.0 {
                coords[i] = v;
            }
        }
        for (k, (_, v)) in self.facet_values(g, c.facet).into_iter().enumerate() {
            coords[self.facet_axes[k]] = v;
        }
        g.point(&coords)
    }
}

/// The varying axes x, y and z default to, in order: lr, l2, l1, then the
/// other numeric axes in grid order.
fn defaults(g: &Grid) -> Vec<usize> {
    let varies = |a: &Axis| a.values.len() > 1;
    let mut out: Vec<usize> =
        ["lr", "l2", "l1"].iter().filter_map(|n| g.axis(n)).filter(|(_, a)| varies(a)).map(|(i, _)| i).collect();
    for (i, a) in g.axes().iter().enumerate() {
        if varies(a) && a.values.is_numeric() && a.name != "architecture" && !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::grid::Values;

    fn grid() -> Grid {
        let num = |n: &str, v: &[f64]| Axis { name: n.into(), values: Values::Number(v.to_vec()) };
        Grid::new(vec![
            Axis { name: "architecture".into(), values: Values::Name(vec!["a".into(), "b".into()]) },
            Axis { name: "hidden".into(), values: Values::Count(vec![2, 4, 8]) },
            num("momentum", &[0.0, 0.9]),
            num("lr", &[0.01, 0.1, 1.0]),
            num("l2", &[0.0]),
            num("l1", &[0.0]),
        ])
    }

    #[test]
    fn defaults_put_lr_on_x_and_the_next_varying_numbers_after_it() {
        let g = grid();
        let v = View::new(&g, &Choice::default()).unwrap();
        assert_eq!((v.x.name(&g), v.y.name(&g), v.z.name(&g)), ("lr", "hidden", "momentum"));
        assert_eq!(v.facets(&g), 1);
        assert_eq!(v.x.scale(&g), Scale::Log);
        assert_eq!(v.z.scale(&g), Scale::Linear);
    }

    #[test]
    fn every_point_round_trips_through_roles() {
        let g = grid();
        for choice in [
            Choice::default(),
            Choice { x: Some("momentum".into()), y: Some("l2".into()), at: Vec::new() },
            Choice { x: None, y: Some("lr".into()), at: Vec::new() },
        ] {
            let v = View::new(&g, &choice).unwrap();
            for p in 0..g.points() {
                assert_eq!(v.point(&g, v.coord(&g, p)), p, "{choice:?}");
            }
        }
    }

    #[test]
    fn a_choice_must_name_another_axis_of_the_grid() {
        let g = grid();
        let e = View::new(&g, &Choice { x: Some("width".into()), y: None, at: Vec::new() }).unwrap_err();
        assert!(e.contains("hidden"), "{e}");
        assert!(View::new(&g, &Choice { x: Some("architecture".into()), y: None, at: Vec::new() }).is_err());
        assert!(View::new(&g, &Choice { x: Some("lr".into()), y: Some("lr".into()), at: Vec::new() }).is_err());
    }
}
