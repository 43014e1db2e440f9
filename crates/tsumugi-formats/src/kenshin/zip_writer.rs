//! Writing a 特定健診 submission ZIP in the layout [`crate::kenshin::read_submission_zip`] reads:
//! one CDA per person under `DATA/`, then the summary `su08_V08.xml` and the index
//! `ix08_V08.xml` with their counts. Documents are streamed into the archive one by one.

use std::fmt::Write as _;
use std::io::{self, Seek, Write};

use tsumugi_model::Date;
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

/// The namespace of the MHLW index and summary documents.
const MHLW_NS: &str = "https://www.mhlw.go.jp/stf/seisakunitsuite/bunya/0000161103.html";

/// Who sends a submission to whom, and when it was made.
#[derive(Debug, Clone, Copy)]
pub struct SubmissionHeader<'a> {
    /// 送付元機関 (実施機関番号, 10 digits; OID `1.2.392.200119.6.102`).
    pub sender: &'a str,
    /// 送付先機関 (保険者番号 or 代行機関番号; OID `1.2.392.200119.6.103`).
    pub receiver: &'a str,
    /// 作成年月日.
    pub created: Date,
}

/// Streams CDA documents into a submission ZIP; [`SubmissionZipWriter::finish`] adds the summary
/// and index.
///
/// ```
/// use std::io::Cursor;
/// use tsumugi_formats::kenshin::{SubmissionHeader, SubmissionZipWriter, read_submission_zip, write_cda};
/// use tsumugi_model::{Date, IdentityAttributes, SourceRecord};
/// let header = SubmissionHeader {
///     sender: "1311234567",
///     receiver: "06139995",
///     created: Date::from_ymd_opt(2025, 4, 1).unwrap(),
/// };
/// let mut w = SubmissionZipWriter::new(Cursor::new(Vec::new()), header);
/// let record = SourceRecord { identity: IdentityAttributes::default(), events: vec![] };
/// w.add_document(&write_cda(&record)).unwrap();
/// let zip = w.finish().unwrap().into_inner();
/// let out: Vec<_> = read_submission_zip("sub.zip", Cursor::new(zip)).collect();
/// assert_eq!(out.len(), 1);
/// assert!(out[0].result.is_ok());
/// ```
pub struct SubmissionZipWriter<W: Write + Seek> {
    zip: ZipWriter<W>,
    options: SimpleFileOptions,
    n: u64,
    index: String,
    summary: String,
}

impl<W: Write + Seek> std::fmt::Debug for SubmissionZipWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubmissionZipWriter")
            .field("documents", &self.n)
            .finish_non_exhaustive()
    }
}

fn xml_attr(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
}

impl<W: Write + Seek> SubmissionZipWriter<W> {
    /// A writer into `out` for `header`'s sender and receiver (non-alphanumeric characters of
    /// their numbers are dropped).
    pub fn new(out: W, header: SubmissionHeader<'_>) -> SubmissionZipWriter<W> {
        let created = header.created.format("%Y%m%d");
        let mut index = String::new();
        let _ = write!(
            index,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<index xmlns=\"{MHLW_NS}\">\n\
             <interactionType code=\"1\"/>\n<creationTime value=\"{created}\"/>\n\
             <sender><id root=\"1.2.392.200119.6.102\" extension=\"{}\"/></sender>\n\
             <receiver><id root=\"1.2.392.200119.6.103\" extension=\"{}\"/></receiver>\n\
             <serviceEventType code=\"1\"/>\n",
            xml_attr(header.sender),
            xml_attr(header.receiver)
        );
        let summary = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<summary xmlns=\"{MHLW_NS}\">\n\
             <serviceEventType code=\"1\"/>\n"
        );
        SubmissionZipWriter {
            zip: ZipWriter::new(out),
            options: SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .compression_level(Some(1)),
            n: 0,
            index,
            summary,
        }
    }

    /// Stores the entries uncompressed (deflated by default): the archive's size is then the
    /// documents' size, as a benchmark of the reader wants.
    #[must_use]
    pub fn stored(mut self) -> SubmissionZipWriter<W> {
        self.options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        self
    }

    /// Adds one person's CDA document (as written by [`crate::kenshin::write_cda`]) as
    /// `DATA/h<10-digit serial>.xml`.
    ///
    /// # Errors
    /// The output's I/O error.
    pub fn add_document(&mut self, cda: &[u8]) -> io::Result<()> {
        self.n += 1;
        self.zip
            .start_file(format!("DATA/h{:010}.xml", self.n), self.options)
            .map_err(io::Error::other)?;
        self.zip.write_all(cda)
    }

    /// Documents added so far.
    pub fn documents(&self) -> u64 {
        self.n
    }

    /// Writes the summary (`totalSubjectCount` = documents, amounts 0) and the index
    /// (`totalRecordCount` = documents + the summary) and ends the archive.
    ///
    /// # Errors
    /// The output's I/O error.
    pub fn finish(mut self) -> io::Result<W> {
        let n = self.n;
        let mut summary = std::mem::take(&mut self.summary);
        let _ = writeln!(summary, "<totalSubjectCount value=\"{n}\"/>");
        for item in [
            "totalCostAmount",
            "totalPaymentAmount",
            "totalPaymentByOtherProgram",
            "totalClaimAmount",
        ] {
            let _ = writeln!(summary, "<{item} value=\"0\" currency=\"JPY\"/>");
        }
        summary.push_str("</summary>\n");
        let mut index = std::mem::take(&mut self.index);
        let _ = write!(index, "<totalRecordCount value=\"{}\"/>\n</index>\n", n + 1);
        for (name, body) in [("su08_V08.xml", summary), ("ix08_V08.xml", index)] {
            self.zip
                .start_file(name, self.options)
                .map_err(io::Error::other)?;
            self.zip.write_all(body.as_bytes())?;
        }
        self.zip.finish().map_err(io::Error::other)
    }
}
