"""GP Patient Survey (GPPS) practice results, read from the published practice-level CSV.

**Layout followed.** The "Practice data (weighted) (csv)" files on gp-patient.co.uk, 2012-2023: one row
per practice; ``Practice_Code`` (lower-case ``practice_code`` in some years; the header is matched
case-insensitively), ``distributed``, ``received``, ``resprate``, and for each question ``Q{n}base``
(number who answered it), ``Q{n}_{k}`` and ``Q{n}_{k}pct`` per answer, and a summary share: ``Q{n}_12pct``
(the first two, positive, answers combined) or, for a yes / no / don't know item, ``Q{n}_1pct`` (% yes);
a fraction 0-1 (a file whose values are mostly above 1 is read as per cent and said so in the notes;
otherwise a value above 1 is a reject). Suppressed cells are negative or ``*``: such a practice-measure
goes to the rejects. From 2024 the files use another naming (``ad_practicecode``, ``*.pcteval``)
and the survey a new questionnaire: refused with a message saying so (a new series).

**The base is the share's own base.** A share that leaves answers out has its own percentage base,
named by the answers it keeps: ``Q9_12pct`` is of those who tried to see their preferred GP, with base
``Q9_1234base`` ("Total responses excluding 'I have not tried'"), while ``Q9base`` counts everyone who
answered. So ``base`` is the percentage-base column (:attr:`GppsMeasure.pct_base`) and ``positive`` is
base x share. A file without that column (nothing found says the 2012-2017 files carry one) falls
back to ``Q{n}base``, said in the notes: base and positive then also count the answers the share
leaves out, and are overstated wherever anyone gave them; the share itself is as published.

**Items and the National Voices "I statements".** :data:`GPPS_MEASURES` maps each measure to the
question number per year. Only the preferred-GP (continuity) item's number is filled in: it is
``Q9`` in every year 2012-2023 (``Q9_12pct``, as two independent public analyses of the 2012-2023
practice files use it: HealthEquityEvidenceCentre/HEEC ``data/satisfaction/README.md`` and a
2012-2023 long file described in a public project note). The long-term-condition items (support
from local services to manage conditions, an agreed care plan, confidence managing one's health)
are declared with no question: a search of public sources (issue 18) found no copy of any year's
"List of report variables (CSV)" and no analysis that names the practice-file variable of these
items together with its wording, so no year is verified for them. What was found, and why it is not
used, is tabled in ``tests/data/external/gpps/item_numbers.csv``: the 2022 *printed* numbers (Q39
confidence, Q40 support, Q42 agreed plan; gp-patient.co.uk, *Changes to the GP Patient Survey, 2022*)
are not the practice-file names, because from 2018 the practice files keep their own variable
numbering (the 2021 file's ``Q28`` is overall experience, ``Q30_recoded`` long-term condition and
``Q112`` gender, none of them the printed numbers; printed Q9 in 2022-2023 asks when you last tried
to make an appointment, while the files' ``Q9`` is the preferred-GP item). An importer asked for
these items stops, asking for an item map (``year,measure,question`` CSV, :func:`read_item_map`)
taken from that year's "List of report variables (CSV)" on gp-patient.co.uk, never from the printed
questionnaire. Check the answer coding there too: ``Q{n}_12pct`` is the first two answers, right for
the support ("yes, definitely" / "yes, to some extent") and confidence ("very" / "fairly") scales but
not for a yes / no / don't know item such as the agreed plan; and the share's base (the base paragraph
above) is ``Q{n}base`` for these items until it is known. Nothing is guessed.

**The 2018 break.** The 2018 questionnaire was redeveloped (GP Forward View) and 16-17 year olds
were sampled for the first time; Ipsos and NHS England did not present trends, as results before and
after are not comparable for most questions (context effects). Every row carries its questionnaire
``era`` (:func:`gpps_era`) and the design never compares across eras (``experience.design``).

Example:
    >>> import io
    >>> text = ("Practice_Code,Practice_Name,Q9base,Q9_1234base,Q9_12pct\\n"
    ...         "A81001,One,120,100,0.5\\nA81002,Two,3,3,-1\\n")
    >>> read = read_gpps(io.StringIO(text), 2019, ["preferred_gp"])
    >>> read.table[["unit_code", "era", "base", "positive", "value"]].values.tolist()
    [['A81001', '2018-2023', 100.0, 50.0, 0.5]]
    >>> read.rejects["reason"].tolist()
    ['suppressed or not a number (negative or * in the published file)']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from joinedup.experience._rejects import (
    PublishedLayoutError,
    SurveyRead,
    collect,
    number,
    read_csv_text,
)

PRACTICE_CODE = re.compile(r"^[A-Z][0-9]{5}$")  # ODS code of a GP practice: a letter and five digits
TABLE_COLUMNS = ["source", "unit_code", "year", "era", "measure", "question", "base", "positive", "value"]


@dataclass(frozen=True)
class GppsMeasure:
    """One GPPS item: the "I statement" it speaks to, its question number by survey year, and the
    suffixes of its share column and of that share's percentage base (``Q{n}`` + suffix).

    >>> m = GPPS_MEASURES["preferred_gp"]
    >>> m.questions[2019] + m.share, m.questions[2019] + m.pct_base
    ('Q9_12pct', 'Q9_1234base')
    """

    label: str
    i_statement: str
    questions: dict[int, str] = field(default_factory=dict)
    share: str = "_12pct"  # the first two answers combined; "_1pct" (% yes) for a yes / no / don't know item
    pct_base: str = "base"  # "base" (everyone who answered) only where the share leaves no answer out


GPPS_MEASURES: dict[str, GppsMeasure] = {
    # Q9 2012-2023: HealthEquityEvidenceCentre/HEEC data/satisfaction/README.md (continuity_pct =
    # "Q9_12pct", 2017-2024 files) and a public script reading the 2012-2023 files (Q9_12pct, "usually
    # see preferred GP"). Shipped before issue 18's search; listed in tests/data/external/gpps/.
    # Its share leaves out 'I have not tried': base Q9_1234base, "Total responses excluding 'I have not
    # tried' (base for percentage calculations ...)" in a copy of the list of report variables (github
    # rogernogueraplanesas/GP-Patient-Survey, cleaned_data/data_merging/Column_Summary.xlsx, sheet
    # All_Columns, commit c82e66de; 2022 or 2023, a column of every 2018-2023 practice file).
    "preferred_gp": GppsMeasure(
        "Sees or speaks to their preferred GP always, almost always or a lot of the time (of those with one)",
        "I know who is coordinating my care / one first point of contact (continuity)",
        {year: "Q9" for year in range(2012, 2024)}, pct_base="_1234base"),
    # No practice-file variable verified for any year (tests/data/external/gpps/item_numbers.csv).
    # Wording (Nuffield Trust, "Supporting patients to manage their long-term condition(s)", 2021):
    # 2012-2017 "In the last 6 months, have you had enough support from local services or organisations
    # to help you to manage your long-term health condition(s)?"; from 2018 "In the last 12 months, have
    # you had enough support from local services or organisations to help you to manage your condition
    # (or conditions)?" (printed Q40 in 2022, gp-patient.co.uk summary of changes 2022: printed, not the
    # practice-file name).
    "ltc_support": GppsMeasure(
        "Had enough support from local services or organisations to manage long-term condition(s)",
        "I have the support I need to manage my condition(s)"),
    # No practice-file variable verified. Printed Q42 in 2022, "Have you agreed a plan with a ..."
    # (the stored copy of gp-patient.co.uk's 2022 summary of changes is cut off there). A yes / no /
    # don't know item: its positive share is not ``_12pct``; check the year's list of report variables.
    "care_plan": GppsMeasure(
        "Has agreed a plan with a healthcare professional to manage their condition(s)",
        "I have a plan of care that I have agreed (care plan)"),
    # No practice-file variable verified. Printed Q39 in 2022, "How confident are you that you can manage
    # any issues arising from your condition (or conditions)?" (gp-patient.co.uk summary of changes 2022).
    "confidence_managing": GppsMeasure(
        "Confident managing issues arising from their condition(s) / their own health",
        "I have the information and support to manage my own health (confidence)"),
}


def gpps_era(year: int) -> str:
    """The questionnaire a survey year used: results are comparable within an era only.

    >>> gpps_era(2017), gpps_era(2018), gpps_era(2024)
    ('2012-2017', '2018-2023', '2024 on')
    """
    if year <= 2017:
        return "2012-2017"
    return "2018-2023" if year <= 2023 else "2024 on"


def read_item_map(path) -> dict[tuple[str, int], str]:
    """``year,measure,question`` rows (e.g. ``2019,ltc_support,Q34``) from a CSV: the question numbers
    of items this module does not carry, from each year's published list of report variables."""
    raw, name = read_csv_text(path)
    raw.columns = [c.strip().lower() for c in raw.columns]
    missing = {"year", "measure", "question"} - set(raw.columns)
    if missing:
        raise PublishedLayoutError(f"{name}: item map needs columns year, measure, question (missing "
                                   f"{', '.join(sorted(missing))})")
    out = {}
    for _, r in raw.iterrows():
        q, m = r["question"].strip().upper(), r["measure"].strip()
        if m not in GPPS_MEASURES or not r["year"].strip().isdigit() or not re.fullmatch(r"Q\d+", q):
            raise PublishedLayoutError(f"{name}: row {r['__row']}: need a known measure ({', '.join(GPPS_MEASURES)}), "
                                       f"a year and a question like Q9; got {dict(r.drop('__row'))}")
        out[(m, int(r["year"]))] = q
    return out


