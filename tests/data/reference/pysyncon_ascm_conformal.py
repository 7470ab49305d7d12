"""Reference outputs of pysyncon 1.7.0 (MIT) on Proposition 99, for tests/test_impact_ascm.py.

Run from the repository root with the compare group installed (about five minutes, pysyncon's SLSQP
refits are slow):

    .venv/bin/python tests/data/reference/pysyncon_ascm_conformal.py

Writes beside this script:
- pysyncon_ascm.csv: AugSynth (ridge, no covariates) with its cross-validated lambda: per donor the
  augmented weight W and the synthetic control weight synw, plus lambda and the 1989-2000 ATT
  (rows with donor = "_lambda" and "_att");
- pysyncon_ascm_cv.csv: its cross-validation (lambda, errors_mean, errors_se);
- pysyncon_conformal.csv: ConformalInference.confidence_intervals at alpha = 0.1, tol = 0.01, for
  1989-1992, refitting the outcome-only synthetic control (V = identity on the pre-period outcomes,
  pysyncon's own SLSQP w_optimize) through the small adapter class below, since pysyncon's Synth
  refit needs covariates and its AugSynth has no Z0/Z1 fit.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from pysyncon import AugSynth, Dataprep
from pysyncon.base import BaseSynth, VanillaOptimMixin
from pysyncon.inference import ConformalInference

HERE = Path(__file__).parent
DATA = HERE.parent / "external" / "california_prop99.csv"
PRE, POST = list(range(1970, 1989)), list(range(1989, 2001))


class OutcomeSynth(BaseSynth, VanillaOptimMixin):
    """Synthetic control on the outcomes alone (V = identity), fitted with pysyncon's own QP."""

    def fit(self, Z0, Z1):
        self.W, _ = self.w_optimize(np.eye(len(Z1)), Z0.to_numpy(), Z1.to_numpy(),
                                    qp_options={"maxiter": 2000, "ftol": 1e-12})


def main():
    df = pd.read_csv(DATA, sep=";")
    states = sorted(s for s in df["State"].unique() if s != "California")
    dp = Dataprep(foo=df, predictors=[], predictors_op="mean", dependent="PacksPerCapita", unit_variable="State",
                  time_variable="Year", treatment_identifier="California", controls_identifier=states,
                  time_predictors_prior=PRE, time_optimize_ssr=PRE)
    aug = AugSynth()
    aug.fit(dp, use_covariates=False)
    att = aug.att(POST)["att"]
    rows = pd.DataFrame({"donor": states, "W": aug.W, "synw": aug.synw})
    extra = pd.DataFrame({"donor": ["_lambda", "_att"], "W": [aug.lambda_, att], "synw": [np.nan, np.nan]})
    pd.concat([rows, extra]).to_csv(HERE / "pysyncon_ascm.csv", index=False, float_format="%.12g")
    cv = aug.cv_result
    pd.DataFrame({"lambda": cv.lambdas, "errors_mean": cv.errors_mean, "errors_se": cv.errors_se}).to_csv(
        HERE / "pysyncon_ascm_cv.csv", index=False, float_format="%.12g")

    wide = df.pivot(index="Year", columns="State", values="PacksPerCapita")
    z1 = wide.pop("California")
    scm = OutcomeSynth()
    scm.fit(wide.loc[PRE], z1.loc[PRE])
    ci = ConformalInference().confidence_intervals(alpha=0.1, scm=scm, Z0=wide, Z1=z1, pre_periods=PRE,
                                                   post_periods=POST[:4], tol=0.01, max_iter=200, verbose=False)
    ci.reset_index().to_csv(HERE / "pysyncon_conformal.csv", index=False, float_format="%.12g")


if __name__ == "__main__":
    main()
