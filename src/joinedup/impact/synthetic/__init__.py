"""Synthetic control (Abadie, Diamond & Hainmueller, as R ``Synth``) with placebo-in-space and
leave-one-out inference, and synthetic difference-in-differences (Arkhangelsky et al., as R
``synthdid``), ridge-augmented synthetic control (Ben-Michael, Feller & Rothstein, as pysyncon's
``AugSynth``) and conformal intervals (Chernozhukov, Wüthrich & Zhu).

Example:
    >>> import pandas as pd
    >>> from joinedup.impact.synthetic import synth, sdid
    >>> prop99 = pd.read_csv("california_prop99.csv", sep=";")                # doctest: +SKIP
    >>> synth(prop99, "State", "Year", "PacksPerCapita", "California", 1989, v="outcome").att  # doctest: +SKIP
    >>> sdid(prop99, "State", "Year", "PacksPerCapita", "treated").estimate    # doctest: +SKIP
    -15.60383...
"""

from joinedup.impact.synthetic.ascm import AscmResult, ascm
from joinedup.impact.synthetic.conformal import ConformalResult, conformal_intervals
from joinedup.impact.synthetic.fit import SynthResult, SynthSummary, synth
from joinedup.impact.synthetic.loo import LeaveOneOutResult, leave_one_out
from joinedup.impact.synthetic.placebo import PlaceboResult, PlaceboSummary, placebo_in_space
from joinedup.impact.synthetic.sdid import SdidResult, SdidSummary, sdid

__all__ = ["AscmResult", "ConformalResult", "LeaveOneOutResult", "PlaceboResult", "PlaceboSummary",
           "SdidResult", "SdidSummary", "SynthResult", "SynthSummary", "ascm", "conformal_intervals",
           "leave_one_out", "placebo_in_space", "sdid", "synth"]
