//! The identity zone: the only crate that holds plaintext identifiers.
//!
//! - [`Vault`]: source records' identifiers, sealed field by field with AES-256-GCM under an
//!   envelope data key, plus keyed blind indexes (HMAC-SHA-256) for matching without decrypting.
//!   It stores notices ([`NoticeEntry`]) and decides [`Eligibility`] (notice present and older
//!   than the provider's waiting period).
//! - Linkage (名寄せ): [`linkage`] is the probabilistic engine (Fellegi–Sunter on Japanese
//!   identifiers; it also links any CSV); [`Vault::link`] runs it over the vault's records and
//!   keeps person keys stable across runs, pairs in the uncertain band waiting in a clerical
//!   review queue ([`Vault::review_queue`], [`Vault::decide_review`]). Normalization folds
//!   Japanese variation (variant kanji, kana scripts, spacing) — see `normalize`.
//! - Opt-outs: [`Vault::register_stop_request`] finds the person a [`StopRequest`] names, keeps
//!   the evidence, and makes sure their later records are refused at ingest.
//!
//! Nothing here ever returns an identifier: callers get record keys, person keys, counts and
//! [`PersonRow`](tsumugi_store::PersonRow) profiles (sex, birth month, municipality).
//!
//! ```no_run
//! # async fn f(db: tsumugi_store::Database, keys: &dyn tsumugi_store::KeyProvider) -> tsumugi_identity::Result<()> {
//! use rand::SeedableRng;
//! let mut rng = rand::rngs::StdRng::from_os_rng();
//! let at = chrono::DateTime::UNIX_EPOCH;
//! let vault = tsumugi_identity::Vault::open(db, keys, at, &mut rng).await?;
//! let summary = vault.link(at, &tsumugi_identity::LinkOptions::default(), &mut rng).await?;
//! assert!(summary.n_persons <= summary.n_records);
//! # Ok(()) }
//! ```

mod crypto;
mod error;
mod link;
pub mod linkage;
pub mod normalize;
mod optout;
mod profile;
mod review;
mod rules;
mod sealed;
mod staging;
mod vault;

pub use crate::error::{Error, Result};
pub use crate::link::{LinkOptions, LinkQuality, LinkSummary, OptOutReach};
pub use crate::optout::{
    Channel, OPTOUT_AUTO_PROBABILITY, OPTOUT_REVIEW_PROBABILITY, Requester, StopOutcome,
    StopRequest, StopStatus,
};
pub use crate::review::{ReviewDecision, ReviewItem};
pub use crate::rules::RULE_VERSION;
pub use crate::staging::{
    StagedFile, StagedReader, open_staged, remove_partial_stages, stage_file,
};
pub use crate::vault::{Admission, Eligibility, NoticeEntry, Vault};
