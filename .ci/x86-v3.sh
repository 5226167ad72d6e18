#!/usr/bin/env bash
# The whole test suite (unit, integration and doc tests) on the wider x86 builds, beside
# the default SSE2 build that the README's `cargo test` runs: `-C target-cpu=x86-64-v3`
# (wide's f32x8 in AVX2+FMA, half's F16C) and, when this CPU has AVX-512, `x86-64-v4`
# (the 16-lane kernels). Runs from any directory; exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
t_all=$SECONDS
step() {
    local name=$1
    shift
    local t0=$SECONDS
    echo "=== x86: $name"
    "$@"
    echo "=== x86: $name: $((SECONDS - t0))s"
}

for level in v3 v4; do
    if [ "$level" = v4 ] && ! grep -q avx512f /proc/cpuinfo; then
        echo "=== x86: this CPU has no AVX-512: the x86-64-v4 build is not run"
        continue
    fi
    export RUSTFLAGS="-C target-cpu=x86-64-$level" RUSTDOCFLAGS="-C target-cpu=x86-64-$level"
    step "x86-64-$level build" cargo test --target-dir "target/$level" --no-run
    step "x86-64-$level tests" cargo test --target-dir "target/$level"
done
echo "=== x86: all passed ($((SECONDS - t_all))s)"
