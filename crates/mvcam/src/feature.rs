//! Typed feature access over a genapi node map: values, descriptions,
//! listing by user level, and genapi errors turned into SDK errors that
//! name the feature and the valid range or entries.

use genapi::{AccessMode, Interface, NodeMap};

use crate::error::Error;

/// The user level that sees a feature (GenICam visibility).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Every user.
    Beginner,
    /// Experts and gurus.
    Expert,
    /// Gurus only.
    Guru,
}

impl Level {
    /// `beginner`, `expert` or `guru` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Level> {
        match name.to_ascii_lowercase().as_str() {
            "beginner" => Some(Level::Beginner),
            "expert" => Some(Level::Expert),
            "guru" => Some(Level::Guru),
            _ => None,
        }
    }

    fn sees(self, v: genapi::Visibility) -> bool {
        match v {
            genapi::Visibility::Beginner => true,
            genapi::Visibility::Expert => self >= Level::Expert,
            genapi::Visibility::Guru => self >= Level::Guru,
            genapi::Visibility::Invisible => false,
        }
    }
}

/// The type of a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeatureKind {
    /// An integer.
    Integer,
    /// A floating-point number.
    Float,
    /// On or off.
    Boolean,
    /// One of named entries.
    Enumeration,
    /// Text.
    String,
    /// An action.
    Command,
    /// Raw bytes.
    Register,
}

impl FeatureKind {
    /// Its name: `Integer`, `Float`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureKind::Integer => "Integer",
            FeatureKind::Float => "Float",
            FeatureKind::Boolean => "Boolean",
            FeatureKind::Enumeration => "Enumeration",
            FeatureKind::String => "String",
            FeatureKind::Command => "Command",
            FeatureKind::Register => "Register",
        }
    }

    fn of(i: Interface) -> Option<FeatureKind> {
        Some(match i {
            Interface::Integer => FeatureKind::Integer,
            Interface::Float => FeatureKind::Float,
            Interface::Boolean => FeatureKind::Boolean,
            Interface::Enumeration => FeatureKind::Enumeration,
            Interface::String => FeatureKind::String,
            Interface::Command => FeatureKind::Command,
            Interface::Register => FeatureKind::Register,
            _ => return None,
        })
    }
}

/// A feature's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An integer.
    Integer(i64),
    /// A number.
    Float(f64),
    /// On or off.
    Boolean(bool),
    /// The symbolic name of an enumeration entry.
    Enumeration(String),
    /// Text.
    String(String),
    /// Raw register bytes.
    Register(Vec<u8>),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Integer(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Boolean(v) => write!(f, "{v}"),
            Value::Enumeration(v) | Value::String(v) => f.write_str(v),
            Value::Register(b) => {
                for x in b {
                    write!(f, "{x:02x}")?;
                }
                Ok(())
            }
        }
    }
}

impl Value {
    /// The value as JSON (numbers, booleans, strings; registers as hex).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Integer(v) => serde_json::json!(v),
            Value::Float(v) => serde_json::json!(v),
            Value::Boolean(v) => serde_json::json!(v),
            other => serde_json::json!(other.to_string()),
        }
    }
}

/// What a client shows about a feature.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureInfo {
    /// The name used to get and set it.
    pub name: String,
    /// A name for display.
    pub display_name: String,
    /// The category it is listed under.
    pub category: String,
    /// Its type.
    pub kind: FeatureKind,
    /// The lowest user level that sees it.
    pub level: Level,
    /// Whether it can be read now.
    pub readable: bool,
    /// Whether it can be written now.
    pub writable: bool,
    /// Its unit, if any.
    pub unit: Option<String>,
    /// Help text.
    pub description: Option<String>,
    /// The current value, when readable and not a command or register.
    pub value: Option<Value>,
    /// The valid range (`min..=max (step s)`) of a number.
    pub range: Option<String>,
    /// The entries that can be chosen now, for an enumeration.
    pub entries: Vec<String>,
}

