"""The run's progress bar counts the steps the run really takes (it once read "9/7")."""

import json
import re

from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.pipeline import planned_steps
from joinedup.protocol import example_protocol_path, load_protocol
from tiny_dataset import write_tiny_dataset


def test_planned_steps_of_the_example_protocol():
    assert planned_steps(load_protocol(example_protocol_path())) == [
        "simulate", "validate", "overview", "indicators", "impact", "synthesis", "survey", "economics",
        "process", "report"]


def test_bar_total_is_the_steps_run(tmp_path):
    data = write_tiny_dataset(tmp_path / "tiny")
    protocol = tmp_path / "p.toml"
    protocol.write_text(f'[evaluation]\nname = "tiny"\n\n[data]\nsource = "{data}"\n\n'
                        '[indicators]\nids = ["emergency_admissions"]\nperiods = ["quarter"]\n\n'
                        '[survey]\ntypology = false\n')
    result = CliRunner().invoke(app, ["run", str(protocol), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    steps = planned_steps(load_protocol(protocol))
    assert steps == ["validate", "overview", "indicators", "survey", "report"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert sorted(manifest["timings_seconds"]) == sorted(steps)  # the manifest sorts its keys
    counts = re.findall(r"Evaluation: (\w+) .*?(\d+)/(\d+)", result.stderr)
    assert counts and all(int(total) == len(steps) for _, _, total in counts)
    assert counts[-1] == ("report", str(len(steps)), str(len(steps)))
