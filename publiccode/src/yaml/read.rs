//! Reads YAML text into [`Node`]s, within bounds.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, Span, Tag};

use super::{Entry, Kind, Node, Pos, Resolved, resolve_plain};

/// Bounds on what one file may expand to once read.
///
/// The input's own size is bounded by [`crate::MAX_INPUT_BYTES`]; these
/// bound what aliases can make of it (the "billion laughs": ten aliases of
/// ten aliases of … expand exponentially) and how deep it nests.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Nodes in the tree, aliases expanded.
    pub(crate) max_nodes: usize,
    /// Bytes of scalar text in the tree, aliases expanded.
    pub(crate) max_scalar_bytes: usize,
    /// Levels of nesting.
    pub(crate) max_depth: usize,
}

impl Limits {
    /// A publiccode.yml has a few hundred nodes, at most six levels deep.
    pub(crate) const DEFAULT: Limits = Limits {
        max_nodes: 100_000,
        max_scalar_bytes: 4 << 20,
        max_depth: 32,
    };
}

/// Why a text could not be read as one YAML document.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    #[error("{message}")]
    Syntax { message: String, pos: Pos },
    #[error("the file holds more than one YAML document (a second one starts here); keep only one")]
    MultipleDocuments { pos: Pos },
    #[error("this mapping key is {found}: keys must be plain strings")]
    ComplexKey { found: &'static str, pos: Pos },
    #[error("the key \"{key}\" appears twice in the same mapping (first at line {first_line}); keep only one")]
    DuplicateKey { key: String, first_line: usize, pos: Pos },
    #[error("the tag {tag} is not supported: write the value without a tag, or with a YAML core tag such as !!str")]
    UnsupportedTag { tag: String, pos: Pos },
    #[error("\"{text}\" is not a valid {tag} value")]
    TagMismatch { text: String, tag: &'static str, pos: Pos },
    #[error("the file nests deeper than {max} levels; a publiccode.yml needs at most six")]
    TooDeep { max: usize, pos: Pos },
    #[error("the file expands to more than {max} values (aliases included); a publiccode.yml has a few hundred")]
    TooManyNodes { max: usize, pos: Pos },
    #[error("the file expands to more than {max} bytes of text (aliases included)")]
    TooManyBytes { max: usize, pos: Pos },
}

impl Error {
    pub fn pos(&self) -> Pos {
        match self {
            Error::Syntax { pos, .. }
            | Error::MultipleDocuments { pos }
            | Error::ComplexKey { pos, .. }
            | Error::DuplicateKey { pos, .. }
            | Error::UnsupportedTag { pos, .. }
            | Error::TagMismatch { pos, .. }
            | Error::TooDeep { pos, .. }
            | Error::TooManyNodes { pos, .. }
            | Error::TooManyBytes { pos, .. } => *pos,
        }
    }
}

/// A collection being read.
enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        flow: bool,
        entries: Vec<Entry>,
        key: Option<(String, Pos)>,
        seen: HashMap<String, usize>,
    },
}

struct Reader {
    limits: Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    bytes: usize,
    root: Option<Node>,
    documents: usize,
}

/// Reads `text` as one YAML document. `Ok(None)` when it holds no document
/// (empty, or only comments).
pub(crate) fn read(text: &str, limits: Limits) -> Result<Option<Node>, Error> {
    let mut options = granit_parser::Options::default();
    options.flow_nesting_limit = limits.max_depth;
    options.block_nesting_limit = limits.max_depth;
    options.emit_comments = false;
    let mut parser = Parser::new_from_str_with_options(text, options);
    let mut reader = Reader {
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        bytes: 0,
        root: None,
        documents: 0,
    };
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| Error::Syntax {
            message: e.kind().to_string(),
            pos: Pos {
                line: e.marker().line(),
                column: e.marker().col() + 1,
            },
        })?;
        reader.event(event, &span)?;
    }
    Ok(reader.root)
}

