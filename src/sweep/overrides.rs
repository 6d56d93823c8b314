//! Reading an experiment file and applying `--set key=value` overrides
//! (Hydra-style dotted keys, TOML values: `--set seeds=10`,
//! `--set grid.lr=[0.1,0.3]`, `--set problem.kind=parity`), with error
//! messages that name the key, the line and the closest valid key.

use super::config::ExperimentFile;
use super::error::SweepError;
use super::grid::Grid;
use serde::Deserialize;
use std::path::Path;
use toml::{Table, Value};

/// The deepest dotted key an override may name (`architectures.a.layers` is 3).
const MAX_KEY_DEPTH: usize = 8;

/// Parses an experiment file, then applies the overrides in order.
pub fn load(path: &Path, overrides: &[String]) -> Result<ExperimentFile, SweepError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SweepError::Config(format!("cannot read experiment file {}: {e}", path.display())))?;
    parse(&text, &path.display().to_string(), overrides)
}

/// Parses experiment text (`origin` names it in messages) and applies overrides.
pub fn parse(text: &str, origin: &str, overrides: &[String]) -> Result<ExperimentFile, SweepError> {
    // Typed parse of the file itself first: its errors carry line numbers.
    let file: ExperimentFile = toml::from_str(text)
        .map_err(|e| SweepError::Config(format!("{origin}: {}", with_suggestion(&e.to_string()))))?;
    if overrides.is_empty() {
        // The grid's axes are checked here too, where a bad one's line is known.
        return match Grid::from_file(&file) {
            Err(SweepError::Config(msg)) => Err(SweepError::Config(with_grid_line(msg, text, origin))),
            _ => Ok(file),
        };
    }
    let mut table: Table = toml::from_str(text).map_err(|e| SweepError::Config(format!("{origin}: {e}")))?;
    for o in overrides {
        apply(&mut table, o)?;
    }
    ExperimentFile::deserialize(Value::Table(table)).map_err(|e| {
        // One line: the value came from the command line, there is no file text to point at.
        let msg = with_suggestion(&e.to_string());
        let msg: Vec<&str> = msg.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        SweepError::Config(format!("after --set {}: {}", overrides.join(" --set "), msg.join(" ")))
    })
}

/// "grid.lrr is not an axis …" → "file.toml, line 17: grid.lrr is not an axis …"
/// when the message starts with a `[grid]` key that the file's text holds.
fn with_grid_line(msg: String, text: &str, origin: &str) -> String {
    let Some(name) = msg.strip_prefix("grid.").map(|r| r.split([' ', ':']).next().unwrap_or("")) else { return msg };
    let mut in_grid = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            in_grid = t == "[grid]";
        } else if in_grid && t.strip_prefix(name).is_some_and(|rest| rest.trim_start().starts_with('=')) {
            return format!("{origin}, line {}: {msg}", i + 1);
        }
    }
    msg
}

/// Applies one `key.path=value` override to a TOML table.
pub fn apply(table: &mut Table, assignment: &str) -> Result<(), SweepError> {
    let (key, raw) = assignment
        .split_once('=')
        .ok_or_else(|| SweepError::Config(format!("--set {assignment}: expected key=value, e.g. --set seeds=10")))?;
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(SweepError::Config(format!(
            "--set {assignment}: the key `{key}` is not a dotted path like grid.lr"
        )));
    }
    let parts: Vec<&str> = key.split('.').collect();
    if parts.len() > MAX_KEY_DEPTH {
        return Err(SweepError::Config(format!(
            "--set: the key has {} dotted parts; no field of an experiment file is deeper than {MAX_KEY_DEPTH}",
            parts.len()
        )));
    }
    let value = parse_value(raw.trim());
    move_between_training_and_grid(table, &parts);
    let mut node = &mut *table;
    for (depth, part) in parts[..parts.len() - 1].iter().enumerate() {
        let entry = node.entry(part.to_string()).or_insert_with(|| Value::Table(Table::new()));
        node = entry.as_table_mut().ok_or_else(|| {
            SweepError::Config(format!("--set {assignment}: `{}` is a value, not a table", parts[..=depth].join(".")))
        })?;
    }
    node.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

/// A field is a constant (`[training]`) or an axis (`[grid]`), not both: an
/// override of one replaces the other (`--set grid.lr=[0.1,0.3]` on a file
/// with `training.lr = 0.1`). In the file itself, both is an error.
fn move_between_training_and_grid(table: &mut Table, parts: &[&str]) {
    let other = match parts {
        ["grid", name] | ["training", name] if super::grid::NOT_AXES.contains(name) => return,
        ["grid", name] => ["training", name],
        ["training", name] => ["grid", name],
        _ => return,
    };
    if let Some(Value::Table(t)) = table.get_mut(other[0]) {
        t.remove(other[1]);
    }
}

/// A TOML value if the text is one (`10`, `[0.1, 0.3]`, `"x"`, `true`), else a string.
fn parse_value(raw: &str) -> Value {
    toml::from_str::<Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_string()))
}

/// Appends "did you mean `x`?" to serde's unknown field/variant messages.
pub fn with_suggestion(msg: &str) -> String {
    let Some(start) = msg.find("unknown field `").or_else(|| msg.find("unknown variant `")) else {
        return msg.to_string();
    };
    let rest = &msg[start..];
    let bad = rest.split('`').nth(1).unwrap_or("");
    let Some(list_at) = rest.find("expected one of ").or_else(|| rest.find("expected ")) else {
        return msg.to_string();
    };
    let candidates: Vec<&str> = rest[list_at..].split('`').skip(1).step_by(2).collect();
    let best = candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(bad, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min();
    match best {
        Some((_, c)) => format!("{}\n(did you mean `{c}`?)", msg.trim_end()),
        None => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_values_are_parsed_as_toml() {
        let mut t: Table = toml::from_str("seeds = 3\n[grid]\nlr = [1.0]").unwrap();
        apply(&mut t, "seeds=10").unwrap();
        apply(&mut t, "grid.lr=[0.1,0.3]").unwrap();
        apply(&mut t, "problem.kind=parity").unwrap();
        assert_eq!(t["seeds"].as_integer(), Some(10));
        assert_eq!(t["grid"]["lr"].as_array().unwrap().len(), 2);
        assert_eq!(t["problem"]["kind"].as_str(), Some("parity"));
        assert!(apply(&mut t, "seeds").is_err());
        assert!(apply(&mut t, "seeds.x=1").is_err());
        // An override moves a field between [training] and [grid].
        let mut t: Table = toml::from_str("[training]\nlr = 0.1\n[grid]\nl2 = [0.0]").unwrap();
        apply(&mut t, "grid.lr=[0.1,0.3]").unwrap();
        apply(&mut t, "training.l2=0.01").unwrap();
        assert!(t["training"].get("lr").is_none() && t["grid"].get("lr").is_some());
        assert!(t["grid"].get("l2").is_none() && t["training"].get("l2").is_some());
    }

    #[test]
    fn unknown_keys_get_a_suggestion() {
        let m = with_suggestion("unknown field `lrr`, expected one of `architecture`, `lr`, `l1`");
        assert!(m.ends_with("(did you mean `lr`?)"), "{m}");
        let m = with_suggestion("unknown field `zzzzzz`, expected one of `lr`, `l1`");
        assert!(!m.contains("did you mean"));
    }
}
