#!/usr/bin/env python3
"""Chart of ns per logit against the class count C, as a hand-written SVG (no dependencies).

Reads reports in the bench_report format, one `case<TAB>impl<TAB>ns_per_element` line per
measurement (`#` lines and anything else ignored), from files or stdin:

  - benches/c_sweep.rs        xent, floor (and scalar with --scalar) per C
  - benches/bench_report.rs   the canonical cases (xent, scalar, floor)
  - scripts/torch_sweep.py    torch per C (impl `torch`)
  - scripts/torch_peer.py output (`case<TAB>X ns/elem<TAB>...<TAB>threads=T`) is read
    too, as impl `torch` (threads=1 lines only, unless --torch-threads says otherwise)

Only plain forward f32 cross-entropy cases, `ce_fwd_f32_n<N>_c<C>`, are charted (no label
smoothing, no channel-first): C is read from the name. When one implementation has several
cases at the same C (the canonical n512_c32000 and the sweep's n524_c32000), the last one
read wins: give the sweep last.

--readme PATH adds the first figure column (1 thread) of the PyTorch table in
docs/BENCHMARKS.md ("PyTorch on the canonical cases") as a separate series ("PyTorch,
recorded"), drawn as markers only; only the table under that heading is read. Use
it when PyTorch cannot be installed: the chart then skips the torch line and keeps these
points; with neither, the chart has no PyTorch series at all.

    python3 scripts/chart.py sweep.tsv torch.tsv -o docs/c_sweep_v3.svg \
        --readme docs/BENCHMARKS.md --title "x86-64-v3 build, 1 core"

Also prints the table it drew (C, ns per logit per series, xent/floor, torch/xent).
"""
import argparse
import math
import re
import sys

CASE = re.compile(r"^ce_fwd_f32_n(\d+)_c(\d+)$")
TORCH_PEER = re.compile(r"^([\w.]+)\t\s*([0-9.]+) ns/elem\t.*threads=(\d+)")

# series: key -> (label, colour, dashed, line)
SERIES = {
    "xent": ("xent (SIMD)", "#1f77b4", False, True),
    "floor": ("memory-read floor", "#7f7f7f", True, True),
    "scalar": ("xent scalar twin", "#9467bd", True, True),
    "torch": ("PyTorch CPU", "#d62728", False, True),
    "torch_readme": ("PyTorch, recorded", "#ff7f0e", False, False),
}


def parse(lines, data, torch_threads):
    for line in lines:
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        m = TORCH_PEER.match(line)
        if m:
            if int(m.group(3)) != torch_threads:
                continue
            case, impl, val = m.group(1), "torch", m.group(2)
        else:
            parts = line.split("\t")
            if len(parts) != 3:
                continue
            case, impl, val = (p.strip() for p in parts)
        cm = CASE.match(case)
        if not cm:
            continue
        try:
            ns = float(val)
        except ValueError:
            continue
        if not math.isfinite(ns) or ns <= 0:
            continue
        data.setdefault(impl, {})[int(cm.group(2))] = ns


TORCH_TABLE_HEADING = "PyTorch on the canonical cases"


def parse_readme(path, data):
    """The rows `| case | 1 thread | ... |` of the table under the heading
    TORCH_TABLE_HEADING (docs/BENCHMARKS.md): the first number column. A file without that
    heading is read whole."""
    with open(path) as f:
        lines = f.readlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("#") and TORCH_TABLE_HEADING in line]
    if starts:
        rest = lines[starts[0] + 1:]
        ends = [i for i, line in enumerate(rest) if line.startswith("#")]
        lines = rest[:ends[0]] if ends else rest
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2:
            continue
        cm = CASE.match(cells[0])
        if not cm:
            continue
        try:
            data.setdefault("torch_readme", {})[int(cm.group(2))] = float(cells[1])
        except ValueError:
            pass


def nice_ticks(lo, hi, log):
    if log:
        ticks = []
        e = math.floor(math.log10(lo))
        while 10**e <= hi * 1.0001:
            for m in (1, 2, 5):
                v = m * 10**e
                if lo * 0.9999 <= v <= hi * 1.0001:
                    ticks.append(v)
            e += 1
        return ticks
    step = 10 ** math.floor(math.log10((hi - lo) / 5 or 1))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (m * step) <= 6:
            step *= m
            break
    t, ticks = math.ceil(lo / step) * step, []
    while t <= hi + 1e-12:
        ticks.append(round(t, 10))
        t += step
    return ticks


def fmt(v):
    return f"{v:g}" if v >= 1 else f"{v:.2g}"


