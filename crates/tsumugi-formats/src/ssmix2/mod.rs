//! SS-MIX2 標準化ストレージ: a reader ([`Ssmix2Reader`], built by [`read_storage`] or
//! [`from_entries`]) and a writer ([`write_patient`]) for round trips.
//!
//! The reader walks `root/PID[0:3]/PID[3:6]/PID/date|-/kind/file`, parses the file names
//! (`PID_date_kind_order_timestamp_dept_flag`), keeps the latest file per (date, kind, order)
//! (a latest file with the deleted flag `0` removes the order), decodes ISO-2022-JP, splits
//! HL7 v2.5 and yields one record per patient: identity from the latest usable ADT-00, events
//! from the other messages (the mapping table is in `decode.rs`). A patient is rejected only
//! when no ADT-00 is usable; any other broken message is a warning and the rest is kept.
//!
//! Diagnostics use the stable codes of [`Ssmix2Error`], name the file (its storage path, which
//! in SS-MIX2 contains the provider's patient ID) and the segment-field (`PID-7`), and never
//! contain a value from a message.

mod decode;
mod error;
mod hl7;
mod path;
mod reader;
mod writer;

pub use crate::ssmix2::error::Ssmix2Error;
pub use crate::ssmix2::reader::{Ssmix2Reader, from_entries, read_storage};
pub use crate::ssmix2::writer::write_patient;
