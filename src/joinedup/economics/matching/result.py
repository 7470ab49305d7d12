"""``MatchResult``: what :func:`matchit` returns, with MatchIt's ``match.data`` and ``summary``.

Numbers are computed by pure functions in ``balance`` and ``weights``; the methods here only
assemble and format them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from joinedup.economics.matching.balance import balance_table, sample_sizes

_LABELS = {"mean_treated": "Means Treated", "mean_control": "Means Control", "smd": "Std. Mean Diff.",
           "var_ratio": "Var. Ratio", "ecdf_mean": "eCDF Mean", "ecdf_max": "eCDF Max",
           "pair_dist": "Std. Pair Dist."}


@dataclass(frozen=True)
class MatchResult:
    """A matched sample. ``match_matrix`` has one row per focal unit (treated for the ATT) in data
    order and ``ratio`` columns of matched row positions (-1: none); ``weights`` and ``subclass``
    (0 = none; absent with replacement) are per row of ``data``."""

    formula: str
    data: pd.DataFrame = field(repr=False)
    treat_name: str
    treat: np.ndarray = field(repr=False)
    estimand: str
    distance: np.ndarray | None = field(repr=False)
    discarded: np.ndarray = field(repr=False)
    match_matrix: np.ndarray | None = field(repr=False)  # None for subclass, exact and cem
    weights: np.ndarray = field(repr=False)
    subclass: np.ndarray | None = field(repr=False)
    covariates: pd.DataFrame = field(repr=False)
    model: object = field(repr=False)
    ps_columns: tuple[str, ...] = field(repr=False)
    settings: dict = field(default_factory=dict)

    @property
    def focal(self) -> np.ndarray:
        return self.treat if self.estimand == "ATT" else 1 - self.treat

    @property
    def coefficients(self) -> pd.Series | None:
        """Propensity-model coefficients (``distance="glm"``), named as R names them."""
        coef = getattr(self.model, "coefficients", None)
        return None if coef is None else pd.Series(coef, index=list(self.ps_columns), name="estimate")

    def match_data(self, group: str = "all", drop_unmatched: bool = True) -> pd.DataFrame:
        """MatchIt's ``match.data``: the data with ``distance``, ``weights`` and (without
        replacement) ``subclass`` columns, matched rows only.

        Example:
            >>> md = m.match_data()                                            # doctest: +SKIP
            >>> md.groupby("treat")["weights"].sum()                           # doctest: +SKIP
        """
        for name in ("distance", "weights", "subclass"):
            if name in self.data.columns:
                raise ValueError(f"the data already has a column {name!r}; rename it before matching")
        keep = self.weights > 0 if drop_unmatched else np.ones(len(self.data), bool)
        if group == "treated":
            keep &= self.treat == 1
        elif group == "control":
            keep &= self.treat == 0
        elif group != "all":
            raise ValueError(f"group must be one of 'all', 'treated', 'control'; got {group!r}")
        # the kept rows only: copying the whole data first (10 million controls at scale 1.0) to keep
        # a few thousand cost a second copy of the cohort
        out = self.data.loc[keep].copy()
        if self.distance is not None:
            out["distance"] = self.distance[keep]
        out["weights"] = self.weights[keep]
        if self.subclass is not None:
            sub = pd.Series(self.subclass[keep], index=out.index, dtype="Int64")
            out["subclass"] = sub.where(sub > 0)  # unmatched: <NA>, as R's NA
        return out

    def _cov_frame(self) -> pd.DataFrame:
        covs = self.covariates
        if self.distance is not None:
            covs = pd.concat([pd.DataFrame({"distance": self.distance}, index=covs.index), covs], axis=1)
        return covs

    def balance(self, un: bool = True) -> pd.DataFrame:
        """Tidy balance table: one row per variable and sample (``"all"`` before matching,
        ``"matched"`` after). SMDs divide by the SD of the focal group on all units (treated for the
        ATT: ``attrs["smd_denominator"]``), as MatchIt's ``summary`` does."""
        covs = self._cov_frame()
        parts = []
        if un:
            parts.append(balance_table(covs, self.treat, None, self.estimand).assign(sample="all"))
        # without a match matrix (subclass, exact, cem) MatchIt's pair distance runs over subclasses
        by_sub = self.match_matrix is None and self.settings.get("pair_dist", True)
        parts.append(balance_table(covs, self.treat, self.weights, self.estimand, mm=self.match_matrix,
                                   focal=self.focal, subclass=self.subclass if by_sub else None)
                     .assign(sample="matched"))
        table = pd.concat(parts, ignore_index=True)
        table = table[["variable", "sample", *_LABELS, "sd_denominator"]]
        table["smd_denominator"] = "treated" if self.estimand == "ATT" else "control"
        table.attrs["smd_denominator"] = ("SD of the treated group, all units before matching"
                                          if self.estimand == "ATT" else
                                          "SD of the control group, all units before matching")
        return table

    tidy = balance

    def sample_sizes(self) -> pd.DataFrame:
        """MatchIt's "Sample Sizes": All, Matched (ESS), Matched, Unmatched, Discarded by group."""
        return sample_sizes(self.treat, self.weights, self.discarded)

    def summary(self, un: bool = True, digits: int = 4) -> MatchSummary:
        """MatchIt's ``summary(m.out)``: balance before and after, sample sizes (text and HTML)."""
        return MatchSummary(self, self.balance(un=un), self.sample_sizes(), digits)

    def love_plot(self, threshold: float = 0.1):
        """A Love plot: absolute standardised mean differences before and after matching."""
        from joinedup.economics.matching.plot import love_plot

        return love_plot(self.balance(un=True), threshold)

    plot = love_plot


