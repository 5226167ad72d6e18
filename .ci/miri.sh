#!/usr/bin/env bash
# Miri (undefined-behaviour checks) on the default SSE2 build and the AVX2+FMA one (Miri
# cannot run F16C, AVX-512 or NEON). Installs nightly's miri if missing. Runs from any
# directory; exits non-zero on a failure or UB.
#
# Rule: under Miri run what reaches unsafe code; the rest is safe Rust that the native
# builds (SSE2, x86-64-v3, v4, aarch64) already test. Unsafe code Miri can reach: the
# prefetch of `src/simd/arch.rs` (F16C, AVX-512, the streaming store, inline assembly in
# stdarch, and `sfence` Miri cannot run: under Miri the large-output path runs from 4 KiB,
# not 24 MiB, with ordinary stores and no fence), `half`'s f16 and bf16
# conversions (software on both builds), and `wide`'s SIMD types under the kernels. So
# each build runs the vector functions' unit tests, one whole-problem sweep in a half type
# (cross-entropy with class and probability targets, softmax focal, score; rows and
# channel-first), and the tests that reach each prefetch call site (traced with gdb on
# the Miri-sized tests):
#   f16/bf16 block loads, class-target tiles, channel-first columns: problems_f16, _bf16
#   the element-wise engine over f32:   bce_logits_lane_sums_overflow, binary_f32
#   pair sweeps over long f32 rows:     fixed_exp_of_nan_with_payload_is_finite_softmax
#   pipelined rows (next row's maximum): pipelined_rows_f32, the only test that reaches it
#     (AVX2+FMA build only: a minute and a half of Miri)
#   the large-output write pass (its prefetch): streamed_outputs_match_single_rows
#     (AVX2+FMA build only: SSE2 builds do not stream)
# and binary_f16 and binary_bf16 (the element-wise kernels over both half types) on SSE2.
# The library's unit tests include the run-time level's caching and capping (`isa.rs`;
# under Miri `simd/detect.rs` reports the portable level, as Miri cannot run CPUID), so
# Miri runs the dispatcher's portable arm; the AVX2 and AVX-512 backends skip their tests
# there (Miri cannot run their instructions).
#
# XENT_CI_FULL=1: the whole Miri set, every test of the library, equivalence and
# regressions on both builds (minus the skips below) and the golden-case `fixtures` test
# (over half an hour).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
t_all=$SECONDS
step() {
    local name=$1
    shift
    local t0=$SECONDS
    echo "=== miri: $name"
    "$@"
    echo "=== miri: $name: $((SECONDS - t0))s"
}
if ! rustup toolchain list | grep -q '^nightly'; then
    step "install nightly" rustup toolchain install nightly --profile minimal
fi
if ! rustup +nightly component list --installed | grep -q '^miri'; then
    step "install miri" rustup +nightly component add miri rust-src
fi
step "miri setup" cargo +nightly miri setup
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation}"
avx2=(env RUSTFLAGS="-C target-feature=+avx2,+fma" RUSTDOCFLAGS="-C target-feature=+avx2,+fma")
sse2_dir=(--target-dir target/miri)
avx2_dir=(--target-dir target/miri-avx2)

if [ "${XENT_CI_FULL:-0}" = 1 ]; then
    # Miri perturbs the results of float math functions (its float non-determinism), so two
    # regressions that compare two calls bit for bit cannot hold under it, nor one whose
    # soft-cap of f32::MAX turns an ulp of the oracle's `tanh` into 1e29 of logit; they run
    # natively. (`--skip rows_f16` also skips long_rows_f16 and pipelined_rows_f16.)
    skip=(--skip rows_bf16 --skip rows_f16 --skip fixed_sigmoid_focal_target_outside_unit
        --skip softcap_far_above_logits_zeroes_them --skip fixed_softcap_near_f32_max_gradient_inf)
    step "SSE2 build (full)" cargo +nightly miri test "${sse2_dir[@]}" --lib --test equivalence \
        --test regressions -- "${skip[@]}"
    step "AVX2+FMA build (full)" "${avx2[@]}" cargo +nightly miri test "${avx2_dir[@]}" --lib \
        --test equivalence --test regressions -- "${skip[@]}" --skip long_rows
    step "fixtures (SSE2)" cargo +nightly miri test "${sse2_dir[@]}" --test fixtures
    echo "=== miri: all passed, full set ($((SECONDS - t_all))s)"
    exit 0
fi

# Each build's tests by name (`--exact`), the library's unit tests by their own run (a
# name filter applies to every test binary). Both builds are compiled first, then their
# tests run at once: Miri interprets on one core, and CI has two.
sse2_tests=(binary::binary_f16 binary::binary_bf16 problems::problems_f16
    check_bounds::bce_logits_lane_sums_overflow fixed::fixed_exp_of_nan_with_payload_is_finite_softmax)
avx2_tests=(binary::binary_f32 problems::problems_bf16 rows::pipelined_rows_f32
    batches::streamed_outputs_match_single_rows fixed::fixed_exp_of_nan_with_payload_is_finite_softmax)
targets=(--lib --test equivalence --test regressions)
step "SSE2 build" cargo +nightly miri test "${sse2_dir[@]}" "${targets[@]}" --no-run
step "AVX2+FMA build" "${avx2[@]}" cargo +nightly miri test "${avx2_dir[@]}" "${targets[@]}" --no-run
sse2() {
    cargo +nightly miri test "${sse2_dir[@]}" --lib \
        && cargo +nightly miri test "${sse2_dir[@]}" "${targets[@]:1}" -- --exact "${sse2_tests[@]}"
}
avx2() {
    "${avx2[@]}" cargo +nightly miri test "${avx2_dir[@]}" --lib \
        && "${avx2[@]}" cargo +nightly miri test "${avx2_dir[@]}" "${targets[@]:1}" -- --exact "${avx2_tests[@]}"
}
# Runs a function in the background, its output and its time in a log printed afterwards.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
part() {
    local name=$1
    (
        t0=$SECONDS
        status=0
        "$name" >"$logs/$name" 2>&1 || status=$?
        echo "=== miri: $name tests: $((SECONDS - t0))s (exit $status)" >>"$logs/$name"
        exit "$status"
    ) &
}
both() {
    local status=0
    part sse2
    local sse2_pid=$!
    part avx2
    local avx2_pid=$!
    wait "$sse2_pid" || status=1
    wait "$avx2_pid" || status=1
    cat "$logs/sse2" "$logs/avx2"
    return "$status"
}
echo "=== miri: SSE2 build's tests: --lib, ${sse2_tests[*]}"
echo "=== miri: AVX2+FMA build's tests: --lib, ${avx2_tests[*]}"
step "both builds' tests at once" both
# `--exact` runs nothing for a name that no longer exists: each named test must have run.
for t in "${sse2_tests[@]}"; do grep -q "^test $t \.\.\. ok" "$logs/sse2" || { echo "=== miri: $t did not run (SSE2)" >&2; exit 1; }; done
for t in "${avx2_tests[@]}"; do grep -q "^test $t \.\.\. ok" "$logs/avx2" || { echo "=== miri: $t did not run (AVX2)" >&2; exit 1; }; done
echo "=== miri: all passed ($((SECONDS - t_all))s)"