impl FeatureInfo {
    /// The feature as a JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "display_name": self.display_name,
            "category": self.category,
            "type": self.kind.as_str(),
            "level": format!("{:?}", self.level),
            "readable": self.readable,
            "writable": self.writable,
            "unit": self.unit,
            "description": self.description,
            "value": self.value.as_ref().map(Value::to_json),
            "range": self.range,
            "entries": self.entries,
        })
    }
}

/// Which features to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureFilter {
    /// The user level: features above it are left out.
    pub level: Level,
    /// Only features whose name or category contains this text
    /// (case-insensitive).
    pub text: Option<String>,
}

impl Default for FeatureFilter {
    fn default() -> Self {
        FeatureFilter {
            level: Level::Beginner,
            text: None,
        }
    }
}

/// The kind of a feature, or an error naming it.
pub(crate) fn kind(map: &NodeMap, name: &str) -> Result<FeatureKind, Error> {
    let i = map
        .interface(name)
        .map_err(|_| Error::UnknownFeature(name.to_string()))?;
    FeatureKind::of(i).ok_or_else(|| Error::Feature {
        feature: name.to_string(),
        reason: format!("a {} node, not a feature", i.as_str()),
    })
}

/// The valid range of a number feature, as text. A bound the description
/// leaves at the type's limit (GenApi's default for a missing `<Min>` or
/// `<Max>`) is left out; a range without either bound is no range.
pub(crate) fn range_text(map: &mut NodeMap, name: &str) -> Option<String> {
    let (bounds, step) = match map.interface(name).ok()? {
        Interface::Integer => {
            let (min, max) = (map.integer_min(name).ok()?, map.integer_max(name).ok()?);
            let inc = map.integer_inc(name).unwrap_or(1);
            (
                (
                    (min != i64::MIN).then(|| min.to_string()),
                    (max != i64::MAX).then(|| max.to_string()),
                ),
                (inc > 1).then(|| inc.to_string()),
            )
        }
        Interface::Float => {
            // Anything this large is "unbounded", not a camera's limit.
            const UNBOUNDED: f64 = 1e300;
            let (min, max) = (map.float_min(name).ok()?, map.float_max(name).ok()?);
            (
                (
                    (min > -UNBOUNDED).then(|| min.to_string()),
                    (max < UNBOUNDED).then(|| max.to_string()),
                ),
                map.float_inc(name).ok().flatten().map(|i| i.to_string()),
            )
        }
        _ => return None,
    };
    let range = match bounds {
        (Some(min), Some(max)) => format!("{min}..={max}"),
        (Some(min), None) => format!("{min}.."),
        (None, Some(max)) => format!("..={max}"),
        (None, None) => return None,
    };
    Some(match step {
        Some(s) => format!("{range} (step {s})"),
        None => range,
    })
}

/// The entries of an enumeration that can be chosen now.
pub(crate) fn available_entries(map: &mut NodeMap, name: &str) -> Vec<String> {
    map.enum_entries(name)
        .map(|v| {
            v.into_iter()
                .filter(|e| e.access.is_readable())
                .map(|e| e.symbolic)
                .collect()
        })
        .unwrap_or_default()
}

/// Reads a feature's value.
pub(crate) fn get(map: &mut NodeMap, name: &str) -> Result<Value, Error> {
    let r = match kind(map, name)? {
        FeatureKind::Integer => map.integer(name).map(Value::Integer),
        FeatureKind::Float => map.float(name).map(Value::Float),
        FeatureKind::Boolean => map.boolean(name).map(Value::Boolean),
        FeatureKind::Enumeration => map.enumeration(name).map(Value::Enumeration),
        FeatureKind::String => map.string(name).map(Value::String),
        FeatureKind::Register => map.register(name).map(Value::Register),
        FeatureKind::Command => {
            return Err(Error::WrongType {
                feature: name.into(),
                text: String::new(),
                expected: "readable (it is a command: execute it)".into(),
            })
        }
    };
    r.map_err(|e| convert(map, name, e, false))
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" => Some(true),
        "0" | "false" | "off" | "no" => Some(false),
        _ => None,
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok();
    }
    t.parse().ok()
}

