"""WP3 joins (issue 16): the site table, the meta-regression on each moderator, the check of
self-reports against routine data, per-site MDT estimates, and the words written from them.

Reference for the meta-regression: R is not on this machine (``which Rscript`` finds nothing), so
metafor cannot be run here; the estimate is checked instead against statsmodels' WLS (version in
uv.lock) with weights 1 / (vi + tau2) and tau2 from our REML: metafor's coefficients are exactly that
WLS fit, and its Knapp-Hartung covariance is the WLS covariance with the residual scale
sum w r^2 / (k - p) (Knapp & Hartung 2003; metafor's ``test = "knha"``), which is what WLS reports.
Tolerance 1e-8 (two linear-algebra paths to the same numbers). The REML tau2 itself is tested
against metafor's published BCG example in tests/test_synthesis_meta.py.
"""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from joinedup.economics.matching.estimate import att_frame
from joinedup.economics.sites import site_estimates
from joinedup.report.numbers import underived
from joinedup.report.wp3_section import WORDING_CONSTANTS, wp3_section, wp3_sentences, wp3_tables
from joinedup.synthesis.joined import moderator_fits, routine_changes, self_report_check, site_table
from joinedup.synthesis.meta_fit import fit_model

SITES = [f"Site {c}" for c in "ABCDEFGHIJKL"]


def _tables(n_sites=12, seed=3):
    rng = np.random.default_rng(seed)
    sites = SITES[:n_sites]
    group = np.array([1, 2, 3] * 4)[:n_sites]
    progress = np.linspace(20, 90, n_sites)
    est = -0.002 * progress + 0.03 * (group == 2) + rng.normal(0, 0.02, n_sites)
    se = rng.uniform(0.02, 0.06, n_sites)
    synthesis = pd.DataFrame({"site": sites, "wave": 1, "n_areas": 1, "estimate": est, "se": se,
                              "ci_low": est - 1.96 * se, "ci_high": est + 1.96 * se})
    survey = pd.DataFrame({"site": sites, "respondents": 15.0, "n_progress": 20.0, "n_barriers": 20.0,
                           "pct_progress_unplanned": progress, "pct_barriers_significant": rng.uniform(20, 70, n_sites)})
    clusters = pd.DataFrame({"site": sites, "cluster": group})
    registry = pd.DataFrame({"site": [sites[0], sites[0], sites[1]], "scheme_type": ["community_mdt", "reablement",
                                                                                      "care_navigator"]})
    econ = pd.DataFrame({"site": ["All sites", "All sites", sites[0], sites[0]],
                         "measure": ["emergency_admissions", "total_cost"] * 2, "n_treated": [40.0, 40.0, 10.0, 10.0],
                         "estimate": [-0.3, -500.0, -0.4, -800.0], "ci_low": [-0.6, -1500.0, -0.9, -2500.0],
                         "ci_high": [0.0, 500.0, 0.1, 900.0]})
    return {"synthesis_sites": synthesis, "survey_site_measures": survey, "typology_clusters": clusters,
            "typology_registry": registry, "economics_sites": econ}


def test_site_table_joins_every_work_package():
    joined = site_table(_tables())
    a = joined.set_index("site").loc["Site A"]
    assert a["typology_group"] == 1 and a["schemes"] == "Community MDT, Reablement"
    assert a["mdt_admissions"] == -0.4 and a["mdt_cost_high"] == 900.0 and a["mdt_n"] == 10
    assert np.isnan(joined.set_index("site").loc["Site B", "mdt_admissions"])
    assert "All sites" not in set(joined["site"])
    assert a["pct_change"] == pytest.approx(100 * np.expm1(a["estimate"]))


