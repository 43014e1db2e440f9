//! Input tables, dictionary-encoded column by column.
//!
//! Every column keeps each distinct value once and a `u32` per row, so a million-row table of
//! a dozen columns takes tens of megabytes, and quasi-identifiers map to hierarchy leaves once
//! per distinct value. CSV input is UTF-8 or CP932 (detected: valid UTF-8 is UTF-8) with a
//! delimiter that is detected from the header line (`,` `;` tab `|`) unless given.

use std::collections::HashMap;
use std::path::Path;

use crate::{Error, Result};

/// One column: distinct values and a code per row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The header name.
    pub name: String,
    /// Distinct values, in order of first appearance.
    pub values: Vec<String>,
    /// Per row, the index of its value.
    pub codes: Vec<u32>,
}

impl Column {
    /// The value of row `r`.
    pub fn get(&self, r: usize) -> &str {
        &self.values[self.codes[r] as usize]
    }
}

/// A table of dictionary-encoded columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Columns in file order.
    pub columns: Vec<Column>,
    /// Rows.
    pub rows: usize,
}

/// How a CSV file was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CsvFormat {
    /// The field delimiter.
    pub delimiter: u8,
    /// Whether the bytes were CP932 (else UTF-8).
    pub cp932: bool,
}

/// Picks the delimiter that splits the header line into the most fields.
pub fn detect_delimiter(header: &str) -> u8 {
    [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|d| (header.matches(char::from(*d)).count(), d == &b','))
        .unwrap_or(b',')
}

impl Table {
    /// Reads a table: Parquet when the file name ends in `.parquet` (text, integer, float and
    /// date columns; nulls read as empty), else CSV as [`Table::read_csv`].
    ///
    /// # Errors
    /// As [`Table::read_csv`]; [`Error::Store`] for an unreadable Parquet file.
    pub fn read(path: &Path, delimiter: Option<u8>, cp932: Option<bool>) -> Result<Table> {
        let parquet = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"));
        if !parquet {
            return Table::read_csv(path, delimiter, cp932).map(|(t, _)| t);
        }
        let mut columns: Vec<Column> = Vec::new();
        let mut index: Vec<HashMap<String, u32>> = Vec::new();
        let mut rows = 0usize;
        tsumugi_store::read_text_rows(path, &mut |row| match row {
            tsumugi_store::TextRow::Header(names) => {
                columns = names
                    .iter()
                    .map(|n| Column {
                        name: n.clone(),
                        values: Vec::new(),
                        codes: Vec::new(),
                    })
                    .collect();
                index = vec![HashMap::new(); names.len()];
            }
            tsumugi_store::TextRow::Row(values) => {
                for ((col, idx), v) in columns.iter_mut().zip(&mut index).zip(values) {
                    let v = v.as_deref().unwrap_or_default();
                    let code = *idx.entry(v.to_owned()).or_insert_with(|| {
                        col.values.push(v.to_owned());
                        col.values.len() as u32 - 1
                    });
                    col.codes.push(code);
                }
                rows += 1;
            }
        })?;
        Ok(Table { columns, rows })
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Reads a CSV file with a header row. `delimiter` and `cp932` are detected when `None`.
    ///
    /// # Errors
    /// [`Error::Input`] naming the file, line and reason for unreadable bytes or a row with
    /// another number of fields than the header.
    pub fn read_csv(
        path: &Path,
        delimiter: Option<u8>,
        cp932: Option<bool>,
    ) -> Result<(Table, CsvFormat)> {
        let bytes = std::fs::read(path).map_err(Error::io(path))?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let cp932 = cp932.unwrap_or_else(|| std::str::from_utf8(bytes).is_err());
        let text: std::borrow::Cow<'_, str> = if cp932 {
            let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(bytes);
            if bad {
                return Err(Error::Input {
                    path: path.to_path_buf(),
                    line: 0,
                    reason: "bytes that are neither UTF-8 nor CP932".into(),
                });
            }
            text
        } else {
            std::str::from_utf8(bytes)
                .map_err(|e| Error::Input {
                    path: path.to_path_buf(),
                    line: 1 + bytes[..e.valid_up_to()]
                        .iter()
                        .filter(|b| **b == b'\n')
                        .count(),
                    reason: format!("invalid UTF-8: {e}"),
                })?
                .into()
        };
        let delimiter =
            delimiter.unwrap_or_else(|| detect_delimiter(text.lines().next().unwrap_or_default()));
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| Error::Input {
                path: path.to_path_buf(),
                line: 1,
                reason: e.to_string(),
            })?
            .clone();
        let mut columns: Vec<Column> = headers
            .iter()
            .map(|h| Column {
                name: h.trim().to_owned(),
                values: Vec::new(),
                codes: Vec::new(),
            })
            .collect();
        let mut index: Vec<HashMap<String, u32>> = vec![HashMap::new(); columns.len()];
        let mut record = csv::StringRecord::new();
        let mut rows = 0usize;
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    return Err(Error::Input {
                        path: path.to_path_buf(),
                        line: e.position().map_or(rows + 2, |p| p.line() as usize),
                        reason: e.to_string(),
                    });
                }
            }
            for ((col, idx), field) in columns.iter_mut().zip(&mut index).zip(record.iter()) {
                let code = match idx.get(field) {
                    Some(&c) => c,
                    None => {
                        let c = col.values.len() as u32;
                        col.values.push(field.to_owned());
                        idx.insert(field.to_owned(), c);
                        c
                    }
                };
                col.codes.push(code);
            }
            rows += 1;
        }
        Ok((Table { columns, rows }, CsvFormat { delimiter, cp932 }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_delimiter_and_encoding() {
        assert_eq!(detect_delimiter("a;b;c"), b';');
        assert_eq!(detect_delimiter("a,b"), b',');
        assert_eq!(detect_delimiter("a\tb\tc"), b'\t');
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("性別;年齢\n男;40\n女;41\n男;40\n");
        std::fs::write(&p, &sjis).unwrap();
        let (t, f) = Table::read_csv(&p, None, None).unwrap();
        assert_eq!(
            f,
            CsvFormat {
                delimiter: b';',
                cp932: true
            }
        );
        assert_eq!(t.rows, 3);
        assert_eq!(t.column("性別").unwrap().values, vec!["男", "女"]);
        assert_eq!(t.column("年齢").unwrap().get(2), "40");
        std::fs::write(&p, "a,b\n1,2\n3\n").unwrap();
        let e = Table::read_csv(&p, None, None).unwrap_err().to_string();
        assert!(e.contains("line 3"), "{e}");
    }
}