@dataclass(frozen=True)
class MatchSummary:
    result: MatchResult
    table: pd.DataFrame
    sizes: pd.DataFrame
    digits: int = 4

    def frames(self) -> dict[str, pd.DataFrame]:
        """The balance tables in MatchIt's layout, keyed "all" / "matched"."""
        out = {}
        for sample, part in self.table.groupby("sample", sort=False):
            frame = part.set_index("variable")[list(_LABELS)].rename(columns=_LABELS)
            if sample == "all" or frame["Std. Pair Dist."].isna().all():
                frame = frame.drop(columns="Std. Pair Dist.")
            out[sample] = frame
        return out

    def _sizes_shown(self) -> pd.DataFrame:
        s = self.sizes
        if np.allclose(s.loc["Matched (ESS)"], s.loc["Matched"]):
            s = s.drop(index="Matched (ESS)")
        return s

    def __str__(self) -> str:
        r = self.result
        st = r.settings
        lines = [f"Call: matchit({r.formula!r}, method={st['method']!r}, distance={st['distance']!r}, "
                 f"ratio={st['ratio']}, replace={st['replace']}, estimand={r.estimand!r})"]
        fmt = f"{{:.{self.digits}f}}".format
        titles = {"all": "Summary of Balance for All Data:", "matched": "Summary of Balance for Matched Data:"}
        for key, frame in self.frames().items():
            shown = frame.map(lambda v: "." if pd.isna(v) else fmt(v))
            lines += ["", titles[key], shown.to_string()]
        sizes = self._sizes_shown().map(lambda v: f"{v:.2f}" if v != int(v) else f"{int(v)}")
        lines += ["", "Sample Sizes:", sizes.to_string(), ""]
        if r.settings.get("caliper_absolute") is not None:
            lines.append(f"Caliper: {r.settings['caliper']} SD of the distance = {r.settings['caliper_absolute']:.6g}")
        lines.append(f"Std. Mean Diff. denominator: {self.table.attrs['smd_denominator']}.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = []
        titles = {"all": "Balance for all data", "matched": "Balance for matched data"}
        for key, frame in self.frames().items():
            parts.append(f"<h4>{titles[key]}</h4>" + frame.to_html(float_format=lambda v: f"{v:.{self.digits}f}", na_rep="."))
        parts.append("<h4>Sample sizes</h4>" + self._sizes_shown().to_html(float_format=lambda v: f"{v:.2f}"))
        return "\n".join(parts)
