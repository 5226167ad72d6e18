#!/usr/bin/env bash
# Builds every cargo-fuzz target in fuzz/ (each runs the shared differential check of
# tests/check/) and runs each for a bounded time, FUZZ_SECONDS (default 10: a smoke run,
# every target from its corpus; 600 with XENT_CI_FULL=1, the long local runs), on its
# corpus in fuzz/corpus/<target> (kept between runs when CI caches it). Fails on any
# crash, panic, mismatch, timeout or out-of-memory; the input is left in
# fuzz/artifacts/<target>/ and the log shows a Rust reproducer. Installs nightly and
# cargo-fuzz if missing. Runs from any directory.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
if [ "${XENT_CI_FULL:-0}" = 1 ]; then default_seconds=600; else default_seconds=10; fi
SECONDS_PER_TARGET=${FUZZ_SECONDS:-$default_seconds}
t_all=$SECONDS
step() {
    local name=$1
    shift
    local t0=$SECONDS
    echo "=== fuzz: $name"
    "$@"
    echo "=== fuzz: $name: $((SECONDS - t0))s"
}

if ! rustup toolchain list | grep -q '^nightly'; then
    step "install nightly" rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    step "install cargo-fuzz" cargo install cargo-fuzz --locked
fi

# The smoke run builds unoptimised (`--dev`: the kernels' forced inlining is off, see
# build.rs), in half a minute; optimised, the check's instantiations of every backend took
# LLVM over 15 minutes. The long runs (XENT_CI_FULL=1) build optimised (-O), 16 codegen
# units for both cores (cargo-fuzz's default for -O is 1). Debug assertions and overflow
# checks stay on in both. No sanitizer: the check looks for panics and wrong values, which
# need none, and xent's only unsafe code is the backends' intrinsics on length-checked
# slices (src/simd/backend/mod.rs); it halves build and run time.
if [ "${XENT_CI_FULL:-0}" = 1 ]; then
    flags=(-O --codegen-units 16 --sanitizer none)
else
    flags=(--dev --sanitizer none)
fi
step "build" nice -n 10 cargo +nightly fuzz build "${flags[@]}"

failed=()
log=$(mktemp)
for t in $(cargo +nightly fuzz list); do
    mkdir -p "fuzz/corpus/$t"
    t0=$SECONDS
    status=0
    nice -n 10 cargo +nightly fuzz run "${flags[@]}" "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 -max_len=16384 \
        -len_control=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "=== fuzz: $t: ${SECONDS_PER_TARGET}s budget, $((SECONDS - t0))s wall, $execs runs, corpus $(find "fuzz/corpus/$t" -type f | wc -l) inputs, exit $status"
    if [ "$status" -ne 0 ]; then
        failed+=("$t")
        # The panic message, the reproducer and libFuzzer's summary.
        { grep -v -E '^#[0-9]+ |^INFO:|^\s*$' "$log" | head -200 >&2; } || true
    fi
done
rm -f "$log"
if [ "${#failed[@]}" -ne 0 ]; then
    echo "=== fuzz: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "=== fuzz: all targets passed ($((SECONDS - t_all))s)"
