//! The events file: one row per canonical event, keyed by an opaque integer.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use arrow_array::builder::{
    ArrayBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
};
use arrow_array::{
    Array, ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use tsumugi_model::{Code, CodeSystem, Event, EventKind};

use crate::atomic::commit_file;
use crate::{Error, Result};

/// Rows buffered before a batch is handed to the Parquet writer.
const BATCH_ROWS: usize = 64 * 1024;

/// One stored event with its key (a record key at ingest, a person key in the lifecourse).
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// The opaque key.
    pub key: i64,
    /// The event.
    pub event: Event,
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("key", DataType::Int64, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("date", DataType::Date32, false),
        Field::new("end_date", DataType::Date32, true),
        Field::new("code_system", DataType::Utf8, true),
        Field::new("code", DataType::Utf8, true),
        Field::new("value", DataType::Float64, true),
        Field::new("unit", DataType::Utf8, true),
    ]))
});

/// Streams events into one encrypted Parquet file; the file appears at its final path only
/// when [`EventFileWriter::finish`] succeeds.
pub struct EventFileWriter {
    path: PathBuf,
    tmp: PathBuf,
    writer: ArrowWriter<File>,
    cols: Columns,
    n_rows: u64,
}

impl std::fmt::Debug for EventFileWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventFileWriter")
            .field("path", &self.path)
            .field("n_rows", &self.n_rows)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Columns {
    key: Int64Builder,
    kind: StringBuilder,
    date: Date32Builder,
    end_date: Date32Builder,
    code_system: StringBuilder,
    code: StringBuilder,
    value: Float64Builder,
    unit: StringBuilder,
}

impl EventFileWriter {
    pub(crate) fn create(path: &Path, props: WriterProperties) -> Result<EventFileWriter> {
        let tmp = path.with_extension("parquet.tmp");
        let file = File::create(&tmp).map_err(Error::io(&tmp))?;
        let writer = ArrowWriter::try_new(file, SCHEMA.clone(), Some(props)).map_err(|source| {
            Error::Parquet {
                path: path.to_owned(),
                source,
            }
        })?;
        Ok(EventFileWriter {
            path: path.to_owned(),
            tmp,
            writer,
            cols: Columns::default(),
            n_rows: 0,
        })
    }

    /// Appends one event.
    ///
    /// # Errors
    /// [`Error::Parquet`] when a full batch cannot be written.
    pub fn push(&mut self, key: i64, event: &Event) -> Result<()> {
        let c = &mut self.cols;
        c.key.append_value(key);
        c.kind.append_value(event.kind.as_str());
        c.date.append_value(to_days(event.date));
        c.end_date.append_option(event.end_date.map(to_days));
        c.code_system
            .append_option(event.code.as_ref().map(|code| code.system.as_str()));
        c.code
            .append_option(event.code.as_ref().map(|code| code.value.as_str()));
        c.value.append_option(event.value);
        c.unit.append_option(event.unit.as_deref());
        self.n_rows += 1;
        if c.key.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// Rows written so far.
    pub fn n_rows(&self) -> u64 {
        self.n_rows
    }

    /// Writes the footer, syncs, and moves the file into place. Returns the rows written.
    ///
    /// # Errors
    /// [`Error::Parquet`] or [`Error::Io`]; on error the final path is untouched.
    pub fn finish(mut self) -> Result<u64> {
        self.flush()?;
        let file = self.writer.into_inner().map_err(|source| Error::Parquet {
            path: self.path.clone(),
            source,
        })?;
        file.sync_all().map_err(Error::io(&self.tmp))?;
        drop(file);
        commit_file(&self.tmp, &self.path)?;
        Ok(self.n_rows)
    }

    fn flush(&mut self) -> Result<()> {
        if self.cols.key.len() == 0 {
            return Ok(());
        }
        let c = &mut self.cols;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(c.key.finish()),
            Arc::new(c.kind.finish()),
            Arc::new(c.date.finish()),
            Arc::new(c.end_date.finish()),
            Arc::new(c.code_system.finish()),
            Arc::new(c.code.finish()),
            Arc::new(c.value.finish()),
            Arc::new(c.unit.finish()),
        ];
        let batch =
            RecordBatch::try_new(SCHEMA.clone(), columns).map_err(|source| Error::Arrow {
                path: self.path.clone(),
                source,
            })?;
        self.writer.write(&batch).map_err(|source| Error::Parquet {
            path: self.path.clone(),
            source,
        })
    }
}

const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

pub(crate) fn to_days(d: NaiveDate) -> i32 {
    (d - EPOCH).num_days() as i32
}

pub(crate) fn from_days(days: i32) -> NaiveDate {
    EPOCH + chrono::Duration::days(i64::from(days))
}

pub(crate) fn column<'a, T: 'static>(
    batch: &'a RecordBatch,
    name: &str,
    path: &Path,
) -> Result<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| Error::SchemaMismatch {
            path: path.to_owned(),
            reason: format!("column {name} missing or of another type"),
        })
}

pub(crate) fn opt_str(a: &StringArray, i: usize) -> Option<&str> {
    (!a.is_null(i)).then(|| a.value(i))
}

pub(crate) fn rows_from_batch(batch: &RecordBatch, path: &Path) -> Result<Vec<EventRow>> {
    let key = column::<Int64Array>(batch, "key", path)?;
    let kind = column::<StringArray>(batch, "kind", path)?;
    let date = column::<Date32Array>(batch, "date", path)?;
    let end_date = column::<Date32Array>(batch, "end_date", path)?;
    let code_system = column::<StringArray>(batch, "code_system", path)?;
    let code = column::<StringArray>(batch, "code", path)?;
    let value = column::<Float64Array>(batch, "value", path)?;
    let unit = column::<StringArray>(batch, "unit", path)?;
    let mut out = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let kind = EventKind::parse(kind.value(i)).ok_or_else(|| Error::SchemaMismatch {
            path: path.to_owned(),
            reason: format!("unknown event kind in row {i}"),
        })?;
        let code = match (opt_str(code_system, i), opt_str(code, i)) {
            (Some(s), Some(v)) => Some(Code::new(CodeSystem::parse(s), v)),
            _ => None,
        };
        out.push(EventRow {
            key: key.value(i),
            event: Event {
                kind,
                date: from_days(date.value(i)),
                end_date: (!end_date.is_null(i)).then(|| from_days(end_date.value(i))),
                code,
                value: (!value.is_null(i)).then(|| value.value(i)),
                unit: opt_str(unit, i).map(str::to_owned),
            },
        });
    }
    Ok(out)
}
