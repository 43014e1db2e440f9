//! Integration tests of tsumugi-formats: one test binary, one module per format.

// Tests may fail loudly; the workspace denies these lints in library code only.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod csvmap;
mod fhir;
mod fuzz_regressions;
mod kaigo;
mod kenshin;
mod open;
mod ssmix2;
mod uke;
