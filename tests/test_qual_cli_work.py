"""`joinedup coding new-project | add-source | retrieve | frequencies | agreement` against a real SQLite
store: a project made and filled from the command line, segments by code and two case attributes,
frequencies and span agreement equal to values worked out by hand (the hand computation of
tests/test_qual_agreement.py: x codes [0, 5), y codes [2, 6) of 10 characters: kappa 0.4, alpha
42/99), CSV cells that look like formulas neutralised, bad input refused with the reason.
"""

import pandas as pd
import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.qual.projects import Workbench
from joinedup.survey.store import SurveyStore


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    SurveyStore(url).create()
    return url


def run(*args):
    return CliRunner().invoke(app, ["coding", *args])


def test_a_project_from_the_command_line(url, tmp_path):
    r = run("new-project", "--store", url, "--project", "Interviews", "--description", "Wave 1")
    assert r.exit_code == 0 and "created" in r.output, r.output
    files = {"a.txt": "=SUM(A1) staff.", "b.txt": "Interviewer: Why?\nLead: Staff.", "c.txt": "Staff staff."}
    cases = {"a.txt": ["org_type=ccg", "wave=2017"], "b.txt": ["org_type=ccg", "wave=2016"],
             "c.txt": ["org_type=council", "wave=2017"]}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        args = [a for kv in cases[name] for a in ("--attribute", kv)]
        r = run("add-source", "--store", url, "--project", "Interviews", "--file", str(tmp_path / name),
                "--case", f"case {name[0]}", *args)
        assert r.exit_code == 0 and "added" in r.output, r.output
    wb = Workbench(SurveyStore(url))
    pid = wb.project_id("Interviews")
    assert {s["name"]: s["kind"] for s in wb.sources(pid)} == {"a": "text", "b": "transcript", "c": "text"}
    ids = {s["name"]: s["id"] for s in wb.sources(pid)}
    barriers = wb.create_code(pid, "Barriers", "lead")
    staff = wb.create_code(pid, "Workforce", "lead", parent_id=barriers)
    wb.add_coding(pid, ids["a"], 0, 8, staff, "x", "x")      # "=SUM(A1)"
    wb.add_coding(pid, ids["b"], 24, 29, staff, "x", "x")
    wb.add_coding(pid, ids["c"], 0, 5, barriers, "y", "y")
    out = tmp_path / "seg.csv"
    r = run("retrieve", "--store", url, "--project", "Interviews", "--code", "Barriers",
            "--where", "org_type=ccg", "--where", "wave=2017", "--out", str(out))
    assert r.exit_code == 0, r.output
    seg = pd.read_csv(out, dtype=str)
    assert seg[["case", "code", "coder", "text"]].values.tolist() == [["case a", "Workforce", "x", "'=SUM(A1)"]]
    r = run("frequencies", "--store", url, "--project", "Interviews", "--by", "org_type", "--out", str(out))
    assert r.exit_code == 0, r.output
    freq = pd.read_csv(out, dtype=str).set_index(["code", "org_type"])
    # Barriers counts its sub-code: ccg has two Workforce codings (a, b), council one Barriers (c)
    assert freq.loc[("Barriers", "ccg"), "codings"] == "2" and freq.loc[("Barriers", "council"), "codings"] == "1"
    assert freq.loc[("Barriers", "(all)"), "sources"] == "3" and freq.loc[("Workforce", "ccg"), "segments"] == "2"
    for bad, words in ((["--where", "wave"], "is not name=value"), (["--code", "Nope"], "is not a code")):
        r = run("retrieve", "--store", url, "--project", "Interviews", *bad, "--out", str(out))
        assert r.exit_code == 1 and words in r.output, r.output
    r = run("frequencies", "--store", url, "--project", "Interviews", "--by", "colour", "--out", str(out))
    assert r.exit_code == 1 and "neither 'case' nor an attribute" in r.output
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9 is Latin-1, not UTF-8")
    r = run("add-source", "--store", url, "--project", "Interviews", "--file", str(tmp_path / "bad.txt"))
    assert r.exit_code == 1 and "bad.txt" in r.output and "Traceback" not in r.output
    r = run("add-source", "--store", url, "--project", "Interviews", "--file", str(tmp_path / "a.txt"),
            "--name", "a2", "--attribute", "site=Leeds")
    assert r.exit_code == 1 and "--attribute needs --case" in r.output
    r = run("new-project", "--store", url, "--project", "Interviews")
    assert r.exit_code == 1 and "already exists" in r.output
    assert len(wb.sources(pid)) == 3


def test_agreement_equals_the_hand_computed_values(url, tmp_path):
    r = run("new-project", "--store", url, "--project", "Two coders")
    assert r.exit_code == 0, r.output
    wb = Workbench(SurveyStore(url))
    pid = wb.project_id("Two coders")
    sid = wb.add_source(pid, "s", "abcdefghij", "text", "lead")
    a = wb.create_code(pid, "A", "lead")
    wb.add_coding(pid, sid, 0, 5, a, "x", "x")
    out = tmp_path / "k.csv"
    r = run("agreement", "--store", url, "--project", "Two coders", "--out", str(out))
    assert r.exit_code == 1 and "needs two coders" in r.output and "x" in r.output
    wb.add_coding(pid, sid, 2, 6, a, "y", "y")
    r = run("agreement", "--store", url, "--project", "Two coders", "--out", str(out))
    assert r.exit_code == 0, r.output
    row = pd.read_csv(out).set_index("code").loc["A"]
    assert row["units"] == 10 and abs(row["observed_agreement"] - 0.7) < 1e-12
    assert abs(row["kappa"] - 0.4) < 1e-12 and abs(row["alpha"] - 42 / 99) < 1e-12
