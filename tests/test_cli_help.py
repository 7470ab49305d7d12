"""Help text shows protocol section names such as ``[economics]`` as written: Rich markup (Typer's
default) took them for style tags and printed "Protocol whose  section to use"."""

import pytest
from typer.testing import CliRunner

from joinedup.cli import app


@pytest.mark.parametrize("command, shown", [
    (["economics", "--help"], "[economics]"),
    (["cohort", "run", "--help"], "[cohort]"),
    (["impact", "--help"], "[impact]"),
])
def test_section_names_in_help_are_printed(command, shown):
    result = CliRunner().invoke(app, command, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert shown in result.output
