"""Simulated initiative registers with a known truth: programmed narrowing and design-to-delivery delays.

Each site starts with 5-8 initiatives in the quarters after it joins. Every initiative is planned
from its start, pilots for half its delay, goes live (implemented) after ``delay`` quarters, and may
reach scale a year or two later. At each 1 January a live initiative stops with a hazard that
depends on its model, and new ones start. The two scenarios:

* ``narrowing`` (the evaluation's finding): social-model initiatives stop often
  (``stop_social`` 0.25 a year), medical-model ones rarely (0.05); fewer new initiatives start, and
  most of those are community MDTs for older people (``new_medical`` 0.85); delays average
  ``delay_mean_quarters`` = 6 (18 months). The share of medical-model initiatives rises and the
  portfolio narrows.
* ``null``: every live initiative stops with the same hazard (0.12) and each stop is replaced by a
  new initiative drawn from the starting mix of models and types (a stationary portfolio); delays average 1.5 quarters (4.5 months).

Stops apply only to live initiatives (a design is not abandoned here, so a delay is always observed
given follow-up). The truth (:func:`register_truth`) lists the parameters, each initiative's
programmed delay and every site-year's true portfolio, for the checks in tests/test_process_*.py.

Example:
    >>> frame, truth = simulate_register(seed=1, scenario="null")
    >>> truth["scenario"], sorted(frame["stage"].unique())[:2]
    ('null', ['at_scale', 'implemented'])
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from joinedup.process.vocab import FOCUS_TARGETS, FOCUS_TYPE, INITIATIVE_TYPES
from joinedup.simulate.schemes import TARGETS

SCENARIOS = {
    "narrowing": {"stop_medical": 0.05, "stop_social": 0.25, "new_per_site": 0.8, "new_medical": 0.85,
                  "delay_mean_quarters": 6.0},
    "null": {"stop_medical": 0.12, "stop_social": 0.12, "new_per_site": None, "new_medical": None,
             "delay_mean_quarters": 1.5},
}
MEDICAL_TYPES = ("community_mdt", "risk_stratification", "rapid_response", "integrated_discharge")
P_MEDICAL_BY_TYPE = {t: (0.8 if t in MEDICAL_TYPES else 0.2) for t in INITIATIVE_TYPES}
EXTRA_TARGETS = ("learning_disabilities", "carers", "cancer", "whole_community")


def _quarter(d: dt.date, k: int) -> dt.date:
    total = d.year * 12 + (d.month - 1) // 3 * 3 + 3 * k
    return dt.date(total // 12, total % 12 + 1, 1)


def _slug(site: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", site.lower()).strip("-")


def _default_sites() -> pd.DataFrame:
    from joinedup.simulate.geography import read_reference

    ref = pd.DataFrame(read_reference("pioneers"))
    return ref.drop_duplicates("site")[["site", "start_date"]].reset_index(drop=True)


class _Site:
    def __init__(self, name: str, rng, p: dict, p0: float):
        self.name, self.rng, self.p, self.p0, self.items = name, rng, p, p0, []

    def new(self, start: dt.date, focus: bool | None = None) -> None:
        rng = self.rng
        if focus:
            kind, targets, model = FOCUS_TYPE, [str(rng.choice(FOCUS_TARGETS))], "medical"
        else:
            kind = str(rng.choice(INITIATIVE_TYPES))
            model = "medical" if rng.random() < P_MEDICAL_BY_TYPE[kind] else "social"
            targets = [TARGETS[kind][0]] + ([str(rng.choice(EXTRA_TARGETS))] if rng.random() < 0.2 else [])
        delay = 1 + int(rng.poisson(self.p["delay_mean_quarters"] - 1))
        self.items.append({"initiative_id": f"{_slug(self.name)}-i{len(self.items) + 1:02d}", "site": self.name,
                           "initiative_type": kind, "model": model, "target_groups": ";".join(sorted(set(targets))),
                           "start": start, "delay_quarters": delay, "scale_after": int(rng.integers(4, 9)),
                           "at_scale": bool(rng.random() < 0.5), "end": None,
                           "prevention": bool(kind == "prevention_self_management" or rng.random() < 0.15),
                           "personalisation": bool(rng.random() < 0.3)})


def _live_on(item: dict, day: dt.date) -> bool:
    return _quarter(item["start"], item["delay_quarters"]) < day and item["end"] is None  # live before that day


def simulate_register(seed: int = 2013, scenario: str = "narrowing", sites: pd.DataFrame | None = None,
                      last_year: int = 2019) -> tuple[pd.DataFrame, dict]:
    """A register (text cells, the layout of :data:`joinedup.process.register.REGISTER_COLUMNS`, one row
    per initiative and quarter) and its truth. ``sites``: ``site, start_date`` (default the Pioneers)."""
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {', '.join(SCENARIOS)}; got {scenario!r}")
    p = SCENARIOS[scenario]
    sites = _default_sites() if sites is None else sites
    rng = np.random.default_rng(np.random.SeedSequence([seed, 20, list(SCENARIOS).index(scenario)]))
    p0 = float(np.mean(list(P_MEDICAL_BY_TYPE.values())))
    state, portfolios = [], []
    for name, start in zip(sites["site"], pd.to_datetime(sites["start_date"]).dt.date):
        s = _Site(str(name), rng, p, p0)
        n0 = int(rng.integers(5, 9))
        for _ in range(n0):
            s.new(_quarter(start, int(rng.integers(0, 4))))
        for year in range(start.year + 1, last_year + 1):
            jan = dt.date(year, 1, 1)
            stops = 0
            for item in s.items:
                hazard = p["stop_medical"] if item["model"] == "medical" else p["stop_social"]
                if _live_on(item, jan) and rng.random() < hazard:
                    item["end"] = jan
                    stops += 1
            if p["new_per_site"] is None:  # null: each stop replaced by a new one drawn from the starting mix
                focus = [None] * stops
            else:
                k = int(rng.poisson(p["new_per_site"]))
                focus = [bool(rng.random() < p["new_medical"]) for _ in range(k)]
            for f in focus:
                s.new(_quarter(jan, int(rng.integers(0, 4))), focus=f)
        state.append(s)
    rows = []
    for s in state:
        for it in s.items:
            rows.extend(_rows(it, last_year))
        for year in range(2013, last_year + 1):
            jan, dec = dt.date(year, 1, 1), dt.date(year, 12, 31)
            here = [it for it in s.items if it["start"] <= dec and (it["end"] is None or it["end"] > jan)]
            if here:
                portfolios.append({"site": s.name, "year": year, "initiatives": len(here),
                                   "types": len({it["initiative_type"] for it in here}),
                                   "medical_share": float(np.mean([it["model"] == "medical" for it in here]))})
    truth = register_truth(scenario, seed, p, state, portfolios)
    return pd.DataFrame(rows), truth


def _rows(it: dict, last_year: int) -> list[dict]:
    live_from = _quarter(it["start"], it["delay_quarters"])
    scale_from = _quarter(live_from, it["scale_after"])
    out, q, pilot_from = [], it["start"], _quarter(it["start"], it["delay_quarters"] // 2)
    while q.year <= last_year:
        if it["end"] is not None and q >= it["end"]:
            stage = "stopped"
        elif q >= live_from:
            stage = "at_scale" if it["at_scale"] and q >= scale_from else "implemented"
        else:
            stage = "piloting" if q >= pilot_from and it["delay_quarters"] > 1 else "planned"
        scale = {"planned": "", "piloting": "60", "implemented": "400", "at_scale": "2500", "stopped": ""}[stage]
        out.append({"site": it["site"], "initiative_id": it["initiative_id"],
                    "initiative": it["initiative_type"].replace("_", " ").capitalize(),
                    "initiative_type": it["initiative_type"], "target_groups": it["target_groups"],
                    "model": it["model"], "prevention": "yes" if it["prevention"] else "no",
                    "personalisation": "yes" if it["personalisation"] else "no",
                    "start_date": it["start"].isoformat(), "end_date": it["end"].isoformat() if it["end"] else "",
                    "period": q.isoformat(), "stage": stage, "scale": scale,
                    "scale_unit": "people" if scale else "", "source": "document" if stage != "planned" else "interview",
                    "source_ref": "simulated"})
        if stage == "stopped":
            break
        q = _quarter(q, 1)
    return out


def register_truth(scenario: str, seed: int, params: dict, state: list, portfolios: list[dict]) -> dict:
    """The truth of a simulated register: parameters, programmed delays and true site-year portfolios."""
    delays = [{"initiative_id": it["initiative_id"], "site": s.name, "start_date": it["start"].isoformat(),
               "delay_months": 3 * it["delay_quarters"]} for s in state for it in s.items]
    return {"format": "joinedup-register-truth", "version": 1, "scenario": scenario, "seed": seed,
            "parameters": params, "narrowing": scenario == "narrowing",
            "delay_mean_months": 3 * params["delay_mean_quarters"],
            "delay_rule": "delay_quarters = 1 + Poisson(delay_mean_quarters - 1); go-live = start quarter + delay",
            "portfolio_rule": "an initiative is in a site's portfolio in year y if it started by 31 December and had not "
                              "stopped by 1 January of y",
            "delays": delays, "portfolios": portfolios}
