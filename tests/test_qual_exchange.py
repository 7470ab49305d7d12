"""REFI-QDA round trip of a workbench project (every source, code, coding span with its coder and
status, memo, the project's description and blind setting kept), the export validated against the
REFI-QDA Project 1.0 schema (tests/data/refi/Project.xsd, with lxml), a file written the way another
tool writes one, and the `joinedup coding` commands against a real SQLite store.
"""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from joinedup.qual.exchange import AGREED_USER_ID, AGREED_USER_NAME, export_refi, import_refi
from joinedup.qual.projects import Workbench
from joinedup.survey.coding.refi import import_qdpx
from joinedup.survey.store import SurveyStore


@pytest.fixture
def wb(tmp_path):
    store = SurveyStore(f"sqlite:///{tmp_path / 'q.db'}")
    store.create()
    return fill(Workbench(store))


def fill(wb):
    """The project every test here exchanges (also used on PostgreSQL by test_qual_exchange_pg.py)."""
    pid = wb.create_project("Interviews", "lead", description="Wave 2 interviews with Pioneer leads")
    s1 = wb.add_source(pid, "leeds", "Interviewer: Why?\nLead: Staff <b>and</b> records 😀.", "transcript", "lead",
                       case="Leeds lead", attributes={"site": "Leeds", "wave": "2017"})
    s2 = wb.add_source(pid, "plan", "The plan: integrate =SUM(A1) budgets.", "text", "lead")
    top = wb.create_code(pid, "Barriers", "lead", description="What held schemes back")
    staff = wb.create_code(pid, "Workforce", "lead", parent_id=top)
    money = wb.create_code(pid, "Money", "lead")
    c1, _ = wb.add_coding(pid, s1, 24, 29, staff, "ann", "ann")
    wb.add_coding(pid, s1, 24, 51, top, "bob", "bob")
    wb.add_coding(pid, s2, 10, 37, money, "lead", "lead", status="agreed")
    wb.add_coding(pid, s2, 10, 37, money, "lead", "lead")  # the lead's own coding of the same span: kept apart
    wb.add_coding(pid, s1, 24, 29, top, "meg", "meg", status="agreed")  # agreed by a second lead
    wb.add_memo(pid, "coding", c1, "Staff means care workers here", "ann")
    wb.add_memo(pid, "source", s1, "Recorded in 2017", "lead")
    wb.add_memo(pid, "code", money, "Pooled budgets", "lead")
    wb.add_memo(pid, "project", pid, "Wave 2 interviews", "lead")
    wb.pid = pid
    return wb


def _snapshot(wb, pid):
    names = {s["id"]: s["name"] for s in wb.sources(pid)}
    codes = {c["id"]: c for c in wb.codes(pid)}
    codings = {c["id"]: (names[c["source_id"]], c["start"], c["end"], c["code"], c["coder"], c["status"])
               for c in wb.visible_codings(pid, "", "lead")}
    memo_target = {"source": lambda i: names[i], "code": lambda i: codes[i]["name"], "coding": lambda i: codings[i],
                   "project": lambda i: "project"}
    project = wb.project(pid)
    return {"project": (project["description"], project["blind"]), "sources": {n: (wb.source(pid, i)["text"], wb.source(pid, i)["case"]) for i, n in names.items()},
            "cases": sorted((c["name"], sorted(c["attributes"].items())) for c in wb.cases(pid)),
            "codes": sorted((c["path"], c["description"]) for c in codes.values()),
            "codings": sorted(codings.values()),
            "memos": sorted((m["target"], str(memo_target[m["target"]](m["target_id"])), m["text"]) for m in wb.memos(pid))}


def test_refi_round_trip_keeps_everything(wb, tmp_path):
    path = export_refi(wb, wb.pid, tmp_path / "p.qdpx")
    again = import_refi(wb, path, "Interviews (copy)", "lead")
    before, after = _snapshot(wb, wb.pid), _snapshot(wb, again)
    assert after == before
    assert len(before["codings"]) == 5 and len(before["memos"]) == 4  # the comparison is not of empty sets
    assert sum(c[-1] == "agreed" for c in after["codings"]) == 2 and after["project"][1] is True


SCHEMA = Path(__file__).parent / "data" / "refi" / "Project.xsd"
NS = {"q": "urn:QDA-XML:project:1.0"}


def _qde(path) -> etree._Element:
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read("project.qde"))


def test_export_validates_against_the_refi_project_schema(wb, tmp_path):
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    root = _qde(export_refi(wb, wb.pid, tmp_path / "p.qdpx"))
    assert schema.validate(root), schema.error_log
    empty = wb.create_project("Empty", "lead")  # no codes, sources or codings: no empty containers written
    root = _qde(export_refi(wb, empty, tmp_path / "e.qdpx"))
    assert schema.validate(root), schema.error_log
    again = import_refi(wb, tmp_path / "e.qdpx", "Empty (copy)", "lead")
    assert wb.codes(again) == [] and wb.sources(again) == []
    # the schema is not a rubber stamp: a selection without its required positions is refused
    sel = root.find(".//q:PlainTextSelection", NS)
    assert sel is None
    root = _qde(tmp_path / "p.qdpx")
    del root.find(".//q:PlainTextSelection", NS).attrib["startPosition"]
    assert not schema.validate(root)


