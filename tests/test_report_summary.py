"""The report's summary wording and the automatic limitations, on hand-made step tables."""

import pandas as pd

from joinedup.report.summary import direction, limitations, summary_section


def test_wording_follows_the_interval():
    assert direction(-0.1, -0.2, -0.01, "admissions") == "reduced admissions"
    assert direction(0.1, 0.01, 0.2, "admissions") == "increased admissions"
    assert direction(-0.1, -0.2, 0.01, "admissions") == "no clear change in admissions"


def _tables():
    return {
        "impact_estimates": pd.DataFrame({"design": ["wave 1"], "estimator": ["TWFE"], "estimate": [-0.03],
                                          "ci_low": [-0.09], "ci_high": [0.03], "pct_change": [-3.0],
                                          "pct_low": [-8.6], "pct_high": [3.0], "suppressed": [False]}),
        "impact_cs_dynamic": pd.DataFrame({"egt": [-3, -2, -1, 0], "lower": [0.01, -0.1, -0.1, -0.2],
                                           "upper": [0.2, 0.1, 0.1, -0.01], "suppressed": False}),
        "impact_synth_sites": pd.DataFrame({"site": ["A", "B"], "rank": [2, 60], "n_placebos": [80, 80],
                                            "pre_rmspe": [0.8, 0.1], "suppressed": False}),
        "impact_synth_gaps": pd.DataFrame({"site": ["A", "A", "B", "B"], "post": [False, True, False, True],
                                           "treated": [8.0, 7.0, 8.0, 7.5], "suppressed": False}),
        "economics_balance": pd.DataFrame({"variable": ["age", "risk_score", "distance"],
                                           "sample": ["matched"] * 3, "smd": [0.02, -0.15, 0.3], "suppressed": False}),
        "indicators": pd.DataFrame({"suppressed": [True, True, False]}),
    }


def test_limitations_are_found():
    found = limitations(_tables())
    text = " ".join(found)
    assert "Pre-trend check failed at 1 of 3" in text and "e = -3" in text
    assert "1 of 2 sites" in text and "(B)" in text
    assert "poor pre-period fit for 1 of 2 sites (RMSPE over 5% of the site's own level: A)" in text
    assert "risk_score" in text and "age" not in text.split("Imbalance")[1].split(".")[0]
    assert "1 of 1 impact estimates have intervals wider" in text
    assert "2 rows of the output tables have small numbers suppressed" in text


def test_summary_never_says_reduced_when_the_interval_includes_zero():
    body = summary_section(_tables()).body_html
    assert "no clear change in emergency admissions" in body and "reduced" not in body.split("<h3>")[0]
    assert "-3.0%" in body and "-8.6%" in body
