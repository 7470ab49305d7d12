"""Respondents autosaving against `joinedup serve`, on a SQLite file (the default set-up) or on a
throwaway PostgreSQL server on loopback (``--database postgresql``, started as tests/pg_server.py does).

Each simulated respondent (an asyncio task with its own token) posts its answers to
``/s/<token>/autosave`` in a loop, each time with a new counter in a free-text answer, and remembers the
last counter the server acknowledged (204). At the end every respondent's stored answer must carry a
counter at least as new as the last acknowledged one: zero lost writes. Latency p50/p95/p99 of the
acknowledged requests is printed.

Baseline in the same run: the same number of saves made directly through the store in this process
(no HTTP, no concurrency), so the ratio shows what the web layer and concurrency cost per save.

    .venv/bin/python benchmarks/survey_autosave_benchmark.py --respondents 1000 --seconds 60 --interval 10 \
        [--database postgresql]

Issue 15's bar: 1,000 respondents at the page's cadence (an autosave every 10 s) with p95 < 500 ms
and zero lost writes, on SQLite and on PostgreSQL. Failed requests (errors, 5xx) are counted too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent))  # tests/pg_server.py starts the throwaway PostgreSQL server

from joinedup.survey.roster import read_roster
from joinedup.survey.store import SurveyStore
from joinedup.web.security import token_csrf

SECRET = "cd" * 32


def setup(url: str, n: int) -> dict[str, str]:
    store = SurveyStore(url)
    store.create()
    roster = pd.DataFrame({"panelist_id": [f"p{i:04d}" for i in range(n)], "name": "x",
                           "email": [f"p{i}@example.org" for i in range(n)], "pioneer": "Barnsley",
                           "org_type": "la", "role": "", "is_lead": "no"})
    store.upsert_panelists(read_roster(roster))
    store.create_wave(1, "pioneer_ki_survey", "2015-06-01", "2099-07-31")
    store.set_wave_status(1, "open")
    return store.issue_tokens(1)


async def respondent(client, base, pid, token, deadline, acked, latencies, interval, offset, failures):
    await asyncio.sleep(offset)  # respondents do not all start on the same millisecond
    csrf = token_csrf(bytes.fromhex(SECRET), token)
    k = 0
    while time.perf_counter() < deadline:
        k += 1
        data = {"csrf": csrf, "achievements": f"{pid} save {k}", "prog_quality": "some", "bar_financial": "minor"}
        t0 = time.perf_counter()
        try:
            r = await client.post(f"{base}/s/{token}/autosave", data=data)
        except httpx.HTTPError:
            failures.append("error")
            await asyncio.sleep(interval)
            continue
        if r.status_code == 204:
            latencies.append(time.perf_counter() - t0)
            acked[pid] = k
        else:
            failures.append(str(r.status_code))
        await asyncio.sleep(interval)


async def load(base, tokens, seconds, interval):
    acked, latencies, failures = {}, [], []
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=len(tokens))
    rng = np.random.default_rng(1)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await asyncio.gather(*(respondent(client, base, pid, tok, deadline, acked, latencies, interval,
                                          float(rng.uniform(0, interval)), failures)
                               for pid, tok in tokens.items()))
    return acked, latencies, failures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--respondents", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--interval", type=float, default=10.0,
                    help="seconds between a respondent's saves (the page autosaves every 10 s; 0.5 is a stress test)")
    ap.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "survey_autosave")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    pg = None
    if args.database == "postgresql":
        from tests.pg_server import PgServer

        pg = PgServer()
        url, baseline_url = pg.create_database("bench"), pg.create_database("baseline")
    else:
        url, baseline_url = f"sqlite:///{tmp / 'survey.db'}", f"sqlite:///{tmp / 'baseline.db'}"
    try:
        run(args, url, baseline_url)
    finally:
        if pg is not None:
            pg.stop()


def run(args, url: str, baseline_url: str) -> None:
    tokens = setup(url, args.respondents)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "JOINEDUP_SECRET": SECRET}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "joinedup"), "serve", "--store", url, "--port",
                             str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{base}/admin/login", timeout=0.5)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    try:
        t0 = time.perf_counter()
        acked, latencies, failures = asyncio.run(load(base, tokens, args.seconds, args.interval))
        wall = time.perf_counter() - t0
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
    store = SurveyStore(url)
    lost = 0
    for pid, k in acked.items():
        stored = int(store.answers(pid, 1)["achievements"].rsplit(" ", 1)[1])
        lost += stored < k
    lat = np.array(latencies) * 1000
    # baseline: the same number of saves straight into the store, one at a time, no HTTP
    base_tokens = setup(baseline_url, args.respondents)
    base_store = SurveyStore(baseline_url)
    n = min(len(lat), 2000)
    items = list(base_tokens.items())
    t0 = time.perf_counter()
    for i in range(n):
        pid, tok = items[i % len(items)]
        base_store.save_response(tok, {"achievements": f"{pid} save {i}"}, final=False)
    per_save_direct = (time.perf_counter() - t0) / n
    result = {
        "database": args.database, "respondents": args.respondents, "seconds": round(wall, 1),
        "failed_requests": len(failures), "failed_by_kind": {k: failures.count(k) for k in sorted(set(failures))}, "acknowledged_saves": len(lat),
        "saves_per_second": round(len(lat) / wall, 1), "lost_writes": lost,
        "respondents_with_an_acknowledged_save": len(acked),
        "latency_ms": {"p50": round(float(np.percentile(lat, 50)), 1), "p95": round(float(np.percentile(lat, 95)), 1),
                       "p99": round(float(np.percentile(lat, 99)), 1)},
        "baseline_direct_store_ms_per_save": round(per_save_direct * 1000, 2),
        "ratio_p50_http_over_direct": round(float(np.percentile(lat, 50)) / (per_save_direct * 1000), 1),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_at_end": os.getloadavg()[0]},
    }
    result["interval_s"] = args.interval
    db = "SQLite, WAL" if args.database == "sqlite" else "PostgreSQL 15 on loopback"
    text = (f"{args.respondents} respondents autosaving every {args.interval:g} s for {wall:.0f} s against joinedup serve ({db})\n"
            f"acknowledged saves {len(lat):,} ({len(lat) / wall:.0f}/s); lost writes {lost}; failed requests {len(failures)}\n"
            f"latency p50 {result['latency_ms']['p50']} ms, p95 {result['latency_ms']['p95']} ms, "
            f"p99 {result['latency_ms']['p99']} ms\n"
            f"baseline: a save straight into the store {result['baseline_direct_store_ms_per_save']} ms; "
            f"ratio p50 over HTTP with {args.respondents} concurrent / direct: {result['ratio_p50_http_over_direct']}x\n"
            f"machine: {result['machine']}")
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    suffix = f"_every_{args.interval:g}s".replace(".", "_")
    if args.database != "sqlite" or args.respondents != 200:
        suffix = f"_{args.database}_{args.respondents}{suffix}"
    out = args.out.with_name(args.out.name + suffix)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
