"""A simulated key-informant panel with programmed truths, to test the survey analysis against.

Design (deterministic for a seed):

* the 25 Pioneers of the reference data; ``n_panel`` panelists shared between them, each with an org
  type; the first panelist of each Pioneer (a CCG or council officer) is its lead;
* wave 1: each Pioneer has 1 to 9 completes (about 98 of 360; both scale with ``n_panel``); the other
  invitees are partial, refusal, non-contact or ineligible;
* later waves re-invite everyone not found ineligible; a previous complete answers again with
  probability 0.6, anyone else with 0.12, so some panelists answer 3 waves, some 2, some 1;
* each closed item's outcome (substantial or some / significant / very or fairly / very) has a
  programmed probability per wave ``p``, on the logit scale shifted by a Pioneer random effect
  (sd 0.7) and a panelist random effect (sd 0.5): answers cluster within Pioneers and persons.
  ``truth`` holds ``p`` (for a Pioneer and person at 0) and ``p_marginal`` (averaged over the random
  effects: what a population-averaged model such as GEE estimates);
* free text is drawn from a small hierarchical codebook; two coders code every complete's answer,
  coder B agreeing with A on each code with probability 0.8.

Example:
    >>> sim = simulate_ki_panel(1)
    >>> sorted(sim)
    ['codebook', 'codes', 'invitations', 'responses', 'truth']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from joinedup.simulate.geography import read_reference
from joinedup.survey.analysis.inputs import DOMAINS

PIONEER_SD, PERSON_SD = 0.7, 0.5
ORG_SHARES = {"ccg": 0.3, "la": 0.3, "nhs_provider": 0.25, "other": 0.15}
# programmed outcome probability in the first and last wave (linear in between); others are constant
CHANGES = {"bar_it_ig": (0.70, 0.30), "bar_info_sharing": (0.60, 0.40), "prog_joined_up": (0.40, 0.75),
           "prog_quality": (0.30, 0.45), "inv_gps": (0.20, 0.50)}
BASE = {"progress": 0.45, "barriers": 0.35, "helpfulness": 0.55, "involvement": 0.40}
CONSTANT = {"bar_financial": 0.80, "bar_workforce": 0.60, "help_bcf": 0.40}
# how the non-outcome share is spread over the other answers, in the domain's choice order
OTHER_WEIGHTS = {"progress": (0.4, 0.2, 0.25, 0.15), "barriers": (0.6, 0.3, 0.1),
                 "helpfulness": (0.5, 0.3, 0.2), "involvement": (0.45, 0.3, 0.1, 0.15)}
CODEBOOK = [  # code, label, parent
    ("ACH_INT", "Integrated services", None), ("ACH_INT_MDT", "Multidisciplinary teams", "ACH_INT"),
    ("ACH_INT_SPA", "Single point of access", "ACH_INT"), ("ACH_REL", "Relationships", None),
    ("ACH_REL_TRUST", "Trust between partners", "ACH_REL"), ("ACH_REL_GOV", "Joint governance", "ACH_REL"),
    ("CH_FIN", "Finance", None), ("CH_FIN_CUTS", "Budget cuts", "CH_FIN"),
    ("CH_FIN_BCF", "Better Care Fund pooling", "CH_FIN"), ("CH_IT", "IT and information", None),
    ("CH_IT_REC", "Shared records", "CH_IT"), ("CH_IT_IG", "Information governance", "CH_IT"),
]
LEAVES = {"achievements": ["ACH_INT_MDT", "ACH_INT_SPA", "ACH_REL_TRUST", "ACH_REL_GOV"],
          "challenge": ["CH_FIN_CUTS", "CH_FIN_BCF", "CH_IT_REC", "CH_IT_IG"]}
LEAF_WEIGHTS = (0.4, 0.2, 0.25, 0.15)
AGREEMENT = 0.8


def programmed_p(item: str, domain: str, wave: int, waves: int) -> float:
    """The programmed outcome probability of an item in a wave (Pioneer and person effects at 0).

    Example:
        >>> programmed_p("bar_it_ig", "barriers", 3, 3), programmed_p("bar_culture", "barriers", 2, 3)
        (0.3, 0.35)
    """
    first, last = CHANGES.get(item, (CONSTANT.get(item, BASE[domain]),) * 2)
    share = (wave - 1) / (waves - 1) if waves > 1 else 0.0
    return round(first + (last - first) * share, 6)


def marginal_p(p: float) -> float:
    """``p`` averaged over the normal random effects (Gauss–Hermite quadrature, 40 nodes).

    Example:
        >>> round(marginal_p(0.5), 6)
        0.5
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)
    sd = np.hypot(PIONEER_SD, PERSON_SD)
    return float(np.sum(weights * expit(logit(p) + sd * nodes)) / np.sqrt(2 * np.pi))


