//! Writing a 特定健診 submission ZIP a person at a time (benchmarks, round trips): one CDA per
//! person under `DATA/`, then the summary `su08_V08.xml` and the index `ix08_V08.xml` with the
//! counts the reader checks.

use std::io::{Seek, Write};

use tsumugi_model::SourceRecord;
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use crate::kenshin::cda::write_cda;

/// The MHLW namespace of the index and summary documents.
const NS: &str = "https://www.mhlw.go.jp/stf/seisakunitsuite/bunya/0000161103.html";

/// Streams a submission ZIP: [`SubmissionZipWriter::add`] per person, then
/// [`SubmissionZipWriter::finish`]. Memory holds one document and the ZIP's directory.
pub struct SubmissionZipWriter<W: Write + Seek> {
    zip: ZipWriter<W>,
    options: SimpleFileOptions,
    n_data: u64,
}

impl<W: Write + Seek> std::fmt::Debug for SubmissionZipWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubmissionZipWriter")
            .field("n_data", &self.n_data)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Seek> SubmissionZipWriter<W> {
    /// Starts a submission ZIP on `out`, its entries deflated or, if not `deflate`, stored.
    pub fn new(out: W, deflate: bool) -> SubmissionZipWriter<W> {
        let options = if deflate {
            SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(1))
        } else {
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored)
        };
        SubmissionZipWriter {
            zip: ZipWriter::new(out),
            options,
            n_data: 0,
        }
    }

    /// Adds one person's CDA as `DATA/h<n>.xml`; returns the document's uncompressed size.
    ///
    /// # Errors
    /// I/O errors of the output.
    pub fn add(&mut self, record: &SourceRecord) -> std::io::Result<u64> {
        self.n_data += 1;
        let xml = write_cda(record);
        self.zip
            .start_file(format!("DATA/h{:010}.xml", self.n_data), self.options)
            .map_err(std::io::Error::other)?;
        self.zip.write_all(&xml)?;
        Ok(xml.len() as u64)
    }

    /// Writes the summary and the index and the ZIP's directory; returns the output.
    ///
    /// # Errors
    /// I/O errors of the output.
    pub fn finish(mut self) -> std::io::Result<W> {
        let summary = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<summary xmlns=\"{NS}\">\n  \
             <serviceEventType code=\"1\"/>\n  <totalSubjectCount value=\"{}\"/>\n</summary>\n",
            self.n_data
        );
        // The index counts the DATA files and the summary.
        let index = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<index xmlns=\"{NS}\">\n  \
             <interactionType code=\"1\"/>\n  <creationTime value=\"20250401\"/>\n  \
             <sender><id root=\"1.2.392.200119.6.102\" extension=\"1234567890\"/></sender>\n  \
             <serviceEventType code=\"1\"/>\n  <totalRecordCount value=\"{}\"/>\n</index>\n",
            self.n_data + 1
        );
        for (name, body) in [("su08_V08.xml", summary), ("ix08_V08.xml", index)] {
            self.zip
                .start_file(name, self.options)
                .map_err(std::io::Error::other)?;
            self.zip.write_all(body.as_bytes())?;
        }
        self.zip.finish().map_err(std::io::Error::other)
    }
}
