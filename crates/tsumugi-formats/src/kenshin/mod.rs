//! 特定健診・特定保健指導 XML (HL7 CDA R2, MHLW hc08): one person's document ([`read_cda`],
//! [`write_cda`]) and the submission ZIP ([`read_submission_zip`], [`SubmissionZipWriter`]).
//! The format has no patient id of the checkup centre; the reader derives one from the
//! insurance ids ([`patient_id`]).
//!
//! The MHLW templates (`99999999` placeholders) read as records: the OID-keyed header ids decode,
//! and the placeholder dates, sex code and item code are warnings, not errors (see
//! `tests/it/kenshin.rs`).
//!
//! Schema validation is a checked subset of the XSDs ([`SCHEMA_RULES`]); see the `schema` module
//! docs for why. Diagnostics use the stable codes of [`KenshinError`] and never contain a value
//! from the file.

mod archive;
mod cda;
mod error;
mod schema;
mod tree;
mod zip_writer;

pub use crate::kenshin::archive::{MAX_ENTRY_BYTES, is_unsafe_entry_name, read_submission_zip};
pub use crate::kenshin::cda::{
    CdaConfig, OID_BRANCH, OID_INSURER, OID_ITEM_CODE, OID_NUMBER, OID_SEX, OID_SYMBOL,
    is_item_code, patient_id, read_cda, read_cda_with, write_cda,
};
pub use crate::kenshin::error::KenshinError;
pub use crate::kenshin::schema::SCHEMA_RULES;
pub use crate::kenshin::zip_writer::{SubmissionHeader, SubmissionZipWriter};