@pytest.mark.parametrize("moderator", ["typology_group", "pct_progress_unplanned"])
def test_meta_regression_equals_wls_with_reml_tau2(moderator):
    joined = site_table(_tables())
    fits = moderator_fits(joined)
    got = fits[fits["moderator"] == moderator]
    y, v = joined["estimate"].to_numpy(), joined["se"].to_numpy() ** 2
    if moderator == "typology_group":
        x = pd.get_dummies(joined["typology_group"].astype(int), drop_first=True).astype(float).to_numpy()
    else:
        x = joined[[moderator]].to_numpy(dtype=float)
    design = sm.add_constant(x)
    tau2 = fit_model(y, v, design, "REML").tau2
    wls = sm.WLS(y, design, weights=1 / (v + tau2)).fit()
    np.testing.assert_allclose(got["estimate"], wls.params[1:], atol=1e-8)
    np.testing.assert_allclose(got["se"], wls.bse[1:], atol=1e-8)  # Knapp-Hartung = WLS's residual scale
    assert (got["tau2"] == tau2).all() and (got["k"] == 12).all() and not got["few_sites"].any()


def test_a_real_moderator_is_found_and_noise_is_not():
    tables = _tables()
    fits = moderator_fits(site_table(tables)).set_index("moderator")
    slope = fits.loc["pct_progress_unplanned"]
    assert slope["ci_lower"] < -0.002 < slope["ci_upper"] and slope["ci_upper"] < 0  # programmed -0.002 per point


def test_few_sites_are_flagged_and_warned():
    tables = _tables(n_sites=6)
    fits = moderator_fits(site_table(tables))
    assert fits["few_sites"].all()
    t = wp3_tables(tables, pd.DataFrame({"site": SITES[:6], "start": "2013-11-01"}))
    said = wp3_sentences(t, "emergency_admissions")
    assert said["warning"][0].startswith("Warning: with at most 6 sites, fewer than 10")
    many = wp3_sentences(wp3_tables(_tables(), pd.DataFrame({"site": SITES, "start": "2013-11-01"})),
                         "emergency_admissions")
    assert not many["warning"][0].startswith("Warning")


def _indicators():
    years = pd.to_datetime(["2012-04-01", "2013-04-01", "2014-04-01"])
    rows = []
    for unit, values in {"Site A": [100, 100, 80], "Site B": [100, 100, 120], "Rest of England": [100, 100, 100]}.items():
        for start, value in zip(years, values):
            rows.append({"indicator": "emergency_admissions", "period": "financial_year",
                         "level": "programme" if unit == "Rest of England" else "pioneer_site", "unit_name": unit,
                         "period_start": start, "period_end": start + pd.DateOffset(years=1, days=-1), "value": value})
    return pd.DataFrame(rows)


def test_routine_change_and_self_report_check():
    starts = pd.DataFrame({"site": ["Site A", "Site B"], "start": ["2013-11-01", "2013-11-01"]})
    routine = routine_changes(_indicators(), starts).set_index("site")
    assert routine.loc["Site A", "relative_change_pts"] == pytest.approx(-20.0)
    assert routine.loc["Site B", "relative_change_pts"] == pytest.approx(20.0)
    assert routine.loc["Site A", "baseline_year_start"] == pd.Timestamp("2012-04-01")
    joined = pd.DataFrame({"site": ["Site A", "Site B"], "pct_progress_unplanned": [80.0, 70.0],
                           "estimate": [-0.1, 0.1], "ci_low": [-0.2, 0.0], "ci_high": [0.0, 0.2]})
    check = self_report_check(joined, routine.reset_index()).set_index("site")
    assert check.loc["Site A", "agree"] and not check.loc["Site B", "agree"]  # B reports progress, rose instead


def test_every_number_in_the_wp3_words_comes_from_its_tables():
    tables = _tables()
    tables["indicators"] = _indicators()
    starts = pd.DataFrame({"site": SITES, "start": "2013-11-01"})
    t = wp3_tables(tables, starts)
    said = wp3_sentences(t, "emergency_admissions")
    sentences = [s for part in said.values() for s in part]
    assert len(said["moderators"]) == 3
    for sentence in sentences:
        assert underived(sentence, t, allowed=WORDING_CONSTANTS) == [], sentence
    # a sentence with a number that no table gives is caught (the check can fail)
    assert underived(sentences[-2].replace("1 of", "9 of") + " 0.1234", t, allowed=WORDING_CONSTANTS) != []
    section = wp3_section(t, "emergency_admissions")
    assert section.body_html.count("<caption>") == 3 and len(section.figures) >= 1


