"""The REFI-QDA round trip, the clean-up of an import that fails part-way and retrieval by several
attributes on a real PostgreSQL server (tests/pg_server.py), where foreign keys are enforced: the
clean-up must delete a half-made project's rows in an order the keys allow.
"""

import pytest
import sqlalchemy as sa
from tests.test_qual_exchange import _snapshot, fill

from joinedup.qual.exchange import export_refi, import_refi
from joinedup.qual.projects import QualError, Workbench
from joinedup.qual.retrieve import segments
from joinedup.qual.schema import QUAL_META
from joinedup.survey.store import SurveyStore


@pytest.fixture
def wb(tmp_path, pg_server):
    store = SurveyStore(pg_server.create_database(f"x_{tmp_path.name.lower().replace('-', '_')[:40]}"))
    store.create()
    return fill(Workbench(store))


def _rows(wb) -> dict:
    with wb.engine.connect() as c:
        return {t.name: c.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                for t in QUAL_META.sorted_tables if t.name != "qual_audit"}


def test_round_trip_and_a_failed_import_on_postgresql(wb, tmp_path, monkeypatch):
    assert wb.engine.dialect.name == "postgresql"
    path = export_refi(wb, wb.pid, tmp_path / "p.qdpx")
    again = import_refi(wb, path, "Copy", "lead")
    assert _snapshot(wb, again) == _snapshot(wb, wb.pid)
    before = _rows(wb)
    real = wb.add_memo
    calls = []

    def fail_on_the_last_memo(*args, **kwargs):  # everything else of the project is stored by then
        calls.append(args)
        if len(calls) == 4:
            raise QualError("memo: refused (as a bad memo would be)")
        return real(*args, **kwargs)

    monkeypatch.setattr(wb, "add_memo", fail_on_the_last_memo)
    with pytest.raises(QualError, match="refused"):
        import_refi(wb, path, "Half made", "lead")
    assert len(calls) == 4 and _rows(wb) == before  # sources, cases, turns, codes, codings, memos: all gone
    assert any(a["action"] == "import discarded" for a in _audit(wb))


def _audit(wb):
    from joinedup.qual.schema import AUDIT

    with wb.engine.connect() as c:
        return [dict(r) for r in c.execute(sa.select(AUDIT)).mappings()]


def test_retrieval_by_two_attributes_on_postgresql(wb):
    pid = wb.pid
    other = wb.add_source(pid, "york", "Lead: Staff again.", "transcript", "lead", case="York lead",
                          attributes={"site": "York", "wave": "2017"})
    code = next(c["id"] for c in wb.codes(pid) if c["name"] == "Workforce")
    wb.add_coding(pid, other, 6, 11, code, "ann", "ann")
    got = segments(wb, pid, "lead", "lead", code_id=code, where={"site": "Leeds", "wave": "2017"})
    assert [(s["case"], s["text"]) for s in got] == [("Leeds lead", "Staff")]
    assert [s["case"] for s in segments(wb, pid, "lead", "lead", code_id=code, where={"wave": "2017"})] == [
        "Leeds lead", "York lead"]
