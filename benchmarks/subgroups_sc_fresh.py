"""Size of the synthetic control subgroup test on freshly simulated Englands: each seed simulates a
new England under the null scenario (no programme, vanguard or MDT effect), builds the deprivation-
quintile breakdown of emergency admissions and runs the report's own path,
:func:`joinedup.impact.subgroups_sc.sc_subgroup_effects` with the protocol's defaults, for both
statistics (the scaled H_s, the default, and the raw H). Unlike ``impact_coverage.py --design
subgroups-sc``, which redraws noise around one England's fit, every seed here is a whole new
simulation, at the demo's scale and years by default; it is slower (about 45 s a seed).

    .venv/bin/python benchmarks/subgroups_sc_fresh.py --seeds 1 40 --workers 2 \\
        --out benchmarks/results/subgroups_sc_fresh_null.csv      # also .txt: rates by site and pooled

Example (the summary of two hand-made seeds):
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"seed": [1, 1, 2, 2], "site": ["a", "b", "a", "b"], "statistic": "scaled",
    ...                      "p_value": [0.01, 0.5, 0.5, 0.5]})
    >>> summarise(rows)["pooled"]["scaled"]
    (1, 4)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from impact_coverage import _binomial_ci, provenance

STATISTICS = ("scaled", "raw")


def one_seed(seed: int, scale: float, years: tuple[int, int]) -> list[dict]:
    """One fresh null England: each site's test of equal effects across deprivation quintiles."""
    from joinedup.data import open_dataset
    from joinedup.impact.subgroups_sc import sc_subgroup_effects
    from joinedup.indicators.breakdowns import compute_breakdowns
    from joinedup.programme import builtin_programme
    from joinedup.protocol import Impact
    from joinedup.simulate import simulate

    folder = Path(tempfile.mkdtemp(prefix="joinedup-sc-fresh-"))
    try:
        simulate(folder, scale=scale, seed=seed, years=years, scenario="null")
        ds = open_dataset(folder)
        table = compute_breakdowns(ds, ["emergency_admissions"], ["imd_quintile"])
        programme = builtin_programme(ds.execute(ds.table("programmes")))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows = []
    for statistic in STATISTICS:
        out = sc_subgroup_effects(table, programme, "emergency_admissions", "imd_quintile", Impact(),
                                  statistic=statistic)
        tests = out[out["group"] == "difference"]
        rows += [{"seed": seed, "site": m.split(", ", 1)[1], "statistic": statistic, "p_value": p,
                  "n_comparison_areas": j}
                 for m, p, j in zip(tests["method"], tests["p_value"], tests["n_comparison_areas"])]
    return rows


def summarise(rows: pd.DataFrame) -> dict:
    """Rejections at 5% (count, tests) by statistic, pooled and by site."""
    reject = rows.assign(r=rows["p_value"] < 0.05)
    pooled = {s: (int(g["r"].sum()), len(g)) for s, g in reject.groupby("statistic")}
    by_site = {(site, s): (int(g["r"].sum()), len(g)) for (site, s), g in reject.groupby(["site", "statistic"])}
    return {"pooled": pooled, "by_site": by_site}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs=2, default=[1, 40], help="first and last seed")
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--years", type=int, nargs=2, default=[2010, 2019])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/subgroups_sc_fresh_null.csv"))
    args = parser.parse_args()
    seeds = range(args.seeds[0], args.seeds[1] + 1)
    with ProcessPoolExecutor(args.workers) as pool:
        rows = [r for part in pool.map(one_seed, seeds, [args.scale] * len(seeds), [tuple(args.years)] * len(seeds))
                for r in part]
    frame = pd.DataFrame(rows)
    frame.to_csv(args.out, index=False)
    result = summarise(frame)

    def rate(k: int, n: int) -> str:
        lo, hi = _binomial_ci(k, n)
        return f"{k / n:6.1%} ({lo:.1%}-{hi:.1%}) of {n}"

    lines = [*provenance(), (f"Synthetic control per site by deprivation quintile, test of equal effects on fresh "
             f"null Englands (scale {args.scale}, {args.years[0]}-{args.years[1]}, seeds {seeds[0]}-{seeds[-1]}): "
             "rejections at 5% (Wilson 95%)"), ""]
    for s in STATISTICS:
        lines.append(f"pooled, {s}: {rate(*result['pooled'][s])}")
    lines.append("")
    for site in sorted(frame["site"].unique()):
        lines.append(f"{site:<38} " + "   ".join(f"{s}: {rate(*result['by_site'][(site, s)])}" for s in STATISTICS
                                                 if (site, s) in result["by_site"]))
    text = "\n".join(lines)
    print(text)
    args.out.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
