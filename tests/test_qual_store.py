"""The qualitative workbench's storage (joinedup.qual) on SQLite and a real PostgreSQL: migration 4,
projects and access, cases and attributes, sources (text, DOCX, PDF, transcripts with turns; bad
files refused with the reason), the hierarchical codebook, codings (blind, one per span/code/coder
even when raced), memos, retrieval by code and attribute, the framework matrix and its Excel export.
"""

import io
import threading

import pytest
import sqlalchemy as sa

from joinedup.qual.projects import QualError, Workbench
from joinedup.qual.reading import SourceError, read_upload
from joinedup.qual.retrieve import matrix, matrix_to_excel, segments, set_summary
from joinedup.survey.store import SCHEMA_VERSION, SurveyStore

TRANSCRIPT = "Interviewer: What held you back?\nLead: Recruiting staff. =HYPERLINK(\"x\")\nInterviewer: And IT?\nLead: Records."


@pytest.fixture(params=["sqlite", "postgresql"])
def wb(request, tmp_path, pg_server):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'q.db'}"
    else:
        url = pg_server.create_database(f"q_{tmp_path.name.lower().replace('-', '_')[:40]}")
    store = SurveyStore(url)
    store.create()
    return Workbench(store)


def _docx(paragraphs) -> bytes:
    import docx

    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_migration_makes_the_tables_and_access_follows_membership(wb):
    with wb.engine.connect() as c:
        assert c.execute(sa.text("select version from schema_version")).scalar() == SCHEMA_VERSION == 5
        assert {"qual_projects", "qual_codings", "qual_audit", "qual_turns"} <= set(sa.inspect(c).get_table_names())
    pid = wb.create_project("Interviews", actor="admin")
    other = wb.create_project("Plans", actor="admin")
    wb.add_member(pid, "ann", "coder", actor="admin")
    ann = {"username": "ann", "role": "coder"}
    assert [p["name"] for p in wb.projects_for(ann)] == ["Interviews"]
    assert wb.role_in(ann, other) is None
    assert wb.projects_for({"username": "s", "role": "site"}) == [] and wb.projects_for({"username": "p", "role": "programme"}) == []
    assert wb.role_in({"username": "ann", "role": "site"}, pid) is None  # a site login never, even if listed
    with pytest.raises(QualError, match="already exists"):
        wb.create_project("Interviews", actor="admin")


