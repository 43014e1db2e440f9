//! Writing a release package's tables: each as CSV (UTF-8, optional BOM for spreadsheet users)
//! and as Parquet, row by row.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tsumugi_store::{Cell, ColumnKind, TextTableWriter};

use crate::{Error, Result};

/// One released table being written as `<stem>.csv` and `<stem>.parquet`.
pub(crate) struct TableOut {
    csv_path: PathBuf,
    csv: csv::Writer<BufWriter<File>>,
    parquet: TextTableWriter,
}

impl TableOut {
    /// Creates both files in `dir` with `header`.
    pub(crate) fn create(dir: &Path, stem: &str, header: &[&str], bom: bool) -> Result<TableOut> {
        let csv_path = dir.join(format!("{stem}.csv"));
        let mut file = BufWriter::new(File::create(&csv_path).map_err(Error::io(&csv_path))?);
        if bom {
            file.write_all(b"\xEF\xBB\xBF")
                .map_err(Error::io(&csv_path))?;
        }
        let mut csv = csv::Writer::from_writer(file);
        csv.write_record(header)
            .map_err(|e| csv_error(&csv_path, e))?;
        let columns: Vec<(&str, ColumnKind)> =
            header.iter().map(|h| (*h, ColumnKind::Text)).collect();
        let parquet = TextTableWriter::create(&dir.join(format!("{stem}.parquet")), &columns)?;
        Ok(TableOut {
            csv_path,
            csv,
            parquet,
        })
    }

    /// Appends one row (as many values as the header).
    pub(crate) fn write<S: AsRef<str>>(&mut self, row: &[S]) -> Result<()> {
        self.csv
            .write_record(row.iter().map(AsRef::as_ref))
            .map_err(|e| csv_error(&self.csv_path, e))?;
        let cells: Vec<Cell<'_>> = row.iter().map(|v| Cell::Text(v.as_ref())).collect();
        self.parquet.write(&cells)?;
        Ok(())
    }

    /// Flushes and closes both files.
    pub(crate) fn finish(mut self) -> Result<()> {
        self.csv.flush().map_err(Error::io(&self.csv_path))?;
        let file = self
            .csv
            .into_inner()
            .map_err(|e| Error::io(&self.csv_path)(e.into_error()))?;
        file.into_inner()
            .map_err(|e| Error::io(&self.csv_path)(e.into_error()))?
            .sync_all()
            .map_err(Error::io(&self.csv_path))?;
        self.parquet.finish()?;
        Ok(())
    }
}

/// A CSV error as an I/O error on its file.
pub(crate) fn csv_error(path: &Path, e: csv::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// Rows sorted with bounded memory: buffered up to a byte budget, then sorted and spilled to
/// a run file; [`SortedRows::finish`] merges the runs. Rows compare as tuples of their fields.
///
/// Hand-written because the crates that sort externally (e.g. `extsort`) want a `Sortable`
/// codec per type and bring their own temp-file policy; here the runs must live in the
/// release's staging folder (removed with it) and rows are plain string tuples.
pub(crate) struct SortedRows {
    dir: PathBuf,
    budget: usize,
    buffer: Vec<Vec<u8>>,
    buffered: usize,
    runs: Vec<PathBuf>,
}

/// Fields are joined by NUL, the smallest byte, so byte order is tuple order; a NUL inside a
/// field (never in codes, dates or numbers) is replaced.
fn encode(fields: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(fields.iter().map(|f| f.len() + 1).sum());
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(0);
        }
        if f.contains('\0') {
            out.extend_from_slice(f.replace('\0', "\u{FFFD}").as_bytes());
        } else {
            out.extend_from_slice(f.as_bytes());
        }
    }
    out
}

impl SortedRows {
    /// Sorts in memory up to `budget` bytes of rows; beyond, spills runs into `dir`.
    pub(crate) fn new(dir: &Path, budget: usize) -> SortedRows {
        SortedRows {
            dir: dir.to_path_buf(),
            budget: budget.max(1),
            buffer: Vec::new(),
            buffered: 0,
            runs: Vec::new(),
        }
    }

