#!/usr/bin/env bash
# Builds every cargo-fuzz target in fuzz/ and runs each for a bounded time
# (FUZZ_SECONDS, default 20) on its corpus; fails on any crash, panic, mismatch, timeout
# or out-of-memory. Installs cargo-fuzz and the nightly toolchain if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${FUZZ_SECONDS:-20}
t_all=$SECONDS
timed() {
    local name=$1
    shift
    local t0=$SECONDS
    "$@"
    echo "--- $name: $((SECONDS - t0))s"
}

if ! rustup toolchain list | grep -q '^nightly'; then
    timed "install nightly" rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    timed "install cargo-fuzz" cargo install cargo-fuzz --locked
fi

# -O: optimised with debug assertions (overflow checks stay on); one build for all targets.
timed "build" nice -n 10 cargo +nightly fuzz build -O

targets=$(cargo +nightly fuzz list)
for t in $targets; do
    mkdir -p "fuzz/corpus/$t"
    timed "fuzz $t (${SECONDS_PER_TARGET}s)" nice -n 10 cargo +nightly fuzz run -O "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 -max_len=16384 -print_final_stats=1 \
        2>&1 | grep -E '^(#[0-9]+ +DONE|Done|stat::number_of_executed_units|stat::peak_rss|==[0-9]+==|thread .* panicked|SUMMARY|.*(mismatch|differ|bound|reproducer))' || true
    # cargo fuzz run exits non-zero on a crash; the pipeline above hides that, so check the
    # artifacts instead (they only appear on failure).
    if compgen -G "fuzz/artifacts/$t/*" >/dev/null; then
        echo "FAILED: fuzz target $t left artifacts:" >&2
        ls -l "fuzz/artifacts/$t" >&2
        exit 1
    fi
done
echo "--- fuzz total: $((SECONDS - t_all))s"
