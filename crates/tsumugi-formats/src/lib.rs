//! Readers and writers for the health-data formats tsumugi ingests.
//!
//! Each format lives in its own public namespace with private modules behind a curated `pub use`
//! block: [`fhir`] (FHIR R4 / JP Core), [`ssmix2`] (SS-MIX2 標準化ストレージ), [`uke`] (レセ電
//! claims), [`kenshin`] (特定健診 CDA XML and submission ZIPs), [`kaigo`] (介護 claims CSV) and
//! [`csvmap`] (municipal CSV exports through a TOML mapping). Readers stream: they yield one
//! [`RecordOutcome`] per record, so a
//! bad record is reported (with file, record number, line and field, never the value) and the
//! next one is read.
//!
//! ```
//! use tsumugi_formats::fhir::{BundleContext, write_bundle};
//! use tsumugi_model::{IdentityAttributes, ProviderId, SourceRecord};
//!
//! let record = SourceRecord { identity: IdentityAttributes::default(), events: vec![] };
//! let provider = ProviderId("1318814790".into());
//! let bundle = write_bundle(&record, &BundleContext { provider: &provider, bundle_id: "b1" });
//! assert_eq!(bundle["type"], "collection");
//! ```

pub mod csvmap;
mod detect;
mod diag;
pub mod fhir;
mod folder;
mod ident;
pub mod kaigo;
pub mod kenshin;
mod open;
mod outcome;
pub mod ssmix2;
pub mod uke;
mod zipread;

pub use crate::detect::{Format, sniff};
pub use crate::folder::{FOLDER_MAGIC, FolderEntries, FolderStream, folder_stream};
pub use crate::open::{
    MAX_STORAGE_ENTRY_BYTES, OpenError, Records, Source, open, open_file, open_folder, open_mapped,
};
pub use crate::outcome::RecordOutcome;
