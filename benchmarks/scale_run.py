"""The whole evaluation at several scales: each step's seconds, peak memory and rows per second.

Runs the example protocol (``joinedup demo``'s: simulate, validate, overview, indicators at every
period, impact, synthesis, survey, economics, report) at each ``--scales`` value, each in a fresh
Python process (``--single``), and reads each step's record from the run's ``manifest.json``
(``steps``: seconds and peak RSS of the process and its children, from ``joinedup.step_usage``).

Writes ``scale_run.csv`` (step, scale, seconds, peak_mb, rows, rows_per_second), ``scale_run.json``
(the same, the machine, the log-log slopes) and ``scale_run.txt`` to ``--out`` (default
``benchmarks/results``). ``rows`` is the size of the data every step is measured against: the
rows of all canonical tables of the simulated dataset (``manifest.json``'s data fingerprints).

The slope of log(seconds) on log(rows) per step says how a step's cost grows with its data: 1 is
linear, under 1 means fixed costs still dominate at these scales, over 1 means the cost grows
faster than the data, which at scale 1.0 (about 200 times the demo's 0.005 x 40) is what breaks.

``--baseline-ref REF`` also runs the same scales on the code at git ref REF (exported to a temporary
folder and put first on PYTHONPATH), alternating with the working tree run by run, and prints each
step's ratio of seconds (baseline / this code): the same-run baseline of a performance fix.

    .venv/bin/python benchmarks/scale_run.py --scales 0.005 0.01 0.02 --timeout 1200
    .venv/bin/python benchmarks/scale_run.py --scales 0.01 --baseline-ref HEAD~1 --name scale_run_fix
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _protocol_text(scale: float, extra: str) -> str:
    """The example protocol at ``scale`` (the one ``joinedup demo`` runs), plus any ``extra`` TOML lines."""
    text = (ROOT / "src/joinedup/protocols/pioneer_evaluation.toml").read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^scale = 0\.02\b", f"scale = {scale}", text)
    if n != 1:
        raise SystemExit("the example protocol's [data.simulate] scale line has changed; update scale_run.py")
    return text + extra


def _single(protocol: Path, out: Path) -> dict:
    """Run one protocol in this process; print its steps as JSON (the parent reads the last line)."""
    import resource

    from joinedup.pipeline import run_protocol
    from joinedup.protocol import load_protocol

    t0 = time.perf_counter()

    def started(step: str) -> None:  # on stderr as each step starts: read back if the run times out
        print(json.dumps({"started": step, "at_seconds": round(time.perf_counter() - t0, 2)}), file=sys.stderr,
              flush=True)

    result = run_protocol(load_protocol(protocol), out, progress=started)
    wall = time.perf_counter() - t0
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    rows = sum(t["rows"] or 0 for t in manifest["data"]["tables"].values())
    usage = getattr(result, "usage", None) or {k: {"seconds": v} for k, v in result.timings.items()}
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    sizes = {}
    for f in (out / "tables").glob("*.*"):
        sizes[f.suffix] = sizes.get(f.suffix, 0) + f.stat().st_size
    return {"rows": rows, "wall_seconds": round(wall, 2), "steps": usage,
            "process_peak_mb": round(me.ru_maxrss / 1024, 1), "children_peak_mb": round(kids.ru_maxrss / 1024, 1),
            "tables_mb": {k: round(v / 2**20, 1) for k, v in sorted(sizes.items())},
            "largest_tables_mb": {f.name: round(f.stat().st_size / 2**20, 1) for f in
                                  sorted((out / "tables").glob("*.*"), key=lambda f: -f.stat().st_size)[:4]}}


def _run(scale: float, work: Path, label: str, pythonpath: str | None, timeout: int, extra: str) -> dict:
    folder = work / f"{label}-{scale}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    protocol = folder / "protocol.toml"
    protocol.write_text(_protocol_text(scale, extra), encoding="utf-8")
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1")
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    cmd = [sys.executable, __file__, "--single", str(protocol), str(folder / "out")]
    load_before = [round(x, 2) for x in os.getloadavg()]  # the machine is shared: say how busy it was
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        partial = partial_steps(exc.stderr, timeout)
        print(f"{label} scale {scale}: over the {timeout} s timeout; steps started before it (seconds, "
              f"the last unfinished): {partial}", flush=True)
        return {"scale": scale, "label": label, "timed_out": True, "timeout_s": timeout, "partial_steps": partial,
                "load_average_before": load_before, "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    if done.returncode:
        raise SystemExit(f"{label} scale {scale} failed:\n{done.stderr[-4000:]}")
    record = json.loads(done.stdout.strip().splitlines()[-1])
    record.update(scale=scale, label=label, subprocess_seconds=round(time.perf_counter() - t0, 1),
                  load_average_before=load_before, load_average_after=[round(x, 2) for x in os.getloadavg()])
    print(f"{label} scale {scale}: {record['wall_seconds']} s, {record['rows']:,} rows, "
          f"tables {record['tables_mb']}, load {load_before} -> {record['load_average_after']}", flush=True)
    return record


def partial_steps(stderr, timeout: float) -> dict:
    """Seconds of each step of a run killed at ``timeout``, from the start lines its progress printed
    (no memory: that is only in the manifest); the last, unfinished step is named ``STEP (unfinished)``.

    Example:
        >>> partial_steps('{"started": "a", "at_seconds": 1}\\n{"started": "b", "at_seconds": 5}\\n', 9)
        {'a': 4.0, 'b (unfinished)': 4.0}
    """
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    starts = []
    for line in (stderr or "").splitlines():
        if line.startswith('{"started"'):
            item = json.loads(line)
            starts.append((item["started"], float(item["at_seconds"])))
    out = {}
    for i, (name, at) in enumerate(starts):
        last = i + 1 == len(starts)
        end = float(timeout) if last else starts[i + 1][1]
        out[f"{name} (unfinished)" if last else name] = round(end - at, 1)
    return out


def slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log(y) on log(x); None with fewer than two points.

    Example:
        >>> round(slope([1, 2, 4], [3, 6, 12]), 6)
        1.0
    """
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len({p[0] for p in pts}) < 2:
        return None
    mx, my = sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)


