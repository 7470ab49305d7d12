"""The analysis plan holds: `joinedup protocol lock`, the deviation log, and what a run records of both."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from joinedup.analysis_plan import LockError, check_plan, lock_path, lock_protocol, read_lock
from joinedup.cli import app
from joinedup.pipeline import run_protocol
from joinedup.protocol import load_protocol

runner = CliRunner()

PLAN = """# my evaluation
[evaluation]
name = "Frailty MDTs"

[impact]
outcome = "emergency_admissions"
matched_controls = 2
seed = 7
"""


def _write(folder, text=PLAN, name="my_evaluation.toml"):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_lock_records_hashes_time_plan_and_the_state_of_the_outcome_data(tmp_path):
    path = _write(tmp_path)
    target = lock_protocol(path, now="2026-03-01T10:00:00+00:00", output_root=tmp_path)
    assert target == tmp_path / "my_evaluation.lock.json" == lock_path(path)
    lock = read_lock(target)
    assert lock["locked_at"] == "2026-03-01T10:00:00+00:00"
    assert len(lock["sha256_file"]) == 64 and len(lock["sha256_plan"]) == 64
    assert lock["plan"]["impact"]["matched_controls"] == 2
    assert lock["plan"]["impact"]["scale"] == "log"  # defaults are part of the plan
    assert lock["outcome_data"]["exists"] is False  # simulated when the run starts
    assert lock["outcome_data"]["read_by_joinedup_before_lock"] is False
    assert "no outcome data existed" in lock["outcome_data"]["statement"]


def test_an_earlier_run_in_the_output_folder_is_recorded_as_data_already_read(tmp_path):
    path = _write(tmp_path)
    earlier = tmp_path / "out" / "evaluation"
    earlier.mkdir(parents=True)
    (earlier / "manifest.json").write_text(json.dumps({"finished_at": "2026-02-01T08:00:00+00:00"}))
    lock = read_lock(lock_protocol(path, output_root=tmp_path))
    assert lock["outcome_data"]["read_by_joinedup_before_lock"] is True
    assert lock["outcome_data"]["earlier_runs"][0]["finished_at"] == "2026-02-01T08:00:00+00:00"
    assert "HAD been read before the lock" in lock["outcome_data"]["statement"]


def test_comment_and_layout_edits_are_seen_and_explained_not_counted_as_deviations(tmp_path):
    path = _write(tmp_path)
    lock_protocol(path, output_root=tmp_path)
    assert check_plan(load_protocol(path)).status == "locked, unchanged"
    # a comment, blank lines, and a key set explicitly to its default value: the plan is the same
    _write(tmp_path, PLAN.replace("seed = 7", "seed   =   7   # fixed before the data\n\n")
           + 'scale = "log"\n')
    check = check_plan(load_protocol(path))
    assert check.status == "locked, layout or comments edited" and check.deviations == []
    assert "comments or layout only" in " ".join(check.sentences())


def test_changed_keys_are_logged_key_by_key_with_old_and_new_values(tmp_path):
    path = _write(tmp_path)
    lock_protocol(path, now="2026-03-01T10:00:00+00:00", output_root=tmp_path)
    _write(tmp_path, PLAN.replace("matched_controls = 2", "matched_controls = 5")
           .replace('outcome = "emergency_admissions"', 'outcome = "emergency_bed_days"'))
    check = check_plan(load_protocol(path), now="2026-03-05T09:00:00+00:00")
    assert check.status == "locked, changed"
    assert {(d["key"], d["locked"], d["now"]) for d in check.deviations} == {
        ("impact.matched_controls", 2, 5), ("impact.outcome", "emergency_admissions", "emergency_bed_days")}
    assert check.locked_at == "2026-03-01T10:00:00+00:00" and check.checked_at == "2026-03-05T09:00:00+00:00"
    assert "2 deviation(s) from the locked plan" in " ".join(check.sentences())


def test_a_changed_sites_file_is_a_deviation(tmp_path):
    (tmp_path / "sites.csv").write_text("site,unit_code,start_date\nA,E06000001,2014-01-01\n")
    path = _write(tmp_path, PLAN + '\n[programme]\nname = "Frailty MDTs"\nsites = "sites.csv"\n')
    lock_protocol(path, output_root=tmp_path)
    assert check_plan(load_protocol(path)).deviations == []
    (tmp_path / "sites.csv").write_text("site,unit_code,start_date\nA,E06000001,2013-01-01\n")
    deviations = check_plan(load_protocol(path)).deviations
    assert [d["key"] for d in deviations] == ["file programme.sites"]
    assert deviations[0]["locked"] != deviations[0]["now"]


def test_a_plan_is_locked_once_unless_forced_and_then_the_old_lock_is_kept(tmp_path):
    path = _write(tmp_path)
    lock_protocol(path, now="2026-03-01T10:00:00+00:00", output_root=tmp_path)
    with pytest.raises(LockError, match="already exists .*2026-03-01T10:00:00"):
        lock_protocol(path, output_root=tmp_path)
    lock = read_lock(lock_protocol(path, force=True, now="2026-03-02T10:00:00+00:00", output_root=tmp_path))
    assert lock["locked_at"] == "2026-03-02T10:00:00+00:00"
    assert [h["locked_at"] for h in lock["history"]] == ["2026-03-01T10:00:00+00:00"]
    assert check_plan(load_protocol(path)).relocked == 1


def test_a_broken_lock_file_is_named(tmp_path):
    path = _write(tmp_path)
    lock_path(path).write_text("{not json")
    with pytest.raises(LockError, match="my_evaluation.lock.json: not a readable lock file"):
        check_plan(load_protocol(path))


def test_cli_lock_and_check(tmp_path):
    path = _write(tmp_path)
    assert runner.invoke(app, ["protocol", "check", str(path)]).exit_code == 2  # no lock yet
    result = runner.invoke(app, ["protocol", "lock", str(path)])
    assert result.exit_code == 0, result.output
    assert "Locked" in result.output and lock_path(path).is_file()
    again = runner.invoke(app, ["protocol", "lock", str(path)])
    assert again.exit_code == 1 and "already exists" in again.output
    assert runner.invoke(app, ["protocol", "check", str(path)]).exit_code == 0
    _write(tmp_path, PLAN.replace("seed = 7", "seed = 8"))
    changed = runner.invoke(app, ["protocol", "check", str(path)])
    assert changed.exit_code == 1 and "impact.seed: 7 -> 8" in changed.output


def _tiny_protocol(tmp_path, data, extra=""):
    path = tmp_path / "tiny.toml"
    path.write_text(f'[evaluation]\nname = "Tiny evaluation"\n[data]\nsource = "{data}"\n'
                    f'[output]\nfolder = "{tmp_path / "out"}"\n' + extra)
    return path


def test_a_run_writes_the_deviation_log_into_manifest_and_report(tiny, tmp_path):
    path = _tiny_protocol(tmp_path, tiny)
    lock_protocol(path, now="2026-03-01T10:00:00+00:00", output_root=tmp_path)
    lock = read_lock(lock_path(path))
    assert lock["outcome_data"]["exists"] is True and not lock["outcome_data"]["read_by_joinedup_before_lock"]
    _tiny_protocol(tmp_path, tiny, "[data.simulate]\nseed = 5\n")  # edited after the lock
    protocol = load_protocol(path)
    result = run_protocol(protocol, out=tmp_path / "run")
    manifest = json.loads(result.manifest.read_text())
    plan = manifest["analysis_plan"]
    assert plan["status"] == "locked, changed" and plan["locked_at"] == "2026-03-01T10:00:00+00:00"
    assert plan["deviations"] == [{"key": "data.simulate.seed", "locked": 2013, "now": 5}]
    assert plan["checked_before_data_read"] is True and plan["checked_at"] <= manifest["finished_at"]
    html = result.report.read_text()
    assert '<h2 id="analysis-plan">Analysis plan</h2>' in html
    assert "The protocol was locked on 2026-03-01T10:00:00+00:00" in html
    assert "Deviations from the analysis plan locked on 2026-03-01T10:00:00+00:00" in html
    assert "data.simulate.seed" in html and ">2013<" in html and ">5<" in html


def test_an_unlocked_run_still_runs_and_says_so_plainly(tiny, tmp_path):
    result = run_protocol(load_protocol(_tiny_protocol(tmp_path, tiny)), out=tmp_path / "run")
    assert json.loads(result.manifest.read_text())["analysis_plan"]["status"] == "no lock"
    assert "No lock: the analysis plan was not registered before the data were read" in result.report.read_text()


def test_the_deviation_table_fits_a_phone_screen_in_chromium(tmp_path):
    """Hashes and long lists are unbroken strings: the section must still not widen the page (390 px)."""
    from joinedup.analysis_plan import PlanCheck
    from joinedup.report.browser_checks import check_report
    from joinedup.report.html import render_report
    from joinedup.report.pdf import chromium_path
    from joinedup.report.plan_section import plan_section

    if chromium_path() is None:
        pytest.skip("needs Debian's chromium (make browser)")
    check = PlanCheck("locked, changed", "2026-03-05T09:00:00+00:00", "x.lock.json", "2026-03-01T10:00:00+00:00",
                      [{"key": "file programme.sites", "locked": "a" * 64, "now": "b" * 64},
                       {"key": "indicators.ids", "locked": [f"indicator_number_{i}" for i in range(12)],
                        "now": "all"}])
    path = tmp_path / "report.html"
    path.write_text(render_report("Plan", [plan_section(check, ["<script>alert(1)</script> is text"])],
                                  {"Data": "hand-made"}), encoding="utf-8")
    html = path.read_text()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    for width, r in check_report(path).items():
        assert r["console_errors"] == [] and r["uncaptioned"] == 0, width
        assert r["overflow"] <= 0, (width, r["overflow"])
