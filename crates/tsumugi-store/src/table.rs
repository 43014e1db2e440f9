//! Plain (unencrypted) Parquet tables that users bring or take away: the linkage engine reads
//! any Parquet file as rows of text, and writes its pairs as a Parquet table. The research
//! store's encrypted files are elsewhere (`research`); nothing here holds research data.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, RecordBatchReader, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::{Error, Result};

/// Rows per batch written.
const BATCH_ROWS: usize = 65_536;

fn text(col: &ArrayRef, row: usize) -> Option<String> {
    if col.is_null(row) {
        return None;
    }
    Some(match col.data_type() {
        DataType::Utf8 => col.as_string::<i32>().value(row).to_owned(),
        DataType::LargeUtf8 => col.as_string::<i64>().value(row).to_owned(),
        DataType::Int32 => col.as_primitive::<Int32Type>().value(row).to_string(),
        DataType::Int64 => col.as_primitive::<Int64Type>().value(row).to_string(),
        DataType::Float32 => col.as_primitive::<Float32Type>().value(row).to_string(),
        DataType::Float64 => col.as_primitive::<Float64Type>().value(row).to_string(),
        DataType::Date32 => col
            .as_primitive::<Date32Type>()
            .value_as_date(row)?
            .format("%Y-%m-%d")
            .to_string(),
        _ => return None,
    })
}

fn readable(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
            | DataType::Date32
    )
}

