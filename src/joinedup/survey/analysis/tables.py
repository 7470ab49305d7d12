"""Descriptive tables of the key-informant survey, one row per wave (and group, item).

Respondents are completes only (partials count in RR2 of :func:`response_rates_table` and nowhere
else). An item's denominator ``n`` is the respondents who answered it, "don't know" and "too early"
included; a blank answer is out of that item's denominator. Percentages have one decimal place and
are empty where ``n`` is 0.

Example:
    >>> from joinedup.survey.analysis.inputs import read_inputs
    >>> # data = read_inputs("invitations.csv", "responses.csv"); progress_table(data)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from joinedup.survey.aapor import response_rates
from joinedup.survey.analysis.inputs import DOMAINS, ORG_TYPES, SurveyData


def pct(numerator, denominator) -> float:
    """A percentage to one decimal place, NaN when the denominator is 0.

    Example:
        >>> pct(1, 3), pct(0, 0)
        (33.3, nan)
    """
    return round(100.0 * numerator / denominator, 1) if denominator else float("nan")


def response_rates_table(data: SurveyData) -> pd.DataFrame:
    """``wave, invited, eligible, complete, partial, rr1, rr2, pioneers_responding`` (AAPOR RR1/RR2 in
    per cent; ``pioneers_responding`` = Pioneers with at least one complete).

    Example:
        >>> # response_rates_table(data).loc[0, "rr1"] -> 27.2
    """
    rates = response_rates(data.invitations, ["wave"])
    rates["rr1"] = (100 * rates["rr1"]).round(1)
    rates["rr2"] = (100 * rates["rr2"]).round(1)
    completes = data.invitations[data.invitations["disposition"] == "complete"]
    pioneers = completes.groupby("wave")["pioneer"].nunique()
    rates["pioneers_responding"] = rates["wave"].map(pioneers).fillna(0).astype(int)
    return rates[["wave", "invited", "eligible", "complete", "partial", "rr1", "rr2", "pioneers_responding"]]


def respondents_by(data: SurveyData, column: str) -> pd.DataFrame:
    """``wave, <column>, n``: completes by org type (every org type listed) or by Pioneer (every
    Pioneer invited that wave listed, with 0 where none completed).

    Example:
        >>> # respondents_by(data, "org_type")
    """
    rows = []
    for wave in data.waves:
        invited = data.invitations[data.invitations["wave"] == wave]
        levels = ORG_TYPES if column == "org_type" else sorted(invited[column].unique())
        counts = data.respondents[data.respondents["wave"] == wave][column].value_counts()
        rows += [{"wave": wave, column: level, "n": int(counts.get(level, 0))} for level in levels]
    return pd.DataFrame(rows, columns=["wave", column, "n"])


def panel_participation(data: SurveyData) -> pd.DataFrame:
    """``waves_answered, panelists``: panelists by how many waves they completed (most first; those
    with no complete are not counted).

    Example:
        >>> # panel_participation(data) -> waves_answered 3, 2, 1
    """
    per_person = data.respondents.groupby("panelist_id")["wave"].nunique().value_counts()
    levels = range(len(data.waves), 0, -1)
    return pd.DataFrame({"waves_answered": list(levels),
                         "panelists": [int(per_person.get(k, 0)) for k in levels]})


def _item_rows(frame: pd.DataFrame, items, positive) -> list[dict]:
    rows = []
    for item in items:
        answered = frame[item].dropna()
        rows.append({"item": item, "n": len(answered), "k": int(answered.isin(positive).sum())})
    return rows


def _groups(frame: pd.DataFrame, groups: str):
    """(name, subset) pairs: 'all' then leads/non-leads and/or each org type."""
    yield "all", frame
    if groups == "lead_and_org":
        yield "lead", frame[frame["is_lead"] == "yes"]
        yield "non_lead", frame[frame["is_lead"] == "no"]
    for org in ORG_TYPES:
        yield org, frame[frame["org_type"] == org]


def domain_table(data: SurveyData, domain: str, groups: str | None = None) -> pd.DataFrame:
    """Per wave (and group) and item: ``n`` answering and the per cent with the domain's outcome.

    ``groups`` is None (everyone), ``"lead_and_org"`` (``group`` = all, lead, non_lead, each org type)
    or ``"org"`` (``org_type`` = all, each org type).

    Example:
        >>> # domain_table(data, "helpfulness") -> wave, item, n, pct_very_or_fairly
    """
    d = DOMAINS[domain]
    label = f"pct_{d.outcome}"
    rows = []
    for wave in data.waves:
        frame = data.respondents[data.respondents["wave"] == wave]
        parts = [(None, frame)] if groups is None else _groups(frame, groups)
        for name, part in parts:
            for r in _item_rows(part, d.items, d.positive):
                row = {"wave": wave}
                if name is not None:
                    row["group" if groups == "lead_and_org" else "org_type"] = name
                row.update(item=r["item"], n=r["n"], **{label: pct(r["k"], r["n"])})
                rows.append(row)
    columns = ["wave", *([] if groups is None else ["group" if groups == "lead_and_org" else "org_type"]),
               "item", "n", label]
    return pd.DataFrame(rows, columns=columns)


def progress_table(data: SurveyData) -> pd.DataFrame:
    """``wave, group, item, n, pct_substantial_or_some`` for groups all, lead, non_lead, each org type.

    Example:
        >>> # progress_table(data).query("group == 'lead'")
    """
    return domain_table(data, "progress", "lead_and_org")


def barriers_table(data: SurveyData) -> pd.DataFrame:
    """``wave, item, n, pct_significant, rank``: rank 1 = the barrier most often called significant
    that wave. Ranks use the exact proportions and the 'min' method: tied barriers share the best
    rank and the next rank is skipped (1, 2, 2, 4). Items nobody answered have no rank.

    Example:
        >>> # barriers_table(data).sort_values(["wave", "rank"])
    """
    table = domain_table(data, "barriers")
    exact = [np.nan] * len(table)
    for wave in data.waves:  # rank on exact proportions, not on the rounded percentages
        frame = data.respondents[data.respondents["wave"] == wave]
        for i in table.index[table["wave"] == wave]:
            answered = frame[table.at[i, "item"]].dropna()
            exact[i] = (answered == "significant").mean() if len(answered) else np.nan
    table["rank"] = (pd.Series(exact, index=table.index).groupby(table["wave"])
                     .rank(method="min", ascending=False).astype("Int64"))
    return table


def helpfulness_table(data: SurveyData) -> pd.DataFrame:
    """``wave, item, n, pct_very_or_fairly``.

    Example:
        >>> # helpfulness_table(data)
    """
    return domain_table(data, "helpfulness")


def involvement_table(data: SurveyData) -> pd.DataFrame:
    """``wave, org_type, item, n, pct_very`` with ``org_type`` = all (every respondent) then each type.

    Example:
        >>> # involvement_table(data).query("org_type == 'all'")
    """
    return domain_table(data, "involvement", "org")
