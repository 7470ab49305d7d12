"""`joinedup run PROTOCOL`: data → validation → overview → report, with a provenance manifest.

Output folder layout:
    data/            the simulated dataset (when the protocol's source is "simulate")
    tables/          tidy result tables, Parquet and CSV, after disclosure control
    figures/         charts as accessible SVG
    validation.txt   the schema validation report
    report.html      the self-contained report
    manifest.json    protocol hash, data fingerprints, versions, seeds, timings

Example:
    >>> from joinedup.protocol import load_protocol, example_protocol_path
    >>> result = run_protocol(load_protocol(example_protocol_path()), out="out/demo")  # doctest: +SKIP
    >>> result.report                                                                  # doctest: +SKIP
    PosixPath('out/demo/report.html')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from joinedup.data import open_dataset, validate_dataset
from joinedup.manifest import fingerprint, package_versions, write_manifest
from joinedup.outputs import write_table
from joinedup.overview import DEFINITIONS, compute_overview
from joinedup.protocol import Protocol
from joinedup.report import render_report
from joinedup.report.overview_section import overview_section
from joinedup.step_usage import StepMeter

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RunResult:
    """Where a run wrote its outputs and how long each step took."""

    out_dir: Path
    report: Path
    manifest: Path
    timings: dict[str, float] = field(default_factory=dict)
    usage: dict[str, dict] = field(default_factory=dict)  # per step: seconds and peak RSS (step_usage.py)


def planned_steps(protocol: Protocol) -> list[str]:
    """The steps :func:`run_protocol` will time, in order (a progress bar's total; the manifest's timings).

    Example:
        >>> from joinedup.protocol import example_protocol_path, load_protocol
        >>> planned_steps(load_protocol(example_protocol_path()))[:3]
        ['simulate', 'validate', 'overview']
    """
    from joinedup.process.sources import process_enabled

    optional = ("indicators", "impact", "synthesis", "survey", "economics", "cohort")
    return (["simulate"] * (protocol.data.source == "simulate") + ["validate", "overview"]
            + [name for name in optional if getattr(protocol, name) is not None]
            + ["process"] * process_enabled(protocol) + ["report"])


def run_protocol(protocol: Protocol, out: str | Path | None = None, progress: Progress | None = None,
                 simulate_progress=None) -> RunResult:
    """Run every step the protocol names; outputs go to ``out`` or the protocol's output folder."""
    out_dir = Path(out or protocol.output.folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    timer = StepMeter(progress)  # each step's seconds and peak memory, for the manifest
    seeds: dict[str, int] = {}
    from joinedup.analysis_plan import check_plan
    plan_check = check_plan(protocol)  # before any data are read: the lock and the deviations since it
    from joinedup.data.duckdb_memory import configure as cap_duckdb_memory
    from joinedup.data.duckdb_memory import memory_limit as duckdb_memory_limit
    cap_duckdb_memory(protocol.data.memory_limit)  # every DuckDB connection of this run spills beyond it
    location = protocol.data.source
    if location == "simulate":
        from joinedup.simulate import simulate

        sim = protocol.data.simulate
        location = str(out_dir / "data")
        seeds["simulation"] = sim.seed
        with timer.step("simulate"):
            simulate(location, scale=sim.scale, seed=sim.seed, years=tuple(sim.years), scenario=sim.scenario,
                     progress=simulate_progress)
    else:
        location = protocol.resolve(location)

    with timer.step("validate"):
        report = validate_dataset(location, protocol.data.engine)
        (out_dir / "validation.txt").write_text(report.summary() + "\n", encoding="utf-8")
        report.raise_for_errors()

    with timer.step("overview"):
        ds = open_dataset(location, protocol.data.engine)
        raw = compute_overview(ds)
        tables = {
            name: write_table(raw[name], out_dir, name, counts, national,
                              protocol.output.disclosure_control)
            for name, (_, _, counts, national) in DEFINITIONS.items()
        }
        sections = [overview_section(tables, _display(location, out_dir))]

    indicator_table = None
    if protocol.indicators is not None:
        with timer.step("indicators"):
            section, indicator_table = _indicators_step(ds, protocol, out_dir)
            sections.append(section)
            if protocol.indicators.breakdowns:  # by deprivation, age, sex, ethnicity; docs/inequalities.md
                from joinedup.report.inequalities_section import inequalities_step
                sections.append(inequalities_step(ds, protocol, out_dir))

    if protocol.impact is not None:
        with timer.step("impact"):
            sections.append(_impact_step(ds, indicator_table, protocol, out_dir, location))
            seeds["impact"] = protocol.impact.seed

    if protocol.synthesis is not None:
        if protocol.impact is None:
            raise ValueError("[synthesis] needs [impact] (the outcome and its panel)")
        with timer.step("synthesis"):
            sections.append(_synthesis_step(ds, indicator_table, protocol, out_dir, location))
            seeds["synthesis"] = protocol.synthesis.seed

    if protocol.survey is not None:
        with timer.step("survey"):
            sections.append(_survey_step(ds, protocol, out_dir))
            seeds["survey"] = protocol.survey.seed

    if protocol.economics is not None:
        with timer.step("economics"):
            sections.append(_economics_step(ds, protocol, out_dir, location))
            seeds["economics"] = protocol.economics.seed

    if protocol.cohort is not None:
        from joinedup.cohort.evaluate import cohort_step

        with timer.step("cohort"):
            sections.append(cohort_step(ds, protocol, out_dir, location))
            seeds["cohort"] = protocol.cohort.seed

    from joinedup.process.sources import process_enabled
    if process_enabled(protocol):  # WP1 process evaluation of the initiative register (docs/process-evaluation.md)
        from joinedup.process.pipeline_step import process_step

        with timer.step("process"):
            sections.append(process_step(ds, protocol, out_dir, indicator_table))
            if protocol.process is not None and protocol.process.initiative_register == "simulate":
                seeds["process"] = protocol.process.seed

    with timer.step("report"):
        if protocol.synthesis is not None:  # WP3 joins every step's tables, so it comes after them all
            from joinedup.programme import programme_of
            from joinedup.report.wp3_section import wp3_step

            sections.append(wp3_step(out_dir, programme_of(protocol, ds), protocol))
        from joinedup.report.key_messages import key_messages_section
        from joinedup.report.summary import DEFAULT_OUTCOME, read_tables, summary_section

        # written from the controlled tables on disk, so the text's numbers are the tables' numbers
        written = read_tables(out_dir / "tables")
        from joinedup.impact.outcomes import outcome_ids
        outcome = outcome_ids(protocol.impact)[0] if protocol.impact is not None else DEFAULT_OUTCOME
        sections[:0] = [key_messages_section(written, outcome), summary_section(written, outcome)]
        from joinedup.report.downloads import downloads_html, write_workbook
        from joinedup.report.html import ReportSection

        if protocol.report is not None and protocol.report.p3ceq_responses:  # own survey: descriptive only
            from joinedup.report.p3ceq_section import p3ceq_step
            sections.append(p3ceq_step(protocol, out_dir))
        write_workbook(out_dir / "tables", out_dir / "tables.xlsx")
        if protocol.report is not None and protocol.report.framework_matrix:  # the workbench's themes by site
            from joinedup.report.framework_section import framework_section
            sections.append(framework_section(protocol.resolve(protocol.report.framework_matrix),
                                              protocol.report.framework_themes, protocol.report.framework_rows))
        from joinedup.report.plan_section import design_choices, plan_section
        sections.append(plan_section(plan_check, design_choices(protocol)))
        sections.append(ReportSection("downloads", "Download the tables", downloads_html(out_dir / "tables")))
        for section in sections:
            for figure in section.figures:
                figure.write(out_dir / "figures")
        provenance = {
            "Protocol": f"{protocol.path.name if protocol.path else '(in memory)'} (sha256 {protocol.sha256[:16]})",
            "Data": f"{_display(location, out_dir)} on {protocol.data.engine}",
            "Seeds": ", ".join(f"{k} {v}" for k, v in seeds.items()) or "none",
            "Software": ", ".join(f"{k} {v}" for k, v in package_versions().items()),
            "Disclosure control": "on" if protocol.output.disclosure_control else "OFF",
        }
        html = render_report(protocol.evaluation.name, sections, provenance,
                             generated=f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.")
        report_path = out_dir / "report.html"
        report_path.write_text(html, encoding="utf-8")
        pdf_note = _pdf(report_path, out_dir / "report.pdf")

    manifest_path = out_dir / "manifest.json"
    write_manifest(manifest_path, {
        "protocol": {"path": str(protocol.path), "sha256": protocol.sha256,
                     "content": protocol.model_dump(mode="json")},
        "data": {"location": location, "engine": protocol.data.engine,
                 "duckdb_memory_limit": duckdb_memory_limit(),  # as applied, wherever it came from
                 "tables": fingerprint(ds.files, report.rows)},
        "seeds": seeds,
        "analysis_plan": plan_check.as_dict(),
        "versions": package_versions(),
        "timings_seconds": timer.timings,
        "steps": timer.usage,  # seconds and peak RSS (MB, process and children) per step
        "outputs": sorted(str(p.relative_to(out_dir)) for p in out_dir.glob("*/*.*") if "data" not in p.parts),
        "pdf": pdf_note,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    })
    return RunResult(out_dir, report_path, manifest_path, timer.timings, timer.usage)


def _pdf(report: Path, pdf: Path) -> str:
    """Print the report to PDF; without Playwright (the ``pdf`` extra) or a Chromium, say so in the
    manifest (and the CLI says it in one line) rather than fail the run."""
    import importlib.util

    from joinedup.report.pdf import chromium_path, html_to_pdf

    if importlib.util.find_spec("playwright") is None:
        return "not written: the PDF needs the pdf extra (pip install 'joinedup[pdf]') and a Chromium"
    if chromium_path() is None:
        return "not written: no Chromium (install Debian's chromium; make demo does)"
    html_to_pdf(report, pdf)
    return "report.pdf"


def _indicators_step(ds, protocol: Protocol, out_dir: Path):
    """Compute the catalogue, write the controlled long table, and build the report section."""
    from joinedup.indicators import compute_indicators
    from joinedup.indicators.funnels_report import headline_funnel_data
    from joinedup.report.indicators_section import indicators_section

    spec = protocol.indicators
    ids = None if spec.ids == "all" else spec.ids
    from joinedup.programme import programme_of
    programme = programme_of(protocol, ds)
    table = compute_indicators(ds, ids, spec.periods, programme=programme)
    controlled = write_table(table, out_dir, "indicators", ["numerator", "denominator"],
                             national=(table["level"] == "england").to_numpy(),
                             disclosure_control=protocol.output.disclosure_control,
                             table_format=protocol.output.table_format)
    site_areas = programme.sites[["site", "area_code"]].drop_duplicates()
    write_table(site_areas.reset_index(drop=True), out_dir, "site_areas", [], disclosure_control=False)  # no counts
    funnel = headline_funnel_data(ds, spec.headline)
    funnel = write_table(funnel, out_dir, "indicator_funnel", ["observed"],
                         disclosure_control=protocol.output.disclosure_control)
    return indicators_section(controlled, funnel, spec.headline, programme.sites), table


def _impact_step(ds, indicator_table, protocol: Protocol, out_dir: Path, location: str):
    """Every comparative design on the outcome's area panel; tables, figures and the report section.

    The tables hold estimates, rates and area counts, no counts of people, so disclosure control
    has nothing to suppress in them; they still pass through ``write_table`` like every output.
    """
    from joinedup.impact.evaluate import run_impact
    from joinedup.impact.truth import load_truth
    from joinedup.report.impact_section import impact_section

    truth = load_truth(location) if "://" not in location else None
    from joinedup.programme import programme_of
    result = run_impact(ds, indicator_table, protocol.impact, truth, programme_of(protocol, ds))
    for name, frame in result.tables.items():
        write_table(frame, out_dir, name, [], disclosure_control=protocol.output.disclosure_control)
    from joinedup.impact.from_panel import write_impact_panel  # the area_panel.csv layout (counts controlled)
    write_impact_panel(ds, indicator_table, protocol.impact, result.programme, out_dir,
                       protocol.output.disclosure_control)
    section = impact_section(result, protocol.impact)
    if protocol.impact.dose == "register":  # treatment intensity from the register's coverage
        from joinedup.process.pipeline_step import dose_estimate
        from joinedup.report.dose_section import with_dose
        table = write_table(dose_estimate(ds, indicator_table, protocol, result), out_dir, "impact_dose_response",
                            [], disclosure_control=protocol.output.disclosure_control)
        section = with_dose(section, table)
    return section


# Counts of people in the economics tables (sub-national: they are controlled); estimates, means and
# rates are exempt (DESIGN.md).
ECONOMICS_COUNTS = {
    "economics_sample_sizes": ["Control", "Treated"], "economics_risk": ["people", "events"],
    "economics_risk_calibration": ["n", "observed"], "economics_use": ["people"],
    "economics_qalys": ["sampled", "complete", "no_baseline", "no_end_point"],
    "economics_estimates": ["n", "clusters"],  # people and matched sets in each model
    "economics_sites": ["n_treated"],
}


def _economics_step(ds, protocol: Protocol, out_dir: Path, location: str):
    return _economics_section(ds, protocol.economics, out_dir, location, protocol.output.disclosure_control)


def _economics_section(ds, spec, out_dir: Path, location: str, disclosure_control: bool = True):
    """The MDT cost-effectiveness analysis; controlled tables, figures and the report section."""
    from joinedup.economics.evaluate import run_economics
    from joinedup.impact.truth import load_truth
    from joinedup.report.economics_section import economics_section

    truth = load_truth(location) if "://" not in location else None
    result = run_economics(ds, spec, truth)
    for name, frame in list(result.tables.items()):
        result.tables[name] = write_table(frame, out_dir, name, ECONOMICS_COUNTS.get(name, []),
                                          disclosure_control=disclosure_control)
    return economics_section(result, spec)


def run_economics_only(ds, spec, out: str | Path, location: str) -> Path:
    """``joinedup economics``: the economics step alone, with its own small report (economics.html).

    Example:
        >>> run_economics_only(ds, Economics(), "out/econ", "out/sim")          # doctest: +SKIP
    """
    out_dir = Path(out)
    section = _economics_section(ds, spec, out_dir, location)
    for figure in section.figures:
        figure.write(out_dir / "figures")
    provenance = {"Data": location, "Seeds": f"economics {spec.seed}",
                  "Software": ", ".join(f"{k} {v}" for k, v in package_versions().items()),
                  "Disclosure control": "on"}
    html = render_report("Economic evaluation of MDT case management", [section], provenance,
                         generated=f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.")
    path = out_dir / "economics.html"
    path.write_text(html, encoding="utf-8")
    return path


def _synthesis_step(ds, indicator_table, protocol: Protocol, out_dir: Path, location: str):
    """WP3: each site's effect, the random-effects pool and a meta-regression on scheme types."""
    from joinedup.impact.evaluate import outcome_panel
    from joinedup.impact.truth import load_truth
    from joinedup.report.synthesis_section import synthesis_section
    from joinedup.synthesis.sites import synthesise_sites

    spec = protocol.synthesis
    truth = load_truth(location) if "://" not in location else None
    from joinedup.programme import programme_of
    programme = programme_of(protocol, ds)
    from joinedup.impact.outcomes import outcome_ids, outcome_spec
    impact = outcome_spec(protocol.impact, outcome_ids(protocol.impact)[0])  # sites' effects: first outcome
    panel = outcome_panel(ds, indicator_table, impact, programme=programme)
    schemes = ds.execute(ds.table("schemes"))
    result = synthesise_sites(panel, schemes, truth, spec.method, spec.knha, B=spec.placebo_draws, seed=spec.seed)
    tables = {"synthesis_sites": result.sites, "synthesis_pooled": _pooled_table(result.meta)}
    if result.regression is not None:
        tables["synthesis_regression"] = result.regression.tidy().assign(
            tau2=result.regression.tau2, qm=result.regression.qm, qm_p=result.regression.qm_p,
            r2=result.regression.r2)
    for name, frame in tables.items():
        write_table(frame, out_dir, name, [], disclosure_control=protocol.output.disclosure_control)
    return synthesis_section(result, tables, impact, programme)


def _pooled_table(meta):
    """The pooled result as a one-row table (with the percentage change of the log rate ratio)."""
    import numpy as np
    import pandas as pd

    keys = ("estimate", "se", "ci_lower", "ci_upper", "p_value", "tau2", "i2", "h2", "q", "q_p", "k", "method",
            "knha", "pi_lower", "pi_upper")
    row = {k: getattr(meta, k) for k in keys}
    row["pct_change"] = 100 * np.expm1(meta.estimate)
    return pd.DataFrame([row])


def _survey_step(ds, protocol: Protocol, out_dir: Path):
    """WP1: the key-informant survey tables (files, or a simulated panel) and the typology of sites."""
    from joinedup.report.html import ReportSection, table_html
    from joinedup.survey.analysis import analyse
    from joinedup.survey.analysis.charts import survey_section

    spec = protocol.survey
    files = [spec.invitations, spec.responses, spec.codes, spec.codebook]
    if spec.invitations and spec.responses:
        inv, resp, codes, book = (protocol.resolve(f) if f else None for f in files)
        source = "the protocol's survey files"
    else:
        from joinedup.simulate.ki_panel import simulate_ki_panel

        sim = simulate_ki_panel(spec.seed)
        inv, resp, codes, book = sim["invitations"], sim["responses"], sim["codes"], sim["codebook"]
        source = f"a simulated key-informant panel (seed {spec.seed})"
    tables = analyse(inv, resp, codes, book)
    from joinedup.report import simulated as sim_label
    from joinedup.survey.analysis.run import write_survey_tables

    simulated = not (spec.invitations and spec.responses)  # a stand-in: labelled in every table and title
    if simulated:
        tables = sim_label.label_simulated(tables)
    write_survey_tables(tables, out_dir, protocol.output.disclosure_control)  # each table's declared control
    from joinedup.survey.analysis.sites import write_site_measures  # WP3 joins these to the site effects

    write_site_measures(inv, resp, out_dir, protocol.output.disclosure_control, simulated=simulated)
    section = survey_section(tables, sim_label.SURVEY_TITLE if simulated else "Key-informant survey (WP1)",
                             simulated=simulated)
    from joinedup.report.survey_extra import survey_extra_html  # change, involvement, coded free text

    body = (f"<p class=\"simulated\"><strong>{sim_label.SURVEY_NOTE}</strong></p>" if simulated else "")
    extra = survey_extra_html(tables, book)
    if simulated:  # the extra tables (change, involvement, coded text) are labelled like the rest
        extra = extra.replace("<caption>", "<caption>Simulated (not real responses): ")
    body += f"<p>Source: {source}.</p>" + section.body_html + extra
    figures = list(section.figures)
    if spec.typology:
        from joinedup.survey import typology as ty
        from joinedup.survey.typology_plots import dendrogram_figure, heatmap_figure

        registry = ty.scheme_registry(ds.execute(ds.table("schemes")))
        themes = None
        if spec.typology_themes:  # coded themes per site from the qualitative workbench (joinedup.qual.themes)
            from joinedup.qual.themes import read_theme_matrix
            themes = read_theme_matrix(protocol.resolve(spec.typology_themes))
        typ = ty.typology(registry, k=spec.typology_k, seed=spec.seed, themes=themes)
        selection = ty.select_schemes(typ, registry)
        for name, frame in {"typology_clusters": typ.clusters, "typology_stability": typ.stability,
                            "typology_selection": selection, "typology_registry": registry}.items():
            write_table(frame, out_dir, name, [], disclosure_control=protocol.output.disclosure_control)
        body += (f"<h3>Typology of sites</h3><p>{typ.k} clusters of sites by their schemes and target groups "
                 f"(Jaccard, average linkage); k-modes agrees with adjusted Rand index {typ.agreement_ari:.2f}.</p>"
                 + table_html(typ.stability, "Cluster stability (clusterwise bootstrap Jaccard)")
                 + table_html(selection, "Community MDT schemes selected for the economic evaluation"))
        figures += [dendrogram_figure(typ), heatmap_figure(typ)]
    return ReportSection("survey", section.title, body, tuple(figures))


def _display(location: str, out_dir: Path) -> str:
    """Data inside the output folder is shown relative to it, so outputs do not depend on where they are."""
    try:
        return str(Path(location).resolve().relative_to(out_dir.resolve()))
    except ValueError:
        return location
