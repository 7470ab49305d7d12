"""Key-informant measures per site (WP1 by site, for the WP3 join): the share of answers reporting
substantial or some progress on reducing unplanned admissions, and the share of barrier ratings that
are "significant", pooled over every wave's completes ("don't know" and "too early to say" left out).

These are self-reports of a few people per site, so they leave the program only under the survey rule
of :func:`joinedup.disclosure.require_base`: a percentage is shown only where its base reaches
:data:`joinedup.disclosure.SURVEY_MIN_BASE`. The base is completed questionnaires that answered (a
panelist answering three waves counts three times: each wave's questionnaire is one response, as the
wave tables count them), not ratings: ten barrier ratings by one person are one response. Bases are
counts, controlled like any other.

Example:
    >>> from joinedup.simulate.ki_panel import simulate_ki_panel
    >>> sim = simulate_ki_panel(1)
    >>> table = site_measures(sim["invitations"], sim["responses"])
    >>> len(table), bool(table["pct_progress_unplanned"].between(0, 100).all())
    (25, True)
"""

from __future__ import annotations

import pandas as pd

from joinedup.disclosure import require_base
from joinedup.survey.analysis.inputs import DOMAINS, read_inputs

PROGRESS_ITEM = "prog_unplanned"  # "Unplanned admissions have been reduced"
DONT_KNOW = ("dont_know", "too_early")  # not counted in the base: they are not a judgement either way


def site_measures(invitations, responses) -> pd.DataFrame:
    """Per site (the invitations' ``pioneer``): respondents, answers and the two shares (unrounded,
    uncontrolled: :func:`write_site_measures` applies the rules on the way out)."""
    data = read_inputs(invitations, responses)
    resp = data.respondents
    barriers = [b for b in DOMAINS["barriers"].items if b in resp.columns]
    rows = []
    for site, g in resp.groupby("pioneer", sort=True):
        answered = g[PROGRESS_ITEM].dropna() if PROGRESS_ITEM in g else pd.Series(dtype=object)
        answered = answered[~answered.isin(DONT_KNOW)]
        rated = g[barriers].where(~g[barriers].isin(DONT_KNOW)) if barriers else g.iloc[:, :0]
        ratings = rated.stack().dropna()
        rows.append({
            "site": site, "respondents": int(g["panelist_id"].nunique()), "n_progress": len(answered),
            "pct_progress_unplanned": 100 * float(answered.isin(DOMAINS["progress"].positive).mean())
            if len(answered) else float("nan"),
            "n_barriers": int(rated.notna().any(axis=1).sum()),
            "pct_barriers_significant": 100 * float(ratings.isin(DOMAINS["barriers"].positive).mean())
            if len(ratings) else float("nan")})
    return pd.DataFrame(rows)


def write_site_measures(invitations, responses, out_dir, disclosure_control: bool = True,
                        simulated: bool = False) -> pd.DataFrame:
    """Write ``tables/survey_site_measures``: shares only where their base reaches the minimum, then
    the counts controlled (sub-national); ``simulated`` adds ``data_source = "simulated"`` as every
    survey table of a simulated panel has (report/simulated.py)."""
    from joinedup.outputs import write_table

    frame = site_measures(invitations, responses)
    if simulated:
        frame = frame.assign(data_source="simulated")
    if disclosure_control:  # the base rule needs the raw bases, so before the counts are rounded
        frame = require_base(frame, ["pct_progress_unplanned"], "n_progress")
        frame = require_base(frame, ["pct_barriers_significant"], "n_barriers")
        # A share whose numerator is small goes too (NHS Digital's rule: 1-7), widened to 1-9 because
        # the base shown beside it is rounded to 5, and share x rounded base must not give 1-7 back.
        for pct, base in (("pct_progress_unplanned", "n_progress"), ("pct_barriers_significant", "n_barriers")):
            numerator = (frame[pct] * frame[base] / 100).round()
            frame.loc[numerator.between(1, 9), pct] = float("nan")
    return write_table(frame, out_dir, "survey_site_measures", ["respondents", "n_progress", "n_barriers"],
                       disclosure_control=disclosure_control)