/// Sets a feature from user text: numbers, entry names, booleans
/// (`true`/`false`/`1`/`0`/`on`/`off`), strings. Commands are refused
/// (they are executed, not set).
pub(crate) fn set_text(map: &mut NodeMap, name: &str, text: &str) -> Result<(), Error> {
    let wrong = |expected: &str| Error::WrongType {
        feature: name.into(),
        text: text.into(),
        expected: expected.into(),
    };
    let value = match kind(map, name)? {
        FeatureKind::Integer => Value::Integer(parse_int(text).ok_or_else(|| wrong("an integer"))?),
        FeatureKind::Float => Value::Float(
            text.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| wrong("a number"))?,
        ),
        FeatureKind::Boolean => {
            Value::Boolean(parse_bool(text).ok_or_else(|| wrong("a boolean (true, false, 1, 0)"))?)
        }
        FeatureKind::Enumeration => Value::Enumeration(text.trim().to_string()),
        FeatureKind::String => Value::String(text.to_string()),
        FeatureKind::Command => return Err(wrong("a value: it is a command, execute it instead")),
        FeatureKind::Register => {
            let t = text.trim();
            if t.len() % 2 != 0 {
                return Err(wrong("hex bytes"));
            }
            let bytes: Option<Vec<u8>> = (0..t.len())
                .step_by(2)
                .map(|i| t.get(i..i + 2).and_then(|s| u8::from_str_radix(s, 16).ok()))
                .collect();
            Value::Register(bytes.ok_or_else(|| wrong("hex bytes"))?)
        }
    };
    set(map, name, &value)
}

/// Writes a typed value; an integer is accepted for a float feature.
pub(crate) fn set(map: &mut NodeMap, name: &str, value: &Value) -> Result<(), Error> {
    let k = kind(map, name)?;
    let wrong = || Error::WrongType {
        feature: name.into(),
        text: value.to_string(),
        expected: format!("a value of type {}", k.as_str()),
    };
    let r = match (k, value) {
        (FeatureKind::Integer, Value::Integer(v)) => map.set_integer(name, *v),
        (FeatureKind::Float, Value::Float(v)) => map.set_float(name, *v),
        (FeatureKind::Float, Value::Integer(v)) => map.set_float(name, *v as f64),
        (FeatureKind::Boolean, Value::Boolean(v)) => map.set_boolean(name, *v),
        (FeatureKind::Enumeration, Value::Enumeration(v) | Value::String(v)) => {
            map.set_enumeration(name, v)
        }
        (FeatureKind::String, Value::String(v)) => map.set_string(name, v),
        (FeatureKind::Register, Value::Register(v)) => map.set_register(name, v),
        _ => return Err(wrong()),
    };
    r.map_err(|e| convert(map, name, e, true))
}

/// Describes one feature.
pub(crate) fn info(map: &mut NodeMap, name: &str, category: &str) -> Result<FeatureInfo, Error> {
    let kind = kind(map, name)?;
    let (display_name, level, unit, description) = {
        let n = map
            .node_info(name)
            .map_err(|_| Error::UnknownFeature(name.into()))?;
        let level = match n.visibility {
            genapi::Visibility::Beginner => Level::Beginner,
            genapi::Visibility::Expert => Level::Expert,
            _ => Level::Guru,
        };
        (
            n.display_name.to_string(),
            level,
            n.unit.map(str::to_string),
            n.description.or(n.tooltip).map(str::to_string),
        )
    };
    let access = map.access_mode(name).unwrap_or(AccessMode::NA);
    let value = if access.is_readable() && !matches!(kind, FeatureKind::Command) {
        get(map, name).ok()
    } else {
        None
    };
    let range = if access.is_readable() {
        range_text(map, name)
    } else {
        None
    };
    let entries = if kind == FeatureKind::Enumeration {
        available_entries(map, name)
    } else {
        Vec::new()
    };
    Ok(FeatureInfo {
        name: name.to_string(),
        display_name,
        category: category.to_string(),
        kind,
        level,
        readable: access.is_readable(),
        writable: access.is_writable(),
        unit,
        description,
        value,
        range,
        entries,
    })
}

