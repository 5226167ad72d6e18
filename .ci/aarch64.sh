#!/usr/bin/env bash
# The test suite for aarch64-unknown-linux-gnu (wide's NEON path) under qemu-user.
# Installs the cross linker, libc and qemu-user from Debian, and the Rust target.
# Runs from any directory; exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo=(sudo); fi
if ! command -v qemu-aarch64 >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null \
    || [ ! -d /usr/aarch64-linux-gnu/lib ]; then
    "${sudo[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends \
        qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross
fi
rustup target add aarch64-unknown-linux-gnu
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
tests=(--lib --test fixtures --test equivalence --test errors --test no_alloc)
[ -f tests/regressions.rs ] && tests+=(--test regressions)
t0=$SECONDS
cargo test --target aarch64-unknown-linux-gnu "${tests[@]}"
echo "aarch64.sh: tests passed under qemu-user ($((SECONDS - t0))s)"
