"""HES APC import: `joinedup import hes-apc` (DuckDB SQL, spills to disk) against a plain pandas reader
doing the core of the same work, on the same synthetic pipe-delimited extract, in the same run.

The extract: ``--episodes`` episodes (default 1,000,000) in spells of 1-3 episodes, 0.5% exact
duplicates with a new EPIKEY, 1% transfers (ADMIMETH 2B from DISDEST 51). Each reader runs in its own
Python process so its peak resident memory (ru_maxrss) is its own. The pandas baseline reads all
columns as text, drops duplicates but EPIKEY, parses dates, fills ADMIDATE, groups episodes into
provider spells (first/last episode facts) and links transfers into CIPS with shift(); it does not
reject, exclude or pseudonymise, so it does less than the importer. Both must find the same spells.

    .venv/bin/python benchmarks/hes_import_benchmark.py --episodes 1000000 --out benchmarks/results/hes_import.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KEY = b"benchmark key, not a secret ...."


def make_extract(path: Path, episodes: int) -> None:
    """A synthetic HES APC extract with HES field names (DuckDB generates it)."""
    import duckdb

    spells = episodes // 2
    con = duckdb.connect()
    con.execute(f"""COPY (
      WITH s AS (SELECT i AS spell, i % {max(spells // 3, 1)} AS person, 1 + (hash(i) % 3)::INT AS n_ep,
                   DATE '2014-04-01' + CAST(hash(i * 7) % 700 AS INTEGER) AS adm,
                   (hash(i * 11) % 100) = 0 AS transfer FROM range({spells}) t(i)),
      e AS (SELECT s.*, k AS epiorder FROM s, range(1, 4) r(k) WHERE k <= n_ep),
      rows AS (SELECT 'H' || person AS HESID, row_number() OVER () AS EPIKEY,
        'R' || (spell % 40)::VARCHAR AS PROCODE3, strftime(adm, '%Y-%m-%d') AS ADMIDATE, epiorder AS EPIORDER,
        strftime(adm + CAST(2 * (epiorder - 1) AS INTEGER), '%Y-%m-%d') AS EPISTART, strftime(adm + CAST(2 * epiorder AS INTEGER), '%Y-%m-%d') AS EPIEND,
        '3' AS EPISTAT, CASE WHEN epiorder = n_ep THEN strftime(adm + CAST(2 * n_ep AS INTEGER), '%Y-%m-%d') END AS DISDATE,
        CASE WHEN epiorder = n_ep THEN 'Y' ELSE 'N' END AS SPELEND,
        CASE WHEN transfer THEN '2B' WHEN spell % 3 = 0 THEN '11' ELSE '21' END AS ADMIMETH,
        CASE WHEN transfer THEN '51' ELSE '19' END AS ADMISORC,
        CASE WHEN epiorder = n_ep THEN '19' ELSE '98' END AS DISDEST, '1' AS DISMETH, '1' AS CLASSPAT,
        (20 + spell % 70)::VARCHAR AS STARTAGE, (1 + spell % 2)::VARCHAR AS SEX, 'I50' || (spell % 10)::VARCHAR AS DIAG_4_01,
        'E119' AS DIAG_4_02, 'I10X' AS DIAG_4_03, '-' AS OPERTN_4_01,
        'E0600000' || (spell % 9)::VARCHAR AS RESLADST_ONS, 'A8100' || (spell % 10)::VARCHAR AS GPPRAC FROM e)
      SELECT * FROM rows UNION ALL
      SELECT * REPLACE (EPIKEY + 100000000 AS EPIKEY) FROM rows WHERE EPIKEY % 200 = 0
    ) TO '{path}' (HEADER, DELIMITER '|')""")


def run_joinedup(path: str, out: str) -> dict:
    from joinedup.data.importers import import_hes_apc

    report = import_hes_apc([path], out, KEY, memory_limit="1GB")
    return {"read": report.read, "spells": report.written,
            "deduplicated": sum(report.deduplicated.values())}


def run_pandas(path: str, out: str) -> dict:
    import pandas as pd

    ep = pd.read_csv(path, sep="|", dtype=str, keep_default_na=False)
    read = len(ep)
    ep = ep.drop_duplicates(subset=[c for c in ep.columns if c != "EPIKEY"])
    for c in ("ADMIDATE", "EPISTART", "EPIEND", "DISDATE"):
        ep[c] = pd.to_datetime(ep[c].replace("", None), format="%Y-%m-%d", errors="coerce")
    ep["EPIORDER"] = pd.to_numeric(ep["EPIORDER"])
    ep = ep.sort_values(["HESID", "PROCODE3", "EPISTART", "EPIORDER"])
    ep["new"] = (ep["EPIORDER"] == 1) | (ep["SPELEND"].shift() == "Y") | (ep["HESID"] != ep["HESID"].shift()) | (
        ep["PROCODE3"] != ep["PROCODE3"].shift())
    ep["spell"] = ep["new"].cumsum()
    ep["ADMIDATE"] = ep["ADMIDATE"].fillna(ep.groupby("spell")["EPISTART"].transform("min"))
    first = ep.groupby("spell").first()
    last = ep[ep["SPELEND"] == "Y"].set_index("spell")[["DISDATE", "DISDEST"]]
    spells = first.drop(columns=["DISDATE", "DISDEST"]).join(last).sort_values(["HESID", "ADMIDATE"])
    prev_disc, prev_dest = spells["DISDATE"].shift(), spells["DISDEST"].shift()
    gap = (spells["ADMIDATE"] - prev_disc).dt.days
    linked = (spells["HESID"] == spells["HESID"].shift()) & gap.between(0, 2) & (
        prev_dest.isin(["51", "52", "53"]) | spells["ADMISORC"].isin(["51", "52", "53"])
        | spells["ADMIMETH"].isin(["2B", "81"]))
    spells["cips"] = (~linked).cumsum()
    spells.reset_index().to_parquet(Path(out) / "spells.parquet")
    return {"read": read, "spells": len(spells), "deduplicated": read - len(ep)}


def _child(which: str, path: str, out: str) -> None:
    Path(out).mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    result = (run_joinedup if which == "joinedup" else run_pandas)(path, out)
    result["seconds"] = round(time.perf_counter() - t0, 2)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--child", nargs=3)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="hes-bench-") as tmp:
        path = Path(tmp) / "hes_apc.txt"
        make_extract(path, args.episodes)
        size_mb = path.stat().st_size / 2**20
        results = {}
        for which in ("pandas", "joinedup"):
            done = subprocess.run([sys.executable, __file__, "--child", which, str(path), str(Path(tmp) / which)],
                                  check=True, capture_output=True, text=True)
            results[which] = json.loads(done.stdout.strip().splitlines()[-1])
    j, p = results["joinedup"], results["pandas"]
    assert j["read"] == p["read"] and j["spells"] == p["spells"], (j, p)
    lines = [
        (f"HES APC import, synthetic pipe-delimited extract: {j['read']:,} episodes ({size_mb:.0f} MB), "
        f"{j['deduplicated']:,} duplicates, {j['spells']:,} spells (both readers agree)"),
        (f"joinedup import hes-apc (DuckDB, 1GB memory limit): {j['seconds']:7.2f} s  "
        f"{j['read'] / j['seconds']:>10,.0f} episodes/s  peak RSS {j['peak_rss_mb']:,.0f} MB"),
        (f"pandas reader (core steps only):                  {p['seconds']:7.2f} s  "
        f"{p['read'] / p['seconds']:>10,.0f} episodes/s  peak RSS {p['peak_rss_mb']:,.0f} MB"),
        (f"ratio pandas / joinedup time: {p['seconds'] / j['seconds']:.2f}x; "
        f"peak memory ratio: {p['peak_rss_mb'] / j['peak_rss_mb']:.2f}x"),
        f"machine: {platform.platform()}, {os.cpu_count()} cpus, load at end {os.getloadavg()[0]:.2f}",
    ]
    print("\n".join(lines))
    if args.out:
        args.out.write_text(json.dumps({"results": results, "size_mb": round(size_mb, 1), "report": lines},
                                       indent=2) + "\n")
        args.out.with_suffix(".txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
