"""Case-mix catalogues: ICD-10 primary diagnoses (HES 4-character form), OPCS-4 procedures and
relative frequencies by age group, length-of-stay multipliers and flags.

Columns of each entry: code, weights for ages 0-14 / 15-64 / 65-79 / 80+, length-of-stay multiplier
(emergency) or mean inpatient stay (elective, maternity, other), procedures as (OPCS code, probability)
pairs, a fixed secondary diagnosis, and flags: ``acsc`` = chronic ambulatory care sensitive condition
of NHS Outcomes Framework indicator 2.3.i, ``injury`` = S00-T14 (gets an external cause code),
``fall`` = a fall symptom code; elective entries add the probability of a day case.

Example:
    >>> sum(1 for e in EMERGENCY if e.acsc) > 20
    True
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dx:
    code: str
    weights: tuple[float, float, float, float]
    los: float
    procs: tuple[tuple[str, float], ...] = ()
    secondary: str | None = None
    acsc: bool = False
    injury: bool = False
    fall: bool = False
    day_case: float = 0.0


def _a(code, w, los, procs=(), secondary=None):
    return Dx(code, w, los, procs, secondary, acsc=True)


def _i(code, w, los, procs=()):
    return Dx(code, w, los, procs, injury=True)


# Emergency admissions. ACSC weights are rescaled per age group to ACSC_SHARE (casemix.py).
EMERGENCY: tuple[Dx, ...] = (
    # chronic ACSCs (NHS OF 2.3.i): asthma, angina, COPD, epilepsy, dementia, diabetes, heart
    # failure, hypertension, anaemia, nutritional deficiencies
    _a("J459", (2.0, 2.0, 0.6, 0.2), 0.5), _a("J46X", (0.4, 0.4, 0.1, 0.1), 0.7),
    _a("I209", (0, 1.0, 2.0, 0.9), 0.6, (("K491", 0.12), ("K401", 0.02))),
    _a("I259", (0, 0.3, 0.6, 0.4), 0.7, (("K491", 0.08),)), _a("I249", (0, 0.2, 0.4, 0.2), 0.7),
    _a("I240", (0, 0.05, 0.1, 0.05), 0.8),
    _a("J441", (0, 0.8, 3.5, 2.5), 1.0), _a("J440", (0, 0.3, 1.5, 1.0), 1.1),
    _a("J449", (0, 0.2, 0.8, 0.6), 0.9), _a("J47X", (0.05, 0.1, 0.3, 0.2), 1.0),
    _a("J209", (0, 0.2, 0.8, 0.6), 0.9, (), "J449"),
    _a("G409", (1.5, 1.8, 0.8, 0.5), 0.6), _a("G419", (0.2, 0.2, 0.1, 0.05), 1.2),
    _a("R568", (1.0, 0.4, 0.3, 0.3), 0.5),
    _a("F03X", (0, 0.02, 0.6, 1.5), 2.0), _a("F019", (0, 0, 0.15, 0.4), 2.0),
    _a("E119", (0, 0.5, 0.6, 0.5), 1.1), _a("E101", (0.6, 0.7, 0.1, 0.05), 0.8),
    _a("I509", (0, 0.3, 2.0, 3.5), 1.4, (("K603", 0.02),)), _a("I110", (0, 0.05, 0.2, 0.3), 1.3),
    _a("J81X", (0, 0.05, 0.2, 0.3), 1.2), _a("I130", (0, 0.02, 0.1, 0.15), 1.3),
    _a("I10X", (0, 0.2, 0.3, 0.3), 0.6), _a("I119", (0, 0.05, 0.1, 0.1), 0.6),
    _a("D509", (0.05, 0.3, 0.6, 0.8), 0.7), _a("D519", (0, 0.05, 0.1, 0.15), 0.8),
    _a("E43X", (0, 0.02, 0.05, 0.15), 1.5), _a("E550", (0.02, 0.01, 0.01, 0.02), 1.0),
    # other medical and surgical conditions
    Dx("J181", (0.8, 0.5, 1.5, 2.0), 1.5), Dx("J189", (0.5, 1.0, 3.5, 6.0), 1.5),
    Dx("J22X", (1.5, 1.2, 3.0, 4.0), 1.0), Dx("J069", (4.0, 0.8, 0.3, 0.2), 0.4),
    Dx("J210", (5.0, 0, 0, 0), 0.6), Dx("J209", (1.0, 0.3, 0.2, 0.2), 0.8),
    Dx("R509", (5.0, 0.5, 0.3, 0.3), 0.3), Dx("A099", (4.0, 1.5, 1.0, 1.0), 0.6),
    Dx("R074", (0.2, 6.0, 4.0, 2.0), 0.25), Dx("R101", (1.0, 3.0, 1.0, 0.5), 0.4),
    Dx("R104", (3.0, 5.0, 2.0, 1.0), 0.4), Dx("K358", (1.5, 2.0, 0.3, 0.1), 0.8, (("H011", 0.85),)),
    Dx("K802", (0, 1.5, 1.2, 0.6), 1.0, (("J183", 0.3),)), Dx("K922", (0, 0.6, 1.0, 1.2), 1.0, (("G451", 0.5),)),
    Dx("K566", (0, 0.3, 0.7, 0.8), 1.3), Dx("N390", (0.8, 1.5, 3.0, 6.0), 1.1),
    Dx("N179", (0, 0.2, 1.0, 2.0), 1.3), Dx("L039", (0.5, 2.0, 2.0, 2.0), 1.0),
    Dx("A419", (0.5, 0.8, 2.0, 3.0), 1.6), Dx("I639", (0, 0.5, 2.0, 3.0), 2.5),
    Dx("I214", (0, 1.0, 2.0, 2.0), 1.2, (("K491", 0.35), ("K634", 0.2))),
    Dx("I489", (0, 0.8, 1.5, 1.5), 0.8), Dx("R55X", (0.3, 1.0, 1.5, 2.0), 0.6),
    Dx("R296", (0, 0.05, 0.5, 1.5), 1.2, fall=True),
    Dx("T391", (0.5, 2.0, 0.3, 0.1), 0.4), Dx("F101", (0, 1.2, 0.4, 0.1), 0.5),
    Dx("F329", (0, 0.8, 0.3, 0.2), 1.2), Dx("F209", (0, 0.3, 0.1, 0), 2.5),
    Dx("C349", (0, 0.3, 1.2, 0.8), 1.5), Dx("C189", (0, 0.2, 0.6, 0.6), 1.5),
    Dx("R11X", (1.0, 1.0, 0.5, 0.5), 0.5), Dx("R51X", (0.5, 1.0, 0.3, 0.1), 0.3),
    Dx("M545", (0, 1.0, 0.6, 0.6), 0.8), Dx("K297", (0.1, 0.5, 0.3, 0.2), 0.5),
    Dx("E871", (0, 0.1, 0.5, 1.0), 1.3), Dx("J690", (0, 0.05, 0.4, 1.0), 1.6),
    Dx("R410", (0, 0.05, 0.5, 1.5), 1.4),
    # injuries (S00-T14), with an external cause code
    _i("S720", (0, 0.1, 1.0, 3.5), 2.8, (("W461", 0.45), ("W191", 0.35))),
    _i("S525", (1.5, 0.8, 0.5, 0.4), 0.6, (("W261", 0.4),)), _i("S099", (3.0, 1.5, 1.0, 1.5), 0.5),
    _i("S060", (1.5, 0.8, 0.4, 0.5), 0.5), _i("S422", (0.8, 0.3, 0.4, 0.6), 1.0, (("W261", 0.3),)),
    _i("S328", (0, 0.1, 0.3, 0.8), 1.6), _i("T141", (1.0, 1.5, 0.3, 0.3), 0.4),
    _i("S828", (0.4, 0.8, 0.4, 0.3), 1.0, (("W191", 0.3),)),
)
ACSC_SHARE = (0.10, 0.10, 0.18, 0.17)

ELECTIVE: tuple[Dx, ...] = (
    Dx("H251", (0, 0.3, 6.0, 5.0), 1.0, (("C751", 0.95),), day_case=0.97),
    Dx("K635", (0, 2.0, 3.0, 2.0), 1.0, (("H221", 0.7),), day_case=0.96),
    Dx("K573", (0, 1.0, 1.5, 1.0), 1.0, (("H221", 0.8),), day_case=0.96),
    Dx("K219", (0.3, 3.0, 3.0, 2.0), 1.0, (("G451", 0.9),), day_case=0.97),
    Dx("Z511", (0.3, 2.5, 4.0, 1.5), 1.0, (("X352", 0.95),), day_case=0.98),
    Dx("M161", (0, 0.6, 2.0, 1.0), 4.5, (("W371", 0.95),), day_case=0.02),
    Dx("M171", (0, 0.8, 2.2, 0.8), 4.0, (("W401", 0.95),), day_case=0.03),
    Dx("K409", (1.0, 1.5, 1.2, 0.5), 1.5, (("T201", 0.95),), day_case=0.8),
    Dx("N328", (0.1, 0.8, 1.5, 1.2), 1.0, (("M459", 0.9),), day_case=0.95),
    Dx("J350", (4.0, 0.5, 0, 0), 1.0, (("F341", 0.95),), day_case=0.5),
    Dx("K021", (5.0, 0.3, 0.1, 0.1), 1.0, (("F104", 0.9),), day_case=0.97),
    Dx("I209", (0, 0.5, 1.2, 0.5), 2.0, (("K491", 0.5), ("K751", 0.3)), day_case=0.3),
    Dx("L989", (1.0, 2.0, 3.0, 3.0), 1.0, (("S069", 0.9),), day_case=0.98),
    Dx("N185", (0, 0.6, 1.0, 0.5), 1.0, (("X403", 0.98),), day_case=1.0),
    Dx("D649", (0, 0.3, 0.8, 1.2), 1.0, (("X332", 0.9),), day_case=0.95),
    Dx("C509", (0, 1.0, 0.8, 0.3), 1.5, (("B285", 0.9),), day_case=0.4),
    Dx("G560", (0, 1.0, 0.8, 0.3), 1.0, (("A651", 0.95),), day_case=0.99),
    Dx("M232", (0.2, 1.5, 0.5, 0.1), 1.0, (("W821", 0.9),), day_case=0.9),
    Dx("C679", (0, 0.3, 1.0, 0.8), 2.0, (("M421", 0.9),), day_case=0.5),
    Dx("C189", (0, 0.3, 0.8, 0.5), 7.0, (("H071", 0.7),), day_case=0.0),
    Dx("R103", (1.0, 1.0, 0.5, 0.3), 2.0, day_case=0.6),
)

# Maternity (one weight column used) and births.
DELIVERY: tuple[Dx, ...] = (
    Dx("O800", (0.55,) * 4, 1.2, (("R249", 0.9),), "Z370"),
    Dx("O829", (0.25,) * 4, 3.0, (("R179", 0.45), ("R189", 0.55)), "Z370"),
    Dx("O811", (0.07,) * 4, 2.0, (("R214", 0.95),), "Z370"),
    Dx("O702", (0.13,) * 4, 1.5, (("R249", 0.9),), "Z370"),
)
ANTENATAL: tuple[Dx, ...] = (
    Dx("O479", (0.35,) * 4, 0.6), Dx("O234", (0.15,) * 4, 1.0), Dx("O211", (0.2,) * 4, 1.5),
    Dx("O139", (0.15,) * 4, 1.5), Dx("O469", (0.15,) * 4, 1.0),
)
POSTNATAL: tuple[Dx, ...] = (Dx("O862", (0.4,) * 4, 1.5), Dx("O85X", (0.2,) * 4, 3.0), Dx("O909", (0.4,) * 4, 1.0))
BABY: tuple[Dx, ...] = (
    Dx("Z380", (0.6,) * 4, 2.0), Dx("P599", (0.2,) * 4, 3.0), Dx("P073", (0.1,) * 4, 10.0),
    Dx("P220", (0.1,) * 4, 8.0),
)
# Final admissions of people who die in hospital.
DEATH: tuple[Dx, ...] = tuple(
    Dx(code, (w,) * 4, 1.0) for code, w in (
        ("J189", 4.0), ("A419", 3.0), ("I639", 2.0), ("I509", 2.0), ("J441", 1.5), ("C349", 1.5),
        ("C189", 0.8), ("C259", 0.8), ("F03X", 1.0), ("N179", 1.0), ("K922", 0.5), ("I214", 1.0),
        ("S720", 0.5), ("J690", 1.0), ("R54X", 0.5))
)

# External causes of injuries: falls (W00-W19) and others.
FALL_CAUSES = (("W19X", 0.45), ("W010", 0.25), ("W100", 0.1), ("W06X", 0.08), ("W18X", 0.12))
OTHER_CAUSES = (("W229", 0.35), ("V892", 0.2), ("X599", 0.25), ("Y049", 0.2))
FALL_CAUSE_SHARE = {0: 0.30, 65: 0.80}  # of injury admissions, by age from
# Long-term conditions recorded as secondary diagnoses.
LTC_CODES = ("I10X", "E119", "J449", "I489", "N183", "F03X", "I259", "E039", "M199", "I509",
             "J459", "F329", "G409", "E669", "K219", "G20X")
