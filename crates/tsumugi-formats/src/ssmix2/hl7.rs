//! A small HL7 v2.5 splitter: ISO-2022-JP bytes → segments → fields → repetitions → components.
//!
//! Hand-written rather than the `hl7-parser` crate: SS-MIX2 needs only read access to a handful
//! of fields by position, the text must be decoded from ISO-2022-JP *before* splitting (so the
//! splitter works on `&str` and honours the encoding characters declared in MSH-1/MSH-2), and
//! a splitter of about a hundred lines with no indexing is easy to prove panic-free on
//! arbitrary input (the reader is fuzzed). Escape sequences (`\F\ \S\ \T\ \R\ \E\`) are
//! resolved in leaf values; other escapes (`\H\`, `\N\`, `\Xhh\`, `\.br\` …) are dropped.

use encoding_rs::ISO_2022_JP;

/// The delimiters a message declares in MSH-1 and MSH-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delimiters {
    pub(crate) field: char,
    pub(crate) component: char,
    pub(crate) repetition: char,
    pub(crate) escape: char,
    pub(crate) subcomponent: char,
}

/// Why a byte string is not an HL7 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SplitError {
    /// The bytes are not valid ISO-2022-JP.
    Encoding,
    /// The text does not start with an `MSH` segment declaring its delimiters.
    NoHeader,
}

/// One segment: its id and its raw (still escaped) fields, numbered as HL7 numbers them.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub(crate) id: String,
    /// `fields[n]` is field `n` (`fields[0]` is the id; for MSH, `fields[1]` is MSH-1).
    fields: Vec<String>,
}

/// A decoded message: delimiters and segments in order.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub(crate) delimiters: Delimiters,
    pub(crate) segments: Vec<Segment>,
}

/// Decodes ISO-2022-JP and splits into segments (CR, CRLF or LF ends).
pub(crate) fn parse(bytes: &[u8]) -> Result<Message, SplitError> {
    let (text, had_errors) = ISO_2022_JP.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(SplitError::Encoding);
    }
    let text = text.trim_start_matches(['\u{feff}', '\r', '\n', ' ']);
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(3).collect();
    if head != "MSH" {
        return Err(SplitError::NoHeader);
    }
    let enc: Vec<char> = chars.take(5).collect();
    let [field, component, repetition, escape, subcomponent] = enc[..] else {
        return Err(SplitError::NoHeader);
    };
    let delimiters = Delimiters {
        field,
        component,
        repetition,
        escape,
        subcomponent,
    };
    let distinct = [field, component, repetition, escape, subcomponent];
    let all_distinct = distinct
        .iter()
        .enumerate()
        .all(|(i, c)| !distinct[..i].contains(c) && !matches!(c, '\r' | '\n'));
    if !all_distinct || field.is_alphanumeric() {
        return Err(SplitError::NoHeader);
    }
    let segments = text
        .split(['\r', '\n'])
        .filter(|s| !s.trim().is_empty())
        .map(|s| split_segment(s, field))
        .collect();
    Ok(Message {
        delimiters,
        segments,
    })
}

fn split_segment(s: &str, field: char) -> Segment {
    let mut fields: Vec<String> = s.split(field).map(str::to_owned).collect();
    let id = fields.first().cloned().unwrap_or_default();
    if id == "MSH" {
        // MSH-1 is the field separator itself: shift so that fields[n] is MSH-n.
        fields.insert(1, field.to_string());
    }
    Segment { id, fields }
}

impl Segment {
    /// Field `n`, raw (empty if absent).
    pub(crate) fn raw(&self, n: usize) -> &str {
        self.fields.get(n).map_or("", String::as_str)
    }
}

impl Message {
    /// Segments with this id, in order.
    pub(crate) fn all<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Segment> + 'a {
        self.segments.iter().filter(move |s| s.id == id)
    }

    /// The first segment with this id.
    pub(crate) fn first(&self, id: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.id == id)
    }

    /// Repetitions of field `n` of `seg`, each as a list of raw components.
    pub(crate) fn repeats<'a>(&self, seg: &'a Segment, n: usize) -> Vec<Vec<&'a str>> {
        let d = self.delimiters;
        let raw = seg.raw(n);
        if raw.is_empty() {
            return Vec::new();
        }
        raw.split(d.repetition)
            .map(|rep| rep.split(d.component).collect())
            .collect()
    }

    /// Component `c` (1-based) of the first repetition of field `n`, unescaped (first
    /// subcomponent only).
    pub(crate) fn comp(&self, seg: &Segment, n: usize, c: usize) -> String {
        let reps = self.repeats(seg, n);
        let value = reps
            .first()
            .and_then(|r| r.get(c.saturating_sub(1)))
            .copied()
            .unwrap_or("");
        self.leaf(value)
    }

    /// A field's first component of its first repetition, unescaped.
    pub(crate) fn value(&self, seg: &Segment, n: usize) -> String {
        self.comp(seg, n, 1)
    }

    /// Unescapes a raw component (its first subcomponent).
    pub(crate) fn leaf(&self, raw: &str) -> String {
        let d = self.delimiters;
        let first = raw.split(d.subcomponent).next().unwrap_or("");
        unescape(first, d)
    }
}

/// Resolves `\F\ \S\ \T\ \R\ \E\`; drops other escape sequences and a dangling escape.
pub(crate) fn unescape(s: &str, d: Delimiters) -> String {
    if !s.contains(d.escape) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut parts = s.split(d.escape);
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    // After the first part, parts alternate: escape body, literal text, escape body …
    let mut in_escape = true;
    for part in parts {
        if in_escape {
            match part {
                "F" => out.push(d.field),
                "S" => out.push(d.component),
                "T" => out.push(d.subcomponent),
                "R" => out.push(d.repetition),
                "E" => out.push(d.escape),
                _ => {}
            }
        } else {
            out.push_str(part);
        }
        in_escape = !in_escape;
    }
    out
}

/// Escapes the standard delimiters in a value written by the writer.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\E\\"),
            '|' => out.push_str("\\F\\"),
            '^' => out.push_str("\\S\\"),
            '&' => out.push_str("\\T\\"),
            '~' => out.push_str("\\R\\"),
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Encodes text as ISO-2022-JP (characters outside JIS X 0208 become numeric references, as
/// `encoding_rs` does).
pub(crate) fn encode(text: &str) -> Vec<u8> {
    let (bytes, _, _) = ISO_2022_JP.encode(text);
    bytes.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_unescapes() {
        let msg = parse(b"MSH|^~\\&|A\rPID|1||x\\F\\y^b~c^d\r").unwrap();
        let pid = msg.first("PID").unwrap();
        assert_eq!(msg.value(pid, 3), "x|y");
        assert_eq!(msg.repeats(pid, 3).len(), 2);
        let msh = msg.first("MSH").unwrap();
        assert_eq!(msh.raw(3), "A");
    }
}
