//! The structural half of reading `install.yaml`: text to one
//! `serde_yaml::Value`, then a walk over it that builds an [`InstallPlan`]
//! and records every structural problem (unknown key, wrong type, missing
//! field, wrong `version`) with its field path. Broken fields are listed so
//! the semantic rules do not report them a second time.

use serde::Deserialize;
use serde_yaml::{Mapping, Value};

use super::{shown, ParseError, Problem, DOCUMENT_FIELD};
use crate::i18n::{tr, trf};
use crate::plan::{BootMode, Filesystem, InstallPlan, Keyboard, User, PLAN_VERSION};

/// A plan read as far as its structure allows.
pub(super) struct Parsed {
    /// The plan; broken fields hold their defaults (empty text, empty lists).
    pub plan: InstallPlan,
    /// Structural problems; empty means `plan` is exactly what the text says.
    pub problems: Vec<Problem>,
    /// Field paths that are missing or of the wrong shape.
    pub broken: Vec<String>,
}

/// The keys of `install.yaml` v1, in canonical order.
pub(super) const TOP_KEYS: [&str; 10] = [
    "version",
    "hostname",
    "locale",
    "keyboard",
    "timezone",
    "boot",
    "filesystem",
    "user",
    "package_groups",
    "services",
];
const KEYBOARD_KEYS: [&str; 2] = ["layout", "variant"];
const USER_KEYS: [&str; 3] = ["name", "full_name", "admin"];

/// Reads `text` as one YAML document and walks it.
pub(super) fn parse(text: &str) -> Result<Parsed, ParseError> {
    let doc = single_document(text)?;
    let mut w = Walker::default();
    let plan = w.plan(&doc);
    Ok(Parsed {
        plan,
        problems: w.problems,
        broken: w.broken,
    })
}

fn single_document(text: &str) -> Result<Value, ParseError> {
    // Before serde_yaml builds anything: an alias would make it replay the
    // anchored node once per use (issue 9, item 1).
    if let Some(at) = super::anchors::first_anchor(text) {
        return Err(ParseError::Invalid(vec![Problem::new(
            DOCUMENT_FIELD,
            trf(
                "uses a YAML anchor or alias at line {line}, column {column}; a plan has none",
                &[
                    ("line", &at.line.to_string()),
                    ("column", &at.column.to_string()),
                ],
            ),
        )]));
    }
    let mut docs = serde_yaml::Deserializer::from_str(text);
    let Some(first) = docs.next() else {
        return Ok(Value::Null);
    };
    let value = Value::deserialize(first).map_err(|e| syntax(&e))?;
    if let Some(second) = docs.next() {
        // Still report a syntax error in the second document where it is.
        Value::deserialize(second).map_err(|e| syntax(&e))?;
        return Err(ParseError::Invalid(vec![Problem::new(
            DOCUMENT_FIELD,
            tr("holds more than one YAML document; a plan is a single document"),
        )]));
    }
    Ok(value)
}

fn syntax(e: &serde_yaml::Error) -> ParseError {
    let full = e.to_string();
    match e.location() {
        Some(loc) => {
            // serde_yaml appends " at line L column C"; the position is
            // carried separately.
            let suffix = format!(" at line {} column {}", loc.line(), loc.column());
            let message = match full.find(&suffix) {
                Some(i) => format!("{}{}", &full[..i], &full[i + suffix.len()..]),
                None => full,
            };
            ParseError::Syntax {
                line: loc.line(),
                column: loc.column(),
                message,
            }
        }
        None => ParseError::Syntax {
            line: 0,
            column: 0,
            message: full,
        },
    }
}

/// What a value is, for "must be X, not Y" messages.
fn kind(v: &Value) -> String {
    match v {
        // TRANSLATORS: these complete messages such as "must be text, not {found}".
        Value::Null => tr("nothing"),
        Value::Bool(_) => tr("true/false"),
        Value::Number(_) => tr("a number"),
        Value::String(_) => tr("text"),
        Value::Sequence(_) => tr("a list"),
        Value::Mapping(_) => tr("a mapping"),
        Value::Tagged(_) => tr("a tagged value"),
    }
}

