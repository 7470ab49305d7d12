"""The pipeline's process-evaluation step (``[process]``, or ``[programme] initiative_register``),
and the register's dose for the impact step (``[impact] dose = "register"``).

The step writes, under the results folder's ``tables/``: ``process_site_years`` (portfolios on the
fixed dimensions), ``process_positions`` and ``process_moves`` (the longitudinal typology),
``process_trends`` and ``process_delays`` (the tests), ``process_dose`` (people covered, disclosure
controlled), ``process_unreviewed`` (per site, the unreviewed site submissions and pending proposals
left out of every analysis: :mod:`joinedup.process.register_source`), ``process_triangulation`` and ``process_triangulation_summary`` (when there is a key-
informant survey); ``figures/process-*.svg``; ``register_rejects.csv``. The report section's wording
is written from those tables as written (:mod:`joinedup.process.wording`).

Example:
    >>> section = process_step(ds, protocol, Path("out/evaluation"), indicator_table)   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from joinedup.outputs import write_table


def _last_year(ds) -> int:
    adm = ds.table("admissions")
    return int(pd.Timestamp(ds.execute(adm.aggregate(last=adm.admission_date.max()))["last"].iloc[0]).year)


def register_tests(panel, reg, notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trend and delay tests; a test the register cannot support is left out with a note, not a failure."""
    from joinedup.process.trends import delay_test, trend_test

    trends = []
    for measure in ("medical_share", "focus_share", "breadth"):
        try:
            trends.append(trend_test(panel, measure))
        except ValueError as exc:
            notes.append(f"No trend test of {measure.replace('_', ' ')}: {exc}.")
    try:
        delays = pd.DataFrame([delay_test(reg.initiatives(), reg.rows["period"].max())])
    except ValueError as exc:
        notes.append(f"No delay test: {exc} (48 months of follow-up after the start of design are needed).")
        delays = pd.DataFrame()
    return pd.DataFrame(trends), delays


def _triangulation(protocol, ds, indicators, out_dir: Path, control: bool, notes: list[str]):
    """Reported progress (survey rule: shares blanked under the minimum base) against routine change
    and the site's impact estimate; the summary is computed on the unblanked shares (an estimate)."""
    from joinedup.disclosure import SURVEY_MIN_BASE, require_base
    from joinedup.process.sources import ki_answers, routine_change, site_impact
    from joinedup.process.triangulation import (
        MEASURES,
        reported_progress,
        triangulate,
        triangulation_summary,
    )
    from joinedup.programme import programme_of

    answers, simulated = ki_answers(protocol)
    if answers is None:
        notes.append("No triangulation: the protocol has no [survey] (key-informants' reported progress).")
        return None, None, None, None
    items = [i for i in MEASURES if i in answers.columns]
    programme = programme_of(protocol, ds)
    starts = programme.sites.drop_duplicates("site").set_index("site")["start_date"]
    routine = routine_change(indicators, starts)
    costs = _routine_costs(ds, programme, out_dir, control, notes)
    if costs is not None:
        from joinedup.process.routine_costs import cost_change

        routine = pd.concat([routine, cost_change(costs, starts)], ignore_index=True)
    table = triangulate(reported_progress(answers, items), routine, site_impact(out_dir / "tables"))
    summary = triangulation_summary(table)
    if simulated:
        notes.append("Reported progress comes from the simulated key-informant panel (not real responses).")
    shown = table.copy()
    if control:
        shown = require_base(shown, ["reported_share"], "informants", SURVEY_MIN_BASE)
        notes.append(f"A site's reported share is shown only where at least {SURVEY_MIN_BASE} informants "
                     "answered (survey rule); the correlations use every site.")
    shown = write_table(shown, out_dir, "process_triangulation", ["informants"], disclosure_control=control)
    summary = write_table(summary, out_dir, "process_triangulation_summary", [], national=True,
                          disclosure_control=control)
    return table, shown, summary, costs


def _routine_costs(ds, programme, out_dir: Path, control: bool, notes: list[str]):
    """The routine cost indicator (:mod:`joinedup.process.routine_costs`) written as
    ``process_routine_costs``: spells and residents controlled, cost per head suppressed with its
    spells (cost and excess bed days are not written: with the unit costs they would give the spells
    back exactly). Returns the unrounded table for the triangulation, or None with a note."""
    from joinedup.process.routine_costs import emergency_cost_per_head

    try:
        costs = emergency_cost_per_head(ds, programme)
    except (ValueError, KeyError) as exc:
        notes.append(f"No routine cost indicator: {exc}.")
        return None
    shown = costs.drop(columns=["cost", "excess_bed_days"])
    write_table(shown, out_dir, "process_routine_costs", ["emergency_spells", "residents"],
                disclosure_control=control, rates={"cost_per_head": "emergency_spells"})
    notes.append(f"Costs: emergency admission cost per head (spells at the tariff's price per spell plus excess "
                 f"bed days past 14 days, {int(costs['price_year'].iloc[0])} unit costs, over residents) is the "
                 "routine indicator set against reported progress on costs; social care and A&E costs are not in it.")
    return costs


