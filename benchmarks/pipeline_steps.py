"""A protocol on already simulated data (no simulate step): each step's seconds, peak memory and the
RSS it left for the next step, from the run's manifest (``steps``).

    .venv/bin/python benchmarks/pipeline_steps.py PROTOCOL.toml OUT_FOLDER
"""
import json
import sys
import time

from joinedup.pipeline import run_protocol
from joinedup.protocol import load_protocol

t0 = time.perf_counter()
result = run_protocol(load_protocol(sys.argv[1]), sys.argv[2])
steps = json.loads(result.manifest.read_text())["steps"]
print(f"wall {time.perf_counter() - t0:.1f} s")
for name, u in steps.items():
    print(f"{name:<12} {u['seconds']:>9.1f} s  peak {u['peak_rss_mb']:>9.1f} MB  after {u.get('rss_after_mb', float('nan')):>9.1f} MB")
