"""Qualitative coding: codebook, sources (text, DOCX, PDF), codings, agreement, frequencies, REFI-QDA.

References: Cohen's kappa and Krippendorff's alpha are checked against hand formulas on a small design
(kappa = (po - pe) / (1 - pe); alpha for two coders, binary, no missing = 1 - (n - 1) d / (n0 n1) with
n = 2 x units, d = disagreeing units, n0/n1 the counts of each value), exact to 1e-12.
"""

import numpy as np
import pandas as pd
import pytest

from joinedup.survey.coding.agreement import agreement
from joinedup.survey.coding.project import Codebook, CodingProject, read_text
from joinedup.survey.coding.refi import export_qdpx, import_qdpx

BOOK = pd.DataFrame({"code": ["IT", "IT_REC", "WORKFORCE", "FUNDING"],
                     "label": ["Information technology", "Shared records", "Workforce", "Funding"],
                     "parent": [None, "IT", None, None], "description": ["", "", "", ""]})


def project(n=12) -> CodingProject:
    p = CodingProject(Codebook.from_frame(BOOK))
    for i in range(n):
        p.add_source(f"s{i}", f"answer number {i} about care", {"org_type": "ccg" if i % 2 else "la", "wave": 1})
    return p


def test_codebook_errors_name_lines():
    bad = BOOK.copy()
    bad.loc[3, "parent"] = "NOPE"
    with pytest.raises(ValueError, match="line 5: parent 'NOPE' is not a code"):
        Codebook.from_frame(bad)
    with pytest.raises(ValueError, match="appears twice"):
        Codebook.from_frame(pd.concat([BOOK, BOOK.iloc[[0]]], ignore_index=True))


def test_documents_are_read(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("Interview with the Pioneer lead.")
    d.add_paragraph("The shared care record went live.")
    d.save(tmp_path / "lead.docx")
    assert read_text(tmp_path / "lead.docx") == "Interview with the Pioneer lead.\nThe shared care record went live."
    stream = b"BT /F1 12 Tf 72 720 Td (Workforce shortages in home care) Tj ET"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    pdf, offsets = b"%PDF-1.4\n", []
    for i, o in enumerate(objs, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    pdf += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    (tmp_path / "notes.pdf").write_bytes(pdf)
    assert "Workforce shortages in home care" in read_text(tmp_path / "notes.pdf")
    p = project(0)
    sid = p.add_document(tmp_path / "lead.docx", attributes={"pioneer": "Leeds"})
    start = p.sources[sid].index("The shared")
    p.code(sid, start, len(p.sources[sid]), "IT_REC", "ab")
    assert p.sources[sid][start:] == "The shared care record went live."
    assert p.attributes[sid] == {"document_type": "docx", "pioneer": "Leeds"}
    with pytest.raises(ValueError, match="cannot read .odt"):
        read_text(tmp_path / "x.odt")
    with pytest.raises(ValueError, match="outside"):
        p.code(sid, 0, 999, "IT", "ab")


def test_presence_counts_ancestors_and_frequencies():
    p = project(4)
    p.code("s0", None, None, "IT_REC", "ab")
    p.code("s1", 0, 6, "IT", "cd")
    p.code("s1", None, None, "FUNDING", "ab")
    pres = p.presence()
    assert pres.loc["s0", "IT"] == 1 and pres.loc["s0", "IT_REC"] == 1 and pres.loc["s2"].sum() == 0
    f = p.frequencies("org_type").set_index(["org_type", "code"])
    assert f.loc[("la", "IT"), "coded"] == 1 and f.loc[("la", "IT"), "sources"] == 2  # s0, s2 are la
    assert f.loc[("ccg", "FUNDING"), "pct"] == 50.0
    assert p.frequencies("org_type", coders=["cd"]).set_index(["org_type", "code"]).loc[("ccg", "FUNDING"), "coded"] == 0


def test_kappa_and_alpha_equal_hand_formulas():
    p = project(12)
    a = [1, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1]
    b = [1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0]
    for i, (x, y) in enumerate(zip(a, b)):
        p.code(f"s{i}", None, None, "WORKFORCE" if x else "FUNDING", "A")  # every source looked at
        p.code(f"s{i}", None, None, "WORKFORCE" if y else "FUNDING", "B")
    row = agreement(p, ["A", "B"]).set_index("code").loc["WORKFORCE"]
    a, b = np.array(a), np.array(b)
    po = (a == b).mean()
    pe = a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean())
    assert row["kappa"] == pytest.approx((po - pe) / (1 - pe), abs=1e-12)
    n, d = 24, int((a != b).sum())
    n1 = int(a.sum() + b.sum())
    assert row["alpha"] == pytest.approx(1 - (n - 1) * d / (n1 * (n - n1)), abs=1e-12)
    assert row["observed_agreement"] == pytest.approx(po)


def test_unassigned_sources_are_missing_not_absent():
    p = project(6)
    for i in range(6):
        p.code(f"s{i}", None, None, "IT", "A")
    for i in range(3):  # B only looked at s0..s2
        p.code(f"s{i}", None, None, "IT" if i else "FUNDING", "B")
    row = agreement(p, ["A", "B"]).set_index("code").loc["IT"]
    assert row["units_all_coders"] == 3 and row["units"] == 6
    with pytest.raises(ValueError, match="no codings"):
        agreement(p, ["A", "Z"])


def test_refi_qda_round_trip(tmp_path):
    import zipfile

    p = project(3)
    p.code("s0", 0, 6, "IT_REC", "A", memo="record")
    p.code("s1", None, None, "FUNDING", "B")
    path = export_qdpx(p, tmp_path / "p.qdpx")
    with zipfile.ZipFile(path) as z:
        qde = z.read("project.qde").decode()
        assert 'xmlns="urn:QDA-XML:project:1.0"' in qde and sum(n.startswith("Sources/") for n in z.namelist()) == 3
    back = import_qdpx(path)
    assert back.sources == p.sources and back.attributes["s0"]["org_type"] == "la"
    pd.testing.assert_frame_equal(back.codings.reset_index(drop=True), p.codings.reset_index(drop=True),
                                  check_dtype=False)
    assert back.codebook.lineage["IT_REC"] == ["IT_REC", "IT"]
    assert export_qdpx(back, tmp_path / "again.qdpx").read_bytes() != b""
    with zipfile.ZipFile(tmp_path / "again.qdpx") as z1, zipfile.ZipFile(path) as z2:
        assert z1.read("project.qde") == z2.read("project.qde")  # deterministic GUIDs
