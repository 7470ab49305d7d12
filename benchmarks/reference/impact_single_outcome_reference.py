"""Write the impact estimates of the one-outcome default design as the code before several outcomes
(commit d372033) computed them, for tests/test_impact_outcomes.py to check that a one-outcome run
still gives the same numbers.

Run from a checkout of that commit (e.g. ``git archive d372033 | tar -x -C /tmp/base``):
    PYTHONPATH=/tmp/base/src .venv/bin/python benchmarks/reference/impact_single_outcome_reference.py \
        tests/data/impact_single_outcome_reference.csv
The data are tests/conftest.py's small_england (simulate scale 0.005, seed 11, years 2012-2016).
"""

import sys
import tempfile
from pathlib import Path

from joinedup.data import load_dataset
from joinedup.impact.evaluate import run_impact
from joinedup.impact.truth import load_truth
from joinedup.indicators import compute_indicators
from joinedup.protocol import Impact
from joinedup.simulate import simulate

SPEC = dict(baseline=("2012-01-01", "2013-09-30"), biters=99, seed=7)

if __name__ == "__main__":
    folder = Path(tempfile.mkdtemp()) / "data"
    simulate(folder, scale=0.005, seed=11, years=(2012, 2016))
    ds = load_dataset(folder)
    ind = compute_indicators(ds, ["emergency_admissions"], ["quarter"])
    est = run_impact(ds, ind, Impact(**SPEC), load_truth(str(folder))).tables["impact_estimates"]
    est.to_csv(sys.argv[1], index=False, float_format="%.17g")
    print(est[["design", "estimator", "estimand", "estimate", "p_value"]].to_string())
