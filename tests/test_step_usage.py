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


def test_what_a_step_left_in_reference_cycles_is_handed_back_before_the_next():
    # A step that ends with 200 MB reachable only through a reference cycle (as statsmodels' fits leave
    # theirs): without the meter's collection at the step's end it would stay until the collector next
    # ran, and the next step would start 200 MB higher.
    import gc

    import numpy as np

    meter = StepMeter(interval=0.05)
    gc.disable()  # so that only the meter collects
    try:
        with meter.step("cycle"):
            holder = {"data": np.ones(25_000_000)}  # 200 MB, written so it is resident
            holder["self"] = holder
            del holder
        usage = meter.usage["cycle"]
    finally:
        gc.enable()
    assert usage["peak_rss_process_mb"] - usage["rss_after_mb"] > 150, usage
