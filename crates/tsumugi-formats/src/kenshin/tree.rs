//! A small element tree built with quick-xml's streaming reader, for one document at a time.
//!
//! A 特定健診 CDA is one person's checkup (kilobytes), and archive entries are size-capped, so
//! holding one document's tree is bounded. Names are local names (namespace prefixes dropped);
//! nesting is capped at [`MAX_DEPTH`] so hostile input cannot exhaust the stack.

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::events::Event as XmlEvent;

/// The deepest nesting accepted.
pub(crate) const MAX_DEPTH: usize = 128;

/// One element: local name, attributes (local names), text content and children.
#[derive(Debug, Default)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) text: String,
    pub(crate) children: Vec<Node>,
}

impl Node {
    /// The value of attribute `name` (local name).
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child named `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub(crate) fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The child at the end of `path`, following first matches.
    pub(crate) fn path(&self, path: &[&str]) -> Option<&Node> {
        let mut node = self;
        for p in path {
            node = node.child(p)?;
        }
        Some(node)
    }

    /// Text of this element and its descendants, whitespace-trimmed per piece and joined.
    pub(crate) fn deep_text(&self) -> String {
        let mut out = String::new();
        self.collect_text(&mut out);
        out.trim().to_owned()
    }

    fn collect_text(&self, out: &mut String) {
        let t = self.text.trim();
        if !t.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(t);
        }
        for c in &self.children {
            c.collect_text(out);
        }
    }
}

/// Why a document did not parse into a tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TreeError {
    /// Not well-formed, truncated or nested too deeply.
    Malformed,
}

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_owned()
}

fn element(e: &quick_xml::events::BytesStart<'_>) -> Result<Node, TreeError> {
    let mut node = Node {
        name: local(e.name().as_ref()),
        ..Node::default()
    };
    for a in e.attributes() {
        let a = a.map_err(|_| TreeError::Malformed)?;
        let v = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|_| TreeError::Malformed)?;
        node.attrs.push((local(a.key.as_ref()), v.into_owned()));
    }
    Ok(node)
}

/// Parses `xml` into its root element.
pub(crate) fn parse(xml: &str) -> Result<Node, TreeError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        let ev = reader.read_event().map_err(|_| TreeError::Malformed)?;
        match ev {
            XmlEvent::Start(e) => {
                if root.is_some() || stack.len() >= MAX_DEPTH {
                    return Err(TreeError::Malformed);
                }
                stack.push(element(&e)?);
            }
            XmlEvent::Empty(e) => {
                let node = element(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None if root.is_none() => root = Some(node),
                    None => return Err(TreeError::Malformed),
                }
            }
            XmlEvent::End(_) => {
                let node = stack.pop().ok_or(TreeError::Malformed)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            XmlEvent::Text(t) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&t.xml10_content());
                } else if !t.xml10_content().trim().is_empty() {
                    return Err(TreeError::Malformed);
                }
            }
            XmlEvent::CData(t) => {
                let bytes = t.into_inner();
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&bytes);
                }
            }
            XmlEvent::GeneralRef(r) => {
                let ch = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(|_| TreeError::Malformed)?
                } else {
                    match r.xml10_content().as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    }
                };
                let (Some(ch), Some(cur)) = (ch, stack.last_mut()) else {
                    return Err(TreeError::Malformed);
                };
                cur.text.push(ch);
            }
            XmlEvent::Eof => break,
            XmlEvent::Comment(_) | XmlEvent::Decl(_) | XmlEvent::PI(_) | XmlEvent::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(TreeError::Malformed);
    }
    root.ok_or(TreeError::Malformed)
}