    /// Adds a row.
    pub(crate) fn push(&mut self, fields: &[&str]) -> Result<()> {
        let row = encode(fields);
        self.buffered += row.len() + std::mem::size_of::<Vec<u8>>();
        self.buffer.push(row);
        if self.buffered >= self.budget {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> Result<()> {
        self.buffer.sort_unstable();
        fs_create_dir(&self.dir)?;
        let path = self.dir.join(format!("run-{:05}", self.runs.len()));
        let mut w = BufWriter::new(File::create(&path).map_err(Error::io(&path))?);
        for row in self.buffer.drain(..) {
            w.write_all(&(row.len() as u32).to_le_bytes())
                .and_then(|()| w.write_all(&row))
                .map_err(Error::io(&path))?;
        }
        w.flush().map_err(Error::io(&path))?;
        self.buffered = 0;
        self.runs.push(path);
        Ok(())
    }

    /// Hands every row to `each` in order, then removes the runs.
    pub(crate) fn finish(mut self, each: &mut dyn FnMut(&[&str]) -> Result<()>) -> Result<()> {
        let emit = |row: &[u8], each: &mut dyn FnMut(&[&str]) -> Result<()>| -> Result<()> {
            // Rows were built from `&str`s and NUL separators: always UTF-8.
            let text = std::str::from_utf8(row).map_err(|e| Error::Io {
                path: PathBuf::from("sort run"),
                source: std::io::Error::other(e),
            })?;
            let fields: Vec<&str> = text.split('\0').collect();
            each(&fields)
        };
        if self.runs.is_empty() {
            self.buffer.sort_unstable();
            for row in &self.buffer {
                emit(row, each)?;
            }
            return Ok(());
        }
        if !self.buffer.is_empty() {
            self.spill()?;
        }
        let mut readers = Vec::with_capacity(self.runs.len());
        for path in &self.runs {
            let file = File::open(path).map_err(Error::io(path))?;
            readers.push((std::io::BufReader::new(file), path.clone()));
        }
        let next = |r: &mut (std::io::BufReader<File>, PathBuf)| -> Result<Option<Vec<u8>>> {
            use std::io::Read;
            let mut len = [0u8; 4];
            match r.0.read_exact(&mut len) {
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
                other => other.map_err(Error::io(&r.1))?,
            }
            let mut row = vec![0u8; u32::from_le_bytes(len) as usize];
            r.0.read_exact(&mut row).map_err(Error::io(&r.1))?;
            Ok(Some(row))
        };
        let mut heap = std::collections::BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some(row) = next(r)? {
                heap.push(std::cmp::Reverse((row, i)));
            }
        }
        while let Some(std::cmp::Reverse((row, i))) = heap.pop() {
            emit(&row, each)?;
            if let Some(row) = next(&mut readers[i])? {
                heap.push(std::cmp::Reverse((row, i)));
            }
        }
        drop(readers);
        std::fs::remove_dir_all(&self.dir).map_err(Error::io(&self.dir))?;
        Ok(())
    }
}

fn fs_create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(Error::io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(budget: usize, rows: &[[&str; 3]]) -> (Vec<Vec<String>>, usize) {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = SortedRows::new(&tmp.path().join("sort"), budget);
        for r in rows {
            s.push(r).unwrap();
        }
        let runs = s.runs.len();
        let mut out = Vec::new();
        s.finish(&mut |f| {
            out.push(f.iter().map(|x| (*x).to_owned()).collect());
            Ok(())
        })
        .unwrap();
        assert!(!tmp.path().join("sort").exists(), "runs are removed");
        (out, runs)
    }

    #[test]
    fn spilled_runs_merge_into_the_in_memory_order() {
        let rows: Vec<[&str; 3]> = (0..500)
            .map(|i| {
                let a = ["b", "a", "ab", "", "a\0x"][i % 5];
                let b = ["2020-01", "2019-12", "2020-01"][i % 3];
                [a, b, if i % 7 == 0 { "x" } else { "" }]
            })
            .collect();
        let (in_memory, runs) = sorted(usize::MAX, &rows);
        assert_eq!(runs, 0);
        let (spilled, runs) = sorted(200, &rows);
        assert!(runs > 10, "{runs}");
        assert_eq!(in_memory, spilled);
        // Tuple order: "a" before "ab" (the field ends first), the empty field first.
        let firsts: Vec<&str> = in_memory.iter().map(|r| r[0].as_str()).collect();
        let mut dedup = firsts.clone();
        dedup.dedup();
        assert_eq!(dedup, ["", "a", "ab", "a\u{FFFD}x", "b"]);
    }
}
