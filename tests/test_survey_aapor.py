"""AAPOR dispositions and response rates: RR1 and RR2 by hand on a small roster."""

import pandas as pd
import pytest

from joinedup.survey.aapor import response_rates


def test_rr1_rr2_on_eligible_denominator():
    f = pd.DataFrame({"wave": [1] * 6 + [2] * 3, "pioneer": list("aabbbbaab"),
                      "disposition": ["complete", "partial", "refusal", "non_contact", "ineligible",
                                      "complete", "complete", "ineligible", "ineligible"]})
    by_wave = response_rates(f, ["wave"]).set_index("wave")
    assert by_wave.loc[1, "invited"] == 6 and by_wave.loc[1, "eligible"] == 5
    assert by_wave.loc[1, "rr1"] == pytest.approx(2 / 5)
    assert by_wave.loc[1, "rr2"] == pytest.approx(3 / 5)
    assert by_wave.loc[2, "rr1"] == 1.0
    by_site = response_rates(f, ["wave", "pioneer"]).set_index(["wave", "pioneer"])
    assert by_site.loc[(2, "b"), "eligible"] == 0 and pd.isna(by_site.loc[(2, "b"), "rr1"])
    assert by_site.loc[(1, "b"), "rr2"] == pytest.approx(1 / 3)


def test_unknown_disposition_is_named():
    f = pd.DataFrame({"wave": [1, 1], "disposition": ["complete", "bounced"]})
    with pytest.raises(ValueError, match="row 3: 'bounced'"):
        response_rates(f)
