#!/usr/bin/env bash
# Miri (undefined-behaviour checks) on a reduced test set: the library's unit tests and the
# equivalence sweeps (they shrink under cfg(miri); the f16/bf16 row sweeps, whose conversions
# the other sweeps already run, are skipped to keep the time), on the default SSE2 build and
# on the AVX2+FMA one (miri cannot run F16C or AVX-512). Installs nightly's miri. About
# 4 minutes per build on a 2-core machine.
# Runs from any directory; exits non-zero on a failure or UB.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
rustup +nightly component add miri rust-src
cargo +nightly miri setup
export MIRIFLAGS="-Zmiri-disable-isolation"
t0=$SECONDS
cargo +nightly miri test --target-dir target/miri --lib --test equivalence -- --skip rows_bf16 --skip rows_f16
echo "miri.sh: SSE2 build ok ($((SECONDS - t0))s)"
t0=$SECONDS
RUSTFLAGS="-C target-feature=+avx2,+fma" RUSTDOCFLAGS="-C target-feature=+avx2,+fma" \
    cargo +nightly miri test --target-dir target/miri-avx2 --lib --test equivalence -- --skip rows_bf16 --skip rows_f16 --skip long_rows
echo "miri.sh: AVX2+FMA build ok ($((SECONDS - t0))s)"
