//! Integration tests of the store: registry on both SQL backends, encrypted research files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod registry;
mod research;
mod support;
