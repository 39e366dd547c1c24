//! A model file as read: its text and its TOML table with `--set` overrides applied, deserialised into the
//! [schema](super::schema). Everything that locates a problem in the file lives here: serde errors and
//! library errors become one [`Error::Model`] naming the file, the dotted key, its line and the fix.
//!
//! `--set key=value` overrides are applied to the parsed TOML table before deserialisation
//! ([`apply_override`]), addressing `[[dynamics]]` entries by their label (`dynamics.SAM.rho`).

use super::schema::{Config, TAGGED_SECTIONS, culprit};
use crate::error::{Error, Result};
use serde::de::DeserializeOwned;

/// A model file as read: its name (for messages), text and the parsed TOML table.
#[derive(Debug, Clone)]
pub struct Source {
    /// File name as given (or `<embedded default>`).
    pub file: String,
    /// The text.
    pub text: String,
    /// Parsed table, with overrides applied.
    pub table: toml::Table,
    /// Dotted keys set by `--set` (their errors cite the override, not a line).
    pub overridden: Vec<String>,
}

impl Source {
    /// Parses `text` (syntax errors are reported with their line).
    pub fn parse(file: &str, text: &str) -> Result<Self> {
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            let key = e.span().and_then(|s| key_at(text, s.start));
            model_error(
                file,
                key.as_deref(),
                line,
                &format!("TOML syntax error: {}", first_line(e.message())),
                "fix the syntax (see https://toml.io)",
            )
        })?;
        Ok(Source {
            file: file.into(),
            text: text.into(),
            table,
            overridden: Vec::new(),
        })
    }

    /// Reads and parses a model file; a file with no keys (empty, or only comments) is an error.
    pub fn read(path: &std::path::Path) -> Result<Self> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Model {
            file: file.clone(),
            key: None,
            line: None,
            message: format!("cannot read the model file: {e}"),
            fix: "check the path".into(),
        })?;
        let src = Self::parse(&file, &text)?;
        if src.table.is_empty() {
            return Err(model_error(
                &file,
                None,
                None,
                "the model file is empty (no keys): an empty file is not a model",
                "start from a shipped model, e.g. models/default.toml, or run `samsde` alone for the default job",
            ));
        }
        Ok(src)
    }

    /// Applies `key=value` (the value is TOML; a bare word is taken as a string).
    pub fn set(&mut self, assignment: &str) -> Result<()> {
        let Some((key, value)) = assignment.split_once('=') else {
            return Err(Error::Usage(format!(
                "--set {assignment}: expected key=value, e.g. --set solver.dt=1e-3"
            )));
        };
        let key = key.trim();
        apply_override(&mut self.table, key, parse_value(value.trim())).map_err(|m| {
            model_error(
                &self.file,
                Some(key),
                None,
                &m,
                "use a key of the model file (see --help)",
            )
        })?;
        self.overridden.push(key.to_string());
        Ok(())
    }

    /// Deserialises into a [`Config`] (unknown keys, unknown kinds and wrong types are errors with the key and
    /// a fix). A tagged section without `kind` gets its default kind.
    pub fn config(&self) -> Result<Config> {
        let mut table = self.table.clone();
        for (section, kind) in TAGGED_SECTIONS {
            if let Some(toml::Value::Table(t)) = table.get_mut(section) {
                t.entry("kind").or_insert_with(|| toml::Value::String(kind.into()));
            }
        }
        self.deserialize(&table)
    }

    /// Deserialises one section (e.g. `landscape`) alone, with its default kind; a missing section is the
    /// section's default. Used where only that section matters (e.g. the landscape of a saved run).
    pub fn section<T: DeserializeOwned + Default>(&self, name: &str) -> Result<T> {
        let Some(toml::Value::Table(t)) = self.table.get(name) else {
            return Ok(T::default());
        };
        let mut t = t.clone();
        if let Some((_, kind)) = TAGGED_SECTIONS.iter().find(|(s, _)| *s == name) {
            t.entry("kind").or_insert_with(|| toml::Value::String((*kind).into()));
        }
        toml::Value::Table(t).try_into().map_err(|e: toml::de::Error| {
            self.error(
                Some(name),
                first_line(e.message()),
                "give a value of the documented type",
            )
        })
    }

    /// Deserialises `table` through its TOML text, so that serde's error spans locate the key.
    fn deserialize<T: DeserializeOwned>(&self, table: &toml::Table) -> Result<T> {
        let text = toml::to_string(table).map_err(|e| Error::Output(e.to_string()))?;
        toml::from_str::<T>(&text).map_err(|e| {
            let msg = first_line(e.message()).to_string();
            let mut key = e.span().and_then(|s| key_at(&text, s.start));
            // Inside a tagged section serde only knows the section: name the field where it can be told.
            if let Some(k) = &key
                && let Some(toml::Value::Table(sub)) = table.get(k.as_str())
            {
                let field = ["unknown field `", "missing field `"]
                    .iter()
                    .find_map(|p| msg.strip_prefix(p))
                    .and_then(|r| r.split('`').next())
                    .map(str::to_string)
                    .or_else(|| culprit(k, sub));
                if let Some(f) = field {
                    key = Some(format!("{k}.{f}"));
                }
            }
            let fix = suggestion(&msg).unwrap_or_else(|| "give a value of the documented type".into());
            self.error(key.as_deref(), &msg, &fix)
        })
    }

    /// An [`Error::Model`] for `key`, with the line where the file has it (or a note that `--set` set it).
    pub fn error(&self, key: Option<&str>, message: &str, fix: &str) -> Error {
        let set = key.is_some_and(|k| self.overridden.iter().any(|o| o == k));
        let line = if set {
            None
        } else {
            key.and_then(|k| locate(&self.text, k))
        };
        let message = if set {
            format!("{message} (value given by --set)")
        } else {
            message.to_string()
        };
        model_error(&self.file, key, line, &message, fix)
    }

    /// Turns a library error (which names its key) into a model-file error located in this file.
    pub fn locate(&self, e: Error) -> Error {
        match e {
            Error::Invalid { key, value, fix } => self.error(Some(&key), &format!("invalid value {value}"), &fix),
            Error::Dimension { key, expected, found } => self.error(
                Some(&key),
                &format!("has {found} entries, expected {expected}"),
                &format!("give {expected} entries (the dimension of the landscape)"),
            ),
            Error::Formula { .. } => self.error(Some("landscape.formula"), &e.to_string(), "correct the formula"),
            Error::Unsupported { what, fix } => self.error(Some("solver.kind"), &format!("unsupported: {what}"), &fix),
            Error::NoConvergence(m) => self.error(
                Some("saddle.guess"),
                &format!("Newton's method did not converge: {m}"),
                "give saddle.guess closer to the saddle, or saddle.point",
            ),
            other => other,
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s).trim()
}

