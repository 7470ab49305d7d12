"""Check that the analysis-plan defaults change no number: impact tables at a base commit and now.

`[impact] matching_basis` (default "covariates_and_baseline_outcomes"), `[programme] co_interventions`
(default "exclude") and the pre-start withholding of comparison choice must give exactly the numbers
the code gave before they existed. This script simulates England at 0.5% (2012-2017), runs the
built-in Pioneer impact step (all designs, unmatched and with 2 matched controls) once with the base
commit's `src` (extracted by `git archive`) and once with the working tree, and compares every table
with `check_exact=True`.

Usage (from the repository root):
    .venv/bin/python benchmarks/reference/plan_defaults_identical.py d372033

Recorded result (2-core shared machine, 2026-12-05, base d372033 against branch plan):
    matched_controls=None: 9 tables identical (check_exact); new tables: ['impact_comparison_units']
    matched_controls=2: 9 tables identical (check_exact); new tables: ['impact_comparison_units']
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

RUN = """
import pickle, sys
from joinedup.data import load_dataset
from joinedup.impact.evaluate import run_impact
from joinedup.impact.truth import load_truth
from joinedup.indicators import compute_indicators
from joinedup.protocol import Impact
data, out = sys.argv[1], sys.argv[2]
ds = load_dataset(data)
ind = compute_indicators(ds, ["emergency_admissions"], ["quarter"])
tables = {}
for mc in (None, 2):
    spec = Impact(baseline=("2012-01-01", "2013-09-30"), biters=99, seed=7, matched_controls=mc)
    tables[mc] = run_impact(ds, ind, spec, load_truth(data)).tables
pickle.dump(tables, open(out, "wb"))
"""


def main(base: str) -> None:
    import pandas as pd

    from joinedup.simulate import simulate

    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        simulate(tmp / "data", scale=0.005, seed=11, years=(2012, 2017))
        archive = subprocess.run(["git", "-C", str(root), "archive", base, "src"], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive.stdout, check=True)
        script = tmp / "run.py"
        script.write_text(RUN)
        for name, src in (("base", tmp / "src"), ("now", root / "src")):
            env = {**os.environ, "PYTHONPATH": str(src)}
            subprocess.run([sys.executable, str(script), str(tmp / "data"), str(tmp / f"{name}.pkl")], env=env,
                           check=True, cwd=tmp)
        base_tables = pickle.loads((tmp / "base.pkl").read_bytes())
        now_tables = pickle.loads((tmp / "now.pkl").read_bytes())
    for mc, tables in base_tables.items():
        for name, frame in tables.items():
            pd.testing.assert_frame_equal(frame, now_tables[mc][name], check_exact=True)
        new = sorted(set(now_tables[mc]) - set(tables))
        print(f"matched_controls={mc}: {len(tables)} tables identical (check_exact); new tables: {new}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "HEAD")
