//! Integration tests of the identity zone on every SQL backend.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod linkage;
mod support;
mod vault;
