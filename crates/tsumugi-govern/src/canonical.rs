//! Canonical JSON: one byte sequence per value, so hashes of JSON are reproducible.
//!
//! Objects have their keys sorted by code point, there is no whitespace, and every character
//! outside printable ASCII is written as a `\uXXXX` escape (UTF-16, surrogate pairs above the BMP).
//! The text is therefore pure ASCII: it survives any database text encoding byte for byte, and a
//! change of any single byte is a change of the hashed text.

use std::fmt::Write;

use serde_json::Value;

/// Writes `value` canonically onto `out`.
pub(crate) fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // serde_json prints numbers deterministically (shortest round-trip form for floats).
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                write_value(out, v);
            }
            out.push('}');
        }
    }
}

/// The canonical text of `value`.
pub(crate) fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

/// Writes a JSON string literal in ASCII.
pub(crate) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_and_text_is_ascii() {
        let v = serde_json::json!({"b": [1, 2.5, null], "a": "東京\n\"x\"", "c": {"z": true, "y": "😀"}});
        let text = to_string(&v);
        assert_eq!(
            text,
            r#"{"a":"\u6771\u4eac\n\"x\"","b":[1,2.5,null],"c":{"y":"\ud83d\ude00","z":true}}"#
        );
        assert!(text.is_ascii());
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }
}
