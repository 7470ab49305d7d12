"""Drawing diagnoses, procedures, secondary diagnoses and lengths of stay for hospital spells.

Codes are held as indices into small global code lists and only become strings (with Arrow ``take``)
when a chunk is written, so millions of spells never become Python strings.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> cat = CATALOGUES["emergency"]
    >>> codes = CODES[cat.code[cat.draw(np.full(2000, 3), rng)]]  # 2,000 admissions aged 80+
    >>> bool((codes == "S720").any()), bool(cat.acsc[cat.draw(np.full(2000, 3), rng)].mean() < 0.3)
    (True, True)
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from joinedup.simulate import casemix_data as data
from joinedup.simulate import params

_ALL = {"emergency": data.EMERGENCY, "elective": data.ELECTIVE, "delivery": data.DELIVERY,
        "antenatal": data.ANTENATAL, "postnatal": data.POSTNATAL, "baby": data.BABY, "death": data.DEATH}
CODES = np.array(sorted({e.code for cat in _ALL.values() for e in cat}))
PROCS = np.array(sorted({p for cat in _ALL.values() for e in cat for p, _ in e.procs}))
CAUSES = np.array([c for c, _ in data.FALL_CAUSES + data.OTHER_CAUSES])
FIXED_SECONDARY = np.array(sorted({e.secondary for cat in _ALL.values() for e in cat if e.secondary}))
_CODE = {c: i for i, c in enumerate(CODES)}
_PROC = {c: i for i, c in enumerate(PROCS)}
_CAUSE = {c: i for i, c in enumerate(CAUSES)}
_FIXED = {c: i for i, c in enumerate(FIXED_SECONDARY)}
COMBOS_PER_LEVEL = 48


def _comorbidity_combos() -> np.ndarray:
    """Sets of 1-4 long-term condition codes (fixed, not seed-dependent), level by level."""
    rng = np.random.default_rng(20131101)
    out = []
    for level in range(1, 5):
        for _ in range(COMBOS_PER_LEVEL):
            pick = np.sort(rng.choice(len(data.LTC_CODES), size=level, replace=False))
            out.append(";".join(data.LTC_CODES[i] for i in pick))
    return np.array(out)


COMORBIDITIES = _comorbidity_combos()


def _secondary_strings() -> np.ndarray:
    """Every possible secondary-diagnosis string: (cause or none) x (fixed or none) x (LTCs or none)."""
    out = []
    for cause in [None, *CAUSES]:
        for fixed in [None, *FIXED_SECONDARY]:
            for ltc in [None, *COMORBIDITIES]:
                out.append(";".join(x for x in (cause, fixed, ltc) if x) or None)
    return np.array(out, dtype=object)


SECONDARY_STRINGS = pa.array(_secondary_strings(), pa.string())


def age_group(age: np.ndarray) -> np.ndarray:
    """0: 0-14, 1: 15-64, 2: 65-79, 3: 80+."""
    return np.searchsorted(np.array([15, 65, 80]), age, side="right")


class Catalogue:
    """A catalogue as arrays: cumulative weights by age group, codes, procedures, flags."""

    def __init__(self, entries: tuple[data.Dx, ...], acsc_share: tuple[float, ...] | None = None):
        w = np.array([e.weights for e in entries], dtype=float).T  # groups x entries
        acsc = np.array([e.acsc for e in entries])
        if acsc_share is not None:
            for g, share in enumerate(acsc_share):
                other, chronic = w[g, ~acsc].sum(), w[g, acsc].sum()
                w[g, acsc] *= share / (1 - share) * other / chronic
        self.cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
        self.code = np.array([_CODE[e.code] for e in entries])
        self.los = np.array([e.los for e in entries])
        self.day_case = np.array([e.day_case for e in entries])
        self.acsc, self.injury = acsc, np.array([e.injury for e in entries])
        self.fall = np.array([e.fall for e in entries])
        self.secondary = np.array([_FIXED[e.secondary] if e.secondary else -1 for e in entries])
        self.proc = np.full((len(entries), 3), -1)
        self.proc_cum = np.ones((len(entries), 3))
        for k, e in enumerate(entries):
            cum = 0.0
            for j, (code, p) in enumerate(e.procs):
                cum += p
                self.proc[k, j], self.proc_cum[k, j] = _PROC[code], cum

    def draw(self, group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """An entry for each row, by its age group."""
        u = rng.random(len(group))
        idx = np.empty(len(group), dtype=np.int64)
        for g in range(self.cum.shape[0]):
            rows = group == g
            idx[rows] = np.minimum(np.searchsorted(self.cum[g], u[rows], side="right"), self.cum.shape[1] - 1)
        return idx

    def procedure(self, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Global procedure index of each row, -1 for none."""
        u = rng.random(len(idx))
        slot = (self.proc_cum[idx] <= u[:, None]).sum(axis=1)
        padded = np.concatenate([self.proc, np.full((len(self.proc), 1), -1)], axis=1)
        return padded[idx, slot]


