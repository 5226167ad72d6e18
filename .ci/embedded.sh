#!/usr/bin/env bash
# xent on an emulated Cortex-M4F (QEMU mps2-an386, thumbv7em-none-eabihf):
#  1. installs qemu-system-arm (apt) and the Rust target, if missing;
#  2. builds the library for the target (fails if anything needs std: E0463);
#  3. builds and runs the harness in embedded/ under QEMU (embedded/.cargo/config.toml
#     names QEMU as the runner, with a 60 s timeout).
# Exits non-zero if the harness reports a failure, faults, panics or times out, or if its
# closing line is not "N passed, 0 failed". Runs from any directory.
set -euo pipefail
cd "$(dirname "$0")/.."

target=thumbv7em-none-eabihf
sudo=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo=(sudo); fi

if ! command -v qemu-system-arm >/dev/null; then
    echo "== installing qemu-system-arm"
    "${sudo[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends qemu-system-arm
fi
rustup target add "$target"

echo "== cargo build --lib --target $target (repository root)"
cargo build --lib --target "$target"

echo "== harness under QEMU (embedded/)"
cd embedded
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo run --release 2>&1 | tee "$log" || status=$?

if [ "$status" -eq 124 ]; then
    echo "embedded.sh: QEMU timed out (the harness hung, e.g. in a fault loop)" >&2
    exit 124
elif [ "$status" -ne 0 ]; then
    echo "embedded.sh: the harness failed (exit status $status)" >&2
    exit "$status"
fi
if ! grep -Eq $'^[0-9]+ passed, 0 failed\r?$' "$log"; then
    echo "embedded.sh: no closing 'N passed, 0 failed' line from the harness" >&2
    exit 1
fi
