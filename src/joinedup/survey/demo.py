"""A demonstration survey database, so the web pages show something real after ``make demo``.

The simulated key-informant panel's first wave becomes a roster (invented names, example.org
addresses), an open wave with tokens, and the answers of its completes and partials saved through the
store as respondents would save them; an admin login ``demo`` and a programme login ``programme``
(password :data:`DEMO_PASSWORD`, for a demonstration only).

Example:
    >>> seed_demo("sqlite:///out/demo/survey.db")                                # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd

from joinedup.survey.pioneer_instrument import pioneer_choices
from joinedup.survey.store import SurveyStore

DEMO_PASSWORD = "demonstration only"


def seed_demo(url: str, seed: int = 2013) -> dict:
    """Create the demonstration database at ``url`` (replacing its panel); returns a link token of a
    panelist still to answer, to try the respondent pages."""
    from joinedup.simulate.ki_panel import simulate_ki_panel

    sim = simulate_ki_panel(seed)
    inv = sim["invitations"][sim["invitations"]["wave"] == 1]
    slug = {label: name for name, label in pioneer_choices()}
    roster = pd.DataFrame({"panelist_id": inv["panelist_id"], "name": "Panelist " + inv["panelist_id"],
                           "email": inv["panelist_id"].str.lower() + "@example.org", "pioneer": inv["pioneer"],
                           "org_type": inv["org_type"], "role": "key informant", "is_lead": inv["is_lead"]})
    store = SurveyStore(url)
    store.create()
    store.upsert_panelists(roster)
    if not any(w["wave"] == 1 for w in store.list_waves()):
        store.create_wave(1, "pioneer_ki_survey", "2015-06-01", "2015-07-31")
    store.set_wave_status(1, "open")
    tokens = store.issue_tokens(1)
    resp = sim["responses"][sim["responses"]["wave"] == 1].set_index("panelist_id")
    for r in inv.itertuples():
        if r.disposition in ("complete", "partial") and r.panelist_id in resp.index:
            answers = {k: v for k, v in resp.loc[r.panelist_id].items() if k != "wave" and isinstance(v, str) and v}
            answers.update({"pioneer": slug[r.pioneer], "org_type": r.org_type, "is_lead": r.is_lead})
            store.save_response(tokens[r.panelist_id], answers, final=r.disposition == "complete")
        elif r.disposition in ("refusal", "ineligible"):
            store.set_disposition(r.panelist_id, 1, r.disposition, "demonstration")
    store.add_user("demo", DEMO_PASSWORD, "admin")
    store.add_user("programme", DEMO_PASSWORD, "programme")
    # the workbench's simulated interviews, so `joinedup serve` shows it at once
    from joinedup.qual.demo import seed_workbench

    seed_workbench(store, sorted(inv["pioneer"].unique())[:6], password=DEMO_PASSWORD)
    waiting = inv.loc[inv["disposition"] == "non_contact", "panelist_id"]
    return {"try_token": tokens[waiting.iloc[0]] if len(waiting) else None, "panelists": len(roster)}