CATALOGUES = {name: Catalogue(entries, data.ACSC_SHARE if name == "emergency" else None)
              for name, entries in _ALL.items()}


def external_cause(injury: np.ndarray, fall: np.ndarray, age: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Index into CAUSES of an external cause code for injuries and falls (-1 otherwise)."""
    out = np.full(len(age), -1)
    p_fall = params.step_curve(data.FALL_CAUSE_SHARE)[np.minimum(age, params.MAX_AGE)]
    p_fall = np.where(fall, 0.6, p_fall)
    u = rng.random(len(age))
    is_fall = (injury | fall) & (u < p_fall)
    is_other = injury & ~is_fall
    for mask, causes in ((is_fall, data.FALL_CAUSES), (is_other, data.OTHER_CAUSES)):
        codes = np.array([_CAUSE[c] for c, _ in causes])
        p = np.array([w for _, w in causes])
        out[mask] = codes[rng.choice(len(codes), size=int(mask.sum()), p=p / p.sum())]
    return out


def person_comorbidities(ltc: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Index into COMORBIDITIES of each person's recorded long-term conditions (-1 if none)."""
    level = np.minimum(ltc, 4)
    pick = (level - 1) * COMBOS_PER_LEVEL + rng.integers(0, COMBOS_PER_LEVEL, len(ltc))
    return np.where(level > 0, pick, -1)


def emergency_los_mean(age: np.ndarray) -> np.ndarray:
    """Mean emergency length of stay by age (before the diagnosis multiplier)."""
    return 2.1 + 7.8 / (1.0 + np.exp(-(np.asarray(age, dtype=float) - 70.0) / 8.0))


def negative_binomial(mean: np.ndarray, k: float, rng: np.random.Generator) -> np.ndarray:
    """Over-dispersed counts (lengths of stay) with the given means, capped at 365."""
    mean = np.maximum(np.asarray(mean, dtype=float), 1e-9)
    return np.minimum(rng.negative_binomial(k, k / (k + mean)), 365).astype(np.int64)


def take_strings(values: np.ndarray, idx: np.ndarray) -> pa.Array:
    """Arrow strings values[idx], null where idx is -1."""
    idx = np.asarray(idx)
    return pa.array(values).take(pa.array(idx, type=pa.int64(), mask=idx < 0))


def secondary_diagnoses(cause: np.ndarray, fixed: np.ndarray, comorb: np.ndarray) -> pa.Array:
    """Semicolon-joined secondary diagnoses: external cause; fixed secondary; long-term conditions.

    Each argument is an index (-1 for none); the strings come from a precomputed table, so no
    string is built per spell.
    """
    n_fixed, n_ltc = len(FIXED_SECONDARY) + 1, len(COMORBIDITIES) + 1
    idx = ((np.asarray(cause) + 1) * n_fixed + (np.asarray(fixed) + 1)) * n_ltc + (np.asarray(comorb) + 1)
    return SECONDARY_STRINGS.take(pa.array(idx.astype(np.int64)))
