//! A YAML document as a tree of nodes that know where they were in the file: built
//! from saphyr-parser's events, aliases resolved, tags kept, nesting and alias
//! expansion bounded so that no input can exhaust the stack or the memory.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

/// Deeper nesting than any cassette has is refused (a deeply nested document would
/// otherwise be dropped recursively).
const MAX_DEPTH: usize = 64;

/// Nodes that aliases may add, beyond those written in the file: enough for any real
/// use of anchors, not for a "billion laughs" document.
const MAX_ALIAS_NODES: usize = 100_000;

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl Pos {
    fn of(span: &Span) -> Pos {
        Pos {
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }
}

/// An error at a position: the importer turns it into a malformed-cassette error.
#[derive(Debug)]
pub(crate) struct Bad {
    pub(crate) pos: Pos,
    pub(crate) message: String,
}

impl Bad {
    pub(crate) fn new(pos: Pos, message: impl Into<String>) -> Bad {
        Bad {
            pos,
            message: message.into(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Value<'a> {
    /// The text (borrowed from the file when it is written as is), and whether it was
    /// written plain (unquoted: `null`, `200`).
    Scalar(Cow<'a, str>, bool),
    Seq(Vec<Node<'a>>),
    Map(Vec<(Node<'a>, Node<'a>)>),
}

#[derive(Clone, Debug)]
pub(crate) struct Node<'a> {
    pub(crate) value: Value<'a>,
    /// The tag as written, shorthand restored: `!!binary`, `!binary`,
    /// `!!python/unicode`.
    pub(crate) tag: Option<String>,
    pub(crate) pos: Pos,
}

impl Node<'_> {
    /// A short name of the node's shape, for "expected ..., found ..." messages.
    pub(crate) fn shape(&self) -> &'static str {
        match &self.value {
            Value::Scalar(..) if self.is_null() => "null",
            Value::Scalar(..) => "a scalar",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }

    /// Whether the node is YAML's null: `null`, `~` or nothing, unquoted and untagged,
    /// or tagged `!!null`.
    pub(crate) fn is_null(&self) -> bool {
        match (&self.value, self.tag.as_deref()) {
            (Value::Scalar(..), Some("!!null")) => true,
            (Value::Scalar(text, true), None) => {
                matches!(&**text, "" | "~" | "null" | "Null" | "NULL")
            }
            _ => false,
        }
    }

    fn size(&self) -> usize {
        match &self.value {
            Value::Scalar(..) => 1,
            Value::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Value::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
        }
    }
}

fn tag_name(tag: &Tag) -> String {
    const CORE: &str = "tag:yaml.org,2002:";
    let full = format!("{}{}", tag.handle, tag.suffix);
    match full.strip_prefix(CORE) {
        Some(rest) => format!("!!{rest}"),
        None => full,
    }
}

enum Frame<'a> {
    Seq {
        items: Vec<Node<'a>>,
        tag: Option<String>,
        anchor: usize,
        pos: Pos,
    },
    Map {
        entries: Vec<(Node<'a>, Node<'a>)>,
        key: Option<Node<'a>>,
        tag: Option<String>,
        anchor: usize,
        pos: Pos,
    },
}

/// The first document of `text`, as a tree. `None` for a stream without a document
/// (an empty file, or comments only).
pub(crate) fn parse(text: &str) -> Result<Option<Node<'_>>, Bad> {
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut anchors: HashMap<usize, Node<'_>> = HashMap::new();
    let mut alias_budget = MAX_ALIAS_NODES;
    let mut root: Option<Node<'_>> = None;
    let mut documents = 0usize;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            Bad::new(
                Pos {
                    line: e.marker().line(),
                    column: e.marker().col() + 1,
                },
                format!("not YAML: {}", e.info()),
            )
        })?;
        let pos = Pos::of(&span);
        let done = match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(Bad::new(
                        pos,
                        "a second YAML document: a cassette is one document",
                    ));
                }
                continue;
            }
            Event::Scalar(text, style, anchor, tag) => {
                let node = Node {
                    value: Value::Scalar(text, style == ScalarStyle::Plain),
                    tag: tag.as_deref().map(tag_name),
                    pos,
                };
                (node, anchor)
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(Bad::new(
                        pos,
                        format!("nested more than {MAX_DEPTH} levels deep"),
                    ));
                }
                let tag = tag.as_deref().map(tag_name);
                let is_seq = matches!(event, Event::SequenceStart(..));
                stack.push(match is_seq {
                    true => Frame::Seq {
                        items: Vec::new(),
                        tag,
                        anchor,
                        pos,
                    },
                    false => Frame::Map {
                        entries: Vec::new(),
                        key: None,
                        tag,
                        anchor,
                        pos,
                    },
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq {
                    items,
                    tag,
                    anchor,
                    pos,
                }) => (
                    Node {
                        value: Value::Seq(items),
                        tag,
                        pos,
                    },
                    anchor,
                ),
                Some(Frame::Map {
                    entries,
                    tag,
                    anchor,
                    pos,
                    ..
                }) => (
                    Node {
                        value: Value::Map(entries),
                        tag,
                        pos,
                    },
                    anchor,
                ),
                None => return Err(Bad::new(pos, "not YAML: unbalanced collection end")),
            },
            Event::Alias(id) => {
                let Some(node) = anchors.get(&id) else {
                    return Err(Bad::new(pos, "not YAML: an alias to an unknown anchor"));
                };
                let size = node.size();
                if size > alias_budget {
                    return Err(Bad::new(
                        pos,
                        format!(
                            "aliases expand to more than {MAX_ALIAS_NODES} nodes; \
                             a cassette does not need that many"
                        ),
                    ));
                }
                alias_budget -= size;
                (node.clone(), 0)
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => continue,
        };
        let (node, anchor) = done;
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => *key = Some(node),
            },
            None => root = Some(node),
        }
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar<'n>(n: &'n Node<'_>) -> (&'n str, bool) {
        match &n.value {
            Value::Scalar(s, plain) => (s, *plain),
            _ => panic!("not a scalar: {n:?}"),
        }
    }

    #[test]
    fn tags_positions_and_aliases() {
        let doc = "a: !!binary |\n  aGk=\nb: !binary x\nc: &x [1, 2]\nd: *x\ne: ''\nf:\n";
        let root = parse(doc).unwrap().unwrap();
        let Value::Map(entries) = &root.value else {
            panic!()
        };
        assert_eq!(entries[0].1.tag.as_deref(), Some("!!binary"));
        assert_eq!(entries[0].1.pos, Pos { line: 1, column: 4 });
        assert_eq!(entries[1].1.tag.as_deref(), Some("!binary"));
        assert_eq!(entries[1].0.pos, Pos { line: 3, column: 1 });
        let Value::Seq(items) = &entries[3].1.value else {
            panic!()
        };
        assert_eq!(scalar(&items[1]), ("2", true));
        assert_eq!(scalar(&entries[4].1), ("", false));
        assert!(!entries[4].1.is_null());
        assert!(entries[5].1.is_null());
    }

    #[test]
    fn bombs_and_depth_are_refused() {
        let mut doc = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..8 {
            let prev = if i == 0 {
                "a".to_owned()
            } else {
                format!("l{}", i - 1)
            };
            doc.push_str(&format!(
                "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        let err = parse(&doc).unwrap_err();
        assert!(err.message.contains("aliases expand"), "{err:?}");
        // The scanner refuses very deep flow collections itself; this tree, deeper
        // ones than a cassette has.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let err = parse(&deep).unwrap_err();
        assert!(err.message.contains("recursion limit"), "{err:?}");
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let err = parse(&deep).unwrap_err();
        assert!(err.message.contains("nested more than 64"), "{err:?}");
        let mut block = String::new();
        for i in 0..100 {
            block.push_str(&format!("{}k:\n", " ".repeat(i)));
        }
        let err = parse(&block).unwrap_err();
        assert!(err.message.contains("nested more than 64"), "{err:?}");
        assert_eq!(parse("# only a comment\n").unwrap().map(|n| n.pos), None);
        let err = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(err.pos.line, 2, "{err:?}");
    }
}
