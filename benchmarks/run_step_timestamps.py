"""Seconds between a run's output files: a crude per-step timing for runs killed before their manifest.

Each step is timed from the previous mark to the newest file of its own mark (simulate: the data
folder; validate: validation.txt; then one table each step writes last). Wall time on a shared
machine: the load moves these by several times. Used for benchmarks/results/scale_run_partial_timestamps.txt.

    python3 benchmarks/run_step_timestamps.py out/scale4/current-0.005 out/scale3/current-0.01
"""
import glob
import os
import sys

marks = [("simulate", "data"), ("validate", "validation.txt"), ("overview", "tables/table_rows.parquet"),
         ("indicators", "tables/indicator_funnel.parquet"), ("breakdowns+inequalities", "tables/indicator_inequalities.parquet"),
         ("impact", "tables/impact_estimates.parquet"), ("synthesis", "tables/synthesis_pooled.parquet"),
         ("survey", "tables/survey_site_measures.parquet"), ("typology/process", "tables/typology_clusters.parquet"),
         ("economics", "tables/economics_estimates.parquet")]
for folder in sys.argv[1:]:
    start = os.path.getmtime(f"{folder}/protocol.toml"); prev = start; row = []
    for name, rel in marks:
        p = f"{folder}/out/{rel}"
        if not os.path.exists(p): break
        t = max(os.path.getmtime(f) for f in glob.glob(p + "/**", recursive=True)) if os.path.isdir(p) else os.path.getmtime(p)
        row.append(f"{name} {t - prev:.0f}"); prev = t
    print(folder, "|", ", ".join(row), f"| then killed {start + 600 - prev:.0f} s later (600 s timeout incl. start-up)")
