"""Generated docs pages match the code they are generated from."""

from pathlib import Path

import pytest

from joinedup.docs import GENERATED_PAGES

DOCS = Path(__file__).parents[1] / "docs"


@pytest.mark.parametrize("name", sorted(GENERATED_PAGES))
def test_generated_page_is_up_to_date(name):
    assert (DOCS / name).read_text(encoding="utf-8") == GENERATED_PAGES[name](), (
        f"docs/{name} is stale: run `joinedup docs`")


def test_data_dictionary_documents_every_interface_column():
    text = (DOCS / "data-dictionary.md").read_text(encoding="utf-8")
    for column in ("area_code", "imd_score", "admimeth", "primary_diagnosis", "discharge_destination",
                   "arrival_date", "enrolment_date", "start_date", "persons", "birth_year"):
        assert f"| `{column}` |" in text
    assert "HES Admitted Patient Care" in text and "ONS mid-year population estimates" in text


def test_no_merge_conflict_markers_are_left():
    """A merge resolved in a hurry once kept its <<<<<<< / >>>>>>> lines in two docs pages."""
    import re

    root = DOCS.parent
    marker = re.compile(r"^(<{7}|>{7})( |$)", re.MULTILINE)
    files = [p for folder in ("docs", "src", "tests", "benchmarks") for p in (root / folder).rglob("*")
             if p.suffix in {".md", ".py", ".toml", ".txt", ".html", ".css", ".js"} and p.is_file()]
    assert len(files) > 100
    left = [str(p.relative_to(root)) for p in files if marker.search(p.read_text(encoding="utf-8", errors="replace"))]
    assert left == []
