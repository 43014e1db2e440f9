//! The persons file: one row per linked person whose data may be used.

use std::fs::File;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use arrow_array::builder::{Date32Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, Date32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use tsumugi_model::{Date, Sex};

use super::events::{column, from_days, opt_str, to_days};
use crate::atomic::commit_file;
use crate::{Error, Result};

/// The research-zone view of a person: no identifier, only what analysis needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// The internal person key.
    pub person_key: i64,
    /// Sex.
    pub sex: Sex,
    /// Year and month of birth (first day of the month): never the full birth date.
    pub birth_month: Date,
    /// Current 全国地方公共団体コード (6 digits), when known.
    pub municipality_code: Option<String>,
    /// Date of death, when known.
    pub deceased_on: Option<Date>,
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("person_key", DataType::Int64, false),
        Field::new("sex", DataType::Utf8, false),
        Field::new("birth_month", DataType::Date32, false),
        Field::new("municipality_code", DataType::Utf8, true),
        Field::new("deceased_on", DataType::Date32, true),
    ]))
});

pub(crate) fn write(path: &Path, rows: &[PersonRow], props: WriterProperties) -> Result<()> {
    let tmp = path.with_extension("parquet.tmp");
    let file = File::create(&tmp).map_err(Error::io(&tmp))?;
    let parquet_err = |source| Error::Parquet {
        path: path.to_owned(),
        source,
    };
    let mut writer =
        ArrowWriter::try_new(file, SCHEMA.clone(), Some(props)).map_err(parquet_err)?;
    for chunk in rows.chunks(64 * 1024) {
        let mut key = Int64Builder::new();
        let mut sex = StringBuilder::new();
        let mut birth = Date32Builder::new();
        let mut muni = StringBuilder::new();
        let mut dead = Date32Builder::new();
        for r in chunk {
            key.append_value(r.person_key);
            sex.append_value(r.sex.code());
            birth.append_value(to_days(r.birth_month));
            muni.append_option(r.municipality_code.as_deref());
            dead.append_option(r.deceased_on.map(to_days));
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(key.finish()),
            Arc::new(sex.finish()),
            Arc::new(birth.finish()),
            Arc::new(muni.finish()),
            Arc::new(dead.finish()),
        ];
        let batch =
            RecordBatch::try_new(SCHEMA.clone(), columns).map_err(|source| Error::Arrow {
                path: path.to_owned(),
                source,
            })?;
        writer.write(&batch).map_err(parquet_err)?;
    }
    let file = writer.into_inner().map_err(parquet_err)?;
    file.sync_all().map_err(Error::io(&tmp))?;
    drop(file);
    commit_file(&tmp, path)
}

pub(crate) fn rows_from_batch(batch: &RecordBatch, path: &Path) -> Result<Vec<PersonRow>> {
    let key = column::<Int64Array>(batch, "person_key", path)?;
    let sex = column::<StringArray>(batch, "sex", path)?;
    let birth = column::<Date32Array>(batch, "birth_month", path)?;
    let muni = column::<StringArray>(batch, "municipality_code", path)?;
    let dead = column::<Date32Array>(batch, "deceased_on", path)?;
    Ok((0..batch.num_rows())
        .map(|i| PersonRow {
            person_key: key.value(i),
            sex: Sex::from_code(sex.value(i)),
            birth_month: from_days(birth.value(i)),
            municipality_code: opt_str(muni, i).map(str::to_owned),
            deceased_on: (!arrow_array::Array::is_null(dead, i)).then(|| from_days(dead.value(i))),
        })
        .collect())
}
