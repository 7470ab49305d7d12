"""Respondents autosaving against `joinedup serve`, on a SQLite file (the default set-up) or on a
throwaway PostgreSQL server on loopback (``--database postgresql``, started as tests/pg_server.py does).

Each simulated respondent (an asyncio task with its own token) posts its answers to
``/s/<token>/autosave`` in a loop, each time with a new counter in a free-text answer, and remembers the
last counter the server acknowledged (204). At the end every respondent's stored answer must carry a
counter at least as new as the last acknowledged one: zero lost writes. Latency p50/p95/p99 of the
acknowledged requests is printed.

Baselines in the same run:

* the floor: the same client at the same rate against ``benchmarks/autosave_floor_app.py``, the same
  route on the same stack (uvicorn, FastAPI, the form parser) answering 204 without doing anything,
  started right after the real server stops. Its latency is what the shared machine's load and the web
  stack give before any of joinedup's work; the ratio p95 real / p95 floor says how much is ours (near
  1: machine-bound; large: code-bound). ``--no-floor`` leaves it out.
* the same number of saves made directly through the store in this process (no HTTP, no
  concurrency), so the ratio shows what the web layer and concurrency cost per save.

    .venv/bin/python benchmarks/survey_autosave_benchmark.py --respondents 1000 --seconds 60 --interval 10 \
        [--database postgresql] [--workers 2] [--src /tmp/other-checkout/src --label before]

``--src`` runs the server from another checkout's source tree (on PYTHONPATH, ahead of this one's
editable install): the code of an earlier commit against the same client, database set-up and floor.

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
from urllib.parse import urlencode

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


class Connection:
    """One keep-alive HTTP/1.1 connection, as a respondent's browser tab keeps one.

    A minimal client on purpose: httpx's AsyncClient with 1,000 connections used 9.4 ms of CPU per
    save in this benchmark (the server 5.3 ms), on the same 2 cores as the server it measures, so the
    client's own load was most of what it measured. This one writes the request bytes and reads the status line,
    headers and ``Content-Length`` body of the answer (uvicorn always sends one), nothing more.
    """

    # uvicorn closes a connection idle for 5 s (its keep-alive timeout), so at a 10 s cadence, as in a
    # browser, each save opens a new connection (its connect time is part of the latency measured)
    KEEP_ALIVE_S = 4.0

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None
        self.last_used = 0.0

    async def post_form(self, path: str, fields: dict[str, str]) -> int:
        body = urlencode(fields).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        if self.writer is not None and time.perf_counter() - self.last_used > self.KEEP_ALIVE_S:
            self.close()
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        try:
            self.writer.write(head + body)
            headers = await self.reader.readuntil(b"\r\n\r\n")
            lines = headers.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            fields_in = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
            fields_in = {k.strip().lower(): v.strip() for k, v in fields_in.items()}
            await self.reader.readexactly(int(fields_in.get("content-length", "0")))
            self.last_used = time.perf_counter()
            if fields_in.get("connection", "").lower() == "close":
                self.close()
            return status
        except (OSError, asyncio.IncompleteReadError, ValueError):
            self.close()
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def respondent(host, port, pid, token, deadline, acked, latencies, interval, offset, failures):
    await asyncio.sleep(offset)  # respondents do not all start on the same millisecond
    csrf = token_csrf(bytes.fromhex(SECRET), token)
    conn = Connection(host, port)
    k = 0
    while time.perf_counter() < deadline:
        k += 1
        data = {"csrf": csrf, "achievements": f"{pid} save {k}", "prog_quality": "some", "bar_financial": "minor"}
        t0 = time.perf_counter()
        try:
            status = await asyncio.wait_for(conn.post_form(f"/s/{token}/autosave", data), 60)
        except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError):
            conn.close()
            failures.append("error")
            await asyncio.sleep(interval)
            continue
        if status == 204:
            latencies.append(time.perf_counter() - t0)
            acked[pid] = k
        else:
            failures.append(str(status))
        await asyncio.sleep(interval)
    conn.close()


async def loop_lag(deadline, lags, step=0.1):
    """How late the client's own event loop wakes (a busy client adds this to every latency it sees)."""
    while time.perf_counter() < deadline:
        t = time.perf_counter()
        await asyncio.sleep(step)
        lags.append(time.perf_counter() - t - step)


