"""Qualitative workbench speed (issue 19): a project of 300 transcripts of 10,000 words with 20,000
codings in a SQLite store; time to open a source (the whole page, through the app: session check,
source, visible codings, the text cut into pieces, the template) and to answer a retrieval by code
and attribute (the retrieve page), each against a same-run baseline: a bare primary-key
``SELECT text`` of the same source on the same database.

Targets from the issue: open a source < 300 ms, retrieval < 200 ms.

    .venv/bin/python benchmarks/qual_benchmark.py            # full size
    .venv/bin/python benchmarks/qual_benchmark.py --sources 30 --codings 2000   # a quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

WORDS = ("care", "team", "integration", "budget", "staff", "records", "patients", "hospital", "council", "plan",
         "pioneer", "shared", "community", "discharge", "workforce", "we", "the", "and", "was", "it")
SPEAKERS = ("Interviewer", "Lead")


def transcript(rng: random.Random, words: int) -> str:
    lines, n = [], 0
    while n < words:
        k = rng.randint(20, 120)
        lines.append(f"{SPEAKERS[len(lines) % 2]}: " + " ".join(rng.choice(WORDS) for _ in range(k)))
        n += k
    return "\n".join(lines)


def build(url: str, sources: int, words: int, codings: int, seed: int = 19):
    from joinedup.qual.projects import Workbench
    from joinedup.qual.schema import CODINGS
    from joinedup.survey.store import SurveyStore

    rng = random.Random(seed)
    store = SurveyStore(url)
    store.create()
    store.add_user("lead", "a long enough password", "lead")
    wb = Workbench(store)
    pid = wb.create_project("Benchmark (simulated transcripts)", "lead")
    wb.add_member(pid, "lead", "lead", "lead")
    themes = [wb.create_code(pid, f"Theme {i}", "lead") for i in range(8)]
    codes = themes + [wb.create_code(pid, f"Code {i}.{j}", "lead", parent_id=t) for i, t in enumerate(themes) for j in range(4)]
    sites = [f"Site {i}" for i in range(25)]
    ids, lengths = [], {}
    for i in range(sources):
        text = transcript(rng, words)
        sid = wb.add_source(pid, f"interview {i:03d}", text, "transcript", "lead", case=f"case {i:03d}",
                            attributes={"site": sites[i % 25], "wave": str(2015 + i % 3)})
        ids.append(sid)
        lengths[sid] = len(text)
    rows = []
    now = dt.datetime(2017, 1, 1)
    for k in range(codings):
        sid = rng.choice(ids)
        start = rng.randrange(0, lengths[sid] - 400)
        rows.append({"project_id": pid, "source_id": sid, "start": start, "end": start + rng.randint(20, 400),
                     "code_id": rng.choice(codes), "coder": rng.choice(("ann", "bob", "lead")), "status": "blind",
                     "created_at": now + dt.timedelta(seconds=k)})
    with store.engine.begin() as c:
        c.execute(sa.insert(CODINGS), rows)
    return wb, pid, ids, themes


def timed(fn, repeat: int) -> float:
    fn()  # warm
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=int, default=300)
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--codings", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=15)
    a = parser.parse_args()
    from fastapi.testclient import TestClient

    from joinedup.qual.schema import SOURCES
    from joinedup.web.app import create_app
    from joinedup.web.config import WebSettings

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        t0 = time.perf_counter()
        wb, pid, ids, themes = build(url, a.sources, a.words, a.codings)
        print(f"built {a.sources} transcripts x {a.words:,} words, {a.codings:,} codings in {time.perf_counter() - t0:.1f} s")
        app = create_app(WebSettings(store_url=url))
        client = TestClient(app)
        form = client.get("/admin/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        client.post("/admin/login", data={"username": "lead", "password": "a long enough password", "csrf": csrf})
        sid = ids[len(ids) // 2]
        engine = app.state.ctx.store.engine

        def baseline():
            with engine.connect() as c:
                c.execute(sa.select(SOURCES.c.text).where(SOURCES.c.id == sid)).scalar()

        def open_source():
            r = client.get(f"/coding/{pid}/sources/{sid}")
            assert r.status_code == 200

        def retrieve():
            r = client.get(f"/coding/{pid}/retrieve?code={themes[3]}&attribute=site&value=Site+7")
            assert r.status_code == 200 and "segment" in r.text

        base = timed(baseline, a.repeat)
        for label, fn, target in (("open a source", open_source, 0.300), ("retrieve by code and attribute", retrieve, 0.200)):
            t = timed(fn, a.repeat)
            print(f"{label}: median {t * 1000:.1f} ms (target < {target * 1000:.0f} ms: {'met' if t < target else 'NOT met'}); "
                  f"baseline SELECT {base * 1000:.2f} ms; ratio {t / base:.0f}x")


if __name__ == "__main__":
    main()