def question_for(measure: str, year: int, item_map: dict | None = None) -> str:
    """The question number of ``measure`` in ``year`` (the item map first), or a clear error."""
    if measure not in GPPS_MEASURES:
        raise PublishedLayoutError(f"unknown GPPS measure {measure!r}; known: {', '.join(GPPS_MEASURES)}")
    q = (item_map or {}).get((measure, year)) or GPPS_MEASURES[measure].questions.get(year)
    if not q:
        raise PublishedLayoutError(
            f"GPPS measure {measure!r} has no verified question number for {year}: give it in an item map "
            "(year,measure,question) from that year's 'List of report variables (CSV)' on gp-patient.co.uk")
    return q


def _base_column(columns, q: str, measure: str, year: int, name: str, pct_col: str, notes: list) -> str:
    """The share's percentage-base column, or ``Q{n}base`` with a note when the file lacks it (the
    module docstring: base and positive then count the answers the share leaves out)."""
    wanted, everyone = f"{q}{GPPS_MEASURES[measure].pct_base}".lower(), f"{q}base".lower()
    if wanted in columns:
        return wanted
    if everyone not in columns:
        raise PublishedLayoutError(f"{name}: column {wanted!r} (or {everyone!r}) ({measure}, {q} in {year}) missing")
    notes.append(f"{name}: no {wanted} column, so {measure}'s base and positive are from {everyone} (everyone "
                 f"who answered {q}): they also count the answers {pct_col} leaves out, and are overstated "
                 "wherever anyone gave them; the share is as published")
    return everyone


