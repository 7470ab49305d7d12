"""Codes given to the free-text answers, by org type of the respondent.

A respondent counts once per code however many coders gave it and however many times (so
``n_coded`` is distinct respondents). With a codebook, a code also counts for each of its ancestors
(``parent``, the parent's parent, ...): a respondent coded "IT records" is counted under "IT" too,
once. The denominator is the respondents (completes) of that org type in that wave; codes given to
partial interviews are left out, like partials everywhere in the tables.

Example:
    >>> # codes_by_org(data) -> wave, question, code, org_type, n_respondents, n_coded, pct
"""

from __future__ import annotations

import pandas as pd

from joinedup.survey.analysis.inputs import ORG_TYPES, SurveyData
from joinedup.survey.analysis.tables import pct

COLUMNS = ["wave", "question", "code", "org_type", "n_respondents", "n_coded", "pct"]


def ancestors(codebook: pd.DataFrame | None) -> dict[str, list[str]]:
    """Each code with its ancestors (itself first), from the codebook's ``parent`` column.

    Example:
        >>> book = pd.DataFrame({"code": ["IT", "IT_REC"], "parent": [None, "IT"]})
        >>> ancestors(book)["IT_REC"]
        ['IT_REC', 'IT']
    """
    if codebook is None:
        return {}
    parent = dict(zip(codebook["code"], codebook["parent"]))
    out = {}
    for code in parent:
        chain, seen = [code], {code}
        while parent.get(chain[-1]) is not None:
            nxt = parent[chain[-1]]
            if nxt in seen:  # a cycle in the codebook: stop rather than loop forever
                raise ValueError(f"codebook.csv: the parents of {code!r} form a cycle")
            chain.append(nxt)
            seen.add(nxt)
        out[code] = chain
    return out


def codes_by_org(data: SurveyData) -> pd.DataFrame:
    """Per wave, question, code and org type (``all`` first): respondents, those coded, and per cent.

    Codes listed are every codebook code (or, with no codebook, every code seen), for each question
    that has codes, so absent codes show as 0.

    Example:
        >>> # codes_by_org(data).query("org_type == 'all' and wave == 1")
    """
    if data.codes is None or data.codes.empty:
        return pd.DataFrame(columns=COLUMNS)
    lineage = ancestors(data.codebook)
    codes = data.codes.merge(data.respondents[["panelist_id", "wave", "org_type"]],
                             on=["panelist_id", "wave"], how="inner")  # completes only
    # expand each code to itself and its ancestors, then keep one row per respondent and code
    codes = codes.assign(code=[lineage.get(c, [c]) for c in codes["code"]]).explode("code")
    codes = codes.drop_duplicates(["panelist_id", "wave", "question", "code"])
    all_codes = list(data.codebook["code"]) if data.codebook is not None else sorted(data.codes["code"].unique())
    questions = sorted(data.codes["question"].unique())
    rows = []
    for wave in data.waves:
        resp = data.respondents[data.respondents["wave"] == wave]
        here = codes[codes["wave"] == wave]
        denominators = {"all": len(resp), **{o: int((resp["org_type"] == o).sum()) for o in ORG_TYPES}}
        for question in questions:
            q = here[here["question"] == question]
            for code in all_codes:
                c = q[q["code"] == code]
                for org, n in denominators.items():
                    k = len(c) if org == "all" else int((c["org_type"] == org).sum())
                    rows.append({"wave": wave, "question": question, "code": code, "org_type": org,
                                 "n_respondents": n, "n_coded": k, "pct": pct(k, n)})
    return pd.DataFrame(rows, columns=COLUMNS)