/// A mapping key as text, for field paths.
fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => shown(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "~".to_string(),
        _ => "?".to_string(),
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Whether a text field must be present, or what it is when absent.
#[derive(Clone, Copy)]
enum Need {
    Required,
    Default(&'static str),
}

#[derive(Default)]
struct Walker {
    problems: Vec<Problem>,
    broken: Vec<String>,
}

impl Walker {
    fn problem(&mut self, field: &str, message: String) {
        self.problems.push(Problem::new(field, message));
        self.broken.push(field.to_string());
    }

    fn missing(&mut self, field: &str) {
        self.problem(field, tr("missing (this field is required)"));
    }

    fn plan(&mut self, doc: &Value) -> InstallPlan {
        let empty = Mapping::new();
        let map = match doc {
            Value::Mapping(m) => m,
            // An empty file: every required field is reported missing.
            Value::Null => &empty,
            other => {
                self.problem(
                    DOCUMENT_FIELD,
                    trf(
                        "must be a mapping of fields (version: 1, hostname: …), not {found}",
                        &[("found", &kind(other))],
                    ),
                );
                self.broken.extend(TOP_KEYS.iter().map(|k| k.to_string()));
                return empty_plan();
            }
        };
        self.unknown_keys(map, &TOP_KEYS, "");
        let version = self.version(map);
        let hostname = self.string(map, "hostname", "hostname", Need::Required);
        let locale = self.string(map, "locale", "locale", Need::Required);
        let keyboard = match self.mapping(map, "keyboard", "keyboard", &KEYBOARD_KEYS) {
            Some(k) => Keyboard {
                layout: self.string(k, "layout", "keyboard.layout", Need::Required),
                variant: self.string(k, "variant", "keyboard.variant", Need::Default("")),
            },
            None => Keyboard::default(),
        };
        let timezone = self.string(map, "timezone", "timezone", Need::Required);
        let boot = self.string(map, "boot", "boot", Need::Default(BootMode::Auto.as_str()));
        let filesystem = self.string(
            map,
            "filesystem",
            "filesystem",
            Need::Default(Filesystem::Ext4.as_str()),
        );
        let user = match self.mapping(map, "user", "user", &USER_KEYS) {
            Some(u) => User {
                name: self.string(u, "name", "user.name", Need::Required),
                full_name: self.string(u, "full_name", "user.full_name", Need::Default("")),
                admin: self.boolean(u, "admin", "user.admin"),
            },
            None => User::default(),
        };
        let package_groups = self.string_list(map, "package_groups", "package_groups", true);
        let services = self.string_list(map, "services", "services", false);
        InstallPlan {
            version,
            hostname,
            locale,
            keyboard,
            timezone,
            boot,
            filesystem,
            user,
            package_groups,
            services,
        }
    }

    fn unknown_keys(&mut self, map: &Mapping, allowed: &[&str], prefix: &str) {
        for key in map.keys() {
            let name = key_text(key);
            if matches!(key, Value::String(s) if allowed.contains(&s.as_str())) {
                continue;
            }
            let message = match allowed.iter().find(|a| a.eq_ignore_ascii_case(&name)) {
                Some(a) => trf("unknown field; did you mean “{name}”?", &[("name", a)]),
                None => trf(
                    "unknown field; the fields here are: {fields}",
                    &[("fields", &allowed.join(", "))],
                ),
            };
            self.problem(&join(prefix, &name), message);
        }
    }

    fn version(&mut self, map: &Mapping) -> u32 {
        let supported = PLAN_VERSION.to_string();
        match map.get("version") {
            None => self.problem(
                "version",
                trf(
                    "missing; write “version: {supported}” at the top",
                    &[("supported", &supported)],
                ),
            ),
            Some(Value::Number(n)) if n.as_u64() == Some(u64::from(PLAN_VERSION)) => {}
            Some(Value::Number(n)) => self.problem(
                "version",
                trf(
                    "unsupported version {found}; this FORGE reads version {supported}",
                    &[("found", &n.to_string()), ("supported", &supported)],
                ),
            ),
            Some(other) => self.problem(
                "version",
                trf(
                    "must be the number {supported}, not {found}",
                    &[("supported", &supported), ("found", &kind(other))],
                ),
            ),
        }
        PLAN_VERSION
    }

    fn string(&mut self, map: &Mapping, key: &str, path: &str, need: Need) -> String {
        match (map.get(key), need) {
            (Some(Value::String(s)), _) => s.clone(),
            (None, Need::Default(d)) => d.to_string(),
            (Some(Value::Null), Need::Default(d)) => d.to_string(),
            (None, Need::Required) => {
                self.missing(path);
                String::new()
            }
            (Some(Value::Null), Need::Required) => {
                self.problem(path, tr("has no value"));
                String::new()
            }
            (Some(v @ (Value::Number(_) | Value::Bool(_))), _) => {
                let text = match v {
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => String::new(),
                };
                self.problem(
                    path,
                    trf(
                        "must be text, not {found}; write \"{value}\" in quotes if you mean the text",
                        &[("found", &kind(v)), ("value", &text)],
                    ),
                );
                String::new()
            }
            (Some(other), _) => {
                self.problem(
                    path,
                    trf("must be text, not {found}", &[("found", &kind(other))]),
                );
                String::new()
            }
        }
    }

    fn boolean(&mut self, map: &Mapping, key: &str, path: &str) -> bool {
        match map.get(key) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.problem(
                    path,
                    trf(
                        "must be true or false, not {found}",
                        &[("found", &kind(other))],
                    ),
                );
                false
            }
        }
    }

    fn mapping<'a>(
        &mut self,
        map: &'a Mapping,
        key: &str,
        path: &str,
        allowed: &[&str],
    ) -> Option<&'a Mapping> {
        match map.get(key) {
            Some(Value::Mapping(m)) => {
                self.unknown_keys(m, allowed, path);
                Some(m)
            }
            None => {
                self.missing(path);
                None
            }
            Some(other) => {
                self.problem(
                    path,
                    trf(
                        "must be a mapping with the fields {fields}, not {found}",
                        &[("fields", &allowed.join(", ")), ("found", &kind(other))],
                    ),
                );
                None
            }
        }
    }

    fn string_list(&mut self, map: &Mapping, key: &str, path: &str, required: bool) -> Vec<String> {
        match (map.get(key), required) {
            (Some(Value::Sequence(items)), _) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => s.clone(),
                    other => {
                        self.problem(
                            &format!("{path}[{i}]"),
                            trf("must be text, not {found}", &[("found", &kind(other))]),
                        );
                        String::new()
                    }
                })
                .collect(),
            (None, true) => {
                self.missing(path);
                Vec::new()
            }
            (None | Some(Value::Null), false) => Vec::new(),
            (Some(other), _) => {
                self.problem(
                    path,
                    trf(
                        "must be a list such as [a, b], not {found}",
                        &[("found", &kind(other))],
                    ),
                );
                Vec::new()
            }
        }
    }
}

fn empty_plan() -> InstallPlan {
    InstallPlan {
        version: PLAN_VERSION,
        hostname: String::new(),
        locale: String::new(),
        keyboard: Keyboard::default(),
        timezone: String::new(),
        boot: BootMode::Auto.as_str().to_string(),
        filesystem: Filesystem::Ext4.as_str().to_string(),
        user: User::default(),
        package_groups: Vec::new(),
        services: Vec::new(),
    }
}