fn model_error(file: &str, key: Option<&str>, line: Option<usize>, message: &str, fix: &str) -> Error {
    Error::Model {
        file: file.into(),
        key: key.filter(|k| !k.is_empty()).map(String::from),
        line,
        message: message.into(),
        fix: fix.into(),
    }
}

/// Parses a `--set` value as TOML (`1e-3`, `true`, `[1, 2]`, `"s"`), else as a bare string.
pub fn parse_value(v: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {v}")) {
        Ok(mut t) => t.remove("v").unwrap_or_else(|| toml::Value::String(v.into())),
        Err(_) => toml::Value::String(v.into()),
    }
}

/// Sets the dotted `key` in `table`; `dynamics.LABEL.rest` addresses the `[[dynamics]]` entry with that label.
pub fn apply_override(table: &mut toml::Table, key: &str, value: toml::Value) -> std::result::Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err("empty key component".into());
    }
    if parts[0] == "dynamics" {
        let Some(label) = parts.get(1) else {
            return Err("address a dynamics entry by its label, e.g. dynamics.SAM.rho".into());
        };
        if parts.len() < 3 {
            return Err(format!("give a key after the label, e.g. dynamics.{label}.lr"));
        }
        let Some(toml::Value::Array(arr)) = table.get_mut("dynamics") else {
            return Err("the model has no [[dynamics]] entries".into());
        };
        let labels: Vec<String> = arr.iter().map(entry_label).collect();
        let Some(i) = labels.iter().position(|l| l == label) else {
            let near = nearest(label, labels.iter().map(String::as_str));
            return Err(format!(
                "no dynamics labelled `{label}` (labels: {}){}",
                labels.join(", "),
                near.map(|n| format!("; did you mean `{n}`?")).unwrap_or_default()
            ));
        };
        let Some(toml::Value::Table(t)) = arr.get_mut(i) else {
            return Err("malformed [[dynamics]] entry".into());
        };
        return set_in(t, &parts[2..], value);
    }
    set_in(table, &parts, value)
}

