//! The 特定健診 submission ZIP, read entry by entry.
//!
//! Layout (possibly under one top folder): the index `ix08*.xml`, the summary `su08*.xml`, one
//! CDA per person under `DATA/`, claims (`cc08*`) under `CLAIMS/`, optionally the schemas under
//! `XSD/`. The central directory is walked first (names only, nothing kept) to count entries and
//! find the schemas; then walked again, each entry opened, read (capped at [`MAX_ENTRY_BYTES`]
//! decompressed) and dropped before the next, so memory is bounded by one entry whatever the
//! number of entries (see `crate::zipread`).
//!
//! Outcomes: one per `DATA/` document (record number = the entry's 1-based position in the
//! archive); one rejected outcome per entry whose name escapes the archive (`..`, absolute path,
//! drive letter — the name is not repeated), per unreadable or malformed index, summary or claim,
//! and per count that does not match. Counts: the index `totalRecordCount` must equal the number
//! of `DATA/` + `CLAIMS/` files plus the summary (the index and `XSD/` files are not counted), and
//! the summary `totalSubjectCount` the number of `DATA/` files. Well-formed claims yield no
//! outcome: they carry billing amounts, not lifecourse events.
//!
//! When the archive carries an `hc08*.xsd`, every CDA is checked against
//! [`crate::kenshin::SCHEMA_RULES`] (and the index too when an `ix08*.xsd` is present).

use std::collections::VecDeque;
use std::io::{Read, Seek};

use crate::RecordOutcome;
use crate::diag::{Where, renumber};
use crate::kenshin::cda::{CdaConfig, read_cda_with};
use crate::kenshin::error::KenshinError;
use crate::kenshin::schema;
use crate::kenshin::tree::{self, Node};
use crate::zipread::{self, BlockCache, DirCursor, Entry, EntryError, find_dir};

/// The largest archive entry read (32 MiB); larger entries are rejected.
pub const MAX_ENTRY_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unsafe,
    Dir,
    Index,
    Summary,
    Data,
    Claim,
    Xsd,
    Other,
}

/// Whether a ZIP entry name escapes the archive: absolute, with a drive letter, a NUL, or a `..`
/// component (`\\` counts as `/`).
pub fn is_unsafe_entry_name(name: &str) -> bool {
    let n = name.replace('\\', "/");
    let b = n.as_bytes();
    n.starts_with('/')
        || n.contains('\0')
        || (b.len() >= 2 && b.get(1) == Some(&b':'))
        || n.split('/').any(|c| c == "..")
}

fn classify(name: &str) -> Kind {
    if is_unsafe_entry_name(name) {
        return Kind::Unsafe;
    }
    if name.ends_with('/') {
        return Kind::Dir;
    }
    let lower = name.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('/').collect();
    let base = parts.last().copied().unwrap_or_default();
    let dirs = parts
        .get(..parts.len().saturating_sub(1))
        .unwrap_or_default();
    if dirs.contains(&"xsd") || base.ends_with(".xsd") {
        Kind::Xsd
    } else if dirs.contains(&"data") {
        Kind::Data
    } else if dirs.contains(&"claims") {
        Kind::Claim
    } else if base.starts_with("ix") && base.ends_with(".xml") {
        Kind::Index
    } else if base.starts_with("su") && base.ends_with(".xml") {
        Kind::Summary
    } else {
        Kind::Other
    }
}

/// A safe label for an entry: its name when plain ASCII path characters, else its position.
fn entry_label(file_label: &str, name: &str, pos: usize) -> String {
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b));
    if plain && !is_unsafe_entry_name(name) {
        format!("{file_label}:{name}")
    } else {
        format!("{file_label}:entry{pos}")
    }
}

/// Reads a submission ZIP; see the module docs for what is yielded.
pub fn read_submission_zip<R: Read + Seek>(
    file_label: &str,
    zip: R,
) -> impl Iterator<Item = RecordOutcome> + use<R> {
    SubmissionReader::new(file_label, zip)
}

struct SubmissionReader<R: Read + Seek> {
    label: String,
    archive: Option<BlockCache<R>>,
    /// The reading pass over the central directory.
    cursor: Option<DirCursor>,
    pending: VecDeque<RecordOutcome>,
    config: CdaConfig,
    check_index: bool,
    n_data: u64,
    n_counted: u64,
}

fn rejected(at: &Where<'_>, err: KenshinError, field: Option<&str>) -> RecordOutcome {
    RecordOutcome {
        record: at.record,
        line: at.line,
        result: Err(at.diag(err, field)),
        warnings: Vec::new(),
    }
}

fn kind_of(name: &str) -> Kind {
    if name.is_empty() {
        Kind::Unsafe
    } else {
        classify(name)
    }
}

