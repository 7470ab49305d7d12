"""Reference robust confidence sets from the ``honestdid`` 0.1.1 Python package (PyPI).

Writes ``tests/data/honestdid/honestdid_py_ref.csv``, which ``tests/test_impact_honest.py`` compares
joinedup's own implementation (``joinedup.impact.honest``) against.

honestdid 0.1.1 imports PyTorch and cvxpy at module level, and PyTorch from PyPI on Linux is a
3-5 GB CUDA build (measured here: torch 1.1 GB + nvidia 3.0 GB + triton 1.0 GB), which the project
keeps out of its lock (see the sentence-transformers override in pyproject.toml). So this script runs
in a throwaway environment, not the project's:

    uv venv /tmp/hdenv --python 3.11 && VIRTUAL_ENV=/tmp/hdenv uv pip install honestdid==0.1.1
    /tmp/hdenv/bin/python benchmarks/reference/honestdid_reference.py

Run 2026-12-05 it took 125 s (FLCI) and 852 s (C-LF) on BCdata's first post period, then crashed
with a TypeError in honestdid's primal ARP step (core.py line 1021) on the average-of-post-periods
target; the CSV is now written after each step so a crash keeps what ran.

Inputs (tests/data/honestdid/): the R HonestDiD package's ``BCdata_EventStudy`` (Benzarti & Carloni
2019; 4 pre, 4 post periods) and the R HonestDiD README's Medicaid-expansion TWFE event study (5 pre,
2 post), both as exported by github.com/anzonyquispe/honestdid tests/ (MIT).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import honestdid as hd
import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "honestdid"


def _designs():
    bc = json.loads((DATA / "bcdata_event_study.json").read_text())
    yield "bcdata", np.array(bc["betahat"]), np.array(bc["sigma"]), 4, 4
    beta = pd.read_csv(DATA / "medicaid_betahat.csv")["betahat"].to_numpy()
    sigma = pd.read_csv(DATA / "medicaid_sigma.csv").to_numpy()
    yield "medicaid", beta, sigma, 5, 2


def main() -> None:
    rows = []
    for name, beta, sigma, pre, post in _designs():
        for lname, l_vec in [("first", np.eye(post)[0]), ("average", np.full(post, 1 / post))]:
            ocs = hd.constructOriginalCS(beta, sigma, pre, post, l_vec=l_vec)
            rows.append({"data": name, "l_vec": lname, "delta": "none", "method": "Original", "m": np.nan,
                             "lb": ocs.lb[0], "ub": ocs.ub[0]})
            mvec = [0.0, 0.01, 0.02, 0.03] if name == "bcdata" else [0.0, 0.01, 0.02]
            t0 = time.time()
            sd = hd.createSensitivityResults(beta, sigma, pre, post, Mvec=mvec, l_vec=l_vec)
            print(name, lname, "FLCI", f"{time.time() - t0:.1f}s")
            rows += [{"data": name, "l_vec": lname, "delta": "SD", "method": "FLCI", "m": r.M, "lb": r.lb, "ub": r.ub}
                     for r in sd.itertuples()]
            for method in ["C-LF", "Conditional"]:
                t0 = time.time()
                rm = hd.createSensitivityResults_relativeMagnitudes(
                    beta, sigma, pre, post, method=method, Mbarvec=[0.5, 1.0, 1.5, 2.0], l_vec=l_vec)
                print(name, lname, method, f"{time.time() - t0:.1f}s")
                pd.DataFrame(rows).to_csv(DATA / "honestdid_py_ref.csv", index=False)  # keep what ran
                rows += [{"data": name, "l_vec": lname, "delta": "RM", "method": method, "m": r.Mbar, "lb": r.lb,
                              "ub": r.ub} for r in rm.itertuples()]
    out = pd.DataFrame(rows)
    out.to_csv(DATA / "honestdid_py_ref.csv", index=False, float_format="%.10g")
    print(out.to_string())


if __name__ == "__main__":
    main()
