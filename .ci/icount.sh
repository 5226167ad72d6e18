#!/usr/bin/env bash
# Instruction-count gate: runs the iai-callgrind benchmarks of benches/icount/ under valgrind
# and compares every case's instruction count (callgrind Ir) with the stored baseline
# benches/baseline/icount.tsv; fails when any case has more than 5% more instructions.
#
#   .ci/icount.sh                 # install what is missing, bench, compare (CI)
#   .ci/icount.sh --save          # bench, then store the run as the new baseline
#   .ci/icount.sh --threshold 3   # other arguments go to scripts/icount_compare.py
#
# Installs valgrind (apt) and iai-callgrind-runner 0.16.1 (cargo install; the runner must be
# exactly the library's version) when they are missing. Builds with AVX2+FMA+F16C, never
# target-cpu=native: valgrind cannot run the AVX-512 code that would emit here. Runs from
# any directory. Prints the time of each step.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNNER_VERSION=0.16.1
start=$SECONDS
step_start=$SECONDS
step() {
    local now=$SECONDS
    if [ -n "${step_name:-}" ]; then
        echo "== ${step_name}: $((now - step_start)) s"
    fi
    step_name=$1
    step_start=$now
    echo "== ${step_name}"
}

step "valgrind"
if ! command -v valgrind >/dev/null 2>&1; then
    apt-get update
    apt-get install -y --no-install-recommends valgrind
fi
valgrind --version

step "iai-callgrind-runner ${RUNNER_VERSION}"
# (the runner has no --version of its own: it is started by the bench binary)
if ! cargo install --list | grep -qxF "iai-callgrind-runner v${RUNNER_VERSION}:" \
    || ! command -v iai-callgrind-runner >/dev/null 2>&1; then
    cargo install iai-callgrind-runner --version "${RUNNER_VERSION}" --locked
fi
cargo install --list | grep -F "iai-callgrind-runner v"

step "cargo bench (benches/icount, under valgrind)"
export RUSTFLAGS="-C target-feature=+avx2,+fma,+f16c"
# Stale summaries of renamed or removed cases would be read by the compare: start clean.
rm -rf benches/icount/target/iai
(cd benches/icount && cargo bench --locked --bench icount -- --save-summary=json)

step "compare with benches/baseline/icount.tsv"
status=0
python3 scripts/icount_compare.py --target-dir benches/icount/target "$@" || status=$?

step_name_done=$step_name
echo "== ${step_name_done}: $((SECONDS - step_start)) s"
echo "== icount.sh total: $((SECONDS - start)) s (exit ${status})"
exit "$status"
