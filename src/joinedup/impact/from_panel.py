"""The impact step from an ``area_panel.csv`` (published aggregates) instead of a dataset, and the
panel a full run writes for it (``tables/impact_panel.csv``).

The designs are the very functions :func:`joinedup.impact.evaluate.run_impact` calls, on the panel
built by the same :func:`joinedup.impact.panel.area_panel`; only the inputs differ: the programme
comes from the protocol's ``[programme]`` files (checked against the panel's units and periods), and
the covariates for matching and balance from the file's optional columns (baseline level and trend
are computed from the panel, as in a full run). No simulation truth is read: aggregates are data.

Example:
    >>> result, read = impact_from_panel("area_panel.csv", protocol, "out/panel")     # doctest: +SKIP
    >>> result.tables["impact_estimates"][["design", "estimate"]]                     # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import pandas as pd

from joinedup.impact.comparison import COVARIATES, area_balance, baseline_outcome, match_areas
from joinedup.impact.evaluate import (
    ESTIMATE_COLUMNS,
    ImpactResult,
    four_groups,
    outcome_panel,
    staggered_did,
    synthetic_control,
    synthetic_did,
    wave1_did,
)
from joinedup.impact.panel_file import (
    FILE_COVARIATES,
    PanelFileError,
    PanelRead,
    read_area_panel,
    write_rejects,
)


def programme_for_panel(protocol, read: PanelRead):
    """The protocol's ``[programme]``, its sites checked against the panel's units, periods and
    denominators (unknown unit, start outside the periods, a unit with no population: file, row, value)."""
    from joinedup.programme import programme_from_frames, read_sites_file

    spec = getattr(protocol, "programme", None)
    if spec is None:
        raise PanelFileError("an area panel needs the protocol's [programme] (sites file): the built-in "
                             "Pioneers are read from a dataset's programmes table, which an area panel lacks")
    sites = read_sites_file(protocol.resolve(spec.sites))
    exclude = {Path(name).stem: read_sites_file(protocol.resolve(name)) for name in spec.exclude}
    table = read.table
    span = (table["period_start"].min(), table["period_end"].max())
    residents = table.groupby("area_code")["denominator"].max()
    return programme_from_frames(spec.name, sites, spec.unit, exclude, set(table["area_code"]), span, residents,
                                 source=f"sites file {Path(spec.sites).name}")


def impact_from_panel(path, protocol, out_dir) -> tuple[ImpactResult, PanelRead]:
    """Every design of ``[impact]`` on the panel in ``path``; rejects to ``out_dir/rejects``."""
    spec = protocol.impact
    if spec is None:
        raise PanelFileError("the protocol has no [impact] section (the outcome, period and designs)")
    read = read_area_panel(path, spec.outcome, spec.period)
    write_rejects(read, Path(out_dir))
    if read.table.empty:
        raise PanelFileError(f"{path}: no usable rows of indicator {spec.outcome!r} ({read.summary()})")
    programme = programme_for_panel(protocol, read)
    # The panel's units are whatever the file holds: built like an area panel whatever the unit.
    as_area = dataclasses.replace(programme, unit="area")
    out = ImpactResult(programme=programme)
    four = four_groups(None, read.table, spec, None, as_area, out) if spec.four_groups else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        panel = outcome_panel(None, read.table, spec, programme=as_area)
    dropped = panel.attrs.get("dropped_areas") or []
    if dropped:
        out.notes.append(f"{len(dropped)} unit(s) with a period without events were dropped on the log scale: "
                         + ", ".join(map(str, dropped)))
    treated = panel[panel["treated"]]
    unit = programme.unit_word
    out.notes.append(f"From the area panel {Path(str(path)).name}: {treated['site'].nunique()} {programme.name} sites "
                     f"({treated['area_code'].nunique()} {unit}s) against "
                     f"{panel.loc[~panel['treated'], 'area_code'].nunique()} comparison {unit}s.")
    covs = unit_covariates(panel, read.covariates)
    have = tuple(c for c in COVARIATES if c in covs.columns and covs[c].notna().all())
    if set(have) != set(COVARIATES):
        out.notes.append("Covariates not in the panel file (matching and balance use the others): "
                         + ", ".join(c for c in COVARIATES if c not in have) + ".")
    if spec.matched_controls:
        matching = match_areas(covs, "treated", have, n_controls=spec.matched_controls)
        balance = matching.balance()
        out.figures.append(matching.plot(id="impact-love-plot"))
        panel = matching.matched_panel(panel)
    else:
        from joinedup.impact.balance import balance_plot

        balance = area_balance(covs, "treated", have)
        out.figures.append(balance_plot(balance, id="impact-love-plot"))
    out.tables["impact_balance"] = balance
    rows = wave1_did(panel, spec, None, out) + staggered_did(panel, spec, None, out) + four
    if spec.synthetic_control:
        rows += synthetic_did(panel, spec, None, out) + synthetic_control(panel, spec, None, out)
    out.tables["impact_estimates"] = pd.DataFrame(rows, columns=ESTIMATE_COLUMNS)
    return out, read


def unit_covariates(panel: pd.DataFrame, file_covariates: pd.DataFrame) -> pd.DataFrame:
    """One row per panel unit: treatment, the file's covariates and the baseline outcome, in the
    shape :func:`joinedup.impact.comparison.area_covariates` gives from a dataset."""
    keep = [c for c in ("area_code", "treated", "first_treated", "wave", "site") if c in panel.columns]
    flags = [c for c in panel.columns if c.startswith("in_")]
    out = panel[keep + flags].drop_duplicates("area_code")
    out = out.merge(file_covariates, on="area_code", how="left")
    return out.merge(baseline_outcome(panel), on="area_code", how="left").reset_index(drop=True)


def write_impact_panel(ds, indicators, spec, programme, out_dir, disclosure_control: bool = True) -> pd.DataFrame:
    """Write ``tables/impact_panel.csv`` (and .parquet): the outcome's unit x period numerators and
    denominators for every unit, with the units' covariates, in the ``area_panel.csv`` layout.
    Numerators and denominators are counts: controlled like every sub-national count (1-7 blank,
    others rounded to 5) unless the protocol turns disclosure control off."""
    from joinedup.impact.comparison import area_covariates
    from joinedup.impact.panel_file import panel_file_frame
    from joinedup.outputs import write_table

    if programme.unit == "practice":
        from joinedup.impact.practice_panel import practice_covariates, practice_indicator_table
        indicators = practice_indicator_table(ds, spec.outcome, spec.period)
    elif indicators is None or not ((indicators["indicator"] == spec.outcome)
                                    & (indicators["period"] == spec.period)).any():
        from joinedup.indicators import compute_indicators
        indicators = compute_indicators(ds, [spec.outcome], [spec.period])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        panel = outcome_panel(ds, indicators, spec, exclude=(), programme=dataclasses.replace(programme, unit="area"))
    covs = practice_covariates(ds, panel) if programme.unit == "practice" else area_covariates(ds, panel)
    frame = panel_file_frame(indicators, spec.outcome, spec.period, covs[["area_code", *FILE_COVARIATES]])
    return write_table(frame, out_dir, "impact_panel", ["numerator", "denominator"],
                       disclosure_control=disclosure_control)
