#!/usr/bin/env bash
# The test suite for aarch64-unknown-linux-gnu (wide's NEON path) under qemu-user: unit
# tests, every integration test but `evaluate` (it executes the example binary directly,
# which an aarch64 ELF on an x86 host cannot be without binfmt), and the doc tests (run
# through the same runner). Installs the cross linker, libc and qemu-user from Debian and
# the Rust target if missing. Runs from any directory; exits non-zero if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
t_all=$SECONDS
step() {
    local name=$1
    shift
    local t0=$SECONDS
    echo "=== aarch64: $name"
    "$@"
    echo "=== aarch64: $name: $((SECONDS - t0))s"
}

sudo=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo=(sudo); fi
if ! command -v qemu-aarch64 >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null \
    || [ ! -d /usr/aarch64-linux-gnu/lib ]; then
    step "apt-get update" "${sudo[@]}" apt-get update -qq
    step "apt-get install" env DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
        --no-install-recommends qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross
fi
if ! rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$'; then
    step "rustup target add" rustup target add aarch64-unknown-linux-gnu
fi

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"

tests=(--lib)
for t in tests/*.rs; do
    name=$(basename "$t" .rs)
    [ "$name" = evaluate ] || tests+=(--test "$name")
done
target=(--target aarch64-unknown-linux-gnu --target-dir target/aarch64)
step "build tests" cargo test "${target[@]}" "${tests[@]}" --no-run
step "tests (qemu-user)" cargo test "${target[@]}" "${tests[@]}"
step "doc tests (qemu-user)" cargo test "${target[@]}" --doc
echo "=== aarch64: all passed ($((SECONDS - t_all))s)"
