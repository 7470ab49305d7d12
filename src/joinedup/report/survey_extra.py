"""The key-informant results that were computed but left out of the report (issue 16): change between
the first and the latest wave, involvement of partners, and the coded free text, each as a table with
sentences written from it.

Change is the population-averaged odds ratio of the item's outcome in the later wave against the
earlier one (GEE, exchangeable within Pioneer, robust SEs: :mod:`joinedup.survey.analysis.change`); a
change is "clear" only when its 95% interval excludes 1.

Example:
    >>> html = survey_extra_html(tables, codebook)                                # doctest: +SKIP
"""

from __future__ import annotations

from html import escape

import pandas as pd

from joinedup.report.html import table_html
from joinedup.report.labels import label


def change_rows(change: pd.DataFrame) -> pd.DataFrame:
    """The first-to-latest-wave rows of the change table (one per item)."""
    first, last = change["wave_from"].min(), change["wave_to"].max()
    return change[(change["wave_from"] == first) & (change["wave_to"] == last)].reset_index(drop=True)


def change_sentences(change: pd.DataFrame) -> list[str]:
    """Which items changed clearly between the first and the latest wave, and which way."""
    rows = change_rows(change)
    if rows.empty:
        return []
    first, last = int(rows["wave_from"].iloc[0]), int(rows["wave_to"].iloc[0])
    up = rows[rows["ci_low"] > 1].sort_values("estimate", ascending=False)
    down = rows[rows["ci_high"] < 1].sort_values("estimate")
    out = [f"Between wave {first} and wave {last}, {len(up) + len(down)} of {len(rows)} items changed clearly "
           "(odds ratio's 95% interval excluding 1)."]
    for part, way in ((up, "rose"), (down, "fell")):
        if len(part):
            out.append(f"Shares that {way}: " + "; ".join(
                f"{label(r.item)} ({r.domain}, {r.pct_from:.1f}% to {r.pct_to:.1f}%, odds ratio {r.estimate:.2f}, 95% CI "
                f"{r.ci_low:.2f} to {r.ci_high:.2f})" for r in part.head(4).itertuples()) + ".")
    return out


def involvement_sentences(inv: pd.DataFrame) -> list[str]:
    """The most and the least involved partners in the latest wave (all respondents)."""
    latest = inv[(inv["wave"] == inv["wave"].max()) & (inv["org_type"] == "all")].dropna(subset=["pct_very"])
    if latest.empty:
        return []
    ranked = latest.sort_values("pct_very", ascending=False)
    top, bottom = ranked.iloc[0], ranked.iloc[-1]
    return [f"In wave {int(top['wave'])}, key informants most often called {label(top['item'])} very involved "
            f"({top['pct_very']:.1f}%) and least often {label(bottom['item'])} ({bottom['pct_very']:.1f}%)."]


def code_labels(codebook: pd.DataFrame | None) -> dict[str, str]:
    if codebook is None or len(codebook) == 0:
        return {}
    book = pd.read_csv(codebook) if not isinstance(codebook, pd.DataFrame) else codebook
    return dict(zip(book["code"], book["label"]))


def codes_sentences(codes: pd.DataFrame, names: dict[str, str]) -> list[str]:
    """The most often coded theme of each free-text question in the latest wave (all respondents)."""
    latest = codes[(codes["wave"] == codes["wave"].max()) & (codes["org_type"] == "all")].dropna(subset=["pct"])
    out = []
    for question, part in latest.groupby("question", sort=True):
        top = part.sort_values("pct", ascending=False).iloc[0]
        out.append(f"{question.capitalize()} (wave {int(top['wave'])}): the most frequent theme was "
                   f"{names.get(top['code'], top['code'])}, coded for {top['pct']:.1f}% of respondents.")
    return out


def survey_extra_html(tables: dict[str, pd.DataFrame], codebook=None) -> str:
    """Headings, sentences and tables for change, involvement and coded free text (what is there)."""
    parts = []
    if "change" in tables and len(tables["change"]):
        rows = change_rows(tables["change"])
        rows = rows.assign(domain=rows["domain"].str.capitalize(),
                           p_value=rows["p_value"].map(lambda v: "<0.001" if v < 0.001 else f"{v:.3f}"))
        shown = rows[["item", "domain", "pct_from", "pct_to", "estimate", "ci_low", "ci_high", "p_value"]].rename(
            columns={"domain": "Domain", "pct_from": f"Wave {int(rows['wave_from'].iloc[0])} (%)",
                     "pct_to": f"Wave {int(rows['wave_to'].iloc[0])} (%)", "estimate": "Odds ratio"})
        parts += ["<h3>Change between waves</h3>", *[f"<p>{escape(s)}</p>" for s in change_sentences(tables["change"])],
                  table_html(shown, "Change between the first and the latest wave (GEE odds ratio, robust 95% CI)",
                             source="tables/survey_change.csv (every pair of waves)")]
    if "involvement" in tables and len(tables["involvement"]):
        inv = tables["involvement"]
        latest = inv[(inv["wave"] == inv["wave"].max()) & (inv["org_type"] == "all")]
        parts += ["<h3>Involvement of partners</h3>", *[f"<p>{escape(s)}</p>" for s in involvement_sentences(inv)],
                  table_html(latest[["item", "n", "pct_very"]],
                             f"Partners called very involved, wave {int(inv['wave'].max())} (all respondents)",
                             source="tables/survey_involvement.csv (by organisation and wave)")]
    if "codes_by_org" in tables and len(tables["codes_by_org"]):
        codes, names = tables["codes_by_org"], code_labels(codebook)
        latest = codes[(codes["wave"] == codes["wave"].max()) & (codes["org_type"] == "all")]
        shown = latest.assign(code=latest["code"].map(lambda c: names.get(c, c)))[
            ["question", "code", "n_respondents", "n_coded", "pct"]].rename(
            columns={"question": "Question", "code": "Theme", "n_respondents": "Respondents", "n_coded": "Coded",
                     "pct": "Coded (%)"})
        parts += ["<h3>What key informants wrote (coded free text)</h3>",
                  *[f"<p>{escape(s)}</p>" for s in codes_sentences(codes, names)],
                  table_html(shown, f"Themes in the free-text answers, wave {int(codes['wave'].max())} (all respondents)",
                             source="tables/survey_codes_by_org.csv (by organisation and wave)")]
    return "\n".join(parts)