impl<R: Read + Seek> SubmissionReader<R> {
    fn new(file_label: &str, zip: R) -> SubmissionReader<R> {
        let mut me = SubmissionReader {
            label: file_label.to_owned(),
            archive: None,
            cursor: None,
            pending: VecDeque::new(),
            config: CdaConfig {
                check_schema: false,
            },
            check_index: false,
            n_data: 0,
            n_counted: 0,
        };
        let at = Where {
            file: file_label,
            record: 1,
            line: None,
        };
        let opened = BlockCache::new(zip).and_then(|mut r| find_dir(&mut r).map(|d| (r, d)));
        let Ok((mut archive, dir)) = opened else {
            me.pending
                .push_back(rejected(&at, KenshinError::InvalidArchive, None));
            return me;
        };
        // First pass over the directory: counts and which schemas are present; nothing kept.
        let mut has_index = false;
        let mut counting = DirCursor::new(&dir);
        while let Some(entry) = counting.next(&mut archive) {
            let Ok(entry) = entry else {
                me.pending
                    .push_back(rejected(&at, KenshinError::InvalidArchive, None));
                return me;
            };
            let kind = kind_of(&entry.name);
            let lower = entry.name.to_ascii_lowercase();
            let base = lower.rsplit('/').next().unwrap_or_default();
            if kind == Kind::Xsd && base.starts_with("hc08") {
                me.config.check_schema = true;
            }
            if kind == Kind::Xsd && base.starts_with("ix08") {
                me.check_index = true;
            }
            match kind {
                Kind::Data => {
                    me.n_data += 1;
                    me.n_counted += 1;
                }
                Kind::Claim | Kind::Summary => me.n_counted += 1,
                Kind::Index => has_index = true,
                _ => {}
            }
        }
        if !has_index {
            me.pending
                .push_back(rejected(&at, KenshinError::MissingIndex, None));
        }
        me.cursor = Some(DirCursor::new(&dir));
        me.archive = Some(archive);
        me
    }

    /// Reads `entry` into memory, or the fault that rejects it.
    fn read_entry(&mut self, entry: &Entry) -> Result<Vec<u8>, KenshinError> {
        let Some(archive) = self.archive.as_mut() else {
            return Err(KenshinError::InvalidArchive);
        };
        zipread::read_entry(archive, entry, MAX_ENTRY_BYTES).map_err(|e| match e {
            EntryError::TooLarge => KenshinError::EntryTooLarge,
            EntryError::Unreadable => KenshinError::InvalidArchive,
        })
    }

    fn parse_xml(bytes: &[u8]) -> Result<Node, KenshinError> {
        let text = std::str::from_utf8(bytes).map_err(|_| KenshinError::InvalidUtf8)?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        tree::parse(text).map_err(|_| KenshinError::MalformedXml)
    }

    fn count(&mut self, node: &Node, path: &[&str], expected: u64, field: &str, at: &Where<'_>) {
        let got = node
            .path(path)
            .and_then(|n| n.attr("value"))
            .and_then(|v| v.trim().parse::<u64>().ok());
        if got.is_some_and(|g| g != expected) {
            self.pending
                .push_back(rejected(at, KenshinError::CountMismatch, Some(field)));
        }
    }

    fn entry(&mut self, entry: &Entry) {
        let (i, name) = (entry.index, entry.name.as_str());
        let kind = kind_of(name);
        let label = entry_label(&self.label, name, i + 1);
        let at = Where {
            file: &label,
            record: i as u64 + 1,
            line: None,
        };
        match kind {
            Kind::Dir | Kind::Xsd => {}
            Kind::Unsafe => {
                self.pending
                    .push_back(rejected(&at, KenshinError::PathTraversal, None))
            }
            // Not a record; entries outside the known layout are skipped.
            Kind::Other => {}
            Kind::Data => match self.read_entry(entry) {
                Err(e) => self.pending.push_back(rejected(&at, e, None)),
                Ok(bytes) => {
                    let mut o = read_cda_with(&label, &bytes, &self.config);
                    renumber(&mut o, at.record);
                    self.pending.push_back(o);
                }
            },
            Kind::Index | Kind::Summary | Kind::Claim => {
                let node = match self.read_entry(entry).and_then(|b| Self::parse_xml(&b)) {
                    Ok(n) => n,
                    Err(e) => {
                        self.pending.push_back(rejected(&at, e, None));
                        return;
                    }
                };
                if kind == Kind::Index {
                    if self.check_index {
                        for f in schema::check_index(&node) {
                            self.pending.push_back(rejected(
                                &at,
                                KenshinError::SchemaViolation,
                                Some(&f),
                            ));
                        }
                    }
                    let n = self.n_counted;
                    self.count(
                        &node,
                        &["totalRecordCount"],
                        n,
                        "index.totalRecordCount",
                        &at,
                    );
                } else if kind == Kind::Summary {
                    let n = self.n_data;
                    self.count(
                        &node,
                        &["totalSubjectCount"],
                        n,
                        "summary.totalSubjectCount",
                        &at,
                    );
                }
            }
        }
    }
}

impl<R: Read + Seek> Iterator for SubmissionReader<R> {
    type Item = RecordOutcome;

    fn next(&mut self) -> Option<RecordOutcome> {
        loop {
            if let Some(o) = self.pending.pop_front() {
                return Some(o);
            }
            let (Some(cursor), Some(archive)) = (self.cursor.as_mut(), self.archive.as_mut())
            else {
                return None;
            };
            match cursor.next(archive)? {
                Ok(entry) => self.entry(&entry),
                Err(_) => {
                    let at = Where {
                        file: &self.label,
                        record: cursor.position() as u64 + 1,
                        line: None,
                    };
                    let o = rejected(&at, KenshinError::InvalidArchive, None);
                    self.pending.push_back(o);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_entry_limit_is_the_one_the_diagnostic_names() {
        assert_eq!(super::MAX_ENTRY_BYTES, 32 * 1024 * 1024);
        let e = crate::kenshin::KenshinError::EntryTooLarge;
        assert!(e.to_string().contains("32 MiB"));
    }
}