def test_agreed_codings_are_a_designated_users_codings(wb, tmp_path):
    """How the file says it in the standard's terms (what NVivo, ATLAS.ti, MAXQDA, QualCoder read)."""
    root = _qde(export_refi(wb, wb.pid, tmp_path / "p.qdpx"))
    users = {u.get("guid"): u for u in root.iterfind(".//q:User", NS)}
    agreed = [g for g, u in users.items() if u.get("id") == AGREED_USER_ID]
    assert len(agreed) == 1 and users[agreed[0]].get("name") == AGREED_USER_NAME
    seen = []
    for sel in root.iterfind(".//q:PlainTextSelection", NS):
        coding = sel.find("q:Coding", NS)
        seen.append((sel.get("startPosition"), users[sel.get("creatingUser")].get("name"),
                     users[coding.get("creatingUser")].get("name")))
    assert sorted(seen) == sorted([("24", "ann", "ann"), ("24", "bob", "bob"), ("24", "meg", AGREED_USER_NAME),
                                   ("10", "lead", AGREED_USER_NAME), ("10", "lead", "lead")])
    settings = [n for n in root.iterfind(".//q:Note", NS) if "joinedup" in json.loads(n.find("q:Description", NS).text)]
    assert len(settings) == 1 and "Blind coding" in settings[0].find("q:PlainTextContent", NS).text
    assert root.find("q:Description", NS).text == "Wave 2 interviews with Pioneer leads"
    # every memo on a source, code or the project is referred to by its target's NoteRef
    refs = {r.get("targetGUID"): r.getparent().tag.split("}")[1] for r in root.iterfind(".//q:NoteRef", NS)}
    notes = {n.get("guid"): json.loads(n.find("q:Description", NS).text).get("target", "project")
             for n in root.iterfind(".//q:Note", NS)}
    assert {g: {"TextSource": "source", "Code": "code", "Project": "project"}[t] for g, t in refs.items()} == notes
    # cases and their attributes the standard's way: Variables, and Cases with values and source refs
    variables = {v.get("guid"): v.get("name") for v in root.iterfind(".//q:Variable", NS)}
    assert sorted(variables.values()) == ["site", "wave"]
    (case,) = root.iterfind(".//q:Case", NS)
    assert case.get("name") == "Leeds lead"
    assert {variables[v.find("q:VariableRef", NS).get("targetGUID")]: v.find("q:TextValue", NS).text
            for v in case.iterfind("q:VariableValue", NS)} == {"site": "Leeds", "wave": "2017"}
    leeds = next(s.get("guid") for s in root.iterfind(".//q:TextSource", NS) if s.get("name") == "leeds")
    assert [r.get("targetGUID") for r in case.iterfind("q:SourceRef", NS)] == [leeds]
    # another tool (the engine's plain reader) sees the agreed codings as that user's codings
    plain = import_qdpx(tmp_path / "p.qdpx").codings
    assert (plain["coder"] == AGREED_USER_NAME).sum() == 2


def test_blinding_off_survives_the_round_trip(wb, tmp_path):
    open_pid = wb.create_project("Open coding", "lead", blind=False)
    src = wb.add_source(open_pid, "note", "Everyone sees everything here.", "text", "lead")
    code = wb.create_code(open_pid, "Openness", "lead")
    wb.add_coding(open_pid, src, 0, 8, code, "ann", "ann")
    again = import_refi(wb, export_refi(wb, open_pid, tmp_path / "o.qdpx"), "Open (copy)", "lead")
    assert wb.project(again)["blind"] is False and _snapshot(wb, again) == _snapshot(wb, open_pid)
    assert not any(m["target"] == "project" for m in wb.memos(again))  # the settings note is not a memo


def _foreign_qdpx(path, notes_xml, selection_user=True):
    """A .qdpx as another tool writes one: plain-text descriptions, notes tied by NoteRef only."""
    g = "{%08X-0000-4000-8000-000000000000}".__mod__
    sel_user = f' creatingUser="{g(1)}"' if selection_user else ""
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="From NVivo">
 <Users><User guid="{g(1)}" name="Rosa"/></Users>
 <CodeBook><Codes><Code guid="{g(2)}" name="Trust" isCodable="true"><Description>Between partners</Description>
   <NoteRef targetGUID="{g(11)}"/></Code></Codes></CodeBook>
 <Variables><Variable guid="{g(20)}" name="site" typeOfVariable="Text"/>
   <Variable guid="{g(21)}" name="wave" typeOfVariable="Integer"/></Variables>
 <Cases><Case guid="{g(22)}" name="Leeds CCG lead"><VariableValue><VariableRef targetGUID="{g(20)}"/>
   <TextValue>Leeds</TextValue></VariableValue><VariableValue><VariableRef targetGUID="{g(21)}"/>
   <IntegerValue>2017</IntegerValue></VariableValue><SourceRef targetGUID="{g(3)}"/></Case></Cases>
 <Sources><TextSource guid="{g(3)}" name="Interview 1" plainTextPath="internal://{g(3)}.txt">
   <Description>First interview, plain words</Description>
   <PlainTextSelection guid="{g(4)}" startPosition="0" endPosition="5"{sel_user}>
     <Coding guid="{g(5)}"><CodeRef targetGUID="{g(2)}"/></Coding></PlainTextSelection>
   <NoteRef targetGUID="{g(10)}"/></TextSource></Sources>
 <Notes>{notes_xml(g)}</Notes>
 <NoteRef targetGUID="{g(12)}"/>
