"""Reference ATT(g,t) and SEs for repeated cross-sections, unbalanced panels and factor covariates,
from the csdid Python port of R did (which follows R did 2.5.x), for tests/test_impact_did_rc.py.

R did is not installable here; csdid and drdid are NOT project dependencies. Run in a throwaway venv:

    python3.11 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install csdid==0.4.3 drdid==1.1.7
    /tmp/refvenv/bin/python benchmarks/reference/did_rc_csdid_reference.py \
        /work/shared/data/external/mpdta.csv tests/data/did_rc_csdid_ref.csv

Generated with csdid 0.4.3, drdid 1.1.7, numpy 2.4.6, pandas 3.1.1 (Python 3.11). Analytic SEs
(bstrap=False). The derived data sets (row ids, dropped rows, a text region) are built below so
the test can rebuild them exactly.
"""

import sys
from importlib.metadata import version

import numpy as np
import pandas as pd
from csdid.att_gt import ATTgt


def derived(mpdta: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The data sets of the scenarios; tests/test_impact_did_rc.py rebuilds them the same way."""
    rc = mpdta.assign(obs=np.arange(len(mpdta)))
    drop = ((mpdta["countyreal"] * 7 + mpdta["year"]) % 11 == 0).to_numpy()
    unb = mpdta.loc[~drop].reset_index(drop=True)
    fac = mpdta.assign(region=np.array(["north", "east", "south", "west"])[mpdta["countyreal"] % 4])
    return {"rc": rc, "unb": unb, "fac": fac}


SCENARIOS = [  # name, data set, extra att_gt arguments, est_method
    ("rc_dr", "rc", dict(panel=False, idname="obs"), "dr"),
    ("rc_ipw", "rc", dict(panel=False, idname="obs"), "ipw"),
    ("rc_reg", "rc", dict(panel=False, idname="obs"), "reg"),
    ("rc_dr_lpop", "rc", dict(panel=False, idname="obs", xformla="lemp ~ lpop"), "dr"),
    ("rc_ipw_lpop", "rc", dict(panel=False, idname="obs", xformla="lemp ~ lpop"), "ipw"),
    ("rc_reg_lpop", "rc", dict(panel=False, idname="obs", xformla="lemp ~ lpop"), "reg"),
    ("rc_nyt_dr", "rc", dict(panel=False, idname="obs", control_group=["notyettreated"]), "dr"),
    ("unb_dr", "unb", dict(allow_unbalanced_panel=True), "dr"),
    ("unb_nyt_reg", "unb", dict(allow_unbalanced_panel=True, control_group=["notyettreated"]), "reg"),
    ("unb_dr_lpop", "unb", dict(allow_unbalanced_panel=True, xformla="lemp ~ lpop"), "dr"),
    ("fac_reg", "fac", dict(xformla="lemp ~ region"), "reg"),
    ("fac_dr", "fac", dict(xformla="lemp ~ region + lpop"), "dr"),
]


def main(mpdta_path: str, out_path: str) -> None:
    sets = derived(pd.read_csv(mpdta_path))
    rows = []
    for name, key, extra, method in SCENARIOS:
        args = dict(yname="lemp", tname="year", idname="countyreal", gname="first.treat",
                    control_group=["nevertreated"]) | extra
        fit = ATTgt(data=sets[key], **args).fit(est_method=method, bstrap=False)
        res = fit.results
        for g, t, a, s in zip(res["group"], res["year"], res["att"], res["se"]):
            rows.append((name, g, t, a, s))
    out = pd.DataFrame(rows, columns=["scenario", "group", "t", "att", "se"])
    out.to_csv(out_path, index=False, float_format="%.15g")
    print(f"wrote {len(out)} rows; csdid {version('csdid')}, drdid {version('drdid')}, numpy {np.__version__}, "
          f"pandas {pd.__version__}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
