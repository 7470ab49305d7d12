"""Each step's seconds and peak memory: the meter counts child processes, and the manifest records every step."""

import json
import subprocess
import sys

from joinedup.pipeline import run_protocol
from joinedup.step_usage import StepMeter
from test_pipeline import protocol_for


def test_a_child_process_memory_counts_in_the_step_that_started_it():
    # Children alive before and after (in a whole test run, the shared Spark session's JVM) count in
    # every step alike, so the child's share is measured against a step run before it.
    meter = StepMeter(interval=0.05)
    code = "b = bytearray(300 * 2**20); import time; time.sleep(1.0)"  # 300 MB held for a second
    with meter.step("before"):
        pass
    with meter.step("child"):
        subprocess.run([sys.executable, "-c", code], check=True)
    with meter.step("nothing"):
        pass
    before = meter.usage["before"]["peak_rss_children_mb"]
    assert meter.usage["child"]["peak_rss_children_mb"] > before + 250
    assert meter.usage["child"]["peak_rss_mb"] > meter.usage["child"]["peak_rss_process_mb"] + 250
    assert meter.usage["nothing"]["peak_rss_children_mb"] < before + 50  # the child is gone: the next step is its own


def test_the_manifest_records_seconds_and_peak_memory_of_every_step(tiny, tmp_path):
    result = run_protocol(protocol_for(tmp_path, tiny))
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert set(manifest["steps"]) == set(manifest["timings_seconds"]) == {"validate", "overview", "report"}
    for step, usage in manifest["steps"].items():
        assert usage["seconds"] == manifest["timings_seconds"][step]
        assert 20 < usage["peak_rss_mb"] < 20_000 and usage["peak_rss_process_mb"] <= usage["peak_rss_mb"]
