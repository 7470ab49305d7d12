"""Sites' proposals to the initiative register, from the dashboards' scheme corrections.

Sites already propose corrections to their schemes on their dashboards (``joinedup.web.feedback``:
one field of one scheme, reviewed once by an admin). A correction of the ``status`` field whose
proposed value is a register stage, for a scheme the register holds as an initiative, becomes a
register row for the period ``period``: ``source = "site_submission"``, ``source_ref`` naming the
correction, and ``verified`` only when the team accepted it. Pending proposals are returned too
(unverified, for review); rejected ones are left out; anything else (unknown initiative, a status
that is not a stage, a field the register does not take this way) goes to the rejects with a reason.

This bridge reads what the existing scheme-correction routes store; the register's own fields
(stage per period, dates, scale, model, targets) are proposed and reviewed on the register pages
(:mod:`joinedup.process.register_book`, :mod:`joinedup.web.register_routes`).

Example:
    >>> rows, rejects = proposals_from_corrections(corrections, register.rows,   # doctest: +SKIP
    ...                                            period="2017-01-01")
"""

from __future__ import annotations

import pandas as pd

from joinedup.process.register import INITIATIVE_ATTRIBUTES
from joinedup.process.vocab import STAGES


def proposals_from_corrections(corrections: pd.DataFrame, rows: pd.DataFrame, period: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Register rows proposed by the dashboards' corrections, and the corrections that cannot be used."""
    when = pd.Timestamp(period)
    known = rows.sort_values("period").drop_duplicates("initiative_id").set_index("initiative_id")
    out, rejects = [], []
    for c in corrections.to_dict("records"):
        if c.get("decision") == "reject":
            continue
        why = []
        if c["field"] != "status":
            why.append(f"field {c['field']!r}: only a status (stage) correction becomes a register row")
        proposed = str(c["proposed_value"]).strip().lower().replace(" ", "_")
        if c["field"] == "status" and proposed not in STAGES:
            why.append(f"status {c['proposed_value']!r} is not a stage ({', '.join(STAGES)})")
        if c["scheme_id"] not in known.index:
            why.append(f"scheme {c['scheme_id']!r} is not an initiative in the register")
        elif known.at[c["scheme_id"], "site"] != c["site"]:
            why.append(f"scheme {c['scheme_id']!r} belongs to {known.at[c['scheme_id'], 'site']!r}, not {c['site']!r}")
        if why:
            rejects.append({"correction_id": c["id"], "site": c["site"], "scheme_id": c["scheme_id"], "reason": "; ".join(why)})
            continue
        base = known.loc[c["scheme_id"]]
        accepted = c.get("decision") == "accept"
        out.append({**{k: base[k] for k in INITIATIVE_ATTRIBUTES}, "initiative_id": c["scheme_id"], "period": when,
                    "stage": proposed, "scale": float("nan"), "scale_unit": "", "source": "site_submission",
                    "source_ref": f"dashboard correction {c['id']} by {c['author']}"
                                  + (f", accepted by {c['decided_by']}" if accepted else ", pending review"),
                    "verified": accepted})
    return pd.DataFrame(out, columns=[*rows.columns]), pd.DataFrame(rejects, columns=["correction_id", "site", "scheme_id", "reason"])
