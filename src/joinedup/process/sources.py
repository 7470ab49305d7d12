"""Where the pipeline's process evaluation gets its inputs: the initiative register (a file, or a
simulated register for the demo), the key-informants' reported progress and each site's own routine
change and impact estimate (for the triangulation).

Example:
    >>> reg, label = protocol_register(protocol, programme, last_year=2019)       # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from joinedup.process.register import Register, RegisterError, validate_register

# routine indicators set against each reported-progress item (joinedup.process.triangulation.MEASURES)
ROUTINE_INDICATORS = {"emergency_admissions": "emergency_admissions", "readmissions": "readmissions_30d"}


def process_enabled(protocol) -> bool:
    """Whether the pipeline runs the process step: a ``[process]`` table, or ``[programme]
    initiative_register`` (a register the evaluation already keeps is analysed, not only used for timing)."""
    programme = getattr(protocol, "programme", None)
    return getattr(protocol, "process", None) is not None or bool(
        programme is not None and getattr(programme, "initiative_register", None))


def register_location(protocol) -> str | None:
    """``[process] initiative_register`` if given, else ``[programme] initiative_register`` (None if neither)."""
    spec = getattr(protocol, "process", None)
    if spec is not None and spec.initiative_register:
        return spec.initiative_register
    programme = getattr(protocol, "programme", None)
    return getattr(programme, "initiative_register", None) if programme is not None else None


def protocol_register(protocol, programme, last_year: int, rejects: Path | None = None) -> tuple[Register, str, bool]:
    """``(register, where it came from, simulated?)``. ``"store"`` reads the database's register
    (``[process] store``, every row: :func:`protocol_facts` keeps the verified). ``"simulate"`` draws a register for the
    programme's sites (their start dates) with ``[process] scenario`` and ``seed``, up to ``last_year``
    (the data's last year); a file is read and checked, its rejected rows written to ``rejects``."""
    location = register_location(protocol)
    if location is None:
        raise RegisterError("[process] needs a register: set [process] initiative_register (a file, or \"simulate\") or "
                            "[programme] initiative_register")
    if location == "simulate":
        from joinedup.simulate.initiatives import simulate_register

        spec = protocol.process
        sites = programme.sites.drop_duplicates("site")[["site", "start_date"]]
        frame, _ = simulate_register(seed=spec.seed, scenario=spec.scenario, sites=sites, last_year=last_year)
        reg = validate_register(frame, what="simulated register")
        if rejects is not None:
            reg.rejects.to_csv(rejects, index=False)
        return reg, f"a simulated register ({spec.scenario} scenario, seed {spec.seed})", True
    if location == "store":  # the register the dashboards keep (joinedup.process.register_book)
        from joinedup.process.register_source import _safe, store_register

        reg, _ = store_register(protocol.process.store)
        if rejects is not None:
            reg.rejects.to_csv(rejects, index=False)
        return reg, f"the register in the survey store {_safe(protocol.process.store)}", False
    from joinedup.process.register_io import read_register

    path = protocol.resolve(location)
    return read_register(path, rejects=rejects), f"the register {Path(location).name}", False


def protocol_facts(protocol, programme, last_year: int, rejects: Path | None = None):
    """``(verified register, unreviewed per site, where from, simulated?)``: :func:`protocol_register`
    less the unreviewed site submissions, which are counted per site with the pending proposals of a
    register kept in the database (:mod:`joinedup.process.register_source`)."""
    from joinedup.process.register_source import store_register, unreviewed_table, verified_only

    proposals = None
    if register_location(protocol) == "store":
        from joinedup.process.register_source import _safe

        reg, proposals = store_register(protocol.process.store)
        if rejects is not None:
            reg.rejects.to_csv(rejects, index=False)
        source, simulated = f"the register in the survey store {_safe(protocol.process.store)}", False
    else:
        reg, source, simulated = protocol_register(protocol, programme, last_year, rejects)
    facts, unverified = verified_only(reg)
    return facts, unreviewed_table(unverified, proposals), source, simulated


def ki_answers(protocol) -> tuple[pd.DataFrame | None, bool]:
    """Respondent rows (``pioneer`` and the progress items) of the ``[survey]`` files, or of the
    simulated panel the survey step analyses; ``(None, False)`` without ``[survey]``."""
    spec = getattr(protocol, "survey", None)
    if spec is None:
        return None, False
    from joinedup.survey.analysis.inputs import read_inputs

    if spec.invitations and spec.responses:
        data = read_inputs(protocol.resolve(spec.invitations), protocol.resolve(spec.responses))
        return data.respondents, False
    from joinedup.simulate.ki_panel import simulate_ki_panel

    sim = simulate_ki_panel(spec.seed)
    return read_inputs(sim["invitations"], sim["responses"]).respondents, True


def change_from_baseline(frame: pd.DataFrame, starts: pd.Series, measure: str) -> pd.DataFrame:
    """``site, measure, routine_change`` from ``site, period_start, period_end, value`` rows (one per
    site and financial year): the percentage change from the mean of the years ending before the
    site's start to its last year (negative = improvement). Sites with no year before their start,
    or a baseline of 0, are absent."""
    rows = []
    for site, g in frame.groupby("site"):
        if site not in starts.index:
            continue
        g = g.sort_values("period_start")
        before = g[pd.to_datetime(g["period_end"]) < pd.Timestamp(starts[site])]["value"].dropna()
        last = g["value"].dropna()
        if len(before) and len(last) and before.mean() > 0:
            rows.append({"site": site, "measure": measure,
                         "routine_change": float(100 * (last.iloc[-1] / before.mean() - 1))})
    return pd.DataFrame(rows, columns=["site", "measure", "routine_change"])


def routine_change(indicators: pd.DataFrame | None, starts: pd.Series) -> pd.DataFrame:
    """``site, measure, routine_change``: per site, the percentage change of its financial-year rate
    from the mean of the years ending before its start to the last year (negative = improvement).

    ``starts``: start date per site (index = site). Sites with no year before their start are absent.
    """
    if indicators is None:
        return pd.DataFrame(columns=["site", "measure", "routine_change"])
    fy = indicators[(indicators["period"] == "financial_year") & (indicators["level"] == "pioneer_site")]
    parts = [change_from_baseline(fy[fy["indicator"] == ind].rename(columns={"unit": "site"}), starts, measure)
             for measure, ind in ROUTINE_INDICATORS.items()]
    return pd.concat(parts, ignore_index=True)


def site_impact(tables_dir: Path, measure: str = "emergency_admissions") -> pd.DataFrame | None:
    """``site, measure, impact_estimate, ci_low, ci_high`` from the synthesis step's site effects
    (``tables/synthesis_sites.csv``: estimate and SE, a normal 95% interval), None if it did not run."""
    path = Path(tables_dir) / "synthesis_sites.csv"
    if not path.is_file():
        return None
    s = pd.read_csv(path)
    if not {"site", "estimate", "se"} <= set(s.columns):
        return None
    return pd.DataFrame({"site": s["site"], "measure": measure, "impact_estimate": s["estimate"],
                         "ci_low": s["estimate"] - 1.959964 * s["se"], "ci_high": s["estimate"] + 1.959964 * s["se"]})


def finite(x) -> bool:
    """True for a finite number (the wording skips what a table left blank)."""
    try:
        return bool(np.isfinite(float(x)))
    except (TypeError, ValueError):
        return False
