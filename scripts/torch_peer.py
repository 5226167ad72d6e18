#!/usr/bin/env python3
"""PyTorch CPU on xent's canonical benchmark cases (docs/BENCHMARKS.md, "The canonical cases").

    pip install torch
    taskset -c 1 python3 scripts/torch_peer.py [threads] [--quick] [FILTER] > torch-peer-1.txt

Each case is built as benches/bench_report.rs builds its own (logits normal with standard
deviation 3, uniform class targets; channel-first logits uniform in [0, 1); BCE targets 0
or 1, probabilities clamped to [1e-4, 1 - 1e-4]), then timed as the best of 7 repeats of 3
calls (`--quick`: 2 of 1), inputs built outside the timing. FILTER keeps the cases whose
name contains it.

Prints a `#` line (torch version, CPU capability, threads), then one line per case:

    <case>\t<ns per element> ns/elem\t<ms per call> ms\tthreads=<T>

the format scripts/chart.py and scripts/report_tables.py read. One element is one logit
(cross-entropy) or one input value (BCE). The `ce_fwdbwd_inplace_*` cases have no
PyTorch counterpart and are not timed.
"""
import sys
import time

import torch
import torch.nn.functional as F

ELEMS_4M = 1 << 22


def best_seconds(fn, reps, inner):
    fn()  # warm-up: first-call allocation and dispatch
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - start) / inner)
    return best


def cross_entropy(n, c, dtype=torch.float32, grad=False, **options):
    """F.cross_entropy (mean, class targets) over n rows of c classes."""
    x = torch.randn(n, c).mul_(3).to(dtype)
    t = torch.randint(0, c, (n,))
    if grad:
        x.requires_grad_(True)

        def run():
            F.cross_entropy(x, t, **options).backward()
            x.grad = None
    else:

        def run():
            with torch.no_grad():
                F.cross_entropy(x, t, **options)

    return n * c, run


def channel_first():
    """Segmentation logits (1, 4, 128, 128, 128), one class target per voxel."""
    x = torch.rand(1, 4, 128, 128, 128)
    t = torch.randint(0, 4, (1, 128, 128, 128))

    def run():
        with torch.no_grad():
            F.cross_entropy(x, t)

    return x.numel(), run


def bce_with_logits():
    x = torch.randn(ELEMS_4M)
    y = torch.randint(0, 2, (ELEMS_4M,)).float()

    def run():
        with torch.no_grad():
            F.binary_cross_entropy_with_logits(x, y)

    return ELEMS_4M, run


def bce():
    p = torch.rand(ELEMS_4M).clamp_(1e-4, 1 - 1e-4)
    y = torch.randint(0, 2, (ELEMS_4M,)).float()

    def run():
        with torch.no_grad():
            F.binary_cross_entropy(p, y)

    return ELEMS_4M, run


# name -> builder; the names and shapes are those of docs/BENCHMARKS.md.
CASES = {
    "ce_fwd_f32_n512_c32000": lambda: cross_entropy(512, 32000),
    "ce_fwd_f32_n64_c128256": lambda: cross_entropy(64, 128256),
    "ce_fwd_f32_n4096_c10": lambda: cross_entropy(4096, 10),
    "ce_fwd_f32_n8192_c1000": lambda: cross_entropy(8192, 1000),
    "ce_fwd_f16_n512_c32000": lambda: cross_entropy(512, 32000, dtype=torch.float16),
    "ce_fwdbwd_f32_n512_c32000": lambda: cross_entropy(512, 32000, grad=True),
    "ce_fwd_f32_ls0.1_n512_c32000": lambda: cross_entropy(512, 32000, label_smoothing=0.1),
    "ce_fwd_f32_nchw_c4_128cube": channel_first,
    "bce_logits_fwd_f32_4M": bce_with_logits,
    "bce_fwd_f32_4M": bce,
}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    threads = int(args[0]) if args and args[0].isdigit() else 1
    filters = [a for a in args if not a.isdigit()]
    reps, inner = (2, 1) if "--quick" in sys.argv else (7, 3)
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    cap = torch.backends.cpu.get_cpu_capability()
    print(f"# torch {torch.__version__} ({cap}), threads={threads}, best of {reps}x{inner}")
    for name, build in CASES.items():
        if filters and not any(f in name for f in filters):
            continue
        elems, run = build()
        seconds = best_seconds(run, reps, inner)
        print(f"{name}\t{seconds / elems * 1e9:.3f} ns/elem\t{seconds * 1e3:.2f} ms\tthreads={threads}", flush=True)
        del run


if __name__ == "__main__":
    main()