def _rows(records: list[dict]) -> list[dict]:
    out = []
    for r in records:
        if r.get("timed_out"):
            continue
        for step, u in r["steps"].items():
            out.append({"label": r["label"], "step": step, "scale": r["scale"], "seconds": u["seconds"],
                        "peak_mb": u.get("peak_rss_mb"), "rows": r["rows"],
                        "rows_per_second": round(r["rows"] / u["seconds"]) if u["seconds"] else None})
    return out


def _machine() -> dict:
    return {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def _table(rows: list[dict], records: list[dict], baseline: bool) -> str:
    lines = [f"{'label':<9}{'step':<12}{'scale':>7}{'seconds':>10}{'peak MB':>9}{'rows':>13}{'rows/s':>12}"]
    for r in rows:
        lines.append(f"{r['label']:<9}{r['step']:<12}{r['scale']:>7}{r['seconds']:>10.2f}"
                     f"{r['peak_mb'] if r['peak_mb'] is not None else '-':>9}{r['rows']:>13,}"
                     f"{r['rows_per_second'] or 0:>12,}")
    lines.append("")
    for label in dict.fromkeys(r["label"] for r in rows):
        mine = [r for r in rows if r["label"] == label]
        lines.append(f"log-log slope of seconds on rows ({label}; 1 = linear):")
        for step in dict.fromkeys(r["step"] for r in mine):
            pts = [r for r in mine if r["step"] == step]
            s = slope([p["rows"] for p in pts], [p["seconds"] for p in pts])
            lines.append(f"  {step:<12}{'-' if s is None else f'{s:.2f}':>6}")
        done = [r for r in records if r["label"] == label and not r.get("timed_out")]
        s = slope([r["rows"] for r in done], [r["wall_seconds"] for r in done])
        lines.append(f"  {'whole run':<12}{'-' if s is None else f'{s:.2f}':>6}")
    for r in records:
        if r.get("timed_out"):
            lines.append(f"\n{r['label']} scale {r['scale']}: killed at the {r['timeout_s']} s timeout "
                         f"(load {r.get('load_average_before')} -> {r.get('load_average_after')}); seconds of the "
                         f"steps that started (the last includes start-up, unfinished):")
            for step, sec in (r.get("partial_steps") or {}).items():
                lines.append(f"  {step:<26}{sec:>8}")
    if baseline:
        lines.append("\nratio of seconds, baseline / this code (over 1: this code is faster):")
        base = {(r["step"], r["scale"]): r["seconds"] for r in rows if r["label"] == "baseline"}
        for r in rows:
            if r["label"] == "current" and (r["step"], r["scale"]) in base and r["seconds"]:
                lines.append(f"  {r['step']:<12} scale {r['scale']:<7} {base[(r['step'], r['scale'])] / r['seconds']:.2f}x")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--single", nargs=2, metavar=("PROTOCOL", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--scales", type=float, nargs="+", default=[0.005, 0.01, 0.02])
    ap.add_argument("--timeout", type=int, default=1800, help="seconds allowed per run (default 1800)")
    ap.add_argument("--baseline-ref", help="also run the code at this git ref, alternating (same-run baseline)")
    ap.add_argument("--extra", default="", help="TOML lines appended to the protocol (e.g. an [outputs] table)")
    ap.add_argument("--work", type=Path, help="keep the runs here (default: a temporary folder, removed)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results")
    ap.add_argument("--name", default="scale_run", help="file name stem of the results")
    args = ap.parse_args()
    if args.single:
        print(json.dumps(_single(Path(args.single[0]), Path(args.single[1]))))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="joinedup-scale-"))
    base_src = None
    try:
        if args.baseline_ref:
            base_src = Path(tempfile.mkdtemp(prefix="joinedup-base-"))
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline_ref, "src"],
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(base_src)], input=archive, check=True)
        machine, records = _machine(), []
        for scale in args.scales:
            if base_src:
                records.append(_run(scale, work, "baseline", str(base_src / "src"), args.timeout, args.extra))
            records.append(_run(scale, work, "current", None, args.timeout, args.extra))
        rows = _rows(records)
        text = _table(rows, records, bool(base_src))
        print(text)
        args.out.mkdir(parents=True, exist_ok=True)
        with open(args.out / f"{args.name}.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, ["label", "step", "scale", "seconds", "peak_mb", "rows", "rows_per_second"])
            writer.writeheader()
            writer.writerows(rows)
        (args.out / f"{args.name}.json").write_text(json.dumps(
            {"machine": machine, "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
             "baseline_ref": args.baseline_ref, "extra": args.extra, "runs": records}, indent=2) + "\n")
        (args.out / f"{args.name}.txt").write_text(f"{json.dumps(machine)}\n\n{text}", encoding="utf-8")
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
        if base_src:
            shutil.rmtree(base_src, ignore_errors=True)


if __name__ == "__main__":
    main()
