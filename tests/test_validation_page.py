"""docs/validation.md cannot drift: every test it cites (``file::function``) exists under tests/.

The page's tables have five columns (method, reference, tolerance, test, result); the test column holds
one or more ``test_x.py::test_name`` separated by commas. A renamed or deleted test, a table row with the
wrong number of cells, or a row that cites no test fails here.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "validation.md"
HEADER = ["method", "reference (package, version, build)", "tolerance", "test", "result"]
CITATION = re.compile(r"^(test_[a-z0-9_]+\.py)::(test_[a-z0-9_]+)$")


def table_rows(text: str) -> list[list[str]]:
    """Data rows of every table whose header is HEADER (cells stripped)."""
    rows, in_table = [], False
    for line in text.splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells == HEADER:
            in_table = True
        elif in_table and not set("".join(cells)) <= set("-: "):
            rows.append(cells)
    return rows


def defined_functions(path: Path) -> set[str]:
    """Names of the module-level test functions of a test file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_cited_test_exists():
    rows = table_rows(PAGE.read_text(encoding="utf-8"))
    assert len(rows) >= 30, f"expected the validation tables, found {len(rows)} rows"
    missing, cited = [], 0
    for row in rows:
        assert len(row) == len(HEADER), f"row has {len(row)} cells, not {len(HEADER)}: {row}"
        tests = [t.strip() for t in row[3].split(",")]
        assert tests and all(tests), f"row cites no test: {row[0]}"
        for citation in tests:
            match = CITATION.match(citation)
            assert match, f"{row[0]}: {citation!r} is not file.py::test_name"
            file = ROOT / "tests" / match.group(1)
            cited += 1
            if not file.exists() or match.group(2) not in defined_functions(file):
                missing.append(citation)
    assert not missing, f"docs/validation.md cites tests that do not exist: {missing}"
    assert cited >= 50


def test_the_check_catches_a_missing_test(tmp_path):
    text = "| " + " | ".join(HEADER) + " |\n|---|---|---|---|---|\n| m | r | 1e-6 | test_disclosure.py::test_no_such | x |\n"
    (row,) = table_rows(text)
    match = CITATION.match(row[3])
    assert match.group(2) not in defined_functions(ROOT / "tests" / match.group(1))


def test_every_method_page_with_a_validation_section_is_linked():
    page = PAGE.read_text(encoding="utf-8")
    for name in ["impact-did", "impact-panel-twfe", "impact-synth", "indicator-methods", "spc-and-funnels",
                 "economics-matching", "economics-cea", "synthesis-meta", "survey-analysis", "cohort",
                 "bring-your-own-data", "disclosure"]:
        assert (ROOT / "docs" / f"{name}.md").exists(), name
        assert f"]({name}.md)" in page, f"docs/validation.md does not link {name}.md"