/// Every feature under the root category, depth first, with its category.
pub(crate) fn walk(map: &NodeMap) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    fn visit(
        map: &NodeMap,
        cat: &str,
        out: &mut Vec<(String, String)>,
        seen: &mut std::collections::HashSet<String>,
        depth: u32,
    ) {
        if depth > 16 {
            return;
        }
        let Ok(children) = map.category_features(cat) else {
            return;
        };
        for child in children {
            if !seen.insert(child.to_string()) {
                continue;
            }
            if map.interface(child) == Ok(Interface::Category) {
                visit(map, child, out, seen, depth + 1);
            } else {
                out.push((child.to_string(), cat.to_string()));
            }
        }
    }
    visit(map, "Root", &mut out, &mut seen, 0);
    out
}

/// The features a filter selects.
pub(crate) fn list(map: &mut NodeMap, filter: &FeatureFilter) -> Vec<FeatureInfo> {
    let needle = filter.text.as_ref().map(|t| t.to_ascii_lowercase());
    let mut out = Vec::new();
    for (name, category) in walk(map) {
        let visible = map
            .node_info(&name)
            .map(|n| filter.level.sees(n.visibility))
            .unwrap_or(false);
        if !visible {
            continue;
        }
        if let Some(n) = &needle {
            if !name.to_ascii_lowercase().contains(n) && !category.to_ascii_lowercase().contains(n)
            {
                continue;
            }
        }
        if let Ok(i) = info(map, &name, &category) {
            out.push(i);
        }
    }
    out
}

/// Turns a genapi error on `name` into an SDK error.
pub(crate) fn convert(map: &mut NodeMap, name: &str, e: genapi::Error, writing: bool) -> Error {
    use genapi::Error as G;
    let feature = name.to_string();
    match e {
        G::NotFound(n) if n == name => Error::UnknownFeature(n),
        G::OutOfRange { value, .. } => Error::OutOfRange {
            range: range_text(map, name).unwrap_or_default(),
            feature,
            value: value.to_string(),
        },
        G::FloatOutOfRange { value, .. } => Error::OutOfRange {
            range: range_text(map, name).unwrap_or_default(),
            feature,
            value: value.to_string(),
        },
        G::UnknownEntry { entry, valid, .. } => Error::NoSuchEntry {
            feature,
            entry,
            entries: valid,
        },
        G::WrongType {
            expected, actual, ..
        } => Error::WrongType {
            feature,
            text: String::new(),
            expected: format!("{expected} (it is a {actual})"),
        },
        G::Parse { text, expected, .. } => Error::WrongType {
            feature,
            text,
            expected: expected.to_string(),
        },
        G::NotWritable { access, .. } => Error::NotWritable {
            feature,
            reason: match access {
                AccessMode::RO => "read-only".into(),
                AccessMode::NA | AccessMode::NI => {
                    "not available in the current configuration".into()
                }
                other => format!("access mode {other}"),
            },
        },
        G::NotReadable { access, .. } => Error::NotReadable {
            feature,
            reason: format!("access mode {access}"),
        },
        G::StringTooLong { len, max, .. } => Error::OutOfRange {
            feature,
            value: format!("a string of {len} bytes"),
            range: format!("at most {} bytes", max.saturating_sub(1)),
        },
        G::Port {
            source: genapi::PortError::Disconnected,
            ..
        } => Error::Disconnected {
            device: String::new(),
        },
        G::Port {
            source: genapi::PortError::Refused { reason, .. },
            ..
        } if writing => Error::Refused { feature, reason },
        other => Error::Feature {
            feature,
            reason: other.to_string(),
        },
    }
}