def process_step(ds, protocol, out_dir: Path, indicators: pd.DataFrame | None = None):
    """Run the process evaluation on the protocol's register; returns the report section."""
    from joinedup.process.charts import delays_figure, narrowing_figure, positions_figure
    from joinedup.process.portfolio import site_years
    from joinedup.process.positions import moves, positions
    from joinedup.process.sources import protocol_facts
    from joinedup.process.treatment import dose
    from joinedup.process.wording import process_section
    from joinedup.programme import programme_of

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    control = protocol.output.disclosure_control
    # only verified entries are analysed; unreviewed site submissions are counted apart (register_source)
    reg, unreviewed, source, simulated = protocol_facts(protocol, programme_of(protocol, ds), _last_year(ds),
                                                        rejects=out_dir / "register_rejects.csv")
    if reg.rows.empty:
        raise ValueError(f"{source}: no verified rows ({len(reg.rejects)} rejected, see register_rejects.csv; "
                         f"{int(unreviewed['unverified_rows'].sum())} unreviewed site submissions left aside)")
    notes = [(f"Source: {source}; {len(reg.rows)} verified rows analysed, {len(reg.rejects)} rejected "
              "(register_rejects.csv).")]
    panel = site_years(reg.rows)
    themes = getattr(getattr(protocol, "process", None), "themes", None)
    if themes:  # coded themes per site from the workbench's framework matrix (joinedup.qual.themes)
        from joinedup.qual.themes import read_theme_matrix, with_theme_features

        panel = with_theme_features(panel, read_theme_matrix(protocol.resolve(themes)))
    pos = positions(panel)
    trends, delays = register_tests(panel, reg, notes)
    tables = {"process_site_years": write_table(panel, out_dir, "process_site_years", [], disclosure_control=control),
              "process_positions": write_table(pos, out_dir, "process_positions", [], disclosure_control=control),
              "process_moves": write_table(moves(pos), out_dir, "process_moves", [], disclosure_control=control),
              "process_trends": write_table(trends, out_dir, "process_trends", [], national=True,
                                            disclosure_control=control),
              "process_delays": write_table(delays, out_dir, "process_delays", [], national=True,
                                            disclosure_control=control),
              "process_dose": write_table(dose(reg.rows), out_dir, "process_dose", ["people_covered"],
                                          disclosure_control=control),
              # counts of register entries and proposals, not of people (as the initiative counts)
              "process_unreviewed": write_table(unreviewed, out_dir, "process_unreviewed", [],
                                                disclosure_control=control)}
    figures = [narrowing_figure(panel), positions_figure(pos)]
    if reg.initiatives()["delay_months"].notna().any():
        figures.append(delays_figure(reg.initiatives()))
    if getattr(protocol.process, "interviews", None):  # the interview panel (joinedup.process.interview_step)
        from joinedup.process.interview_step import interview_tables

        panel_tables, panel_notes = interview_tables(protocol, out_dir, control)
        tables.update(panel_tables)
        notes += panel_notes
    raw, shown, summary, costs = _triangulation(protocol, ds, indicators, out_dir, control, notes)
    if costs is not None:
        from joinedup.process.routine_costs import routine_costs_figure

        tables["process_routine_costs"] = pd.read_csv(out_dir / "tables" / "process_routine_costs.csv")
        figures.append(routine_costs_figure(tables["process_routine_costs"]))  # the controlled table
    if shown is not None:
        tables["process_triangulation"], tables["process_triangulation_summary"] = shown, summary
        if raw.dropna(subset=["reported_share", "routine_change"]).shape[0]:
            from joinedup.process.triangulation import triangulation_figure
            figures.append(triangulation_figure(shown.dropna(subset=["reported_share"])
                                                if control else raw))
    return process_section(tables, notes, simulated, tuple(figures))


def dose_estimate(ds, indicators, protocol, result) -> pd.DataFrame:
    """``[impact] dose = "register"``: the dose-response TWFE on the first outcome's panel, the
    programme's sites' share covered from the register (:mod:`joinedup.impact.dose`); one row."""
    from joinedup.impact.dose import dose_response
    from joinedup.impact.evaluate import outcome_panel
    from joinedup.process.sources import protocol_facts
    from joinedup.process.treatment import dose

    programme = result.programme
    reg, _, source, _ = protocol_facts(protocol, programme, _last_year(ds))  # verified entries only
    if len(reg.rejects):
        raise ValueError(f"{source}: {len(reg.rejects)} row(s) rejected; the dose needs the whole register")
    unit = "practices" if programme.unit == "practice" else "people"
    coverage = dose(reg.rows)
    if unit == "practices":
        live = reg.rows[reg.rows["stage"].isin(("implemented", "at_scale")) & (reg.rows["scale_unit"] == "practices")]
        coverage = live.groupby(["site", "period"], as_index=False)["scale"].sum().rename(
            columns={"scale": "practices_covered"})
    panel = outcome_panel(ds, indicators, result.spec, programme=programme)
    row = dose_response(panel, coverage, scale=result.spec.scale, scale_unit=unit,
                        unbalanced=result.spec.unbalanced)
    return pd.DataFrame([{"outcome": result.spec.outcome, **row, "register": source}])