</Project>"""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", qde)
        z.writestr(f"Sources/{g(3)}.txt", "Trust took years to build.")
    return path


def test_another_tools_notes_land_on_their_targets(wb, tmp_path):
    notes = lambda g: "".join(f'<Note guid="{g(i)}" name="n{i}"><Description>{d}</Description>'
                              f"<PlainTextContent>{t}</PlainTextContent></Note>"
                              for i, d, t in ((10, "not JSON {", "On the interview"), (11, "[1, 2]", "On the code"),
                                              (12, "", "On the project"), (13, "loose", "Referred to by nothing")))
    pid = import_refi(wb, _foreign_qdpx(tmp_path / "f.qdpx", notes), "From NVivo", "lead")
    src, code = wb.sources(pid)[0]["id"], wb.codes(pid)[0]["id"]
    got = sorted((m["target"], m["target_id"], m["text"]) for m in wb.memos(pid))
    assert got == sorted([("source", src, "On the interview"), ("code", code, "On the code"),
                          ("project", pid, "On the project"), ("project", pid, "Referred to by nothing")])
    codings = wb.visible_codings(pid, "", "lead")
    assert [(c["coder"], c["status"], c["start"], c["end"]) for c in codings] == [("Rosa", "blind", 0, 5)]
    assert wb.project(pid)["blind"] is True  # no settings note: the workbench's default
    assert [(c["name"], c["attributes"]) for c in wb.cases(pid)] == [("Leeds CCG lead", {"site": "Leeds", "wave": "2017"})]
    assert wb.sources(pid)[0]["case"] == "Leeds CCG lead"
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))  # the hand-made file itself follows the standard
    assert schema.validate(_qde(tmp_path / "f.qdpx")), schema.error_log


def test_a_file_that_fails_part_way_leaves_no_project(wb, tmp_path):
    long_name = "x" * 300  # the workbench refuses names over 200 characters, after the codes are stored
    bad = _foreign_qdpx(tmp_path / "b.qdpx", lambda g: f'<Note guid="{g(10)}"><PlainTextContent>m</PlainTextContent></Note>')
    with zipfile.ZipFile(bad) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    entries["project.qde"] = entries["project.qde"].replace(b'name="Interview 1"', f'name="{long_name}"'.encode())
    with zipfile.ZipFile(bad, "w") as z:
        for n, data in entries.items():
            z.writestr(n, data)
    import sqlalchemy as sa

    from joinedup.qual.schema import CODES, PROJECTS

    def count(table, where=None):
        with wb.engine.connect() as c:
            q = sa.select(sa.func.count()).select_from(table)
            return c.execute(q if where is None else q.where(where)).scalar()

    projects = count(PROJECTS)
    with pytest.raises(ValueError, match="at most 200 characters"):
        import_refi(wb, bad, "Half made", "lead")
    with pytest.raises(ValueError, match="no project called 'Half made'"):
        wb.project_id("Half made")
    assert count(PROJECTS) == projects and count(CODES, CODES.c.name == "Trust") == 0  # its codes went too
    assert import_refi(wb, _foreign_qdpx(tmp_path / "ok.qdpx", lambda g: ""), "Half made", "lead")  # name is free


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


def test_page_breaks_and_control_characters_do_not_break_the_file(wb, tmp_path):
    """A PDF's pages are joined by form feeds: a coding across a page break names its selection with
    one, which XML 1.0 cannot hold. The name and memo get a space there; the source text is whole."""
    pid = wb.create_project("PDFs", "lead", description="Plans\x0b2016")
    text = "Page one ends here.\x0cPage two starts here."
    sid = wb.add_source(pid, "plan", text, "pdf", "lead", case="Plan", attributes={"year": "2016\x0c"})
    code = wb.create_code(pid, "Plans", "lead")
    cid, _ = wb.add_coding(pid, sid, 10, 30, code, "ann", "ann")
    wb.add_memo(pid, "coding", cid, "across\x0cthe break", "ann")
    wb.add_memo(pid, "source", sid, "scanned\x01badly", "lead")
    path = export_refi(wb, pid, tmp_path / "pdf.qdpx")
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    assert schema.validate(_qde(path)), schema.error_log
    again = import_refi(wb, path, "PDFs (copy)", "lead")
    new_sid = wb.sources(again)[0]["id"]
    assert wb.source(again, new_sid)["text"] == text  # the text file travels byte for byte
    assert [(c["start"], c["end"], c["coder"]) for c in wb.visible_codings(again, "", "lead")] == [(10, 30, "ann")]
    assert sorted(m["text"] for m in wb.memos(again)) == ["across the break", "scanned badly"]
