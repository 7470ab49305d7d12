"""Romano-Wolf step-down p-values by the wild cluster bootstrap, for a family of TWFE DiD fits.

Romano and Wolf (2005, Econometrica 73:1237; 2016, Statistics & Probability Letters 113:38) control
the family-wise error rate using the joint distribution of the test statistics, so correlated
outcomes (readmissions and admissions move together) cost less power than under Holm. The algorithm
is that of Clarke, Romano and Wolf (2020, Stata Journal 20:812, ``rwolf``) and of pyfixest's
``rwolf``:

1. each outcome's t statistic and its bootstrap draws, all outcomes resampled *together*: one wild
   weight per cluster (area) and draw, shared by every outcome, so the draws keep the outcomes'
   dependence (an area missing from one outcome's panel simply has no rows there);
2. hypotheses ordered by ``|t|``, largest first; the j-th gets the share of draws whose largest
   ``|t*|`` among hypotheses j, j+1, ... exceeds its ``|t|``;
3. monotonicity enforced: each adjusted p-value is at least the one before it.

The draws are WCR (null imposed) with the weights and counting rule of
:func:`joinedup.impact.wild_bootstrap.bootstrap_design` (strictly above, no "+1"), so a family of
one gets exactly the single-hypothesis wild bootstrap p-value; pyfixest counts ``(#{>=} + 1) /
(B + 1)`` instead, the same ranking (tests/test_impact_romano_wolf.py compares both).

Example:
    >>> import numpy as np
    >>> t = np.array([3.0, 0.5])
    >>> draws = np.array([[0.1, 2.0], [3.5, 0.2], [-1.0, 1.0], [0.3, -0.4]])  # B=4 draws of 2 statistics
    >>> step_down(t, draws).tolist()
    [0.25, 0.5]
"""

from __future__ import annotations

import numpy as np

from joinedup.impact.wild_bootstrap import bootstrap_t_draws, draw_weights, exceeds


def step_down(t: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Romano-Wolf adjusted p-values for statistics ``t`` (S,) from bootstrap ``draws`` (B x S)."""
    t, draws = np.abs(np.asarray(t, dtype=float)), np.abs(np.asarray(draws, dtype=float))
    if draws.ndim != 2 or draws.shape[1] != len(t):
        raise ValueError(f"draws must be B x {len(t)}; got shape {draws.shape}")
    order = np.argsort(-t, kind="stable")
    raw = np.empty(len(t))
    for j, k in enumerate(order):
        worst = draws[:, order[j:]].max(axis=1)   # the largest |t*| among the hypotheses still in play
        raw[j] = float(np.mean(exceeds(worst, t[k])))
    out = np.empty(len(t))
    out[order] = np.maximum.accumulate(raw)
    return out


def twfe_romano_wolf(fits: dict, B: int, weights: str, seed: int | None,
                     coefficient: int = 0) -> dict[str, tuple[float, float]]:
    """``{name: (bootstrap p, Romano-Wolf p)}`` for TWFE fits (:class:`joinedup.impact.twfe.TwfeResult`
    by name) resampled together: cluster weights drawn once over every fit's clusters (sorted labels,
    so one fit alone draws exactly what :func:`joinedup.impact.twfe.wild_cluster_bootstrap` draws).

    Example:
        >>> twfe_romano_wolf({"a": fit_a, "b": fit_b}, B=999, weights="rademacher", seed=7)  # doctest: +SKIP
        {'a': (0.002, 0.004), 'b': (0.41, 0.41)}
    """
    if not fits:
        return {}
    labels = np.array(sorted(set().union(*(set(f.design.cluster_labels.tolist()) for f in fits.values()))),
                      dtype=object)
    V, _ = draw_weights(weights, len(labels), B, np.random.default_rng(seed))
    where = {label: i for i, label in enumerate(labels)}
    names, t, draws = list(fits), [], []
    for name in names:
        fit = fits[name]
        rows = [where[label] for label in fit.design.cluster_labels.tolist()]
        t_one, d_one = bootstrap_t_draws(fit.design, coefficient, V[rows], ssc=fit.ssc)
        t.append(t_one)
        draws.append(d_one)
    t_arr, draws_arr = np.array(t), np.column_stack(draws)
    adjusted = step_down(t_arr, draws_arr)
    return {n: (float(np.mean(exceeds(draws_arr[:, i], t_arr[i]))), float(adjusted[i]))
            for i, n in enumerate(names)}
