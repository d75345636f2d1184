#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, one after another.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     default: 600 s, all targets
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain. New corpus
# entries go to fuzz/corpus/TARGET (only the seed-* files are kept in git); crashes to
# fuzz/artifacts/TARGET. Prints each target's run count.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(head chunked range path connection)
cargo +nightly fuzz build -O
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  log=$(mktemp)
  if cargo +nightly fuzz run -O "$target" -- -max_total_time="$seconds" >"$log" 2>&1; then
    echo "$target: $(grep -E '^Done' "$log")"
  else
    echo "$target: FAILED"
    grep -E 'panicked|SUMMARY|artifact' "$log" || tail -20 "$log"
    exit 1
  fi
  rm -f "$log"
done
