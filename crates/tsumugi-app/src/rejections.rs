//! A submission's diagnostics, streamed: into the registry a batch at a time, and into
//! `reports/<id>-rejections.{csv,json}` as they come, so memory holds one batch whatever the
//! number of bad records in the file.
//!
//! The files are written beside their final names and moved into place when the submission is
//! done ([`tsumugi_store::AtomicFile`]); the JSON is byte for byte what `serde_json`'s pretty
//! printer writes for the whole array. Processing a submission again (after a crash) clears its
//! registry rows first, so one set remains.

use std::path::PathBuf;

use tsumugi_model::{Diagnostic, Severity};
use tsumugi_store::{AtomicFile, registry};

use crate::{Ctx, Error, Result};

/// Diagnostics held before they are written out.
const BATCH: usize = 1000;

/// The columns of the CSV report.
const CSV_HEADER: [&str; 8] = [
    "file",
    "record",
    "line",
    "field",
    "code",
    "severity",
    "reason_ja",
    "reason_en",
];

/// The report files being written (opened at the first diagnostic).
struct Files {
    csv_path: PathBuf,
    csv: AtomicFile,
    json: AtomicFile,
    /// Whether the JSON array has an element yet.
    json_started: bool,
}

/// Where a submission's diagnostics go while it is read.
pub(crate) struct Rejections<'a> {
    ctx: &'a Ctx,
    submission_id: i64,
    batch: Vec<Diagnostic>,
    files: Option<Files>,
    /// Errors (rejected records) so far.
    pub(crate) n_errors: u64,
    /// Warnings so far.
    pub(crate) n_warnings: u64,
}

impl<'a> Rejections<'a> {
    /// Starts the diagnostics of `submission_id`, clearing any a previous run stored.
    pub(crate) async fn start(ctx: &'a Ctx, submission_id: i64) -> Result<Rejections<'a>> {
        registry::clear_rejections(&ctx.registry, submission_id).await?;
        Ok(Rejections {
            ctx,
            submission_id,
            batch: Vec::with_capacity(BATCH),
            files: None,
            n_errors: 0,
            n_warnings: 0,
        })
    }

    /// Adds one diagnostic.
    pub(crate) async fn push(&mut self, d: Diagnostic) -> Result<()> {
        match d.severity {
            Severity::Error => self.n_errors += 1,
            Severity::Warning => self.n_warnings += 1,
        }
        self.batch.push(d);
        if self.batch.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        registry::append_rejections(&self.ctx.registry, self.submission_id, &self.batch).await?;
        let files = match &mut self.files {
            Some(f) => f,
            None => {
                let csv_path = self
                    .ctx
                    .dir
                    .reports()
                    .join(format!("{:010}-rejections.csv", self.submission_id));
                let mut csv = AtomicFile::create(&csv_path)?;
                csv.write_all(&csv_rows(std::iter::once(CSV_HEADER))?)?;
                let mut json = AtomicFile::create(&csv_path.with_extension("json"))?;
                json.write_all(b"[")?;
                self.files.insert(Files {
                    csv_path,
                    csv,
                    json,
                    json_started: false,
                })
            }
        };
        files
            .csv
            .write_all(&csv_rows(self.batch.iter().map(csv_row))?)?;
        let mut json = Vec::new();
        for d in &self.batch {
            json_element(&mut json, d, !files.json_started)?;
            files.json_started = true;
        }
        files.json.write_all(&json)?;
        self.batch.clear();
        Ok(())
    }

    /// Writes what is left and moves the reports into place; returns the CSV report's path,
    /// or `None` when there was nothing to report.
    pub(crate) async fn finish(mut self) -> Result<Option<PathBuf>> {
        self.flush().await?;
        let Some(mut files) = self.files.take() else {
            return Ok(None);
        };
        files.json.write_all(b"\n]")?;
        files.csv.commit()?;
        files.json.commit()?;
        Ok(Some(files.csv_path))
    }
}

fn csv_row(d: &Diagnostic) -> [String; 8] {
    [
        d.file.clone(),
        d.record.to_string(),
        d.line.map(|l| l.to_string()).unwrap_or_default(),
        d.field.clone().unwrap_or_default(),
        d.code.clone(),
        registry::severity_name(d.severity).to_owned(),
        d.reason_ja.clone(),
        d.reason_en.clone(),
    ]
}

fn csv_rows<R, I>(rows: R) -> Result<Vec<u8>>
where
    R: Iterator<Item = I>,
    I: IntoIterator,
    I::Item: AsRef<[u8]>,
{
    let csv_err = |e: csv::Error| Error::Internal(e.to_string());
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(row).map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| Error::Internal(e.to_string()))
}

/// Appends one element of the pretty-printed JSON array: `\n  {…}` for the `first`, `,\n  {…}`
/// after it (the opening `[` is written before). JSON strings escape newlines, so indenting every
/// line of the element by two spaces is what the pretty printer does for a nested value.
fn json_element(out: &mut Vec<u8>, d: &Diagnostic, first: bool) -> Result<()> {
    let one = serde_json::to_string_pretty(d).map_err(|e| Error::Internal(e.to_string()))?;
    out.extend_from_slice(if first { b"\n" } else { b",\n" });
    for (i, line) in one.split('\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(b"  ");
        out.extend_from_slice(line.as_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(i: u64) -> Diagnostic {
        Diagnostic {
            file: format!("f{i}.ndjson"),
            record: i,
            line: i.is_multiple_of(2).then_some(i * 3),
            field: i.is_multiple_of(3).then(|| "Patient.birthDate".to_owned()),
            code: "FHR0001".to_owned(),
            reason_ja: "改行\nと \"引用\" を含む理由".to_owned(),
            reason_en: "a reason, with a comma".to_owned(),
            severity: if i.is_multiple_of(4) {
                Severity::Warning
            } else {
                Severity::Error
            },
        }
    }

    #[test]
    fn the_streamed_json_is_what_the_pretty_printer_writes() {
        for n in [1u64, 2, 5] {
            let all: Vec<Diagnostic> = (1..=n).map(diag).collect();
            // Written in batches of two, as the report is written in batches.
            let mut streamed = b"[".to_vec();
            let mut started = false;
            for chunk in all.chunks(2) {
                let mut part = Vec::new();
                for d in chunk {
                    json_element(&mut part, d, !started).unwrap();
                    started = true;
                }
                streamed.extend_from_slice(&part);
            }
            streamed.extend_from_slice(b"\n]");
            assert_eq!(
                String::from_utf8(streamed).unwrap(),
                serde_json::to_string_pretty(&all).unwrap(),
                "{n} diagnostics"
            );
        }
    }
}
