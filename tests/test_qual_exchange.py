"""REFI-QDA round trip of a workbench project (every source, code, coding span and memo kept) and
the `joinedup coding` commands against a real SQLite store.
"""

import subprocess
import sys

import pytest

from joinedup.qual.exchange import export_refi, import_refi
from joinedup.qual.projects import Workbench
from joinedup.survey.store import SurveyStore


@pytest.fixture
def wb(tmp_path):
    store = SurveyStore(f"sqlite:///{tmp_path / 'q.db'}")
    store.create()
    wb = Workbench(store)
    pid = wb.create_project("Interviews", "lead")
    s1 = wb.add_source(pid, "leeds", "Interviewer: Why?\nLead: Staff <b>and</b> records 😀.", "transcript", "lead",
                       case="Leeds lead", attributes={"site": "Leeds", "wave": "2017"})
    s2 = wb.add_source(pid, "plan", "The plan: integrate =SUM(A1) budgets.", "text", "lead")
    top = wb.create_code(pid, "Barriers", "lead", description="What held schemes back")
    staff = wb.create_code(pid, "Workforce", "lead", parent_id=top)
    money = wb.create_code(pid, "Money", "lead")
    c1, _ = wb.add_coding(pid, s1, 24, 29, staff, "ann", "ann")
    wb.add_coding(pid, s1, 24, 51, top, "bob", "bob")
    wb.add_coding(pid, s2, 10, 37, money, "lead", "lead", status="agreed")
    wb.add_memo(pid, "coding", c1, "Staff means care workers here", "ann")
    wb.add_memo(pid, "source", s1, "Recorded in 2017", "lead")
    wb.add_memo(pid, "code", money, "Pooled budgets", "lead")
    wb.add_memo(pid, "project", pid, "Wave 2 interviews", "lead")
    wb.pid = pid
    return wb


def _snapshot(wb, pid):
    names = {s["id"]: s["name"] for s in wb.sources(pid)}
    codes = {c["id"]: c for c in wb.codes(pid)}
    codings = {c["id"]: (names[c["source_id"]], c["start"], c["end"], c["code"], c["coder"])
               for c in wb.visible_codings(pid, "", "lead")}
    memo_target = {"source": lambda i: names[i], "code": lambda i: codes[i]["name"], "coding": lambda i: codings[i],
                   "project": lambda i: "project"}
    return {"sources": {n: (wb.source(pid, i)["text"], wb.source(pid, i)["case"]) for i, n in names.items()},
            "cases": sorted((c["name"], sorted(c["attributes"].items())) for c in wb.cases(pid)),
            "codes": sorted((c["path"], c["description"]) for c in codes.values()),
            "codings": sorted(codings.values()),
            "memos": sorted((m["target"], str(memo_target[m["target"]](m["target_id"])), m["text"]) for m in wb.memos(pid))}


def test_refi_round_trip_keeps_everything(wb, tmp_path):
    path = export_refi(wb, wb.pid, tmp_path / "p.qdpx")
    again = import_refi(wb, path, "Interviews (copy)", "lead")
    before, after = _snapshot(wb, wb.pid), _snapshot(wb, again)
    assert after == before
    assert len(before["codings"]) == 3 and len(before["memos"]) == 4  # the comparison is not of empty sets


def test_cli_exports_imports_and_writes_matrix_and_codebook(wb, tmp_path):
    store = wb.store.url
    cli = [sys.executable, "-m", "joinedup.cli"]
    def run(*args):
        return subprocess.run([*cli, "coding", *args], capture_output=True, text=True, timeout=120, check=False)

    r = run("export-refi", "--store", store, "--project", "Interviews", "--out", str(tmp_path / "x.qdpx"))
    assert r.returncode == 0, r.stderr
    r = run("import-refi", "--store", store, "--file", str(tmp_path / "x.qdpx"), "--project", "Copy")
    assert r.returncode == 0 and "imported" in r.stdout, r.stderr
    assert _snapshot(wb, wb.project_id("Copy")) == _snapshot(wb, wb.pid)
    r = run("matrix", "--store", store, "--project", "Interviews", "--by", "site", "--out", str(tmp_path / "m.xlsx"))
    assert r.returncode == 0 and (tmp_path / "m.xlsx").stat().st_size > 0, r.stderr
    r = run("codebook", "--store", store, "--project", "Interviews", "--out", str(tmp_path / "book.csv"))
    assert r.returncode == 0 and "Barriers,Barriers,,What held schemes back" in (tmp_path / "book.csv").read_text()
    r = run("matrix", "--store", store, "--project", "Nope", "--out", str(tmp_path / "n.xlsx"))
    assert r.returncode == 1 and "no project called 'Nope'" in r.stderr
    (tmp_path / "bad.qdpx").write_bytes(b"not a zip")
    r = run("import-refi", "--store", store, "--file", str(tmp_path / "bad.qdpx"), "--project", "Bad")
    assert r.returncode == 1 and "bad.qdpx" in r.stderr and "Traceback" not in r.stderr
