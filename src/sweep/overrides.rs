//! Reading an experiment file and applying `--set key=value` overrides
//! (Hydra-style dotted keys, TOML values: `--set seeds=10`,
//! `--set grid.lr=[0.1,0.3]`, `--set problem.kind=parity`), with error
//! messages that name the key, the line and the closest valid key.

use super::config::ExperimentFile;
use super::error::SweepError;
use serde::Deserialize;
use std::path::Path;
use toml::{Table, Value};

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
        return Ok(file);
    }
    let mut table: Table = toml::from_str(text).map_err(|e| SweepError::Config(format!("{origin}: {e}")))?;
    for o in overrides {
        apply(&mut table, o)?;
    }
    ExperimentFile::deserialize(Value::Table(table)).map_err(|e| {
        SweepError::Config(format!("after --set {}: {}", overrides.join(" --set "), with_suggestion(&e.to_string())))
    })
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
    let value = parse_value(raw.trim());
    let parts: Vec<&str> = key.split('.').collect();
    let mut node = table;
    for (depth, part) in parts[..parts.len() - 1].iter().enumerate() {
        let entry = node.entry(part.to_string()).or_insert_with(|| Value::Table(Table::new()));
        node = entry.as_table_mut().ok_or_else(|| {
            SweepError::Config(format!("--set {assignment}: `{}` is a value, not a table", parts[..=depth].join(".")))
        })?;
    }
    node.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
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
    }

    #[test]
    fn unknown_keys_get_a_suggestion() {
        let m = with_suggestion("unknown field `lrr`, expected one of `architecture`, `lr`, `l1`");
        assert!(m.ends_with("(did you mean `lr`?)"), "{m}");
        let m = with_suggestion("unknown field `zzzzzz`, expected one of `lr`, `l1`");
        assert!(!m.contains("did you mean"));
    }
}
