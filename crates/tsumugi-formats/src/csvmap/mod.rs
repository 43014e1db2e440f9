//! Mapped CSV: municipal exports (妊婦健診, 乳幼児健診, 予防接種, 住民票 deaths …) described by a
//! TOML [`Mapping`], read by [`MappedCsvReader`] and written by [`write_mapped_csv`].
//!
//! A mapping names the encoding (`utf-8` or `cp932`), the delimiter, whether the first line is a
//! header, the accepted date formats (chrono `strftime` patterns, or `wareki` for every 和暦 and
//! western spelling of [`tsumugi_model::wareki::parse_date`]), the identity columns and the event
//! columns. A column is named by its header text, or by `#N` (1-based position) when there is no
//! header. Example mappings are in `crates/tsumugi-formats/mappings/`.
//!
//! ```toml
//! encoding = "cp932"
//! delimiter = ","
//! header = true
//! date_formats = ["%Y/%m/%d", "wareki"]
//!
//! [identity]
//! patient_id = "宛名番号"
//! birth_date = "生年月日"
//!
//! [[events]]
//! kind = "immunization"
//! date = "接種日"
//! code = "ワクチンコード"
//! code_system = "vaccine"
//! ```
//!
//! **One [`crate::RecordOutcome`] per data row** (record number = row number, header excluded):
//! rows are not grouped by patient id, because municipal exports are not sorted by person and
//! grouping would need the whole file in memory; linkage merges the rows of one person. Each
//! `[[events]]` entry makes one event from a row whose date cell is not empty (so a wide row with
//! several dose columns maps to several events). A row is rejected when it is not in the encoding,
//! has the wrong number of columns, or an event date does not parse; a birth date that does not
//! parse, an unmapped sex or a value that is not a number is a warning.

mod error;
mod mapping;
mod reader;
mod writer;

pub use crate::csvmap::error::{CsvMapError, MappingError};
pub use crate::csvmap::mapping::{CsvEncoding, EventColumns, IdentityColumns, Mapping, SexCodes};
pub use crate::csvmap::reader::MappedCsvReader;
pub use crate::csvmap::writer::{Written, write_mapped_csv};