def svg(data, title, log_y):
    W, H = 760, 470
    L, R, T, B = 70, 200, 50, 60  # margins (legend on the right)
    pw, ph = W - L - R, H - T - B
    cs = sorted({c for s in data.values() for c in s})
    vals = [v for s in data.values() for v in s.values()]
    xlo, xhi = min(cs) / 1.5, max(cs) * 1.5
    if log_y:
        ylo, yhi = min(vals) / 1.4, max(vals) * 1.4
    else:
        ylo, yhi = 0.0, max(vals) * 1.1

    def X(c):
        return L + pw * (math.log10(c) - math.log10(xlo)) / (math.log10(xhi) - math.log10(xlo))

    def Y(v):
        if log_y:
            f = (math.log10(v) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo))
        else:
            f = (v - ylo) / (yhi - ylo)
        return T + ph * (1 - f)

    o = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{W}" height="{H}" fill="white"/>',
        f'<text x="{L + pw / 2}" y="24" text-anchor="middle" font-size="15">{esc(title)}</text>',
    ]
    # grid and axes
    for v in nice_ticks(ylo, yhi, log_y):
        y = Y(v)
        o.append(f'<line x1="{L}" y1="{y:.1f}" x2="{L + pw}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        o.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{fmt(v)}</text>')
    xt = [10**e for e in range(0, 7) if xlo <= 10**e <= xhi]
    for c in xt:
        x = X(c)
        o.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{T + ph}" stroke="#e0e0e0"/>')
        o.append(f'<text x="{x:.1f}" y="{T + ph + 16}" text-anchor="middle">{c:,}</text>')
    for c in cs:  # the measured C values, small, under the axis
        o.append(
            f'<text x="{X(c):.1f}" y="{T + ph + 30}" text-anchor="middle" font-size="10" fill="#555">{c}</text>'
        )
    o.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    o.append(
        f'<text x="{L + pw / 2}" y="{H - 12}" text-anchor="middle">classes C (log scale); '
        "N = 2^24 / C rows</text>"
    )
    ylab = "ns per logit" + (" (log scale)" if log_y else "")
    o.append(
        f'<text x="18" y="{T + ph / 2}" text-anchor="middle" transform="rotate(-90 18 {T + ph / 2})">{ylab}</text>'
    )
    # series
    ly = T + 10
    for key, (label, col, dashed, line) in SERIES.items():
        pts = sorted(data.get(key, {}).items())
        if not pts:
            continue
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        if line and len(pts) > 1:
            path = " ".join(f"{'M' if i == 0 else 'L'}{X(c):.1f},{Y(v):.1f}" for i, (c, v) in enumerate(pts))
            o.append(f'<path d="{path}" fill="none" stroke="{col}" stroke-width="2"{dash}/>')
        for c, v in pts:
            if line:
                o.append(f'<circle cx="{X(c):.1f}" cy="{Y(v):.1f}" r="3.5" fill="{col}"><title>{label}: C={c}, {v:.3f} ns</title></circle>')
            else:
                x, y = X(c), Y(v)
                o.append(
                    f'<path d="M{x - 5:.1f},{y:.1f} L{x:.1f},{y - 5:.1f} L{x + 5:.1f},{y:.1f} L{x:.1f},{y + 5:.1f} Z" '
                    f'fill="{col}"><title>{label}: C={c}, {v:.3f} ns</title></path>'
                )
        lx = L + pw + 14
        if line:
            o.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="{col}" stroke-width="2"{dash}/>')
        else:
            o.append(f'<path d="M{lx + 7},{ly} L{lx + 12},{ly - 5} L{lx + 17},{ly} L{lx + 12},{ly + 5} Z" fill="{col}"/>')
        o.append(f'<text x="{lx + 30}" y="{ly + 4}">{esc(label)}</text>')
        ly += 20
    o.append("</svg>")
    return "\n".join(o) + "\n"


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def table(data):
    keys = [k for k in SERIES if k in data]
    cs = sorted({c for k in keys for c in data[k]})
    head = ["C"] + keys + ["xent/floor", "torch/xent"]
    rows = [head]
    for c in cs:
        r = [str(c)] + [f"{data[k][c]:.3f}" if c in data[k] else "-" for k in keys]
        x, f = data.get("xent", {}).get(c), data.get("floor", {}).get(c)
        t = data.get("torch", {}).get(c) or data.get("torch_readme", {}).get(c)
        r.append(f"{x / f:.2f}" if x and f else "-")
        r.append(f"{t / x:.2f}" if x and t else "-")
        rows.append(r)
    w = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join("  ".join(v.rjust(w[i]) for i, v in enumerate(r)) for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("reports", nargs="*", help="report files (default: stdin)")
    ap.add_argument("-o", "--output", default="c_sweep.svg", help="SVG to write (default c_sweep.svg; the repository keeps docs/c_sweep_v3.svg and docs/c_sweep_v4.svg)")
    ap.add_argument("--readme", help="docs/BENCHMARKS.md: recorded PyTorch figures for the canonical cases")
    ap.add_argument("--title", default="cross_entropy forward, f32, ns per logit against C")
    ap.add_argument("--linear-y", action="store_true", help="linear y axis (default: log)")
    ap.add_argument("--torch-threads", type=int, default=1, help="torch_peer.py lines to keep")
    a = ap.parse_args()
    data = {}
    if a.reports:
        for p in a.reports:
            with open(p) as f:
                parse(f, data, a.torch_threads)
    else:
        parse(sys.stdin, data, a.torch_threads)
    if a.readme:
        try:
            parse_readme(a.readme, data)
        except OSError as e:
            print(f"chart.py: cannot read {a.readme}: {e}; no README PyTorch points", file=sys.stderr)
    if not data.get("xent"):
        sys.exit("chart.py: no `ce_fwd_f32_n<N>_c<C><TAB>xent<TAB>ns` lines in the input")
    if not data.get("torch"):
        print("chart.py: no torch lines (PyTorch not measured): chart without the PyTorch line", file=sys.stderr)
    with open(a.output, "w") as f:
        f.write(svg(data, a.title, not a.linear_y))
    print(table(data))
    print(f"chart.py: wrote {a.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
