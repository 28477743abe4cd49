//! The YAML layer: a bounded reader that keeps every position, the plain
//! value tree a [`crate::Document`] carries, and the writer behind
//! [`crate::to_yaml`].
//!
//! YAML is read as 1.2 with the core schema: only `true`/`false` (and their
//! capitalised spellings) are booleans, so `yes`, `no`, `on` and `off` are
//! strings. Aliases are expanded when read, within bounds on nodes, bytes and depth;
//! tags other than the core schema's (`!!str`, `!!int`, …) are refused, as is
//! a mapping key that is not a scalar, and a key repeated in one mapping.

mod read;
mod write;

#[cfg(test)]
use read::Error;
pub(crate) use read::Limits;
pub(crate) use read::read;
pub use write::to_string;

/// A YAML value, as a publiccode.yml file holds it once read.
///
/// Numbers keep the text they were written with (`1.10` stays `1.10`,
/// `0x1F` stays `0x1F`), so writing a value back gives the same values when
/// read again. Mapping keys are strings; entries keep the file's order.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`, `~`, or nothing at all after a key.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer, as written (`42`, `-7`, `0o17`, `0x1F`).
    Int(String),
    /// A floating-point number, as written (`1.10`, `6.02e23`, `.inf`, `.nan`).
    Float(String),
    /// Any other scalar.
    String(String),
    /// A sequence.
    Sequence(Vec<Value>),
    /// A mapping.
    Mapping(Mapping),
}

impl Value {
    /// The mapping this value is, if it is one.
    pub fn as_mapping(&self) -> Option<&Mapping> {
        match self {
            Value::Mapping(mapping) => Some(mapping),
            _ => None,
        }
    }

    /// The mapping this value is, mutably, if it is one.
    pub fn as_mapping_mut(&mut self) -> Option<&mut Mapping> {
        match self {
            Value::Mapping(mapping) => Some(mapping),
            _ => None,
        }
    }

    /// The string this value is, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// The sequence this value is, if it is one.
    pub fn as_sequence(&self) -> Option<&[Value]> {
        match self {
            Value::Sequence(items) => Some(items),
            _ => None,
        }
    }
}

/// A YAML mapping with string keys, in the order they were written.
///
/// Keys are unique: [`Mapping::insert`] replaces the value of a key already
/// present, in place.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapping {
    entries: Vec<(String, Value)>,
}

impl Mapping {
    /// An empty mapping.
    pub fn new() -> Mapping {
        Mapping::default()
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, value)| value)
    }

    /// The value under `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.entries.iter_mut().find(|(k, _)| k == key).map(|(_, value)| value)
    }

    /// Sets `key` to `value`: in place when the key is present, at the end
    /// otherwise. Returns the value it replaced.
    pub fn insert(&mut self, key: impl Into<String>, value: Value) -> Option<Value> {
        let key = key.into();
        match self.get_mut(&key) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Removes `key` and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let index = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(index).1)
    }

    /// The entries, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(key, value)| (key.as_str(), value))
    }

    /// How many entries the mapping has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the mapping has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A position in the file: line and column, both counted from 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

/// What a scalar resolves to under the YAML 1.2 core schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int,
    Float,
    Str,
}

/// A node of the file as read, with its position.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    pub pos: Pos,
    /// Levels of nesting at and under this node (1 for a scalar).
    pub height: usize,
    /// Nodes at and under this node.
    pub size: usize,
    /// Bytes of scalar text at and under this node.
    pub bytes: usize,
}

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Scalar { text: String, resolved: Resolved },
    Seq(Vec<Node>),
    Map { entries: Vec<Entry>, flow: bool },
}

/// One `key: value` of a mapping.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

impl Node {
    /// What kind of YAML thing this node is, in words for messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Scalar { resolved, .. } => match resolved {
                Resolved::Null => "null",
                Resolved::Bool(_) => "a boolean",
                Resolved::Int => "an integer",
                Resolved::Float => "a number",
                Resolved::Str => "a string",
            },
            Kind::Seq(_) => "a sequence",
            Kind::Map { .. } => "a mapping",
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(
            self.kind,
            Kind::Scalar {
                resolved: Resolved::Null,
                ..
            }
        )
    }

    /// The entries, when this node is a mapping.
    pub fn entries(&self) -> Option<&[Entry]> {
        match &self.kind {
            Kind::Map { entries, .. } => Some(entries),
            _ => None,
        }
    }

    /// The entry under `key`, when this node is a mapping holding it.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries()?.iter().find(|entry| entry.key == key)
    }

    /// The plain value of this node.
    pub fn to_value(&self) -> Value {
        match &self.kind {
            Kind::Scalar { text, resolved } => match resolved {
                Resolved::Null => Value::Null,
                Resolved::Bool(b) => Value::Bool(*b),
                Resolved::Int => Value::Int(text.clone()),
                Resolved::Float => Value::Float(text.clone()),
                Resolved::Str => Value::String(text.clone()),
            },
            Kind::Seq(items) => Value::Sequence(items.iter().map(Node::to_value).collect()),
            Kind::Map { entries, .. } => Value::Mapping(Mapping {
                entries: entries.iter().map(|e| (e.key.clone(), e.value.to_value())).collect(),
            }),
        }
    }
}

/// Resolves a plain scalar by the YAML 1.2 core schema.
pub(crate) fn resolve_plain(text: &str) -> Resolved {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        _ => {}
    }
    if is_core_int(text) {
        Resolved::Int
    } else if is_core_float(text) {
        Resolved::Float
    } else {
        Resolved::Str
    }
}

/// `[-+]?[0-9]+`, `0o[0-7]+` or `0x[0-9a-fA-F]+`.
pub(crate) fn is_core_int(text: &str) -> bool {
    if let Some(octal) = text.strip_prefix("0o") {
        return !octal.is_empty() && octal.bytes().all(|b| (b'0'..=b'7').contains(&b));
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `[-+]?\.inf` or
/// `\.nan` (each special in three spellings).
pub(crate) fn is_core_float(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
                && (!int.is_empty() || !frac.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests;