def _truth(waves: int) -> pd.DataFrame:
    rows = [{"wave": w, "domain": d.name, "item": item, "outcome": d.outcome,
             "p": programmed_p(item, d.name, w, waves)}
            for d in DOMAINS.values() for item in d.items for w in range(1, waves + 1)]
    truth = pd.DataFrame(rows)
    truth["p_marginal"] = truth["p"].map(marginal_p)
    return truth


def _panel(rng, n_panel: int, pioneers: list[str]) -> pd.DataFrame:
    pioneer = np.sort(rng.integers(0, len(pioneers), n_panel))
    pioneer[:len(pioneers)] = np.arange(len(pioneers))  # every Pioneer has at least one panelist
    pioneer = np.sort(pioneer)
    org = rng.choice(list(ORG_SHARES), n_panel, p=list(ORG_SHARES.values()))
    first = np.r_[True, pioneer[1:] != pioneer[:-1]]
    org[first] = rng.choice(["ccg", "la"], int(first.sum()))  # leads work for a CCG or council
    return pd.DataFrame({"panelist_id": [f"KI{i + 1:04d}" for i in range(n_panel)],
                         "pioneer": [pioneers[p] for p in pioneer], "org_type": org,
                         "is_lead": np.where(first, "yes", "no"), "p_index": pioneer,
                         "person_effect": rng.normal(0, PERSON_SD, n_panel)})


def _dispositions(rng, panel: pd.DataFrame, waves: int, n_panel: int) -> pd.DataFrame:
    cap = int(np.ceil(9 * n_panel / 360))
    rows, active, completed = [], np.ones(len(panel), bool), np.zeros(len(panel), bool)
    for wave in range(1, waves + 1):
        complete = np.zeros(len(panel), bool)
        if wave == 1:  # 1 to 9 completes per Pioneer, about 27% overall
            for idx in panel.groupby("p_index").indices.values():
                k = int(np.clip(rng.poisson(3.9 * n_panel / 360), 1, min(cap, len(idx))))
                complete[rng.choice(idx, k, replace=False)] = True
        else:
            complete = active & (rng.random(len(panel)) < np.where(completed, 0.6, 0.12))
        other = rng.choice(["partial", "refusal", "non_contact", "ineligible"], len(panel),
                           p=[0.03, 0.17, 0.75, 0.05])
        disposition = np.where(complete, "complete", other)
        for i in np.flatnonzero(active):
            rows.append((panel.at[i, "panelist_id"], wave, disposition[i]))
        completed |= complete
        active &= disposition != "ineligible"  # left post: not invited again
    return pd.DataFrame(rows, columns=["panelist_id", "wave", "disposition"])


