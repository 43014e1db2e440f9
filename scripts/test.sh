#!/usr/bin/env bash
# Runs every test of tsumugi: formatting, lints, unit, integration, end-to-end (CLI and HTTP),
# on embedded SQLite and on PostgreSQL (installed with apt and started on loopback if missing).
# Usage: ./scripts/test.sh          (CI calls this same script through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: $(cargo --version)"
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

step "PostgreSQL on loopback"
PG_URL=$(./scripts/postgres.sh start)
export TSUMUGI_TEST_POSTGRES_URL="$PG_URL" TSUMUGI_REQUIRE_POSTGRES=1
trap './scripts/postgres.sh stop' EXIT
echo "using $PG_URL"

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
# tsumugi-anon's `scale-out` feature (DataFusion plans, Ballista in its tests) is off by default;
# only this crate is built with it, so the rest of the workspace does not link DataFusion.
cargo clippy -p tsumugi-anon --all-targets --features scale-out --locked -- -D warnings

step "cargo test (workspace: unit, integration, end-to-end; SQLite and PostgreSQL)"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  cargo test --workspace --doc --locked
else
  cargo test --workspace --locked --no-fail-fast
fi

step "cargo test (tsumugi-anon with feature scale-out: DataFusion plans, a Ballista cluster on loopback)"
# Only the tests the feature adds; the others ran above.
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run -p tsumugi-anon --features scale-out --locked --no-fail-fast scale_out plan::
else
  cargo test -p tsumugi-anon --features scale-out --locked --no-fail-fast -- scale_out plan::
fi