async def load(host, port, tokens, seconds, interval):
    acked, latencies, failures, lags = {}, [], [], []
    deadline = time.perf_counter() + seconds
    rng = np.random.default_rng(1)
    await asyncio.gather(loop_lag(deadline, lags),
                         *(respondent(host, port, pid, tok, deadline, acked, latencies, interval,
                                      float(rng.uniform(0, interval)), failures)
                           for pid, tok in tokens.items()))
    return acked, latencies, failures, lags


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--respondents", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--interval", type=float, default=10.0,
                    help="seconds between a respondent's saves (the page autosaves every 10 s; 0.5 is a stress test)")
    ap.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--workers", type=int, default=None, help="joinedup serve --workers (default: not passed)")
    ap.add_argument("--src", type=Path, default=None,
                    help="source tree the server runs from (another checkout's src/; default: this one's)")
    ap.add_argument("--label", default="", help="added to the result file names, e.g. before or after")
    ap.add_argument("--no-floor", action="store_true", help="leave out the floor run (see the module docstring)")
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
        run(args, url, baseline_url, pg)
    finally:
        if pg is not None:
            pg.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_cpu(pg) -> float | None:
    """CPU seconds used so far by the PostgreSQL server and its backends (None on SQLite: in-process)."""
    if pg is None:
        return None
    import psutil

    postmaster = psutil.Process(int((pg.data / "postmaster.pid").read_text().split()[0]))
    total = 0.0
    for p in [postmaster, *postmaster.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            pass
    return total


def serve_and_load(cmd: list[str], env: dict, port: int, tokens: dict, args, pg=None) -> dict:
    """Start a server (``cmd``), wait until it answers, run the respondents against it, stop it."""
    # new sessions so a server's workers are all found (and stopped) through its process group
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    # start-up can take a minute on the busy shared machine (imports compiled afresh when no .pyc is kept)
    for _ in range(1200):
        try:
            httpx.get(f"{base}/admin/login", timeout=0.5)
            break
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited ({proc.returncode}) before answering: {' '.join(cmd)}")
            time.sleep(0.1)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        raise SystemExit("the server did not start within 2 minutes")
    import psutil

    server = psutil.Process(proc.pid)

    def server_cpu() -> float:  # the server and its workers (uvicorn --workers forks children)
        total = 0.0
        for p in [server, *server.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    try:
        time.sleep(1.0)  # workers up (the first to answer need not be the last to start)
        t0 = time.perf_counter()
        client_cpu0, server_cpu0, db_cpu0 = time.process_time(), server_cpu(), database_cpu(pg)
        load_before = os.getloadavg()
        acked, latencies, failures, lags = asyncio.run(load("127.0.0.1", port, tokens, args.seconds, args.interval))
        wall = time.perf_counter() - t0
        # CPU seconds used by the load (client) and by the server: on 2 shared cores a client that
        # burns a core of its own slows the server it measures, and says so here
        client_cpu, server_cpu_s = time.process_time() - client_cpu0, server_cpu() - server_cpu0
        db_cpu_s = None if pg is None else database_cpu(pg) - db_cpu0
        load_after = os.getloadavg()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    lat = np.array(latencies) * 1000 if latencies else np.array([np.nan])
    n = len(latencies)
    return {
        "acked": acked, "seconds": round(wall, 1), "failed_requests": len(failures),
        "failed_by_kind": {k: failures.count(k) for k in sorted(set(failures))}, "acknowledged_saves": n,
        "saves_per_second": round(n / wall, 1),
        "latency_ms": {q: round(float(np.percentile(lat, int(q[1:]))), 1) for q in ("p50", "p95", "p99")},
        "load": [round(load_before[0], 2), round(load_after[0], 2)],
        "cpu_seconds": {"client": round(client_cpu, 1), "server": round(server_cpu_s, 1),
                        "database": None if db_cpu_s is None else round(db_cpu_s, 1)},
        "cpu_ms_per_save": {"client": round(client_cpu * 1000 / max(n, 1), 2),
                            "server": round(server_cpu_s * 1000 / max(n, 1), 2),
                            "database": None if db_cpu_s is None else round(db_cpu_s * 1000 / max(n, 1), 2)},
        "client_loop_lag_ms": {"p50": round(float(np.percentile(lags, 50)) * 1000, 1),
                               "p95": round(float(np.percentile(lags, 95)) * 1000, 1)},
    }


def run(args, url: str, baseline_url: str, pg=None) -> None:
    tokens = setup(url, args.respondents)
    port = _free_port()
    env = {**os.environ, "JOINEDUP_SECRET": SECRET}
    src = (args.src or HERE.parent / "src").resolve()
    if args.src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    cmd = [str(Path(sys.executable).parent / "joinedup"), "serve", "--store", url, "--port", str(port)]
    if args.workers is not None:
        cmd += ["--workers", str(args.workers)]
    real = serve_and_load(cmd, env, port, tokens, args, pg)
    acked = real.pop("acked")
    store = SurveyStore(url)
    lost = 0
    for pid, k in acked.items():
        stored = int(store.answers(pid, 1)["achievements"].rsplit(" ", 1)[1])
        lost += stored < k
    floor = None
    if not args.no_floor:
        port = _free_port()
        floor = serve_and_load([sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "autosave_floor_app:app",
                                "--port", str(port)], {**os.environ}, port, tokens, args)
        floor.pop("acked")
    # baseline: the same number of saves straight into the store, one at a time, no HTTP
    base_tokens = setup(baseline_url, args.respondents)
    base_store = SurveyStore(baseline_url)
    n = min(real["acknowledged_saves"], 2000)
    items = list(base_tokens.items())
    t0 = time.perf_counter()
    for i in range(n):
        pid, tok = items[i % len(items)]
        base_store.save_response(tok, {"achievements": f"{pid} save {i}"}, final=False)
    per_save_direct = (time.perf_counter() - t0) / max(n, 1)
    git = subprocess.run(["git", "-C", str(src), "log", "-1", "--format=%h %s"], check=False, capture_output=True,
                         text=True)
    result = {
        "database": args.database, "respondents": args.respondents, "interval_s": args.interval,
        "server": {"src": str(src), "commit": git.stdout.strip()[:90], "workers": args.workers,
                   "dirty": bool(subprocess.run(["git", "-C", str(src), "status", "--porcelain", "--", "."],
                                                check=False, capture_output=True, text=True).stdout.strip())},
        **real, "lost_writes": lost, "respondents_with_an_acknowledged_save": len(acked),
        "floor": floor,
        "ratio_p95_over_floor": round(real["latency_ms"]["p95"] / floor["latency_ms"]["p95"], 1) if floor else None,
        "baseline_direct_store_ms_per_save": round(per_save_direct * 1000, 2),
        "ratio_p50_http_over_direct": round(real["latency_ms"]["p50"] / (per_save_direct * 1000), 1),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        # saves the page's cadence asks for in this time (each respondent from its first save on)
        "cadence_target_saves": int(args.respondents * args.seconds / args.interval),
    }
    db = "SQLite, WAL" if args.database == "sqlite" else "PostgreSQL 15 on loopback"
    lat, fl = real["latency_ms"], floor["latency_ms"] if floor else None
    text = (f"{args.respondents} respondents autosaving every {args.interval:g} s for {real['seconds']:.0f} s against "
            f"joinedup serve ({db}{f', {args.workers} workers' if args.workers else ''}); server code: "
            f"{result['server']['commit']}{' (with uncommitted changes)' if result['server']['dirty'] else ''}\n"
            f"load average {real['load'][0]} at the start, {real['load'][1]} at the end "
            f"({os.cpu_count()} cores, shared)\n"
            f"acknowledged saves {real['acknowledged_saves']:,} ({real['saves_per_second']:.0f}/s); lost writes {lost}; "
            f"failed requests {real['failed_requests']} {real['failed_by_kind'] or ''}\n"
            f"latency p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms\n"
            + (f"floor (autosave_floor_app: same route and stack, no work), right after, load {floor['load'][0]}-"
               f"{floor['load'][1]}: p50 {fl['p50']} ms, p95 {fl['p95']} ms, p99 {fl['p99']} ms, "
               f"{floor['acknowledged_saves']:,} answered, {floor['failed_requests']} failed, server CPU "
               f"{floor['cpu_ms_per_save']['server']} ms/request; ratio p95 joinedup / floor: "
               f"{result['ratio_p95_over_floor']}x\n" if floor else "")
            + f"baseline: a save straight into the store {result['baseline_direct_store_ms_per_save']} ms; "
            f"ratio p50 over HTTP with {args.respondents} concurrent / direct: {result['ratio_p50_http_over_direct']}x\n"
            f"CPU: client {real['cpu_seconds']['client']} s ({real['cpu_ms_per_save']['client']} ms/save), server "
            f"{real['cpu_seconds']['server']} s ({real['cpu_ms_per_save']['server']} ms/save)"
            + (f", PostgreSQL {real['cpu_seconds']['database']} s ({real['cpu_ms_per_save']['database']} ms/save)"
               if pg is not None else "")
            + f" of {real['seconds']:.0f} s x {os.cpu_count()} cores\n"
            f"client event loop late by p50 {real['client_loop_lag_ms']['p50']} ms, p95 "
            f"{real['client_loop_lag_ms']['p95']} ms (part of every latency above); the cadence asks for "
            f"{result['cadence_target_saves']:,} saves\n"
            f"machine: {result['machine']}")
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    suffix = f"_every_{args.interval:g}s".replace(".", "_")
    if args.database != "sqlite" or args.respondents != 200:
        suffix = f"_{args.database}_{args.respondents}{suffix}"
    if args.workers:
        suffix += f"_{args.workers}_workers"
    if args.label:
        suffix = f"_{args.label}{suffix}"
    out = args.out.with_name(args.out.name + suffix)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