fn set_in(t: &mut toml::Table, parts: &[&str], value: toml::Value) -> std::result::Result<(), String> {
    if parts.len() == 1 {
        t.insert(parts[0].into(), value);
        return Ok(());
    }
    let e = t
        .entry(parts[0].to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    match e {
        toml::Value::Table(inner) => set_in(inner, &parts[1..], value),
        _ => Err(format!("`{}` is not a section", parts[0])),
    }
}

/// The label of a raw `[[dynamics]]` entry as the validated config will see it (default: kind, upper case).
pub fn entry_label(v: &toml::Value) -> String {
    if let Some(l) = v.get("label").and_then(|l| l.as_str()) {
        return l.to_string();
    }
    v.get("kind").and_then(|k| k.as_str()).unwrap_or("sgd").to_uppercase()
}

/// Levenshtein distance.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate nearest to `word` (within a third of its length plus 2 edits).
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= word.chars().count() / 3 + 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (or "unknown variant"): the nearest valid word.
fn suggestion(msg: &str) -> Option<String> {
    if !(msg.starts_with("unknown field") || msg.starts_with("unknown variant")) {
        return None;
    }
    if msg.ends_with("there are no fields") {
        return Some("remove it; this kind takes no keys besides `kind`".into());
    }
    let what = if msg.starts_with("unknown field") {
        "keys"
    } else {
        "values"
    };
    let words: Vec<&str> = msg.split('`').skip(1).step_by(2).collect();
    let (bad, valid) = words.split_first()?;
    let list = valid.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ");
    Some(match nearest(bad, valid.iter().copied()) {
        Some(n) => format!("did you mean `{n}`? (valid {what}: {list})"),
        None if what == "keys" => format!("remove it; valid keys here: {list}"),
        None => format!("use one of {list}"),
    })
}

/// 1-based line of byte offset `pos`.
pub fn line_of(text: &str, pos: usize) -> usize {
    text[..pos.min(text.len())].matches('\n').count() + 1
}

fn header(line: &str) -> Option<(bool, String)> {
    let l = strip_comment(line).trim();
    if let Some(h) = l.strip_prefix("[[").and_then(|r| r.strip_suffix("]]")) {
        return Some((true, h.trim().to_string()));
    }
    l.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .map(|h| (false, h.trim().to_string()))
}

fn strip_comment(line: &str) -> &str {
    let mut in_str = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_str = !in_str,
            '#' if !in_str => return &line[..i],
            _ => {}
        }
    }
    line
}

fn line_key(line: &str) -> Option<String> {
    let l = strip_comment(line);
    let (k, _) = l.split_once('=')?;
    let k = k.trim().trim_matches('"');
    (!k.is_empty() && !k.contains(' ')).then(|| k.to_string())
}

/// For each line: the section prefix it belongs to (`solver`, `dynamics.SAM`, or "" at top level).
fn sections(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    let mut cur = String::new();
    for (i, l) in lines.iter().enumerate() {
        if let Some((array, name)) = header(l) {
            cur = if array && name == "dynamics" {
                let label = lines[i + 1..].iter().take_while(|m| header(m).is_none()).find_map(|m| {
                    match line_key(m).as_deref() {
                        Some("label") => m
                            .split_once('=')
                            .map(|(_, v)| strip_comment(v).trim().trim_matches('"').to_string()),
                        _ => None,
                    }
                });
                let kind = lines[i + 1..].iter().take_while(|m| header(m).is_none()).find_map(|m| {
                    match line_key(m).as_deref() {
                        Some("kind") => m
                            .split_once('=')
                            .map(|(_, v)| strip_comment(v).trim().trim_matches('"').to_uppercase()),
                        _ => None,
                    }
                });
                format!("dynamics.{}", label.or(kind).unwrap_or_else(|| "SGD".into()))
            } else {
                name
            };
        }
        out.push(cur.clone());
    }
    out
}

/// The dotted key at byte offset `pos` of `text` (the key on that line, in its section).
pub fn key_at(text: &str, pos: usize) -> Option<String> {
    let n = line_of(text, pos) - 1;
    let line = text.lines().nth(n)?;
    let secs = sections(text);
    let sec = secs.get(n).cloned().unwrap_or_default();
    if header(line).is_some() {
        return Some(sec);
    }
    let k = line_key(line)?;
    Some(if sec.is_empty() { k } else { format!("{sec}.{k}") })
}

/// The 1-based line where `text` sets the dotted `key` (array indices like `x0[1]` are ignored), or where
/// its section starts.
pub fn locate(text: &str, key: &str) -> Option<usize> {
    let key = key.split('[').next().unwrap_or(key);
    let secs = sections(text);
    let mut section_line = None;
    for (i, l) in text.lines().enumerate() {
        let sec = &secs[i];
        if header(l).is_some() {
            if sec == key {
                return Some(i + 1);
            }
            if key.starts_with(&format!("{sec}.")) && section_line.is_none() {
                section_line = Some(i + 1);
            }
            continue;
        }
        if let Some(k) = line_key(l) {
            let full = if sec.is_empty() { k } else { format!("{sec}.{k}") };
            if full == key {
                return Some(i + 1);
            }
        }
    }
    section_line
}

