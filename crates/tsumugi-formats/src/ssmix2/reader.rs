//! The SS-MIX2 storage reader: groups files by patient and yields one record per patient.
//!
//! Files are grouped by the patient ID of their name (or, for a malformed name, of their PID
//! directory) and patients are read one at a time, in PID order, so memory is bounded by one
//! patient's messages when reading from disk ([`read_storage`] keeps only the paths up front).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tsumugi_model::{Diagnostic, IdentityAttributes, Severity, SourceRecord};

use crate::RecordOutcome;
use crate::ssmix2::decode::{self, Item};
use crate::ssmix2::error::{Location, Ssmix2Error};
use crate::ssmix2::path::{self, FileMeta};

/// Where a file's bytes are.
#[derive(Debug)]
enum Content {
    Bytes(Vec<u8>),
    Disk(PathBuf),
}

/// One file of the storage, by its path relative to the root (`/`-separated).
#[derive(Debug)]
struct Entry {
    rel: String,
    content: Content,
}

/// Reads an SS-MIX2 標準化ストレージ; an [`Iterator`] of one [`RecordOutcome`] per patient.
///
/// ```
/// use tsumugi_formats::ssmix2::{from_entries, write_patient};
/// use tsumugi_model::{IdentityAttributes, SourceRecord};
///
/// let record = SourceRecord {
///     identity: IdentityAttributes { patient_id: Some("1234567".into()), ..Default::default() },
///     events: vec![],
/// };
/// let outcomes: Vec<_> = from_entries("upload.zip", write_patient(&record, "1234567")).collect();
/// assert_eq!(outcomes.len(), 1);
/// assert_eq!(outcomes[0].result.as_ref().unwrap(), &record);
/// ```
#[derive(Debug)]
pub struct Ssmix2Reader {
    label: String,
    patients: std::vec::IntoIter<(String, Vec<Entry>)>,
    records: u64,
    /// Warnings about files that belong to no patient, given to the first outcome.
    orphans: Vec<Diagnostic>,
    started: bool,
}

/// A reader over in-memory entries `(relative path, bytes)` in any order (a ZIP, a test).
/// `label` (e.g. the ZIP's name) prefixes every file named in a diagnostic.
pub fn from_entries(label: &str, entries: Vec<(String, Vec<u8>)>) -> Ssmix2Reader {
    let entries = entries
        .into_iter()
        .map(|(rel, bytes)| Entry {
            rel: normalise(&rel),
            content: Content::Bytes(bytes),
        })
        .collect();
    Ssmix2Reader::new(label, entries)
}

/// A reader over the storage tree under `root`: walks it (sorted, symbolic links not followed)
/// and keeps only paths until a patient is read. Diagnostics name files relative to `root`,
/// prefixed with the root's own name.
pub fn read_storage(root: &Path) -> Result<Ssmix2Reader, Ssmix2Error> {
    let mut entries = Vec::new();
    walk(root, "", &mut entries)?;
    let label = root
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Ok(Ssmix2Reader::new(&label, entries))
}

fn walk(dir: &Path, rel: &str, out: &mut Vec<Entry>) -> Result<(), Ssmix2Error> {
    let mut children: Vec<(String, PathBuf, bool)> = Vec::new();
    for child in std::fs::read_dir(dir).map_err(|_| Ssmix2Error::Io)? {
        let child = child.map_err(|_| Ssmix2Error::Io)?;
        let kind = child.file_type().map_err(|_| Ssmix2Error::Io)?;
        if kind.is_symlink() {
            continue;
        }
        let name = child.file_name().to_string_lossy().into_owned();
        children.push((name, child.path(), kind.is_dir()));
    }
    children.sort();
    for (name, path, is_dir) in children {
        let child_rel = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if is_dir {
            walk(&path, &child_rel, out)?;
        } else {
            out.push(Entry {
                rel: child_rel,
                content: Content::Disk(path),
            });
        }
    }
    Ok(())
}

fn normalise(rel: &str) -> String {
    rel.replace('\\', "/")
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join("/")
}

impl Ssmix2Reader {
    fn new(label: &str, mut entries: Vec<Entry>) -> Ssmix2Reader {
        entries.sort_by(|a, b| a.rel.cmp(&b.rel));
        let mut by_patient: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
        let mut orphans = Vec::new();
        for entry in entries {
            let key = path::patient_key(&entry.rel);
            if key.is_empty() {
                let file = join(label, &entry.rel);
                let loc = Location {
                    file: &file,
                    record: 1,
                };
                orphans.push(loc.warning(Ssmix2Error::MalformedFileName, None));
            } else {
                by_patient.entry(key).or_default().push(entry);
            }
        }
        Ssmix2Reader {
            label: label.to_owned(),
            patients: by_patient.into_iter().collect::<Vec<_>>().into_iter(),
            records: 0,
            orphans,
            started: false,
        }
    }

