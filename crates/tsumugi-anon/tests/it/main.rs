//! Integration tests of tsumugi-anon: the engine against ARX and exhaustive search, the
//! generic `anonymize_file`, and lifecourse releases over a real (encrypted) research store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod anonymize;
mod arx;
mod lifecourse;
mod local;
#[cfg(feature = "scale-out")]
mod scale_out;
mod search;
