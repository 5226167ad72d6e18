#!/usr/bin/env python3
"""Instruction-count gate: compares an iai-callgrind run with the stored baseline.

Reads the `summary.json` files that iai-callgrind 0.16.1 writes with `--save-summary=json`
(under TARGET/iai/, one per benchmark case), takes each case's total `Ir` (instructions
executed, callgrind) and compares it with `benches/baseline/icount.tsv`:

    python3 scripts/icount_compare.py [--target-dir benches/icount/target] [--threshold 5]
    python3 scripts/icount_compare.py --save      # write the run as the new baseline

Prints a table (case, baseline, now, change) and exits 1 when any case has more than
`--threshold` percent (default 5) more instructions than its baseline, or when a baseline
case is missing from the run (a renamed or dropped case must be re-baselined on purpose:
`--allow-missing` turns that into a warning). Cases new in the run are listed and pass.
Improvements beyond the threshold pass, with a reminder to re-baseline so later
regressions are measured from the new level. Exit 2 on a usage or input error (no
summaries found, unreadable baseline).

The baseline is a TSV, `case<TAB>Ir`, with `#` comment lines naming the rustc version,
RUSTFLAGS and the date of the run it came from; counts depend on the compiler and the
dependencies' versions (pinned by benches/icount/Cargo.lock), so a toolchain change is
reported and is a reason to re-baseline, in its own commit, after checking the table.
"""
import argparse
import datetime
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_TARGET = os.path.join(ROOT, "benches", "icount", "target")
DEFAULT_BASELINE = os.path.join(ROOT, "benches", "baseline", "icount.tsv")


def metric_value(m):
    """A serialized iai-callgrind Metric: {"Int": n} or {"Float": x} (or a bare number)."""
    if isinstance(m, (int, float)):
        return m
    if isinstance(m, dict) and len(m) == 1:
        return metric_value(next(iter(m.values())))
    if isinstance(m, str):
        return float(m)
    raise ValueError(f"unexpected metric {m!r}")


def new_value(either):
    """EitherOrBoth<Metric>: {"Left": new} | {"Right": old} | {"Both": [new, old]}."""
    if "Both" in either:
        return metric_value(either["Both"][0])
    if "Left" in either:
        return metric_value(either["Left"])
    return None  # only an old value: the case did not run


def read_run(target):
    cases = {}
    files = sorted(glob.glob(os.path.join(target, "iai", "**", "summary.json"), recursive=True))
    for path in files:
        with open(path) as f:
            s = json.load(f)
        # module_path is "<bench>::<group>::<function>"; drop the bench file's name.
        parts = s["module_path"].split("::")
        name = "/".join(parts[1:] if len(parts) > 1 else parts)
        if s.get("id"):
            name += "/" + s["id"]
        ir = None
        for prof in s["profiles"]:
            if prof.get("tool") != "Callgrind":
                continue
            summary = prof["summaries"]["total"]["summary"]
            cg = summary.get("Callgrind") if isinstance(summary, dict) else None
            if cg and "Ir" in cg:
                ir = new_value(cg["Ir"]["metrics"])
        if ir is None:
            print(f"icount_compare: no Callgrind Ir in {path}", file=sys.stderr)
            continue
        cases[name] = int(ir)
    return cases, len(files)


def read_baseline(path):
    base, header = {}, []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("#"):
                header.append(line)
                continue
            case, ir = line.split("\t")
            base[case] = int(ir)
    return base, header


def rustc_version():
    try:
        return subprocess.run(["rustc", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def save(path, cases):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("# xent instruction-count baseline (callgrind Ir per case), written by\n")
        f.write("# scripts/icount_compare.py --save from .ci/icount.sh; compared by the same script.\n")
        f.write(f"# rustc: {rustc_version()}\n")
        f.write(f"# RUSTFLAGS: {os.environ.get('RUSTFLAGS', '')}\n")
        f.write(f"# date: {datetime.date.today().isoformat()}\n")
        for case in sorted(cases):
            f.write(f"{case}\t{cases[case]}\n")
    print(f"icount_compare: saved {len(cases)} cases to {os.path.relpath(path, ROOT)}")


def main():
    ap = argparse.ArgumentParser(description="instruction-count regression gate")
    ap.add_argument("--target-dir", default=DEFAULT_TARGET, help="cargo target dir of benches/icount")
    ap.add_argument("--baseline", default=DEFAULT_BASELINE)
    ap.add_argument("--threshold", type=float, default=5.0, help="percent more instructions that fails")
    ap.add_argument("--save", action="store_true", help="write this run as the baseline and exit")
    ap.add_argument("--allow-missing", action="store_true", help="baseline cases absent from the run only warn")
    a = ap.parse_args()

    run, nfiles = read_run(a.target_dir)
    if not run:
        print(f"icount_compare: no iai-callgrind summaries under {a.target_dir}/iai "
              "(run the bench with --save-summary=json)", file=sys.stderr)
        return 2
    if a.save:
        save(a.baseline, run)
        return 0
    try:
        base, header = read_baseline(a.baseline)
    except (OSError, ValueError) as e:
        print(f"icount_compare: cannot read baseline {a.baseline}: {e} (create it with --save)", file=sys.stderr)
        return 2

    rows, regressed, improved, missing, new = [], [], [], [], []
    for case in sorted(set(base) | set(run)):
        b, n = base.get(case), run.get(case)
        if b is None:
            new.append(case)
            rows.append((case, "-", f"{n:,}", "new", ""))
            continue
        if n is None:
            missing.append(case)
            rows.append((case, f"{b:,}", "-", "missing", "FAIL" if not a.allow_missing else "warn"))
            continue
        pct = (n - b) / b * 100 if b else 0.0
        mark = ""
        if pct > a.threshold:
            regressed.append(case)
            mark = "REGRESSED"
        elif pct < -a.threshold:
            improved.append(case)
            mark = "improved"
        rows.append((case, f"{b:,}", f"{n:,}", f"{pct:+.2f}%", mark))

    head = ("case", "baseline Ir", "now Ir", "change", "")
    w = [max(len(r[i]) for r in rows + [head]) for i in range(5)]
    line = lambda r: f"{r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:>{w[2]}}  {r[3]:>{w[3]}}  {r[4]}".rstrip()
    print(line(head))
    print("-" * (sum(w) + 8))
    for r in rows:
        print(line(r))
    print()
    recorded = next((h[len("# rustc: "):] for h in header if h.startswith("# rustc: ")), None)
    now = rustc_version()
    if recorded and recorded != now:
        print(f"note: baseline recorded with {recorded}, this run uses {now}: "
              "compiler changes move counts; re-baseline (--save) in a commit of its own if the table is explained.")
    print(f"{len(run)} cases run ({nfiles} summaries), {len(base)} in the baseline; threshold +{a.threshold:g}% Ir")
    if new:
        print(f"{len(new)} new case(s) not in the baseline (pass): re-baseline with --save to gate them")
    if improved:
        print(f"{len(improved)} case(s) improved by more than {a.threshold:g}%: re-baseline with --save to keep the gain")
    fail = bool(regressed) or (bool(missing) and not a.allow_missing)
    if regressed:
        print(f"FAIL: {len(regressed)} case(s) regressed by more than {a.threshold:g}% in instructions: "
              + ", ".join(regressed))
    if missing:
        print(f"{'FAIL' if not a.allow_missing else 'warning'}: {len(missing)} baseline case(s) missing from the run: "
              + ", ".join(missing))
    if not fail:
        print("icount gate: OK")
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
