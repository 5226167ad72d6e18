#!/usr/bin/env python3
"""PyTorch CPU peer for the class-count sweep of benches/c_sweep.rs.

A sibling of scripts/torch_peer.py (same timing: best of repeats of an inner loop)
to the cases of the xent C sweep: F.cross_entropy forward, f32, mean, class targets, for
C in {5, 31, 257, 1000, 32000, 128256} with N = round(2^24 / C) (about 16M logits, the
same N as benches/c_sweep.rs).

    pip install torch
    taskset -c 1 python3 scripts/torch_sweep.py [threads] [--quick] [--canonical] > torch.tsv

Prints `case<TAB>torch<TAB>ns_per_element` lines, the format of benches/bench_report.rs
and benches/c_sweep.rs, so scripts/chart.py can read the three outputs concatenated.
--canonical also prints the canonical cases of docs/BENCHMARKS.md in the same format
(f32 forward ones only, via the same definitions as torch_peer.py). A comment line names
the torch version, its CPU capability and the thread count.
"""
import sys
import time

import torch
import torch.nn.functional as F

CLASSES = [5, 31, 257, 1000, 32000, 128256]
TARGET = 1 << 24


def best(fn, reps=7, inner=3):
    fn()
    b = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        b = min(b, (time.perf_counter() - t) / inner)
    return b


def ce_fwd(n, c, dtype=torch.float32, **kw):
    x = torch.randn(n, c, dtype=torch.float32).mul_(3).to(dtype)
    t = torch.randint(0, c, (n,))

    def f():
        with torch.no_grad():
            F.cross_entropy(x, t, **kw)

    return f


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = "--quick" in sys.argv
    canonical = "--canonical" in sys.argv
    threads = int(args[0]) if args else 1
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    reps, inner = (2, 1) if quick else (7, 3)
    cap = torch.backends.cpu.get_cpu_capability()
    print(f"# torch {torch.__version__} ({cap}), threads={threads}, best of {reps}x{inner}")
    cases = []
    for c in CLASSES:
        n = (TARGET + c // 2) // c
        cases.append((f"ce_fwd_f32_n{n}_c{c}", n * c, lambda n=n, c=c: ce_fwd(n, c)))
    if canonical:
        cases += [
            ("ce_fwd_f32_n512_c32000", 512 * 32000, lambda: ce_fwd(512, 32000)),
            ("ce_fwd_f32_n64_c128256", 64 * 128256, lambda: ce_fwd(64, 128256)),
            ("ce_fwd_f32_n4096_c10", 4096 * 10, lambda: ce_fwd(4096, 10)),
            ("ce_fwd_f32_n8192_c1000", 8192 * 1000, lambda: ce_fwd(8192, 1000)),
            ("ce_fwd_f16_n512_c32000", 512 * 32000, lambda: ce_fwd(512, 32000, torch.float16)),
            ("ce_fwd_f32_ls0.1_n512_c32000", 512 * 32000, lambda: ce_fwd(512, 32000, label_smoothing=0.1)),
        ]
    for name, elems, make in cases:
        f = make()  # inputs built outside the timing, then freed before the next case
        s = best(f, reps, inner)
        print(f"{name}\ttorch\t{s / elems * 1e9:.3f}", flush=True)
        del f


if __name__ == "__main__":
    main()