#[cfg(test)]
mod tests {
    use super::super::schema::{ExitConfig, LandscapeConfig};
    use super::*;

    const TEXT: &str =
        "name = \"m\"\n[solver]\ndt = 1e-3 # step\n[[dynamics]]\nkind = \"sam\"\nlabel = \"SAM\"\nrho = 0.1\n";

    #[test]
    fn locate_and_key_at_agree() {
        assert_eq!(locate(TEXT, "solver.dt"), Some(3));
        assert_eq!(locate(TEXT, "dynamics.SAM.rho"), Some(7));
        assert_eq!(locate(TEXT, "name"), Some(1));
        let pos = TEXT.find("rho").unwrap_or(0);
        assert_eq!(key_at(TEXT, pos).as_deref(), Some("dynamics.SAM.rho"));
    }

    #[test]
    fn suggestions() {
        assert_eq!(nearest("rhoo", ["lr", "rho", "momentum"]), Some("rho"));
        assert_eq!(nearest("zzzzzzzz", ["lr"]), None);
        let s = suggestion("unknown field `dtt`, expected one of `kind`, `dt`, `t_end`");
        assert!(s.is_some_and(|s| s.contains("did you mean `dt`")));
    }

    #[test]
    fn overrides() {
        let mut s = Source::parse("f", TEXT).expect("parses");
        s.set("dynamics.SAM.rho=0.3").expect("sets");
        s.set("solver.t_end=2").expect("sets");
        let c = s.config().expect("valid");
        assert_eq!(c.dynamics[0].rho, 0.3);
        assert_eq!(c.solver.t_end, 2.0);
        assert!(s.set("dynamics.SAMM.rho=0.3").is_err());
        s.set("solver.dtt=1").expect("sets the raw table");
        let e = s.config().expect_err("unknown key").to_string();
        assert!(e.contains("solver.dtt") && e.contains("did you mean `dt`"), "{e}");
    }

    fn model_error_of(text: &str) -> (Option<String>, Option<usize>, String, String) {
        match Source::parse("m.toml", text).and_then(|s| s.config()) {
            Err(Error::Model {
                key,
                line,
                message,
                fix,
                ..
            }) => (key, line, message, fix),
            other => panic!("expected a model error, got {other:?}"),
        }
    }

    /// Kinds are enums: a misspelt kind names its key and line and suggests the nearest kind, in the tagged
    /// `[landscape]` and `[exit]` as in a dynamics entry.
    #[test]
    fn unknown_kinds_suggest_the_nearest() {
        let (key, line, msg, fix) = model_error_of("name = \"m\"\n[landscape]\nkind = \"quadratc\"\n");
        assert_eq!((key.as_deref(), line), (Some("landscape.kind"), Some(3)), "{msg}");
        assert!(fix.contains("did you mean `quadratic`"), "{fix}");
        let (key, _, _, fix) = model_error_of("[exit]\nkind = \"bal\"\nradius = 1.0\n");
        assert_eq!(key.as_deref(), Some("exit.kind"));
        assert!(fix.contains("did you mean `ball`"), "{fix}");
        let (key, line, _, fix) = model_error_of(TEXT.replace("\"sam\"", "\"samm\"").as_str());
        assert_eq!((key.as_deref(), line), (Some("dynamics.SAM.kind"), Some(5)));
        assert!(fix.contains("did you mean `sam`"), "{fix}");
    }

    /// Inside a tagged section every kind has exactly its own keys; errors name the field, not just the section.
    #[test]
    fn tagged_sections_name_the_field() {
        // A key of another kind.
        let (key, line, msg, fix) = model_error_of("[landscape]\nkind = \"beale\"\nhessian = [[1.0]]\n");
        assert_eq!((key.as_deref(), line), (Some("landscape.hessian"), Some(3)), "{msg}");
        assert!(fix.contains("remove it"), "{fix}");
        // A wrong type: serde only knows the section; the field is found by probing.
        let (key, line, msg, _) = model_error_of("[exit]\nkind = \"ball\"\nstop = true\nradius = [1.0]\n");
        assert_eq!((key.as_deref(), line), (Some("exit.radius"), Some(4)), "{msg}");
        // An omitted kind is the default kind, whose keys are checked.
        let (key, _, msg, _) = model_error_of("[exit]\nradius = 2.0\n");
        assert_eq!(key.as_deref(), Some("exit.radius"), "{msg}");
        let c = Source::parse("m", "[landscape]\nhessian = [[2.0]]\n[exit]\n")
            .and_then(|s| s.config())
            .expect("defaults");
        assert!(matches!(
            c.landscape,
            LandscapeConfig::Quadratic { hessian: Some(_), .. }
        ));
        assert_eq!(c.exit, ExitConfig::None {});
    }
}
