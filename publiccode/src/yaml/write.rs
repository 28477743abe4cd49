//! Writes a [`Value`] as block-style YAML that reads back to the same value.
//!
//! Strings are written plain only when no YAML reader (1.1 or 1.2) could
//! take them for anything else; otherwise double-quoted, or as a literal
//! block (`|2`, with explicit indentation and chomping) when they span lines.

use std::fmt::Write as _;

use super::{Mapping, Resolved, Value, resolve_plain};

/// The YAML text of `value`, ending with a line break.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Mapping(mapping) if !mapping.is_empty() => write_entries(&mut out, mapping, 0, true),
        Value::Sequence(items) if !items.is_empty() => write_items(&mut out, items, 0, true),
        other => write_inline(&mut out, other),
    }
    out.push('\n');
    out
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// The entries of a non-empty mapping whose keys sit at column `indent`;
/// the first one on the current line when `first_inline`.
fn write_entries(out: &mut String, mapping: &Mapping, indent: usize, first_inline: bool) {
    for (i, (key, value)) in mapping.iter().enumerate() {
        if i > 0 || !first_inline {
            out.push('\n');
            pad(out, indent);
        }
        write_string(out, key);
        out.push(':');
        match value {
            Value::Mapping(inner) if !inner.is_empty() => write_entries(out, inner, indent + 2, false),
            Value::Sequence(items) if !items.is_empty() => write_items(out, items, indent + 2, false),
            Value::String(text) if literal_ok(text) => write_literal(out, text, indent),
            other => {
                out.push(' ');
                write_inline(out, other);
            }
        }
    }
}

/// The items of a non-empty sequence whose dashes sit at column `indent`.
fn write_items(out: &mut String, items: &[Value], indent: usize, first_inline: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !first_inline {
            out.push('\n');
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Mapping(inner) if !inner.is_empty() => write_entries(out, inner, indent + 2, true),
            Value::Sequence(inner) if !inner.is_empty() => write_items(out, inner, indent + 2, true),
            other => write_inline(out, other),
        }
    }
}

/// A scalar or an empty collection, on the current line.
fn write_inline(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(text) => write_number(out, text, Resolved::Int, "!!int"),
        Value::Float(text) => write_number(out, text, Resolved::Float, "!!float"),
        Value::String(text) => write_string(out, text),
        Value::Sequence(_) => out.push_str("[]"),
        Value::Mapping(_) => out.push_str("{}"),
    }
}

fn write_number(out: &mut String, text: &str, kind: Resolved, tag: &str) {
    if resolve_plain(text) == kind {
        out.push_str(text);
    } else {
        // Only a value built by hand can get here: say what it is.
        out.push_str(tag);
        out.push(' ');
        write_quoted(out, text);
    }
}

fn write_string(out: &mut String, text: &str) {
    if plain_ok(text) {
        out.push_str(text);
    } else {
        write_quoted(out, text);
    }
}

/// Whether `text` can be written without quotes and read back as the same
/// string by any YAML reader.
fn plain_ok(text: &str) -> bool {
    let mut chars = text.chars().peekable();
    let Some(first) = chars.peek().copied() else {
        return false;
    };
    if !first.is_alphabetic() || text.ends_with(char::is_whitespace) {
        return false;
    }
    // Words that YAML 1.1 readers take for booleans or null.
    let lower = text.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
    ) {
        return false;
    }
    while let Some(c) = chars.next() {
        let ok = c.is_alphanumeric()
            || " _-./()+,'@&?=%~!$;".contains(c)
            || (c == ':' && chars.peek().is_some_and(|next| !next.is_whitespace()));
        if !ok {
            return false;
        }
    }
    resolve_plain(text) == Resolved::Str
}

/// Characters a literal block cannot hold (and a double-quoted string escapes).
fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n') || matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}')
}

/// Whether a multi-line string can be written as a literal block.
fn literal_ok(text: &str) -> bool {
    text.contains('\n') && !text.trim_end_matches('\n').is_empty() && !text.chars().any(needs_escape)
}

/// A literal block after a key at column `indent`: content two columns in.
fn write_literal(out: &mut String, text: &str, indent: usize) {
    let body = text.trim_end_matches('\n');
    let trailing = text.len() - body.len();
    out.push_str(match trailing {
        0 => " |2-",
        1 => " |2",
        _ => " |2+",
    });
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(out, indent + 2);
            out.push_str(line);
        }
    }
    // The line break after the last line comes from what follows the block.
    for _ in 1..trailing {
        out.push('\n');
    }
}

fn write_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
