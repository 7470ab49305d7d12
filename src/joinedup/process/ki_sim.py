"""Simulated answers to the process items, with a known truth: leads more positive about their own
objectives (the evaluation's caution that self-reports could not be verified) and system-level
arrangements growing across waves; every other item has no lead difference and no change (nulls).

Example:
    >>> answers, truth = simulate_process_answers(seed=1)
    >>> sorted(truth["lead_effect_items"])[:1], int(answers["wave"].max())
    (['obj_1_progress'], 3)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from joinedup.process.ki_items import FAMILIES, NATIONAL_BARRIERS, POSITIVE, SCALES_EXTRA, SLOTS
from joinedup.survey.pioneer_instrument import SCALES

BASE_P = 0.4            # chance of a positive answer with no effect
LEAD_SHIFT = 0.35       # leads: + this on the objectives' positive share
SYSTEM_SHIFT = 0.2      # per wave after the first on the system items


def _scale(family: str) -> list[str]:
    return {"objectives": [c for c, _ in SCALES["progress"]], "facilitators": [c for c, _ in SCALES_EXTRA["facilitator"]],
            "personalisation": [c for c, _ in SCALES["extent"]], "system": [c for c, _ in SCALES["extent"]],
            "national_barriers": [c for c, _ in SCALES["barrier"]]}[family]


def simulate_process_answers(seed: int = 2013, waves: int = 3, per_site: int = 6, sites: int = 25) -> tuple[pd.DataFrame, dict]:
    """Respondent x wave answers (``respondent_id, pioneer, is_lead, wave`` and one column per item)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 20, 4]))
    rows = []
    for s in range(sites):
        for j in range(per_site):
            for w in range(1, waves + 1):
                row = {"respondent_id": f"s{s:02d}r{j}", "pioneer": f"site_{s:02d}", "is_lead": "yes" if j == 0 else "no",
                       "wave": w}
                for family, items in FAMILIES.items():
                    scale, pos = _scale(family), POSITIVE[family]
                    neg = [c for c in scale if c not in pos]
                    for item in items:
                        p = BASE_P + (LEAD_SHIFT if family == "objectives" and j == 0 else 0.0) \
                            + (SYSTEM_SHIFT * (w - 1) if family == "system" else 0.0)
                        bucket = pos if rng.random() < min(p, 0.95) else neg
                        row[item] = str(rng.choice(bucket))
                for k in range(1, SLOTS + 1):
                    row[f"obj_{k}_text"] = f"objective {k}"
                    row[f"init_{k}_name"] = f"initiative {k}"
                    row[f"init_{k}_stage"] = str(rng.choice([c for c, _ in SCALES_EXTRA["stage"]]))
                for n, _ in NATIONAL_BARRIERS:
                    row[f"{n}_origin"] = str(rng.choice(["national", "local", "both"], p=[0.6, 0.25, 0.15]))
                rows.append(row)
    truth = {"lead_effect_items": FAMILIES["objectives"], "lead_shift": LEAD_SHIFT,
             "wave_change_items": FAMILIES["system"], "system_shift_per_wave": SYSTEM_SHIFT, "base_positive": BASE_P,
             "null_items": [i for f, items in FAMILIES.items() if f not in ("objectives", "system") for i in items]}
    return pd.DataFrame(rows), truth
