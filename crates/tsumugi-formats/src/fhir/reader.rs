//! Streaming FHIR reader: NDJSON (one Bundle or resource per line) or one whole JSON document.
//!
//! The mode is decided on the first non-blank line. If it is a complete JSON value, or a broken
//! one, the file is NDJSON: each non-blank line is one record, read one at a time, so memory is
//! bounded by the longest line. If it is the incomplete start of a pretty-printed document (it
//! ends with `{`, `[` or `,`), the rest of the input is read and parsed as one record.
//!
//! A line that is not JSON, is truncated or is not UTF-8 rejects that record only; reading goes
//! on with the next line. An I/O error ends the iteration after one rejected outcome.

use std::io::{BufRead, ErrorKind, Read};

use serde_json::Value;

use crate::RecordOutcome;
use crate::fhir::decode::decode;
use crate::fhir::error::{FhirError, Location};

/// Reads FHIR records from a byte stream; an [`Iterator`] of [`RecordOutcome`]s.
///
/// ```
/// use tsumugi_formats::fhir::FhirReader;
///
/// let ndjson = b"{\"resourceType\":\"Patient\",\"gender\":\"female\"}\n\nnot json\n";
/// let outcomes: Vec<_> = FhirReader::new("patients.ndjson", &ndjson[..]).collect();
/// assert_eq!(outcomes.len(), 2);
/// assert!(outcomes[0].result.is_ok());
/// let err = outcomes[1].result.as_ref().unwrap_err();
/// assert_eq!((err.code.as_str(), err.record, err.line), ("FHIR0001InvalidJson", 2, Some(3)));
/// ```
#[derive(Debug)]
pub struct FhirReader<R> {
    file: String,
    reader: R,
    buf: Vec<u8>,
    lines_read: u64,
    records: u64,
    started: bool,
    done: bool,
}

impl<R: BufRead> FhirReader<R> {
    /// A reader over `reader`; `file_label` names the file in every diagnostic.
    pub fn new(file_label: &str, reader: R) -> FhirReader<R> {
        FhirReader {
            file: file_label.to_owned(),
            reader,
            buf: Vec::new(),
            lines_read: 0,
            records: 0,
            started: false,
            done: false,
        }
    }

    fn location(&self, line: u64) -> Location<'_> {
        Location {
            file: &self.file,
            record: self.records,
            line: Some(line),
        }
    }

    fn reject(&self, err: FhirError, line: u64) -> RecordOutcome {
        RecordOutcome {
            record: self.records,
            line: Some(line),
            result: Err(self.location(line).diagnostic(err, None)),
            warnings: Vec::new(),
        }
    }

    fn decoded(&self, value: &Value, line: u64) -> RecordOutcome {
        let (result, warnings) = decode(value, &self.location(line));
        RecordOutcome {
            record: self.records,
            line: Some(line),
            result,
            warnings,
        }
    }

    /// One record from a line (or, for the first record, possibly the whole document).
    fn record(&mut self, line: &[u8], first: bool) -> RecordOutcome {
        let start = self.lines_read;
        let Ok(text) = std::str::from_utf8(line) else {
            return self.reject(FhirError::InvalidUtf8, start);
        };
        match serde_json::from_str::<Value>(text) {
            Ok(value) => self.decoded(&value, start),
            Err(e) if e.is_eof() && first && starts_pretty_document(text) => {
                self.whole_document(line, start)
            }
            Err(e) if e.is_eof() => self.reject(FhirError::Truncated, start),
            Err(_) => self.reject(FhirError::InvalidJson, start),
        }
    }

    fn whole_document(&mut self, first_line: &[u8], start: u64) -> RecordOutcome {
        self.done = true;
        let mut doc = first_line.to_vec();
        doc.push(b'\n');
        let room = MAX_RECORD_BYTES.saturating_sub(doc.len() as u64) + 1;
        if (&mut self.reader).take(room).read_to_end(&mut doc).is_err() {
            return self.reject(FhirError::Io, start);
        }
        if doc.len() as u64 > MAX_RECORD_BYTES {
            return self.reject(FhirError::TooLarge, start);
        }
        let Ok(text) = std::str::from_utf8(&doc) else {
            return self.reject(FhirError::InvalidUtf8, start);
        };
        match serde_json::from_str::<Value>(text) {
            Ok(value) => self.decoded(&value, start),
            Err(e) if e.is_eof() => self.reject(FhirError::Truncated, start),
            Err(_) => self.reject(FhirError::InvalidJson, start),
        }
    }
}

impl<R: BufRead> Iterator for FhirReader<R> {
    type Item = RecordOutcome;

    fn next(&mut self) -> Option<RecordOutcome> {
        while !self.done {
            let mut buf = std::mem::take(&mut self.buf);
            buf.clear();
            match (&mut self.reader)
                .take(MAX_RECORD_BYTES + 1)
                .read_until(b'\n', &mut buf)
            {
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(n) if n as u64 > MAX_RECORD_BYTES => {
                    self.lines_read += 1;
                    self.records += 1;
                    self.started = true;
                    let line = self.lines_read;
                    if skip_line(&mut self.reader).is_err() {
                        self.done = true;
                    }
                    buf.clear();
                    self.buf = buf;
                    return Some(self.reject(FhirError::TooLarge, line));
                }
                Ok(_) => self.lines_read += 1,
                Err(e) if e.kind() == ErrorKind::Interrupted => {
                    self.buf = buf;
                    continue;
                }
                Err(_) => {
                    self.done = true;
                    self.records += 1;
                    return Some(self.reject(FhirError::Io, self.lines_read + 1));
                }
            }
            let mut line: &[u8] = &buf;
            if self.lines_read == 1 {
                line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
            }
            // Without its line end, a line cut inside a string reads as truncated (EOF), not as
            // a string holding a control character.
            while let [rest @ .., b'\n' | b'\r'] = line {
                line = rest;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                self.buf = buf;
                continue;
            }
            self.records += 1;
            let first = !self.started;
            self.started = true;
            let outcome = self.record(line, first);
            self.buf = buf;
            return Some(outcome);
        }
        None
    }
}

/// The largest NDJSON line, or whole document, read (64 MiB; one patient's Bundle is far less).
pub const MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;

/// Skips the rest of an over-long line, up to and including its `\n`, without keeping it.
fn skip_line<R: BufRead>(r: &mut R) -> std::io::Result<()> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|b| *b == b'\n') {
            Some(i) => {
                r.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                r.consume(n);
            }
        }
    }
}

/// Whether an incomplete first line looks like the start of a pretty-printed document rather
/// than a truncated NDJSON line.
fn starts_pretty_document(text: &str) -> bool {
    text.trim_end().ends_with(['{', '[', ','])
}
