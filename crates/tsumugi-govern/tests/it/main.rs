//! Integration tests of governance: audit chain, statutory records, applications — on SQLite and,
//! when configured, PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod applications;
mod audit;
mod records;
mod support;
