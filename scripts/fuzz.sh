#!/usr/bin/env bash
# Fuzzes every reader of tsumugi-formats with cargo-fuzz, each for a bounded time.
# Usage: ./scripts/fuzz.sh [SECONDS_PER_TARGET (default 60)] [TARGET...]
# Not part of CI (too slow): see fuzz/README.md. Exits non-zero when a target crashes, and
# prints where the crashing input was saved (fuzz/artifacts/<target>/).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-60}
shift || true
ALL_TARGETS=(fhir_ndjson ssmix2_entries ssmix2_zip uke kenshin_cda kenshin_zip kaigo csvmap sniff folder)
if [ "$#" -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi

FIX=crates/tsumugi-formats/tests/fixtures
FUZZ_FIX=$FIX/fuzz

step() { printf '\n==> %s\n' "$*"; }

if ! cargo fuzz --version >/dev/null 2>&1; then
  step "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# `-a`: debug assertions on, so an arithmetic overflow panics as it does in `cargo test`.
# cargo-fuzz passes nightly-only flags (-Zsanitizer=address …); the stable toolchain accepts
# them with RUSTC_BOOTSTRAP=1 (its rust-std ships the ASan runtime on x86_64 Linux). Should the
# ASan build fail, fall back to `--sanitizer none`: libFuzzer's coverage without ASan, which still
# finds panics, overflows, hangs and runaway allocations. FUZZ_SANITIZER=none forces it.
export RUSTC_BOOTSTRAP=1
SANITIZER=${FUZZ_SANITIZER:-address}
step "build the targets (sanitizer: $SANITIZER)"
if ! (cd fuzz && cargo fuzz build -O -a --sanitizer "$SANITIZER"); then
  [ "$SANITIZER" = none ] && exit 1
  echo "!! the $SANITIZER build failed; fuzzing without a sanitizer"
  SANITIZER=none
  (cd fuzz && cargo fuzz build -O -a --sanitizer none)
fi

# Seed corpora, rebuilt at every run from the test fixtures (not committed).
seed() { # seed TARGET FILE...
  mkdir -p "fuzz/corpus/$1"
  local t=$1
  shift
  local f
  for f in "$@"; do
    [ -f "$f" ] && cp "$f" "fuzz/corpus/$t/$(basename "$f")"
  done
  # Crashes already fixed: keep fuzzing around them.
  if [ -d "$FUZZ_FIX/$t" ]; then cp "$FUZZ_FIX/$t"/* "fuzz/corpus/$t/" 2>/dev/null || true; fi
}
step "seed corpora from $FIX"
seed fhir_ndjson "$FIX"/ecs_fhir_json/*.json
seed uke "$FIX"/uke/*
seed kenshin_cda "$FIX"/tokutei_kenshin_xml/*.xml
seed kaigo fuzz/seeds/kaigo/*
seed csvmap fuzz/seeds/csvmap/*
# SS-MIX2: the whole sample storage as one `path NUL content NUL …` input, and one per file.
mkdir -p fuzz/corpus/ssmix2_entries
(
  cd "$FIX"
  find ssmix2 -type f | sort | while read -r f; do printf '%s\0' "$f"; cat "$f"; printf '\0'; done
) >fuzz/corpus/ssmix2_entries/storage
i=0
while read -r f; do
  i=$((i + 1))
  { printf '%s\0' "${f#"$FIX"/}"; cat "$f"; } >"fuzz/corpus/ssmix2_entries/file$i"
done < <(find "$FIX/ssmix2" -type f | sort)
seed ssmix2_entries
# Folder stream: the same storage in the TSGDIR01 layout (built by python3, if present).
seed folder
if command -v python3 >/dev/null 2>&1; then
  python3 - "$FIX" fuzz/corpus/folder/storage <<'PY'
import os, struct, sys
root, out = sys.argv[1], sys.argv[2]
parts = [b"TSGDIR01"]
for d, _, files in sorted(os.walk(os.path.join(root, "ssmix2"))):
    for name in sorted(files):
        p = os.path.join(d, name)
        rel = os.path.relpath(p, os.path.join(root, "ssmix2")).encode()
        data = open(p, "rb").read()
        parts += [struct.pack(">I", len(rel)), rel, struct.pack(">Q", len(data)), data]
open(out, "wb").write(b"".join(parts))
PY
fi
# Submission ZIP: the MHLW templates laid out as a submission (needs `zip`).
seed kenshin_zip
if command -v zip >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  mkdir -p "$tmp/sub/DATA"
  cp "$FIX/tokutei_kenshin_xml/IXtemplate.xml" "$tmp/sub/ix08_V08.xml"
  cp "$FIX/tokutei_kenshin_xml/SUtemplate.xml" "$tmp/sub/su08_V08.xml"
  cp "$FIX/tokutei_kenshin_xml/CCV08_template.xml" "$tmp/sub/DATA/h0000000001.xml"
  (cd "$tmp" && zip -qr sub.zip sub)
  cp "$tmp/sub.zip" fuzz/corpus/kenshin_zip/sub.zip
  rm -rf "$tmp"
fi
# SS-MIX2 storage as a ZIP: the sample storage, deflated and stored (built by python3, if present).
seed ssmix2_zip
if command -v python3 >/dev/null 2>&1; then
  python3 - "$FIX" fuzz/corpus/ssmix2_zip <<'PY'
import os, sys, zipfile
root, out = os.path.join(sys.argv[1], "ssmix2"), sys.argv[2]
for name, method in (("deflated.zip", zipfile.ZIP_DEFLATED), ("stored.zip", zipfile.ZIP_STORED)):
    with zipfile.ZipFile(os.path.join(out, name), "w", method) as z:
        for d, _, files in sorted(os.walk(root)):
            for f in sorted(files):
                p = os.path.join(d, f)
                z.write(p, os.path.relpath(p, root))
PY
fi
# sniff: every fixture and seed file (not the grown corpora), as `name NUL head`.
mkdir -p fuzz/corpus/sniff
while read -r f; do
  { printf '%s\0' "$(basename "$f")"; head -c 4096 "$f"; } >"fuzz/corpus/sniff/$(basename "$f")"
done < <(find "$FIX" fuzz/seeds -type f -not -name '*.md' | sort)
seed sniff

failed=()
for t in "${TARGETS[@]}"; do
  step "fuzz $t for ${SECONDS_PER_TARGET}s (sanitizer: $SANITIZER)"
  if ! (cd fuzz && cargo fuzz run -O -a --sanitizer "$SANITIZER" "$t" "corpus/$t" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1); then
    failed+=("$t")
    echo "!! $t crashed; the input is in fuzz/artifacts/$t/:"
    ls -1 "fuzz/artifacts/$t/" 2>/dev/null | sed "s|^|   fuzz/artifacts/$t/|"
    echo "   reproduce: (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O -a --sanitizer $SANITIZER $t artifacts/$t/<file>)"
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  step "crashed: ${failed[*]}"
  exit 1
fi
step "no crash in ${#TARGETS[@]} targets (${SECONDS_PER_TARGET}s each)"
