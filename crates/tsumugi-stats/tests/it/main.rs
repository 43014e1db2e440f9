//! Integration tests of statistics: disclosure control and cohort counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cohort;
mod suppress;
