//! Domain types shared by every tsumugi crate.
//!
//! The model has no I/O, no cryptography and no storage encoding. It names the things the
//! platform moves around:
//!
//! - [`SourceRecord`]: what a reader in `tsumugi-formats` yields for one person at one provider —
//!   [`IdentityAttributes`] (which only the identity zone may keep) and canonical [`Event`]s (which
//!   go to the research store, keyed by an opaque key).
//! - [`Diagnostic`]: a per-record finding that names file, record, field and reason in Japanese and
//!   English, never the value itself.
//! - [`wareki`]: 和暦 (Japanese era) dates, accepted everywhere a date is read.
//!
//! ```
//! use tsumugi_model::wareki;
//! let d = wareki::parse_date("平成元年1月8日").unwrap();
//! assert_eq!(d.to_string(), "1989-01-08");
//! ```

mod diagnostic;
mod event;
mod identity;
mod provider;
pub mod wareki;

pub use crate::diagnostic::{Diagnostic, Severity};
pub use crate::event::{Code, CodeSystem, EncounterClass, Event, EventKind};
pub use crate::identity::{Address, IdentityAttributes, Insurance, PersonName, Sex};
pub use crate::provider::{ProviderId, ProviderKind, SourceRecord};

/// A calendar date without time zone (all health-data dates in Japan are JST calendar dates).
pub type Date = chrono::NaiveDate;
