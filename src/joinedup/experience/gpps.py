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
question number per year (and the suffixes of its share and base columns); only verified cells are
filled (the evidence, year by year, is ``tests/data/external/gpps/item_numbers.csv``). The preferred-GP
(continuity) item is ``Q9`` in every year 2012-2023 (``Q9_12pct``, as two independent public analyses of
the 2012-2023 practice files use it: HealthEquityEvidenceCentre/HEEC ``data/satisfaction/README.md`` and
a 2012-2023 long file described in a public project note). The three long-term-condition items are
filled for **2022 and 2023 only**: ``Q32`` support from local services (``Q32_12pct``, base
``Q32_123base``), ``Q94`` confidence managing issues from one's conditions (``Q94_12pct``, base
``Q94_1234base``) and ``Q97`` an agreed plan (``Q97_1pct``, % yes, base ``Q97base``), from a copy of GPPS's
"List of report variables" (variable, description) in github rogernogueraplanesas/GP-Patient-Survey,
``cleaned_data/data_merging/Column_Summary.xlsx``, sheet ``All_Columns`` (commit c82e66de). The list
does not state its year; its items (ICS and PCN codes, long COVID, the newer booking questions) put it
at 2022 or 2023; the project's merge script kept only columns present in each of the 2018-2023
practice files, and these are among them; and the 2022 questionnaire asked all three items (printed
Q40, Q39, Q42). For 2018-2021 the columns exist but nothing ties their meaning to those years (the 2018
person-level data has a further yes / no plan item, q99), and nothing was found for 2012-2017: an
importer asked for these stops, asking for an item map (``year,measure,question`` CSV,
:func:`read_item_map`) taken from that year's "List of report variables (CSV)" on gp-patient.co.uk,
never from the printed questionnaire (printed Q40, Q39 and Q42 are the 2022 file's Q32, Q94 and Q97;
printed Q9 in 2022-2023 asks when you last tried to make an appointment, the files' Q9 is the
preferred-GP item). An item map gives the number only: the share and base suffixes stay the measure's,
so check that year's answer coding there.

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


# The list of report variables behind the long-term-condition cells: github
# rogernogueraplanesas/GP-Patient-Survey, cleaned_data/data_merging/Column_Summary.xlsx, sheet All_Columns
# (added in commit c82e66de44b5a53d71cf14940b52ce33b5e801b8). Its year is not stated; ICS/PCN codes and
# long COVID put it at 2022 or 2023, and the repo's scripts/datamerge.py kept only columns found in every
# 2018-2023 practice file, these among them. 2022 and 2023 only: the list speaks for one of the two, the
# columns are in both, and the 2022 printed questionnaire asked the three items (Q39/Q40/Q42). Not 2018-2021:
# the columns are there, but nothing ties their meaning to those years (2018 had a further plan item, q99).
_LIST_YEARS = (2022, 2023)

GPPS_MEASURES: dict[str, GppsMeasure] = {
    # Q9 2012-2023: HealthEquityEvidenceCentre/HEEC data/satisfaction/README.md (continuity_pct =
    # "Q9_12pct", 2017-2024 files) and a public script reading the 2012-2023 files (Q9_12pct, "usually
    # see preferred GP"). Shipped before issue 18's search; listed in tests/data/external/gpps/.
    # Its share leaves out 'I have not tried': base Q9_1234base, "Total responses excluding 'I have not
    # tried' (base for percentage calculations ...)" in the list of report variables above.
    "preferred_gp": GppsMeasure(
        "Sees or speaks to their preferred GP always, almost always or a lot of the time (of those with one)",
        "I know who is coordinating my care / one first point of contact (continuity)",
        {year: "Q9" for year in range(2012, 2024)}, pct_base="_1234base"),
    # Q32 "Last 12 months, had enough support from local services/organisations to help manage long-term
    # conditions - % Summary result - Yes (... base excluding 'I haven't needed support' and 'don't know /
    # can't say')"; base Q32_123base. Printed Q40 in 2022. Before 2018 the wording was "In the last 6
    # months ..." (Nuffield Trust 2021), with no variable found.
    "ltc_support": GppsMeasure(
        "Had enough support from local services or organisations to manage long-term condition(s)",
        "I have the support I need to manage my condition(s)",
        {year: "Q32" for year in _LIST_YEARS}, pct_base="_123base"),
    # Q97 "Agreed a plan with a healthcare professional from your GP practice to manage your condition (or
    # conditions) - % Yes": yes / no / don't know, no _12pct; Q97_1pct's base is Q97base (all who
    # answered, "don't know" included). Printed Q42 in 2022.
    "care_plan": GppsMeasure(
        "Has agreed a plan with a healthcare professional to manage their condition(s)",
        "I have a plan of care that I have agreed (care plan)",
        {year: "Q97" for year in _LIST_YEARS}, share="_1pct", pct_base="base"),
    # Q94 "Confidence can manage any issues arising from your condition (or conditions) - % Summary result -
    # Confident (... base excluding 'don't know')"; base Q94_1234base. Printed Q39 in 2022.
    "confidence_managing": GppsMeasure(
        "Confident managing issues arising from their condition(s) / their own health",
        "I have the information and support to manage my own health (confidence)",
        {year: "Q94" for year in _LIST_YEARS}, pct_base="_1234base"),
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