/// What [`read_text_rows`] hands over, in order: the header once, then every row.
#[derive(Debug)]
pub enum TextRow<'a> {
    /// The column names.
    Header(&'a [String]),
    /// One row's values (`None` for a null).
    Row(&'a [Option<String>]),
}

/// Reads a Parquet file batch by batch as text. Text, integer, float and date columns are
/// read.
///
/// # Errors
/// [`Error::Parquet`] / [`Error::Arrow`] for an unreadable file; [`Error::SchemaMismatch`]
/// naming a column of another type.
pub fn read_text_rows(path: &Path, each: &mut dyn FnMut(TextRow<'_>)) -> Result<()> {
    let file = File::open(path).map_err(Error::io(path))?;
    let parquet = |source| Error::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(parquet)?
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(parquet)?;
    let schema = reader.schema();
    if let Some(f) = schema.fields().iter().find(|f| !readable(f.data_type())) {
        return Err(Error::SchemaMismatch {
            path: path.to_path_buf(),
            reason: format!(
                "column {} is {}; read columns are text, integers, floats and dates",
                f.name(),
                f.data_type()
            ),
        });
    }
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    each(TextRow::Header(&names));
    let mut values = Vec::with_capacity(names.len());
    for batch in reader {
        let batch = batch.map_err(|source| Error::Arrow {
            path: path.to_path_buf(),
            source,
        })?;
        for r in 0..batch.num_rows() {
            values.clear();
            values.extend(batch.columns().iter().map(|c| text(c, r)));
            each(TextRow::Row(&values));
        }
    }
    Ok(())
}

/// The column names of a Parquet file (its schema, without reading the rows).
///
/// # Errors
/// [`Error::Io`] / [`Error::Parquet`].
pub fn text_table_header(path: &Path) -> Result<Vec<String>> {
    let file = File::open(path).map_err(Error::io(path))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|source| Error::Parquet {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect())
}

/// A column of a table written with [`TextTableWriter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// UTF-8 text.
    Text,
    /// A 64-bit float.
    Float,
}

/// One value of a row written with [`TextTableWriter`].
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// Text.
    Text(&'a str),
    /// A float.
    Float(f64),
}

/// Writes a plain Parquet table row by row, a batch at a time.
pub struct TextTableWriter {
    path: std::path::PathBuf,
    schema: Arc<Schema>,
    writer: ArrowWriter<File>,
    text: Vec<Vec<String>>,
    floats: Vec<Vec<f64>>,
    kinds: Vec<ColumnKind>,
    rows: usize,
}

impl TextTableWriter {
    /// Creates `path` with `columns`.
    ///
    /// # Errors
    /// [`Error::Io`] / [`Error::Parquet`].
    pub fn create(path: &Path, columns: &[(&str, ColumnKind)]) -> Result<TextTableWriter> {
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(name, kind)| {
                    let t = match kind {
                        ColumnKind::Text => DataType::Utf8,
                        ColumnKind::Float => DataType::Float64,
                    };
                    Field::new(*name, t, false)
                })
                .collect::<Vec<_>>(),
        ));
        let file = File::create(path).map_err(Error::io(path))?;
        let writer =
            ArrowWriter::try_new(file, schema.clone(), None).map_err(|source| Error::Parquet {
                path: path.to_path_buf(),
                source,
            })?;
        let kinds: Vec<ColumnKind> = columns.iter().map(|(_, k)| *k).collect();
        Ok(TextTableWriter {
            path: path.to_path_buf(),
            schema,
            writer,
            text: kinds.iter().map(|_| Vec::new()).collect(),
            floats: kinds.iter().map(|_| Vec::new()).collect(),
            kinds,
            rows: 0,
        })
    }

    /// Appends a row; cells in column order, of the columns' kinds.
    ///
    /// # Errors
    /// [`Error::SchemaMismatch`] for a cell of the wrong kind or count; write errors.
    pub fn write(&mut self, row: &[Cell<'_>]) -> Result<()> {
        if row.len() != self.kinds.len() {
            return Err(self.mismatch("a row has another number of cells than columns"));
        }
        for (i, cell) in row.iter().enumerate() {
            match (cell, self.kinds[i]) {
                (Cell::Text(s), ColumnKind::Text) => self.text[i].push((*s).to_owned()),
                (Cell::Float(x), ColumnKind::Float) => self.floats[i].push(*x),
                _ => return Err(self.mismatch("a cell of another kind than its column")),
            }
        }
        self.rows += 1;
        if self.rows == BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn mismatch(&self, reason: &str) -> Error {
        Error::SchemaMismatch {
            path: self.path.clone(),
            reason: reason.to_owned(),
        }
    }

    fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = self
            .kinds
            .iter()
            .enumerate()
            .map(|(i, k)| -> ArrayRef {
                match k {
                    ColumnKind::Text => {
                        Arc::new(StringArray::from(std::mem::take(&mut self.text[i])))
                    }
                    ColumnKind::Float => {
                        Arc::new(Float64Array::from(std::mem::take(&mut self.floats[i])))
                    }
                }
            })
            .collect();
        let batch =
            RecordBatch::try_new(self.schema.clone(), columns).map_err(|source| Error::Arrow {
                path: self.path.clone(),
                source,
            })?;
        self.writer.write(&batch).map_err(|source| Error::Parquet {
            path: self.path.clone(),
            source,
        })?;
        self.rows = 0;
        Ok(())
    }

    /// Writes what is buffered and closes the file.
    ///
    /// # Errors
    /// Write errors.
    pub fn finish(mut self) -> Result<()> {
        self.flush()?;
        self.writer.close().map_err(|source| Error::Parquet {
            path: self.path.clone(),
            source,
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_tables_read_back_as_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let mut w =
            TextTableWriter::create(&path, &[("id", ColumnKind::Text), ("p", ColumnKind::Float)])
                .unwrap();
        for i in 0..70_000 {
            w.write(&[Cell::Text(&format!("r{i}")), Cell::Float(0.5)])
                .unwrap();
        }
        assert!(w.write(&[Cell::Float(1.0), Cell::Float(0.5)]).is_err());
        w.finish().unwrap();
        let mut header = Vec::new();
        let mut rows = Vec::new();
        read_text_rows(&path, &mut |r| match r {
            TextRow::Header(h) => header = h.to_vec(),
            TextRow::Row(r) => rows.push(r.to_vec()),
        })
        .unwrap();
        assert_eq!(header, ["id", "p"]);
        assert_eq!(rows.len(), 70_000);
        assert_eq!(
            rows[69_999],
            [Some("r69999".to_owned()), Some("0.5".to_owned())]
        );
    }
}