def read_gpps(path, year: int, measures=("preferred_gp",), item_map: dict | None = None) -> SurveyRead:
    """Read one year's practice-level CSV (module docstring): the usable practice x measure values
    and the rejects with reasons."""
    raw, name = read_csv_text(path)
    raw.columns = [c.strip().lower() if c != "__row" else c for c in raw.columns]
    if "ad_practicecode" in raw.columns:
        raise PublishedLayoutError(f"{name}: the 2024-on layout (ad_practicecode, *.pcteval) belongs to the "
                                   "redeveloped 2024 questionnaire, a new series this importer does not read")
    if "practice_code" not in raw.columns:
        raise PublishedLayoutError(f"{name}: no Practice_Code column (columns found: "
                                   f"{', '.join(c for c in raw.columns if c != '__row')[:300]})")
    out = SurveyRead(pd.DataFrame(columns=TABLE_COLUMNS), pd.DataFrame(), read=len(raw))
    code = raw["practice_code"].str.strip().str.upper()
    tables, rejects = [], []
    for measure in measures:
        q = question_for(measure, year, item_map)
        pct_col = f"{q}{GPPS_MEASURES[measure].share}".lower()
        if pct_col not in raw.columns:
            raise PublishedLayoutError(f"{name}: column {pct_col!r} ({measure}, {q} in {year}) missing")
        base_col = _base_column(raw.columns, q, measure, year, name, pct_col, out.notes)
        base, pct = number(raw[base_col]), number(raw[pct_col])
        valid = pct[pct >= 0]
        if len(valid) and (valid > 1).mean() > 0.5:  # a file in per cent rather than fractions
            pct = pct / 100
            out.notes.append(f"{pct_col} read as per cent (values above 1)")
        dup = code.ne("") & code.duplicated(keep="first")
        checks = [
            ("practice_code", code.eq(""), "no practice code"),
            ("practice_code", code.ne("") & ~code.str.match(PRACTICE_CODE), "not a GP practice ODS code (letter + 5 digits)"),
            ("practice_code", dup, "duplicate practice (the first row is kept)"),
            (pct_col, pct.isna() | (pct < 0), "suppressed or not a number (negative or * in the published file)"),
            (pct_col, pct > 1, "share above 100%"),
            (base_col, pct.notna() & (pct >= 0) & ~(base > 0), "base (number answering) is not a number > 0"),
        ]
        bad_rows, bad = collect(raw, checks, name)
        rejects.append(bad_rows)
        keep = ~bad
        tables.append(pd.DataFrame({
            "source": "GPPS", "unit_code": code[keep], "year": int(year), "era": gpps_era(year), "measure": measure,
            "question": q, "base": base[keep].astype(float), "positive": (base[keep] * pct[keep]).astype(float),
            "value": pct[keep].astype(float)}))
    out.table = pd.concat(tables, ignore_index=True)[TABLE_COLUMNS]
    out.rejects = pd.concat(rejects, ignore_index=True)
    return out
