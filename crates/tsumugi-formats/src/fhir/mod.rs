//! FHIR R4 / JP Core: a writer ([`write_bundle`]) and a streaming reader ([`FhirReader`]).
//!
//! The code-system table ([`system_uri`], [`code_system_from_uri`]) is shared by both, so what
//! the writer emits the reader maps back to the same [`tsumugi_model::CodeSystem`]. Reading
//! what [`write_bundle`] wrote gives back the record (see `tests/it/fhir.rs` for the property
//! test and the normalisations: empty strings, names, addresses and insurances are dropped).
//!
//! Diagnostics use the stable codes of [`FhirError`] and never contain a value from the file.

mod codes;
mod decode;
mod error;
mod reader;
mod shape;
mod writer;

pub use crate::fhir::codes::{code_system_from_uri, system_uri};
pub use crate::fhir::error::FhirError;
pub use crate::fhir::reader::{FhirReader, MAX_RECORD_BYTES};
pub use crate::fhir::writer::{BundleContext, write_bundle};
