#!/usr/bin/env bash
# Proof that xent is no_std on the host: builds nostd-check/, a #![no_std] staticlib with
# its own panic handler that calls xent (f32 and f16). If anything in the dependency graph
# pulls in std, the build fails with E0152 (duplicate lang item `panic_impl`).
# Runs from any directory.
set -euo pipefail
cd "$(dirname "$0")/../nostd-check"

echo "== cargo build --release (nostd-check/)"
cargo build --release
lib=target/release/libxent_nostd_check.a
test -s "$lib" || { echo "nostd.sh: $lib was not produced" >&2; exit 1; }
echo "nostd.sh: xent builds into a #![no_std] staticlib ($lib)"
