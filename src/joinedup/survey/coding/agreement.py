"""Agreement between coders, per code: Cohen's kappa (two coders) and Krippendorff's alpha (any number,
missing allowed), on the presence of the code in each source coded by the coders compared.

The unit is the source (a free-text answer, a document): "did this coder apply this code (or one of its
descendants) anywhere in it". Agreement on exact segment boundaries is a different question that a
presence measure does not answer; for long transcripts, split them into sources first (e.g. by
question of the interview guide).

Sources a coder did not look at are missing for that coder, not "absent": ``assigned`` says who coded
what (default: a coder looked at every source where they applied any code).

Example:
    >>> agreement(project, ["ab", "cd"])[["code", "kappa", "alpha"]]               # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _looked_at(project, coder: str, assigned: dict | None) -> set[str]:
    if assigned is not None:
        return set(assigned.get(coder, ()))
    c = project.codings
    return set(c.loc[c["coder"] == coder, "source_id"])


def agreement(project, coders: list[str], assigned: dict | None = None) -> pd.DataFrame:
    """Per code: sources compared, per-coder prevalence, observed agreement, Cohen's kappa (only with
    exactly two coders, on sources both coded) and Krippendorff's alpha (nominal, all coders).

    Example:
        >>> agreement(p, ["a", "b"]).set_index("code").loc["IT", "kappa"]          # doctest: +SKIP
    """
    import krippendorff
    from sklearn.metrics import cohen_kappa_score

    if len(coders) < 2:
        raise ValueError("agreement needs at least two coders")
    known = set(project.codings["coder"])
    unknown = [c for c in coders if c not in known]
    if unknown:
        raise ValueError(f"coder(s) {', '.join(unknown)} have no codings")
    seen = {c: _looked_at(project, c, assigned) for c in coders}
    units = sorted(set.union(*seen.values()))
    pres = {c: project.presence([c]).reindex(units) for c in coders}
    rows = []
    for code in project.codebook.codes["code"]:
        data = np.array([[pres[c].at[u, code] if u in seen[c] else np.nan for u in units] for c in coders],
                        dtype=float)
        both = ~np.isnan(data).any(axis=0)
        row = {"code": code, "units": int((~np.isnan(data)).sum(axis=0).astype(bool).sum()),
               "units_all_coders": int(both.sum())}
        for c, values in zip(coders, data):
            row[f"prevalence_{c}"] = float(np.nanmean(values)) if np.isfinite(values).any() else np.nan
        full = data[:, both]
        row["observed_agreement"] = float(np.mean((full == full[0]).all(axis=0))) if both.any() else np.nan
        kappa = np.nan
        if len(coders) == 2 and both.any():
            a, b = full
            # one value only: kappa is 0/0, undefined (as alpha)
            kappa = float(cohen_kappa_score(a, b)) if len(set(a) | set(b)) > 1 else np.nan
        row["kappa"] = kappa
        pairable = (~np.isnan(data)).sum(axis=0) >= 2
        vals = data[:, pairable]
        if vals.size and len(np.unique(vals[~np.isnan(vals)])) > 1:
            row["alpha"] = float(krippendorff.alpha(reliability_data=vals, level_of_measurement="nominal"))
        else:
            row["alpha"] = np.nan  # one value only: alpha is undefined (no variation to agree on)
        rows.append(row)
    return pd.DataFrame(rows)
