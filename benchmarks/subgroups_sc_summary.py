"""Summaries of ``impact_coverage.py --design subgroups-sc`` runs: the placebo test of equal effects
per site and pooled over sites (rejection rate at 5%, Wilson 95% intervals; per statistic, raw ``H``
and, from ``--sc-scaled`` runs, the scaled ones), the share of sites
whose smallest attainable p, 1/(J + 1), is below 0.05, how often any site rejects (family-wise: the
report writes one sentence per breakdown counting the sites that differ), and how the sites' tests
are correlated (they share donors and placebo fits): the distribution of the number of rejecting
sites per seed against the binomial with the pooled rate, its variance ratio, and the mean pairwise
correlation of the sites' rejections and of their p-values.

    .venv/bin/python benchmarks/subgroups_sc_summary.py \\
        benchmarks/results/impact_coverage_subgroups_sc_null.csv [more .csv] \\
        --out benchmarks/results/impact_coverage_subgroups_sc_summary.json   # also .csv and .txt

Example:
    >>> import pandas as pd
    >>> f = pd.DataFrame({"seed": [1, 1, 2, 2], "site": ["a", "b", "a", "b"], "p_value": [0.01, 0.5, 0.5, 0.5],
    ...                   "n_placebos": 54})
    >>> r = site_counts(f)
    >>> r["any"], r["counts"]
    (0.5, {0: 1, 1: 1})
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from impact_coverage import _binomial_ci, provenance

ALPHA = 0.05


def _rate(k: int, n: int) -> str:
    lo, hi = _binomial_ci(k, n)
    return f"{k / n:6.1%} ({lo:.1%}-{hi:.1%})"


def site_counts(tests: pd.DataFrame) -> dict:
    """Per seed, the number of sites with p < 0.05; its distribution, the family-wise rate, the
    binomial with the pooled rate beside it, the variance ratio and the mean pairwise correlations."""
    wide = tests.pivot(index="seed", columns="site", values="p_value")
    reject = wide < ALPHA
    k = reject.sum(axis=1)
    n_sites, seeds = wide.shape[1], len(wide)
    pooled = float(reject.to_numpy().mean())
    counts = k.value_counts().sort_index()
    binom = stats.binom(n_sites, pooled)
    corr_p = wide.corr().to_numpy()[np.triu_indices(n_sites, 1)]
    r = reject.astype(float)
    r = r.loc[:, r.std() > 0]
    corr_r = r.corr().to_numpy()[np.triu_indices(r.shape[1], 1)] if r.shape[1] > 1 else np.array([np.nan])
    return {"seeds": seeds, "sites": n_sites, "pooled": pooled, "any": float((k > 0).mean()),
            "any_k": int((k > 0).sum()), "any_binomial": float(1 - binom.pmf(0)),
            "any_independent_5pct": float(1 - (1 - ALPHA) ** n_sites),
            "counts": {int(c): int(v) for c, v in counts.items()},
            "binomial_expected": {int(c): float(seeds * binom.pmf(c)) for c in range(n_sites + 1)},
            "mean_count": float(k.mean()), "var_count": float(k.var(ddof=1)),
            "var_ratio": float(k.var(ddof=1) / binom.var()) if binom.var() > 0 else np.nan,
            "mean_corr_p": float(np.nanmean(corr_p)), "mean_corr_reject": float(np.nanmean(corr_r))}


def summarise_file(path: Path) -> tuple[list[str], list[dict]]:
    frame = pd.read_csv(path)
    tests = frame[frame["estimator"].str.contains("placebo test of equal effects")].copy()
    tests["method"] = tests["estimator"].str.split(" per site").str[0]
    # runs before --sc-scaled have one test row per site-seed, the raw H
    raw = pd.Series("raw", index=tests.index)
    tests["statistic"] = tests["statistic"].fillna("raw") if "statistic" in tests else raw
    lines, records = [], []
    for (design, method, statistic), part in tests.groupby(["design", "method", "statistic"], sort=False):
        power = not part["estimand"].iloc[0].endswith("(true)")
        what = "power" if power else "size"
        seeds = part["seed"].nunique()
        lines += ["", (f"{path.name}: {method}, statistic {statistic}, {design}; {seeds} seeds; rejection rate at "
                       f"5% ({what}), Wilson 95%"),
                  f"  {'site':<38} {'J':>3} {'min p':>6} {'rate':>22} {'mean p':>7}"]
        for site, g in part.groupby("site", sort=True):
            k, n, j = int((g["p_value"] < ALPHA).sum()), len(g), int(g["n_placebos"].iloc[0])
            lines.append(f"  {site:<38} {j:>3} {1 / (j + 1):6.3f} {_rate(k, n):>22} {g['p_value'].mean():7.3f}")
            records.append({"file": path.name, "method": method, "statistic": statistic, "design": design,
                            "site": site, "what": what,
                            "seeds": n, "n_placebos": j, "rejections": k, "rate": k / n,
                            "rate_ci": _binomial_ci(k, n), "mean_p": float(g["p_value"].mean())})
        k, n = int((part["p_value"] < ALPHA).sum()), len(part)
        j = part.groupby("site")["n_placebos"].first()
        c = site_counts(part)
        records.append({"file": path.name, "method": method, "statistic": statistic, "design": design,
                        "site": "pooled", "what": what,
                        "seeds": seeds, "rejections": k, "tests": n, "rate": k / n, "rate_ci": _binomial_ci(k, n),
                        "mean_p": float(part["p_value"].mean()),
                        "share_sites_min_p_below_5pct": float((1 / (j + 1) < ALPHA).mean()),
                        **{f"count_{x}": v for x, v in c.items()}})
        lines += [(f"  {'pooled over ' + str(c['sites']) + ' sites (site-seeds)':<38} {'':>3} {'':>6} "
                   f"{_rate(k, n):>22} {part['p_value'].mean():7.3f}"),
                  f"  sites whose smallest attainable p 1/(J + 1) < 0.05: {(1 / (j + 1) < ALPHA).sum()} of {len(j)}",
                  (f"  any site rejects (family-wise): {_rate(c['any_k'], seeds)}; binomial({c['sites']}, pooled "
                   f"rate) would give {c['any_binomial']:.1%}, independent tests at exactly 5% "
                   f"{c['any_independent_5pct']:.1%}"),
                  (f"  rejecting sites per seed: mean {c['mean_count']:.2f}, variance {c['var_count']:.2f} "
                   f"({c['var_ratio']:.2f} x the binomial's); mean pairwise correlation between sites of p "
                   f"{c['mean_corr_p']:+.3f}, of rejection {c['mean_corr_reject']:+.3f}"),
                  "  seeds with k sites rejecting (observed / binomial expected): " + ", ".join(
                      f"{x}: {c['counts'].get(x, 0)} / {e:.1f}" for x, e in c["binomial_expected"].items()
                      if c["counts"].get(x, 0) or e >= 0.05)]
    effects = frame[frame["estimand"].str.endswith(" effect")]
    if len(effects):
        effects = effects.assign(method=effects["estimator"].str.split(" per site").str[0],
                                 error=effects["estimate"] - effects["target"])
        table = effects.groupby(["design", "method", "estimand"], sort=False)["error"].agg(["mean", "std"])
        lines += ["", (f"{path.name}: each quintile's effect minus the programmed one, over sites and seeds "
                       "(mean, sd)")] + [f"  {m}, {d}, {e}: {r['mean']:+.4f} ({r['std']:.4f})"
                                   for (d, m, e), r in table.iterrows()]
    return lines, records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/impact_coverage_subgroups_sc_summary.json"))
    args = parser.parse_args()
    lines, records = list(provenance()), []
    lines.append("Synthetic control per site by deprivation quintile, placebo-in-space test of equal effects (H; "
                 "the scaled H_s too where the run recorded it): "
                 "size and power by site, pooled, family-wise, and the correlation of the sites' tests")
    for path in args.csv:
        head = path.with_suffix(".txt").read_text(encoding="utf-8").splitlines()[:2]
        lines += ["", f"from {path.name}:"] + [f"  {h}" for h in head]
        more, recs = summarise_file(path)
        lines += more
        records += recs
    text = "\n".join(lines)
    print(text)
    args.out.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
    pd.DataFrame(records).to_csv(args.out.with_suffix(".csv"), index=False)
    args.out.write_text(json.dumps(records, indent=2, default=float), encoding="utf-8")


if __name__ == "__main__":
    main()
