#!/usr/bin/env bash
# The test suite on the wider x86 builds, beside the default SSE2 build that the README's
# `cargo test` runs: `-C target-cpu=x86-64-v3` (wide's f32x8 in AVX2+FMA, half's F16C) and,
# when this CPU has AVX-512, `-C target-cpu=x86-64-v4` (the 16-lane kernels). Runs from any
# directory; exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
tests=(--lib --test fixtures --test equivalence --test errors --test no_alloc --test regressions)
[ -f tests/regressions.rs ] || tests=(--lib --test fixtures --test equivalence --test errors --test no_alloc)
for level in v3 v4; do
    if [ "$level" = v4 ] && ! grep -q avx512f /proc/cpuinfo; then
        echo "x86-v3.sh: this CPU has no AVX-512: the x86-64-v4 build is not run"
        continue
    fi
    t0=$SECONDS
    RUSTFLAGS="-C target-cpu=x86-64-$level" cargo test --target-dir "target/$level" "${tests[@]}"
    echo "x86-v3.sh: x86-64-$level tests passed ($((SECONDS - t0))s)"
done
