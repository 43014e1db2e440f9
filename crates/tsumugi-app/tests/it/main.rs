//! End-to-end tests of the use cases: the demo path and the opt-out path, on SQLite and (when
//! `TSUMUGI_TEST_POSTGRES_URL` is set) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod demo;
mod formats;
mod linkage;
mod optout;
mod recovery;
mod rejections;
mod support;