def _answers(rng, invited: pd.DataFrame, pioneer_effect: np.ndarray, waves: int) -> pd.DataFrame:
    interviews = invited[invited["disposition"].isin(["complete", "partial"])].reset_index(drop=True)
    out = interviews[["panelist_id", "wave"]].copy()
    shift = pioneer_effect[interviews["p_index"].to_numpy()] + interviews["person_effect"].to_numpy()
    n = len(interviews)
    partial = (interviews["disposition"] == "partial").to_numpy()
    questions = [(d, item) for d in DOMAINS.values() for item in d.items]
    for q, (d, item) in enumerate(questions):
        p = np.array([programmed_p(item, d.name, w, waves) for w in interviews["wave"]])
        positive = rng.random(n) < expit(logit(p) + shift)
        pos_choice = rng.choice(d.positive, n, p=[0.4, 0.6] if len(d.positive) == 2 else [1.0])
        others = [c for c in d.choices if c not in d.positive]
        neg_choice = rng.choice(others, n, p=OTHER_WEIGHTS[d.name])
        answer = np.where(positive, pos_choice, neg_choice).astype(object)
        # 2% item non-response; partials stop half way through the questionnaire
        answer[(rng.random(n) < 0.02) | (partial & (q >= len(questions) // 2))] = None
        out[item] = answer
    return out


def _free_text(rng, responses: pd.DataFrame, invited: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    label = {c: lab for c, lab, _ in CODEBOOK}
    complete = set(zip(*[invited.loc[invited["disposition"] == "complete", c] for c in ("panelist_id", "wave")]))
    texts = {q: [] for q in LEAVES}
    codes = []
    for pid, wave in zip(responses["panelist_id"], responses["wave"]):
        for question, leaves in LEAVES.items():
            if (pid, wave) not in complete:
                texts[question].append(None)
                continue
            k = 1 + int(rng.random() < 0.35)
            chosen = list(rng.choice(leaves, k, replace=False, p=LEAF_WEIGHTS))
            texts[question].append("; ".join(label[c] for c in chosen) + ".")
            for code in chosen:
                codes.append((pid, wave, question, code, "A"))
                other = [c for c in leaves if c != code]
                codes.append((pid, wave, question, code if rng.random() < AGREEMENT else rng.choice(other), "B"))
    responses = responses.assign(**texts)
    codes = pd.DataFrame(codes, columns=["panelist_id", "wave", "question", "code", "coder"])
    codebook = pd.DataFrame([{"code": c, "label": lab, "parent": parent,
                              "description": f"Answer mentions {lab.lower()}"} for c, lab, parent in CODEBOOK])
    return responses, codes, codebook


def simulate_ki_panel(seed: int, waves: int = 3, n_panel: int = 360,
                      pioneers: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Simulate the panel: ``invitations``, ``responses``, ``codes``, ``codebook`` (the analysis
    inputs, same columns as the CSVs) and ``truth`` (``wave, domain, item, outcome, p, p_marginal``).

    Example:
        >>> sim = simulate_ki_panel(1)
        >>> int((sim["invitations"].query("wave == 1").disposition == "complete").sum()) in range(80, 120)
        True
    """
    if waves < 1 or n_panel < 25:
        raise ValueError(f"need waves >= 1 and n_panel >= 25, got waves={waves}, n_panel={n_panel}")
    rng = np.random.default_rng(seed)
    if pioneers is None:
        pioneers = list(dict.fromkeys(r["site"] for r in read_reference("pioneers")))
    panel = _panel(rng, n_panel, list(pioneers))
    pioneer_effect = rng.normal(0, PIONEER_SD, len(pioneers))
    invited = _dispositions(rng, panel, waves, n_panel).merge(panel, on="panelist_id")
    responses = _answers(rng, invited, pioneer_effect, waves)
    responses, codes, codebook = _free_text(rng, responses, invited)
    invitations = invited[["panelist_id", "wave", "pioneer", "org_type", "is_lead", "disposition"]]
    return {"invitations": invitations.sort_values(["wave", "panelist_id"]).reset_index(drop=True),
            "responses": responses, "codes": codes, "codebook": codebook, "truth": _truth(waves)}
