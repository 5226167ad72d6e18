#!/usr/bin/env python3
"""Markdown tables from one sitting: bench_report outputs of the three builds and
torch_peer.py's output, all taken in the same sitting.

usage: report_tables.py report-default.tsv report-v3.tsv report-v4.tsv torch-peer-1.txt
"""
import sys


def read_report(path):
    out = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        case, impl, ns = line.rstrip("\n").split("\t")
        out.setdefault(case, {})[impl] = float(ns)
    return out


def read_torch(path):
    out = {}
    for line in open(path):
        parts = line.split("\t")
        if len(parts) >= 2 and "ns/elem" in parts[1]:
            out[parts[0]] = float(parts[1].split()[0])
    return out


def main():
    d, v3, v4, torch = (read_report(sys.argv[1]), read_report(sys.argv[2]), read_report(sys.argv[3]),
                        read_torch(sys.argv[4]))
    print("| case | default (SSE2) | x86-64-v3 | x86-64-v4 | floor (v4 run) | v3 xent/floor | v4 xent/floor "
          "| scalar (v4) | v4 scalar/xent | PyTorch 1 thread | PyTorch / xent v4 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for case in v4:
        a, b, c = d.get(case, {}), v3.get(case, {}), v4[case]
        t = torch.get(case)
        cells = [
            case,
            f"{a.get('xent', float('nan')):.3f}",
            f"{b.get('xent', float('nan')):.3f}",
            f"{c['xent']:.3f}",
            f"{c['floor']:.3f}",
            f"{b['xent'] / b['floor']:.2f}" if b else "",
            f"{c['xent'] / c['floor']:.2f}",
            f"{c['scalar']:.3f}",
            f"{c['scalar'] / c['xent']:.1f}",
            f"{t:.3f}" if t else "",
            f"{t / c['xent']:.1f}" if t else "",
        ]
        print("| " + " | ".join(cells) + " |")
    print()
    print("SSE2 default build against v4 (xent time ratio):", ", ".join(
        f"{k} {d[k]['xent'] / v4[k]['xent']:.1f}x" for k in v4 if k in d))


if __name__ == "__main__":
    main()
