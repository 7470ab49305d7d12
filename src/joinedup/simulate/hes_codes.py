"""HES admission methods (ADMIMETH) and discharge destinations (DISDEST) for simulated spells.

Codes are drawn within the grouped category each spell belongs to, so ``admimeth`` always matches
``admission_method`` and ``disdest`` always matches ``discharge_destination``
(:data:`joinedup.data.codes.ADMIMETH_BY_METHOD`, :data:`~joinedup.data.codes.DISDEST_BY_DESTINATION`).

Example:
    >>> import numpy as np
    >>> idx = admimeth(np.zeros(5, dtype=int), np.random.default_rng(0))
    >>> sorted({ADMIMETH[i] for i in idx}) <= sorted(codes.ADMIMETH_BY_METHOD["emergency"])
    True
"""

from __future__ import annotations

import numpy as np

from joinedup.data import codes

# Spell kinds, and the grouped admission method of each.
EM_INDEX, EM_READMIT, EM_DEATH, ELECTIVE, DELIVERY, ANTENATAL, POSTNATAL, BABY, TRANSFER = range(9)
METHOD_OF_KIND = np.array([0, 0, 0, 1, 2, 2, 2, 3, 3])  # index into codes.ADMISSION_METHODS
EMERGENCY_KINDS = (EM_INDEX, EM_READMIT, EM_DEATH)

ADMIMETH = np.array(codes.ADMIMETH_CODES)
TRANSFER_ADMIMETH = np.array(codes.TRANSFER_ADMIMETH)
DISDEST = np.array(codes.DISDEST_CODES)
DESTINATIONS = np.array(codes.DISCHARGE_DESTINATIONS)
_DEST_OF_CODE = np.array([codes.DISCHARGE_DESTINATIONS.index(g)
                          for g, cs in codes.DISDEST_BY_DESTINATION.items() for _ in cs])
_METHOD_OF_CODE = np.array([codes.ADMISSION_METHODS.index(m)
                            for m, cs in codes.ADMIMETH_BY_METHOD.items() for _ in cs])

# ADMIMETH distribution by kind: most emergency admissions come through A&E (21).
_ADMIMETH_P = {
    # No 2B (transfer from another hospital's bed): a transfer is never a new emergency admission, and
    # simulated spells are not chained into continuous inpatient spells.
    EM_INDEX: {"21": 0.74, "22": 0.12, "23": 0.01, "24": 0.04, "25": 0.01, "28": 0.04, "2A": 0.02,
               "2D": 0.02},
    ELECTIVE: {"11": 0.60, "12": 0.25, "13": 0.15},
    DELIVERY: {"31": 1.0}, ANTENATAL: {"31": 1.0}, POSTNATAL: {"32": 1.0},
    BABY: {"82": 0.9, "83": 0.1}, TRANSFER: {"81": 0.7, "99": 0.3},
}
_ADMIMETH_P[EM_READMIT] = _ADMIMETH_P[EM_DEATH] = _ADMIMETH_P[EM_INDEX]

# Destinations of people discharged alive: (group probabilities) by method and age.
_WITHIN = {
    "usual_residence": {"19": 1.0},
    "temporary_residence": {"29": 1.0},
    "care_home": {"54": 0.15, "65": 0.35, "85": 0.50},
    # Not 49-53 or 84 (transfers to another hospital in NHS Digital's CIPS methodology): those would make
    # the person's next spell within 2 days a transfer within a continuous inpatient spell, and
    # simulated discharges are never chained into CIPS (only ADMIMETH 81 admissions are).
    "other_hospital": {"87": 1.0},
    "other": {"48": 0.35, "99": 0.45, "66": 0.06, "37": 0.07, "38": 0.07},
}
_ALIVE_GROUPS = ("usual_residence", "temporary_residence", "other_hospital", "other")
# (usual, temporary, other hospital, other) for emergency <65, 65-79, 80+; elective; maternity/other.
_ALIVE_P = np.array([
    [0.957, 0.015, 0.020, 0.008],
    [0.945, 0.010, 0.030, 0.015],
    [0.930, 0.010, 0.040, 0.020],
    [0.985, 0.005, 0.008, 0.002],
    [0.975, 0.005, 0.015, 0.005],
])


def admimeth(kind: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Index into ADMIMETH of each spell, drawn by its kind."""
    out = np.empty(len(kind), dtype=np.int64)
    u = rng.random(len(kind))
    for k, dist in _ADMIMETH_P.items():
        rows = kind == k
        idx = np.array([codes.ADMIMETH_CODES.index(c) for c in dist])
        cum = np.cumsum(list(dist.values()))
        out[rows] = idx[np.minimum(np.searchsorted(cum / cum[-1], u[rows], side="right"), len(idx) - 1)]
    return out


def _code_choice(group: str, n: int, rng) -> np.ndarray:
    dist = _WITHIN[group]
    idx = np.array([codes.DISDEST_CODES.index(c) for c in dist])
    p = np.array(list(dist.values()))
    return idx[rng.choice(len(idx), size=n, p=p / p.sum())]


def disdest(kind: np.ndarray, age: np.ndarray, died: np.ndarray, to_care_home: np.ndarray,
            rng: np.random.Generator) -> np.ndarray:
    """Index into DISDEST of each spell: 79 if died, a care home code where asked, else by table."""
    method = METHOD_OF_KIND[kind]
    row = np.where(method == 0, np.searchsorted(np.array([65, 80]), age, side="right"),
                   np.where(method == 1, 3, 4))
    cum = np.cumsum(_ALIVE_P, axis=1)
    u = rng.random(len(kind))
    group = (cum[row] <= u[:, None]).sum(axis=1).clip(0, 3)
    out = np.empty(len(kind), dtype=np.int64)
    for g, name in enumerate(_ALIVE_GROUPS):
        rows = group == g
        out[rows] = _code_choice(name, int(rows.sum()), rng)
    care = to_care_home & ~died
    out[care] = _code_choice("care_home", int(care.sum()), rng)
    out[died] = codes.DISDEST_CODES.index("79")
    return out


def method_of(admimeth_idx: np.ndarray) -> np.ndarray:
    """Index into ADMISSION_METHODS of each ADMIMETH index."""
    return _METHOD_OF_CODE[admimeth_idx]


def destination_of(disdest_idx: np.ndarray) -> np.ndarray:
    """Index into DISCHARGE_DESTINATIONS of each DISDEST index."""
    return _DEST_OF_CODE[disdest_idx]