fn pos_of(span: &Span) -> Pos {
    Pos {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

impl Reader {
    fn event(&mut self, event: Event<'_>, span: &Span) -> Result<(), Error> {
        let pos = pos_of(span);
        match event {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(Error::MultipleDocuments { pos });
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let resolved = resolve_scalar(&text, style, tag.as_deref(), pos)?;
                let text = text.into_owned();
                self.count(1, text.len(), pos)?;
                let node = Node {
                    pos,
                    height: 1,
                    size: 1,
                    bytes: text.len(),
                    kind: Kind::Scalar { text, resolved },
                };
                self.complete(node, anchor)?;
            }
            Event::SequenceStart(_, anchor, tag) => {
                check_collection_tag(tag.as_deref(), "seq", pos)?;
                self.open(
                    Frame::Seq {
                        pos,
                        anchor,
                        items: Vec::new(),
                    },
                    pos,
                )?;
            }
            Event::MappingStart(style, anchor, tag) => {
                check_collection_tag(tag.as_deref(), "map", pos)?;
                let flow = style == granit_parser::StructureStyle::Flow;
                let frame = Frame::Map {
                    pos,
                    anchor,
                    flow,
                    entries: Vec::new(),
                    key: None,
                    seen: HashMap::new(),
                };
                self.open(frame, pos)?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(frame) = self.stack.pop() {
                    let (node, anchor) = close(frame);
                    self.complete(node, anchor)?;
                }
            }
            Event::Alias(id) => {
                // granit-parser only emits resolved aliases (an unknown anchor is a syntax error).
                if let Some(target) = self.anchors.get(&id) {
                    let mut node = target.clone();
                    if self.stack.len() + node.height > self.limits.max_depth {
                        return Err(Error::TooDeep {
                            max: self.limits.max_depth,
                            pos,
                        });
                    }
                    self.count(node.size, node.bytes, pos)?;
                    node.pos = pos;
                    self.complete(node, 0)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn count(&mut self, nodes: usize, bytes: usize, pos: Pos) -> Result<(), Error> {
        self.nodes = self.nodes.saturating_add(nodes);
        self.bytes = self.bytes.saturating_add(bytes);
        if self.nodes > self.limits.max_nodes {
            return Err(Error::TooManyNodes {
                max: self.limits.max_nodes,
                pos,
            });
        }
        if self.bytes > self.limits.max_scalar_bytes {
            return Err(Error::TooManyBytes {
                max: self.limits.max_scalar_bytes,
                pos,
            });
        }
        Ok(())
    }

    fn open(&mut self, frame: Frame, pos: Pos) -> Result<(), Error> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(Error::TooDeep {
                max: self.limits.max_depth,
                pos,
            });
        }
        self.count(1, 0, pos)?;
        self.stack.push(frame);
        Ok(())
    }

    /// A node is complete: keep it under its anchor and hand it to its parent.
    fn complete(&mut self, node: Node, anchor: usize) -> Result<(), Error> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, seen, .. }) => match key.take() {
                None => {
                    let Kind::Scalar { text, .. } = node.kind else {
                        return Err(Error::ComplexKey {
                            found: node.describe(),
                            pos: node.pos,
                        });
                    };
                    if let Some(first_line) = seen.get(&text) {
                        return Err(Error::DuplicateKey {
                            key: text,
                            first_line: *first_line,
                            pos: node.pos,
                        });
                    }
                    seen.insert(text.clone(), node.pos.line);
                    *key = Some((text, node.pos));
                }
                Some((key, key_pos)) => entries.push(Entry {
                    key,
                    key_pos,
                    value: node,
                }),
            },
        }
        Ok(())
    }
}

/// Turns a finished collection into its node.
fn close(frame: Frame) -> (Node, usize) {
    match frame {
        Frame::Seq { pos, anchor, items } => {
            let (height, size, bytes) = measure(items.iter());
            (
                Node {
                    kind: Kind::Seq(items),
                    pos,
                    height,
                    size,
                    bytes,
                },
                anchor,
            )
        }
        Frame::Map {
            pos,
            anchor,
            flow,
            entries,
            key,
            ..
        } => {
            let mut entries = entries;
            // A key without a value cannot happen in a stream the parser accepted;
            // keep it as a null rather than lose it.
            if let Some((key, key_pos)) = key {
                let value = Node {
                    kind: Kind::Scalar {
                        text: String::new(),
                        resolved: Resolved::Null,
                    },
                    pos: key_pos,
                    height: 1,
                    size: 1,
                    bytes: 0,
                };
                entries.push(Entry { key, key_pos, value });
            }
            let (height, size, mut bytes) = measure(entries.iter().map(|e| &e.value));
            bytes += entries.iter().map(|e| e.key.len()).sum::<usize>();
            let size = size + entries.len();
            (
                Node {
                    kind: Kind::Map { entries, flow },
                    pos,
                    height,
                    size,
                    bytes,
                },
                anchor,
            )
        }
    }
}

fn measure<'a>(children: impl Iterator<Item = &'a Node>) -> (usize, usize, usize) {
    let (mut height, mut size, mut bytes) = (0, 1, 0);
    for child in children {
        height = height.max(child.height);
        size += child.size;
        bytes += child.bytes;
    }
    (height + 1, size, bytes)
}

fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>, pos: Pos) -> Result<Resolved, Error> {
    let untagged = if style == ScalarStyle::Plain {
        resolve_plain(text)
    } else {
        Resolved::Str
    };
    let Some(tag) = tag else { return Ok(untagged) };
    if tag.handle().is_empty() && tag.suffix() == "!" || tag.handle() == "!" && tag.suffix().is_empty() {
        // The non-specific tag `!`: a string.
        return Ok(Resolved::Str);
    }
    let mismatch = |tag| {
        Err(Error::TagMismatch {
            text: text.to_owned(),
            tag,
            pos,
        })
    };
    match tag.core_suffix() {
        Some("str") => Ok(Resolved::Str),
        Some("null") => match resolve_plain(text) {
            Resolved::Null => Ok(Resolved::Null),
            _ => mismatch("!!null"),
        },
        Some("bool") => match resolve_plain(text) {
            Resolved::Bool(b) => Ok(Resolved::Bool(b)),
            _ => mismatch("!!bool"),
        },
        Some("int") => match resolve_plain(text) {
            Resolved::Int => Ok(Resolved::Int),
            _ => mismatch("!!int"),
        },
        Some("float") => match resolve_plain(text) {
            Resolved::Float => Ok(Resolved::Float),
            // An integer written as a float keeps its value, but not its type once
            // written back without the tag: refuse it rather than change it.
            _ => mismatch("!!float"),
        },
        _ => Err(Error::UnsupportedTag {
            tag: describe_tag(tag),
            pos,
        }),
    }
}

fn check_collection_tag(tag: Option<&Tag>, core: &str, pos: Pos) -> Result<(), Error> {
    match tag {
        None => Ok(()),
        Some(tag) if tag.core_suffix() == Some(core) => Ok(()),
        Some(tag) => Err(Error::UnsupportedTag {
            tag: describe_tag(tag),
            pos,
        }),
    }
}

fn describe_tag(tag: &Tag) -> String {
    format!("{}{}", tag.original_handle(), tag.suffix())
}