def test_sources_codebook_codings_retrieval_and_matrix(wb, tmp_path):
    pid = wb.create_project("Interviews", actor="admin")
    text, kind = read_upload("leeds.docx", _docx(TRANSCRIPT.split("\n")))
    assert kind == "transcript" and text == TRANSCRIPT
    sid = wb.add_source(pid, "leeds", text, kind, "admin", case="Leeds lead", attributes={"site": "Leeds", "wave": "2017"})
    assert [t["speaker"] for t in wb.source(pid, sid)["turns"]] == ["Interviewer", "Lead", "Interviewer", "Lead"]
    sid2 = wb.add_source(pid, "barnsley", "Lead: Workforce again.\nLead: And money.", "text", "admin",
                         case="Barnsley lead", attributes={"site": "Barnsley"})
    barriers = wb.create_code(pid, "Barriers", "lead")
    workforce = wb.create_code(pid, "Workforce", "lead", parent_id=barriers)
    staffing = wb.create_code(pid, "Staffing", "lead")
    it = wb.create_code(pid, "IT", "lead", parent_id=barriers)
    with pytest.raises(QualError, match="under itself"):
        wb.move_code(pid, barriers, workforce, "lead")
    wb.rename_code(pid, staffing, "Staff <b>shortage</b>", "lead")
    wb.describe_code(pid, it, "Records and systems", "lead")
    start = TRANSCRIPT.index("Recruiting")
    assert wb.add_coding(pid, sid, start, start + 17, workforce, "ann", "ann")[1]
    assert not wb.add_coding(pid, sid, start, start + 17, workforce, "ann", "ann")[1]  # the same again: no copy
    wb.add_coding(pid, sid, start, start + 10, staffing, "bob", "bob")
    wb.add_coding(pid, sid2, 6, 15, staffing, "ann", "ann")
    wb.add_coding(pid, sid, TRANSCRIPT.index("Records"), len(TRANSCRIPT), it, "ann", "ann")
    with pytest.raises(QualError, match="outside"):
        wb.add_coding(pid, sid, 5, 10_000, it, "ann", "ann")
    wb.merge_codes(pid, keep=workforce, merge=staffing, actor="lead")  # Staffing's codings move to Workforce
    assert [c["path"] for c in wb.codes(pid)] == [["Barriers"], ["Barriers", "IT"], ["Barriers", "Workforce"]]
    # blind: ann sees her own codings only; the lead sees all
    assert {c["coder"] for c in wb.visible_codings(pid, "ann", "coder")} == {"ann"}
    assert {c["coder"] for c in wb.visible_codings(pid, "lead", "lead")} == {"ann", "bob"}
    got = segments(wb, pid, "lead", "lead", code_id=barriers, attribute="site", value="Leeds")
    assert [(s["code"], s["text"]) for s in got] == [("Workforce", "Recruiting staff."), ("Workforce", "Recruiting"),
                                                     ("IT", "Records.")]
    assert [s["text"] for s in segments(wb, pid, "ann", "coder", code_id=workforce)] == ["Workforce", "Recruiting staff."]
    wb.add_memo(pid, "source", sid, "Interview ran long", "ann")
    assert wb.memos(pid, "source", sid)[0]["text"] == "Interview ran long"
    m = matrix(wb, pid, "lead", "lead", by="site")
    assert m["rows"] == ["Barnsley", "Leeds"] and len(m["cells"][("Leeds", barriers)]) == 3
    set_summary(wb, pid, "site", "Leeds", barriers, "=cmd|' /C calc'!A0 workforce and IT", "lead")
    from openpyxl import load_workbook

    book = load_workbook(matrix_to_excel(matrix(wb, pid, "lead", "lead", by="site"), tmp_path / "m.xlsx"))
    cells = [c.value for row in book["Framework matrix"].iter_rows() for c in row]
    assert "'=cmd|' /C calc'!A0 workforce and IT" in cells  # a formula-looking summary is neutralised
    assert all(not str(c.value).startswith("=") for row in book["Segments"].iter_rows() for c in row if c.value)
    actions = [a["action"] for a in wb.audit_log(pid)]
    assert {"source added", "code renamed", "codes merged", "coded", "memo written", "matrix summary"} <= set(actions)


def test_same_coding_raced_is_stored_once_and_different_ones_all_kept(wb):
    pid = wb.create_project("Race", actor="admin")
    sid = wb.add_source(pid, "s", "x" * 200, "text", "admin")
    code = wb.create_code(pid, "C", "lead")
    errors = []

    def go(i, same):
        try:
            wb.add_coding(pid, sid, 0 if same else i, 10 if same else i + 5, code, "ann", "ann")
        except Exception as exc:  # noqa: BLE001 -- any error here is the failure under test
            errors.append(exc)

    for same in (True, False):
        threads = [threading.Thread(target=go, args=(i, same)) for i in range(12)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    assert errors == []
    spans = sorted((c["start"], c["end"]) for c in wb.visible_codings(pid, "ann", "coder"))
    assert spans.count((0, 10)) == 1 and len(spans) == 1 + 12  # 12 raced copies are one; 12 distinct spans all kept


@pytest.mark.parametrize("name,data,message", [
    ("a.txt", b"caf\xe9 au lait", "not UTF-8 text (byte 3 is 0xe9)"),
    ("a.txt", b"", "empty"),
    ("a.txt", b"ab\x00cd", "NUL character at position 2"),
    ("a.docx", b"PK-not-really", "not a DOCX"),
    ("a.pdf", b"hello", "not a PDF"),
    ("a.exe", b"MZ", "cannot read .exe"),
])
def test_bad_files_are_refused_with_the_reason(name, data, message):
    with pytest.raises(SourceError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_upload(name, data)


def test_odd_encodings_read():
    assert read_upload("a.txt", "Lead: café\r\nX: ok".encode("utf-16"))[0] == "Lead: café\nX: ok"
    assert read_upload("a.txt", b"\xef\xbb\xbfplain")[0] == "plain"
