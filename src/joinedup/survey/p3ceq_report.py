"""P3CEQ scores of a programme's own service users, wave by wave: descriptive, within the programme.

A programme's own survey has no comparison group, and the people answering differ between waves, so
the change it shows is a description of the programme's service users over time, never an estimate
of the programme's impact: :data:`STATEMENT` says so wherever the table is shown, and the table has
no "estimate" or "effect" column. Comparative estimates of person-centred care come from the
published surveys (GPPS, ASCS) through the impact designs (:mod:`joinedup.experience.design`).

Per wave and scale (``total``, ``person_centred``, ``care_coordination``): respondents with a score,
of them proxies, the mean and SD, a 95% CI of the mean (t), and the change from the first wave
with a Welch 95% CI. Means and CIs over 1-7 respondents are suppressed, counts controlled, when
written through :func:`write_p3ceq_tables`.

Example:
    >>> table = p3ceq_change(score_responses(responses, licensed))                   # doctest: +SKIP
    >>> print(p3ceq_section_html(table))                                             # doctest: +SKIP
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
from scipy import stats

STATEMENT = ("Descriptive, within the programme: how the P3CEQ scores of the programme's own service users "
             "changed between survey waves. This is not a comparative impact estimate: there is no comparison "
             "group, the people answering differ between waves, and a change can reflect who answered as much "
             "as the care they received.")
SCALES = ("total", "person_centred", "care_coordination")
RATE_COLUMNS = ("mean", "sd", "ci_low", "ci_high", "change_from_first_wave", "change_ci_low", "change_ci_high")


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    diff = b.mean() - a.mean()
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)) if se > 0 else np.inf
    t = stats.t.ppf(0.975, df)
    return diff, diff - t * se, diff + t * se


def p3ceq_change(scored: pd.DataFrame, by: str = "wave") -> pd.DataFrame:
    """The descriptive table (module docstring) from :func:`joinedup.survey.p3ceq.score_responses`."""
    rows = []
    waves = sorted(scored[by].unique())
    for scale in SCALES:
        first = scored.loc[scored[by] == waves[0], scale].dropna().to_numpy(float)
        for wave in waves:
            part = scored[scored[by] == wave]
            x = part[scale].dropna().to_numpy(float)
            n = len(x)
            mean = x.mean() if n else np.nan
            sd = x.std(ddof=1) if n > 1 else np.nan
            half = stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan
            change = _welch(first, x) if wave != waves[0] and n > 1 and len(first) > 1 else (np.nan,) * 3
            proxies = int((part.loc[part[scale].notna(), "respondent"] == "proxy").sum()) if "respondent" in part else 0
            rows.append({by: wave, "scale": scale, "respondents": n, "proxy_respondents": proxies, "mean": mean,
                         "sd": sd, "ci_low": mean - half, "ci_high": mean + half, "change_from_first_wave": change[0],
                         "change_ci_low": change[1], "change_ci_high": change[2],
                         "left_out_incomplete": int(part[scale].isna().sum())})
    return pd.DataFrame(rows)


def write_p3ceq_tables(table: pd.DataFrame, out_dir, disclosure_control: bool = True) -> pd.DataFrame:
    """``tables/p3ceq_change`` through the disclosure boundary (counts of 1-7 blank, others rounded
    to 5; means and changes over 1-7 respondents suppressed)."""
    from joinedup.outputs import write_table

    return write_table(table, out_dir, "p3ceq_change", ["respondents", "proxy_respondents", "left_out_incomplete"],
                       disclosure_control=disclosure_control, rates={c: "respondents" for c in RATE_COLUMNS})


def p3ceq_table_html(table: pd.DataFrame, by: str = "wave") -> str:
    """The table alone (labels, not codes; suppressed values say so)."""
    labels = {"total": "P3CEQ total", "person_centred": "Person-centredness", "care_coordination": "Care coordination"}

    def fmt(v, digits=1):
        return "suppressed" if pd.isna(v) else f"{v:.{digits}f}"

    body = "".join(
        f"<tr><td>{html.escape(labels[r['scale']])}</td><td>{html.escape(str(r[by]))}</td><td>{fmt(r['respondents'], 0)}"
        f"</td><td>{fmt(r['proxy_respondents'], 0)}</td><td>{fmt(r['mean'])} ({fmt(r['ci_low'])} to {fmt(r['ci_high'])})</td>"
        f"<td>{'' if pd.isna(r['change_from_first_wave']) else fmt(r['change_from_first_wave'])}</td></tr>"
        for _, r in table.iterrows())
    return ("<table><thead><tr><th>Scale</th><th>Wave</th><th>Respondents</th><th>Of them, proxies</th>"
            "<th>Mean (95% CI)</th><th>Change since the first wave</th></tr></thead>"
            f"<tbody>{body}</tbody></table>")


def p3ceq_section_html(table: pd.DataFrame, by: str = "wave") -> str:
    """The report's section: heading, :data:`STATEMENT`, and the table (labels, not codes)."""
    return ("<section id='person-centred-own-survey'><h2>Service users' experience of person-centred coordinated care "
            f"(P3CEQ, the programme's own survey)</h2><p class='caveat'>{html.escape(STATEMENT)}</p>"
            f"{p3ceq_table_html(table, by)}</section>")
