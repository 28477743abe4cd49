//! From key paths to positions in the file, and back, the way the reference
//! parser does it, so that both report the same keys at the same places.
//!
//! Key paths are dotted, with `[i]` for the items of a list:
//! `maintenance.contractors[0].until`. A mapping key that is not all
//! letters is written in brackets where the reference does so:
//! `description[en-US].features`.

use crate::yaml::{Kind, Node, Pos};

/// The position of `key` in the file: the key itself when it is present;
/// for a list item, the item; for a key missing from a block mapping, the
/// first key of that mapping; from a flow mapping (`{}`), the brace.
/// `None` when the path leaves the file before its last part.
pub(crate) fn of_key(root: &Node, key: &str) -> Option<Pos> {
    if key.is_empty() {
        return None;
    }
    let parts: Vec<&str> = key.split('.').collect();
    find(root, &parts)
}

fn find(node: &Node, parts: &[&str]) -> Option<Pos> {
    let (&part, rest) = parts.split_first()?;
    // `foo[0]` (an item) or `foo[en-US]` (a key in brackets).
    let (base, index, bracket_key) = match part.rfind('[') {
        Some(open) if part.ends_with(']') && open + 1 < part.len() - 1 => {
            let inside = &part[open + 1..part.len() - 1];
            match inside.parse::<usize>() {
                Ok(i) if inside.bytes().all(|b| b.is_ascii_digit()) => (&part[..open], Some(i), None),
                _ => (&part[..open], None, Some(inside)),
            }
        }
        _ => (part, None, None),
    };
    match &node.kind {
        Kind::Map { entries, flow } => {
            if let Some(entry) = entries.iter().find(|entry| entry.key == base) {
                if let Some(i) = index {
                    return match &entry.value.kind {
                        Kind::Seq(items) if i < items.len() => {
                            if rest.is_empty() {
                                Some(items[i].pos)
                            } else {
                                find(&items[i], rest)
                            }
                        }
                        // Not a list, or too short: the key itself.
                        _ => Some(entry.key_pos),
                    };
                }
                if let Some(inner) = bracket_key {
                    let mut deeper = vec![inner];
                    deeper.extend_from_slice(rest);
                    return find(&entry.value, &deeper);
                }
                if rest.is_empty() {
                    return Some(entry.key_pos);
                }
                return find(&entry.value, rest);
            }
            if *flow {
                return Some(node.pos);
            }
            if rest.is_empty() {
                return entries.first().map(|entry| entry.key_pos);
            }
            None
        }
        // A scalar or a list where a mapping was expected: the value itself.
        _ => Some(node.pos),
    }
}

/// The key path of the first key or list item, in file order, that starts
/// on `line`: how the reference parser names a value of the wrong type.
pub(crate) fn key_at_line(root: &Node, line: usize) -> Option<String> {
    at_line(root, line, "")
}

fn at_line(node: &Node, line: usize, prefix: &str) -> Option<String> {
    match &node.kind {
        Kind::Map { entries, .. } => entries.iter().find_map(|entry| {
            let key = if prefix.is_empty() {
                entry.key.clone()
            } else {
                format!("{prefix}.{}", entry.key)
            };
            if entry.key_pos.line == line {
                Some(key)
            } else {
                at_line(&entry.value, line, &key)
            }
        }),
        Kind::Seq(items) => items.iter().enumerate().find_map(|(i, item)| {
            let key = format!("{prefix}[{i}]");
            if item.pos.line == line {
                Some(key)
            } else {
                at_line(item, line, &key)
            }
        }),
        Kind::Scalar { .. } => None,
    }
}

/// A mapping key as the reference writes it after a dot: `.en`, but
/// `[en-US]` for a key that is not all ASCII letters.
pub(crate) fn map_key(key: &str) -> String {
    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphabetic()) {
        format!(".{key}")
    } else {
        format!("[{key}]")
    }
}