    fn patient(&mut self, pid: &str, entries: Vec<Entry>) -> RecordOutcome {
        let record = self.records;
        let mut warnings = std::mem::take(&mut self.orphans);
        // Parse names; malformed ones are warned about and skipped.
        let mut metas: Vec<(usize, FileMeta)> = Vec::new();
        for (idx, entry) in entries.iter().enumerate() {
            match path::parse(&entry.rel) {
                Ok(meta) => metas.push((idx, meta)),
                Err(err) => {
                    let file = join(&self.label, &entry.rel);
                    warnings.push(
                        Location {
                            file: &file,
                            record,
                        }
                        .warning(err, None),
                    );
                }
            }
        }
        let kept = path::select_latest(&metas);
        let meta_of = |idx: usize| metas.iter().find(|(i, _)| *i == idx).map(|(_, m)| m);
        // Identity: the surviving ADT-00 files, latest first; the first usable one wins.
        let mut adt00: Vec<(usize, &FileMeta)> = kept
            .iter()
            .filter_map(|i| meta_of(*i).map(|m| (*i, m)))
            .filter(|(_, m)| m.kind == "ADT-00")
            .collect();
        adt00.sort_by(|a, b| b.1.timestamp.cmp(&a.1.timestamp).then(b.0.cmp(&a.0)));
        let mut identity: Option<IdentityAttributes> = None;
        let mut first_error: Option<Diagnostic> = None;
        for (idx, meta) in &adt00 {
            let Some(entry) = entries.get(*idx) else {
                continue;
            };
            let file = join(&self.label, &entry.rel);
            let loc = Location {
                file: &file,
                record,
            };
            let res = load(entry)
                .map_err(|e| (e, None))
                .and_then(|bytes| decode::identity(&bytes, meta, &loc, &mut warnings))
                .map_err(|(e, field)| loc.diagnostic(e, field, Severity::Error));
            match res {
                Ok(id) => {
                    identity = Some(id);
                    break;
                }
                Err(diag) if first_error.is_none() => first_error = Some(diag),
                Err(mut diag) => {
                    diag.severity = Severity::Warning;
                    warnings.push(diag);
                }
            }
        }
        let Some(identity) = identity else {
            let err = first_error.unwrap_or_else(|| {
                let dir = join(&self.label, &patient_dir(pid));
                Location { file: &dir, record }.diagnostic(
                    Ssmix2Error::NoDemographics,
                    Some("ADT-00"),
                    Severity::Error,
                )
            });
            return RecordOutcome {
                record,
                line: None,
                result: Err(err),
                warnings,
            };
        };
        if let Some(mut diag) = first_error {
            // An older ADT-00 was used: the newest one's fault is only a warning now.
            diag.severity = Severity::Warning;
            warnings.push(diag);
        }
        let mut items: Vec<Item> = Vec::new();
        for idx in &kept {
            let (Some(entry), Some(meta)) = (entries.get(*idx), meta_of(*idx)) else {
                continue;
            };
            if meta.kind == "ADT-00" {
                continue;
            }
            let file = join(&self.label, &entry.rel);
            let loc = Location {
                file: &file,
                record,
            };
            match load(entry) {
                Ok(bytes) => items.extend(decode::events(&bytes, meta, &loc, &mut warnings)),
                Err(e) => warnings.push(loc.warning(e, None)),
            }
        }
        RecordOutcome {
            record,
            line: None,
            result: Ok(SourceRecord {
                identity,
                events: decode::resolve(items),
            }),
            warnings,
        }
    }
}

fn load(entry: &Entry) -> Result<Cow<'_, [u8]>, Ssmix2Error> {
    match &entry.content {
        Content::Bytes(b) => Ok(Cow::Borrowed(b)),
        Content::Disk(p) => std::fs::read(p)
            .map(Cow::Owned)
            .map_err(|_| Ssmix2Error::Io),
    }
}

fn join(label: &str, rel: &str) -> String {
    if label.is_empty() {
        rel.to_owned()
    } else {
        format!("{label}/{rel}")
    }
}

/// `PID[0:3]/PID[3:6]/PID`, the directory a patient's files live under.
fn patient_dir(pid: &str) -> String {
    let chars: Vec<char> = pid.chars().collect();
    let part = |a: usize, b: usize| -> String {
        chars
            .get(a.min(chars.len())..b.min(chars.len()))
            .map_or_else(String::new, |s| s.iter().collect())
    };
    format!("{}/{}/{pid}", part(0, 3), part(3, 6))
}

impl Iterator for Ssmix2Reader {
    type Item = RecordOutcome;

    fn next(&mut self) -> Option<RecordOutcome> {
        match self.patients.next() {
            Some((pid, entries)) => {
                self.started = true;
                self.records += 1;
                Some(self.patient(&pid, entries))
            }
            None if !self.started => {
                self.started = true;
                self.records += 1;
                let label = self.label.clone();
                let loc = Location {
                    file: &label,
                    record: 1,
                };
                Some(RecordOutcome {
                    record: 1,
                    line: None,
                    result: Err(loc.diagnostic(Ssmix2Error::EmptyStorage, None, Severity::Error)),
                    warnings: std::mem::take(&mut self.orphans),
                })
            }
            None => None,
        }
    }
}