def test_site_mdt_estimates_keep_matched_sets_whole():
    rng = np.random.default_rng(1)
    n = 60
    md = pd.DataFrame({"treated": np.tile([1, 0], n // 2), "weights": 1.0, "subclass": np.repeat(np.arange(n // 2), 2),
                       "area_code": np.repeat(rng.choice(["A1", "A2", "B1"], n // 2), 2),
                       "emergency_admissions_before": rng.poisson(2, n), "emergency_admissions_after": rng.poisson(2, n),
                       "total_cost_change": rng.normal(0, 1000, n)})
    md["area_code"] = np.where(md["treated"] == 0, "Z9", md["area_code"])  # controls live elsewhere
    got = site_estimates(md, {"A1": "Site A", "A2": "Site A", "B1": "Site B"}).set_index(["site", "measure"])
    pooled = att_frame(md.assign(ch=md["emergency_admissions_after"] - md["emergency_admissions_before"]), "ch")
    assert got.loc[("All sites", "emergency_admissions"), "estimate"] == pytest.approx(pooled.estimate)
    sets = md.loc[(md["treated"] == 1) & md["area_code"].isin(["A1", "A2"]), "subclass"]
    part = md[md["subclass"].isin(sets)]
    a = att_frame(part, "total_cost_change")
    assert got.loc[("Site A", "total_cost"), "ci_low"] == pytest.approx(a.ci_low)
    assert got.loc[("Site A", "total_cost"), "n_treated"] == len(sets)
    small = site_estimates(md, {"A1": "Site A", "A2": "Site A", "B1": "Site B"}, min_treated=1000)
    assert small[small["site"] != "All sites"]["estimate"].isna().all()


def test_site_survey_measures_need_their_base(tmp_path):
    from joinedup.simulate.ki_panel import simulate_ki_panel
    from joinedup.survey.analysis.sites import site_measures, write_site_measures

    sim = simulate_ki_panel(5)
    raw = site_measures(sim["invitations"], sim["responses"]).set_index("site")
    written = write_site_measures(sim["invitations"], sim["responses"], tmp_path).set_index("site")
    small = raw["n_progress"] < 11
    assert small.any() and (~small).any()
    assert written.loc[small, "pct_progress_unplanned"].isna().all()
    # a share whose numerator is 1-9 goes too (1-7, widened because its base is shown rounded to 5)
    numerator = (raw["pct_progress_unplanned"] * raw["n_progress"] / 100).round()
    few = numerator.between(1, 9)
    assert written.loc[few, "pct_progress_unplanned"].isna().all()
    shown_ok = ~small & ~few
    assert shown_ok.any()
    pd.testing.assert_series_equal(written.loc[shown_ok, "pct_progress_unplanned"],
                                   raw.loc[shown_ok, "pct_progress_unplanned"])
    shown = written["respondents"].dropna()
    assert ((shown % 5 == 0) & (shown >= 8)).all()
    assert (tmp_path / "tables" / "survey_site_measures.csv").is_file()


def test_survey_change_involvement_and_coded_text_are_reported_from_their_tables():
    import warnings

    from joinedup.report.survey_extra import (
        change_sentences,
        code_labels,
        codes_sentences,
        involvement_sentences,
        survey_extra_html,
    )
    from joinedup.simulate.ki_panel import simulate_ki_panel
    from joinedup.survey.analysis import analyse

    sim = simulate_ki_panel(2013)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = analyse(sim["invitations"], sim["responses"], sim["codes"], sim["codebook"])
    names = code_labels(sim["codebook"])
    sentences = (change_sentences(tables["change"]) + involvement_sentences(tables["involvement"])
                 + codes_sentences(tables["codes_by_org"], names))
    assert len(sentences) >= 4
    for sentence in sentences:
        assert underived(sentence, tables) == [], sentence
    # the programmed rise in "services are more joined up" (40% -> 75%) is named as a clear rise
    assert "Services are more joined up" in next(s for s in sentences if s.startswith("Shares that rose"))
    html = survey_extra_html(tables, sim["codebook"])
    for heading in ("Change between waves", "Involvement of partners", "coded free text"):
        assert heading in html
    assert "ACH_INT" not in html and "inv_gps" not in html  # labels, not codes


def test_rendered_sections_pass_the_numbers_harness():
    """Every paragraph of the WP3 section and of the impact and economics findings, as rendered."""
    from joinedup.report.numbers import paragraphs
    from joinedup.report.section_findings import impact_findings_html, mdt_finding_html

    tables = _tables()
    tables["indicators"] = _indicators()
    t = wp3_tables(tables, pd.DataFrame({"site": SITES, "start": "2013-11-01"}))
    texts = paragraphs(wp3_section(t, "emergency_admissions").body_html)
    assert len(texts) >= 6
    for text in texts:
        assert underived(text, t, allowed=WORDING_CONSTANTS) == [], text
    est = pd.DataFrame({"design": ["wave 1", "staggered"], "estimator": ["TWFE", "CS"], "estimate": [-0.05, 0.01],
                        "ci_low": [-0.08, -0.02], "ci_high": [-0.02, 0.04], "pct_change": [-4.9, 1.0],
                        "pct_low": [-7.7, -2.0], "pct_high": [-2.0, 4.1]})
    (impact,) = paragraphs(impact_findings_html(est, "acsc_chronic"))
    assert impact.startswith("Finding: the programme reduced emergency admissions for chronic")
    assert "1 of 2 estimates" in impact and underived(impact, {"impact_estimates": est}) == []
    econ = pd.DataFrame({"measure": ["emergency_admissions"], "model": ["negative binomial (NB2) DiD"],
                         "estimate": [-0.2], "ci_low": [-0.5], "ci_high": [0.1], "ratio": [0.82], "ratio_low": [0.61],
                         "ratio_high": [1.11]})
    (mdt,) = paragraphs(mdt_finding_html(econ))
    assert "there was no clear change" in mdt and underived(mdt, {"economics_estimates": econ}) == []
    assert underived(mdt.replace("0.82", "0.83"), {"economics_estimates": econ}) == ["0.83"]


def test_wp3_with_only_the_site_effects():
    """A protocol with [synthesis] but no survey, typology, economics or indicators: the section says so."""
    only = {"synthesis_sites": _tables()["synthesis_sites"]}
    t = wp3_tables(only, pd.DataFrame({"site": SITES, "start": "2013-11-01"}))
    assert t["wp3_moderators"].empty and t["wp3_self_report"].empty
    section = wp3_section(t, "emergency_admissions")
    assert "key-informant answers reach the minimum base of 11" in section.body_html
    assert section.body_html.count("<caption>") == 1  # the site table; no empty tables
    assert "No site in this table had enough enrolled MDT patients" in section.body_html


def test_a_site_whose_matched_sets_all_changed_alike_gets_a_blank_row_not_a_crash():
    md = pd.DataFrame({"treated": [1, 0] * 5, "weights": 1.0, "subclass": np.repeat(np.arange(5), 2),
                       "area_code": ["A1", "Z9"] * 5, "emergency_admissions_before": [2, 1] * 5,
                       "emergency_admissions_after": [1, 1] * 5, "total_cost_change": [100.0, 0.0] * 5})
    got = site_estimates(md, {"A1": "Site A"}).set_index(["site", "measure"])
    assert np.isnan(got.loc[("Site A", "total_cost"), "estimate"])  # zero variance: no interval to give
    assert got.loc[("Site A", "total_cost"), "n_treated"] == 5
