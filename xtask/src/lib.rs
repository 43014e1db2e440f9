//! Project automation for tsumugi.
//!
//! For now the crate holds only the **tidy checks**: `#[test]`s that read the workspace itself
//! and fail when it drifts from the rules in `DESIGN.md` and `STYLE.md` (modeled on
//! rust-analyzer's `xtask/src/tidy.rs`). They run with `cargo test -p xtask`:
//!
//! - the crate graph equals the table in DESIGN §3, and only `tsumugi-app` reaches
//!   `tsumugi-identity`;
//! - every source file starts with a `//!` module doc;
//! - library crates do not print (only files that opt in with
//!   `#![allow(clippy::print_stdout …)]`, the CLI's output module);
//! - `Cargo.lock` holds no `rusqlite` (it would link a second sqlite3 beside sqlx).

#[cfg(test)]
mod tidy;
