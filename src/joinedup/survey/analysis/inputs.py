"""Read and validate the key-informant survey files (invitations, responses, codes, codebook).

Every problem found is collected, then one :class:`SurveyInputError` is raised listing each with the
file, the line (line 1 is the header, so the first data row is line 2) and the column. Nothing is
dropped silently: a response whose invitation is missing or is not ``complete``/``partial`` is an
error, and so is a ``complete``/``partial`` invitation with no response row.

Partial interviews count in the response rates (RR2) but only completes are *respondents* in the
descriptive tables and in the tests of change.

Example:
    >>> inv = pd.DataFrame({"panelist_id": ["a"], "wave": [1], "pioneer": ["Leeds"], "org_type": ["la"],
    ...                     "is_lead": ["yes"], "disposition": ["refusal"]})
    >>> resp = pd.DataFrame(columns=["panelist_id", "wave", *CLOSED_QUESTIONS])
    >>> read_inputs(inv, resp).respondents.empty
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from joinedup.survey.aapor import DISPOSITIONS
from joinedup.survey.analysis.process_items import PROCESS_CLOSED, PROCESS_QUESTIONS

ORG_TYPES: tuple[str, ...] = ("ccg", "la", "nhs_provider", "other")
ATTRIBUTES: tuple[str, ...] = ("pioneer", "org_type", "is_lead")
INTERVIEWS: tuple[str, ...] = ("complete", "partial")

PROGRESS = ("prog_joined_up", "prog_quality", "prog_access", "prog_qol", "prog_independence", "prog_carers",
            "prog_say", "prog_self_manage", "prog_awareness", "prog_gp_centre", "prog_responsive",
            "prog_readmissions", "prog_unplanned", "prog_staff_satisfaction", "prog_costs")
BARRIERS = ("bar_financial", "bar_it_ig", "bar_national_policy", "bar_info_sharing", "bar_payment",
            "bar_procurement", "bar_workforce", "bar_provider_viability", "bar_culture", "bar_engagement")
HELPFULNESS = ("help_new_care_models", "help_bcf", "help_ipc", "help_stp", "help_national_support")
INVOLVEMENT = ("inv_acute", "inv_community", "inv_gps", "inv_social_care", "inv_vcs", "inv_public_health",
               "inv_mental_health")
FREE_TEXT: tuple[str, ...] = ("achievements", "challenge")


@dataclass(frozen=True)
class Domain:
    """A block of closed questions sharing one answer scale and one binary outcome."""

    name: str
    items: tuple[str, ...]
    choices: tuple[str, ...]  # in scale order, "don't know" last
    positive: tuple[str, ...]  # answers counted as the outcome
    outcome: str


DOMAINS: dict[str, Domain] = {d.name: d for d in (
    Domain("progress", PROGRESS, ("substantial", "some", "little", "none", "too_early", "dont_know"),
           ("substantial", "some"), "substantial_or_some"),
    Domain("barriers", BARRIERS, ("significant", "minor", "not_barrier", "dont_know"), ("significant",),
           "significant"),
    Domain("helpfulness", HELPFULNESS, ("very", "fairly", "not_very", "not_at_all", "dont_know"),
           ("very", "fairly"), "very_or_fairly"),
    Domain("involvement", INVOLVEMENT, ("very", "fairly", "not_very", "not_at_all", "dont_know"), ("very",),
           "very"),
)}
CLOSED_QUESTIONS: tuple[str, ...] = tuple(q for d in DOMAINS.values() for q in d.items)
DOMAIN_OF: dict[str, Domain] = {q: d for d in DOMAINS.values() for q in d.items}

INVITATION_COLUMNS = ("panelist_id", "wave", "pioneer", "org_type", "is_lead", "disposition")
# every column a responses file may have: an unknown name is a typo or another instrument, never ignored
OTHER_QUESTIONS = ("bar_significant_detail",)  # the Pioneer instrument's follow-up free text
# the process items of instrument version 2017.1 are optional: earlier files have none of them
RESPONSE_COLUMNS = ("panelist_id", "wave", *ATTRIBUTES, *CLOSED_QUESTIONS, *FREE_TEXT, *OTHER_QUESTIONS,
                    *PROCESS_QUESTIONS)
CODE_COLUMNS = ("panelist_id", "wave", "question", "code", "coder")
CODEBOOK_COLUMNS = ("code", "label", "parent", "description")


class SurveyInputError(ValueError):
    """Problems found in the survey files; ``problems`` lists one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = "\n  ".join(problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} problem(s) in the survey files:\n  {shown}{more}")


@dataclass(frozen=True)
class SurveyData:
    """Validated inputs. ``responses`` carries the attributes from the invitations and the disposition;
    ``respondents`` is its subset of completes. Unanswered items are ``NA``."""

    invitations: pd.DataFrame
    responses: pd.DataFrame
    respondents: pd.DataFrame
    codes: pd.DataFrame | None
    codebook: pd.DataFrame | None

    @property
    def waves(self) -> list[int]:
        """Waves with at least one invitation, in order."""
        return sorted(self.invitations["wave"].unique().tolist())


def _load(source: str | Path | pd.DataFrame, default_name: str) -> tuple[pd.DataFrame, str]:
    """A frame of strings (empty cell -> NA) and the name to use in messages."""
    if isinstance(source, pd.DataFrame):
        frame = source.reset_index(drop=True).astype(object)
        frame = frame.map(lambda v: None if v is None or pd.isna(v) else str(v).strip())
        return _nones(frame), default_name
    path = Path(source)
    if not path.is_file():
        raise SurveyInputError([f"{path}: file not found"])
    # keep_default_na=False so that an answer such as "none" or "NA" is never read as missing
    return _nones(pd.read_csv(path, dtype=str, keep_default_na=False)), str(path)


def _nones(frame: pd.DataFrame) -> pd.DataFrame:
    """Strings stripped, with ``None`` (not NaN: pandas 3 turns None into NaN in str columns) where
    a cell is empty, in object columns so that ``is None`` tests work."""
    frame = frame.astype(object).map(lambda v: v.strip() if isinstance(v, str) else v).astype(object)
    return frame.where(frame.notna() & (frame != ""), None)


def _at(name: str, index: int, column: str) -> str:
    return f"{name}, line {index + 2}, column {column!r}"


def _missing_columns(frame: pd.DataFrame, name: str, required) -> list[str]:
    missing = [c for c in required if c not in frame.columns]
    return [f"{name}: missing column(s) {', '.join(missing)}"] if missing else []


def _check_values(frame, name, column, allowed, problems, required=True) -> None:
    for i, v in frame[column].items():
        if v is None:
            if required:
                problems.append(f"{_at(name, i, column)}: empty")
        elif v not in allowed:
            problems.append(f"{_at(name, i, column)}: {v!r} is not one of {', '.join(allowed)}")


def _waves(frame, name, problems) -> None:
    def as_int(i, v):
        try:
            return int(v)
        except (TypeError, ValueError):
            problems.append(f"{_at(name, i, 'wave')}: {v!r} is not a whole number")
            return None
    frame["wave"] = [as_int(i, v) for i, v in frame["wave"].items()]


def _duplicates(frame, name, keys, problems) -> None:
    dup = frame.duplicated(list(keys), keep="first")
    for i in frame.index[dup]:
        problems.append(f"{name}, line {i + 2}: duplicate {', '.join(keys)} "
                        f"{tuple(frame.loc[i, list(keys)])}")


def read_inputs(invitations, responses, codes=None, codebook=None) -> SurveyData:
    """Read (paths or DataFrames) and validate the survey files; raise :class:`SurveyInputError`.

    Example:
        >>> inv = pd.DataFrame({"panelist_id": ["a"], "wave": [1], "pioneer": ["Leeds"],
        ...                     "org_type": ["council"], "is_lead": ["yes"], "disposition": ["refusal"]})
        >>> try: read_inputs(inv, pd.DataFrame(columns=["panelist_id", "wave", *CLOSED_QUESTIONS]))
        ... except SurveyInputError as e: print(e.problems[0])
        invitations.csv, line 2, column 'org_type': 'council' is not one of ccg, la, nhs_provider, other
    """
    inv, inv_name = _load(invitations, "invitations.csv")
    resp, resp_name = _load(responses, "responses.csv")
    problems = _missing_columns(inv, inv_name, INVITATION_COLUMNS)
    problems += _missing_columns(resp, resp_name, ("panelist_id", "wave", *CLOSED_QUESTIONS))
    unknown = [c for c in resp.columns if c not in RESPONSE_COLUMNS]
    if unknown:
        problems.append(f"{resp_name}: unknown question name(s) {', '.join(map(repr, unknown))} (not in the "
                        "Pioneer key-informant instrument)")
    if problems:
        raise SurveyInputError(problems)
    _waves(inv, inv_name, problems)
    _waves(resp, resp_name, problems)
    for column in ("panelist_id", "pioneer"):
        for i in inv.index[inv[column].isna()]:
            problems.append(f"{_at(inv_name, i, column)}: empty")
    _check_values(inv, inv_name, "org_type", ORG_TYPES, problems)
    _check_values(inv, inv_name, "is_lead", ("yes", "no"), problems)
    _check_values(inv, inv_name, "disposition", DISPOSITIONS, problems)
    _duplicates(inv, inv_name, ("panelist_id", "wave"), problems)
    _duplicates(resp, resp_name, ("panelist_id", "wave"), problems)
    for q in CLOSED_QUESTIONS:
        _check_values(resp, resp_name, q, DOMAIN_OF[q].choices, problems, required=False)
    for q in (q for q in PROCESS_CLOSED if q in resp.columns):
        _check_values(resp, resp_name, q, PROCESS_CLOSED[q], problems, required=False)

    # every response must match an interview in the invitations, and every interview a response
    inv_at = {(p, w): i for i, p, w in zip(inv.index, inv["panelist_id"], inv["wave"])}
    resp_keys = set(zip(resp["panelist_id"], resp["wave"]))
    for i, p, w in zip(resp.index, resp["panelist_id"], resp["wave"]):
        j = inv_at.get((p, w))
        if j is None:
            problems.append(f"{_at(resp_name, i, 'panelist_id')}: ({p!r}, wave {w}) has no invitation "
                            f"in {inv_name}")
        elif inv.at[j, "disposition"] not in INTERVIEWS:
            problems.append(f"{_at(resp_name, i, 'panelist_id')}: ({p!r}, wave {w}) is "
                            f"{inv.at[j, 'disposition']!r} in {inv_name} (line {j + 2}), not complete/partial")
        else:
            for a in ATTRIBUTES:  # optional copies of the attributes must agree
                if a in resp.columns and resp.at[i, a] is not None and resp.at[i, a] != inv.at[j, a]:
                    problems.append(f"{_at(resp_name, i, a)}: {resp.at[i, a]!r} differs from "
                                    f"{inv.at[j, a]!r} in {inv_name} (line {j + 2})")
    for i, p, w, d in zip(inv.index, inv["panelist_id"], inv["wave"], inv["disposition"]):
        if d in INTERVIEWS and (p, w) not in resp_keys:
            problems.append(f"{_at(inv_name, i, 'disposition')}: {d!r} but ({p!r}, wave {w}) has no row "
                            f"in {resp_name}")

    book = _read_codebook(codebook, problems) if codebook is not None else None
    code_frame = _read_codes(codes, resp, book, problems) if codes is not None else None
    if problems:
        raise SurveyInputError(problems)

    inv["wave"] = inv["wave"].astype(int)
    resp = resp.drop(columns=[a for a in ATTRIBUTES if a in resp.columns])
    resp["wave"] = resp["wave"].astype(int)
    resp = resp.merge(inv, on=["panelist_id", "wave"], how="left", validate="one_to_one")
    respondents = resp[resp["disposition"] == "complete"].reset_index(drop=True)
    return SurveyData(inv, resp, respondents, code_frame, book)


def _read_codebook(source, problems) -> pd.DataFrame:
    book, name = _load(source, "codebook.csv")
    missing = _missing_columns(book, name, CODEBOOK_COLUMNS)
    if missing:
        problems += missing
        return book
    for i in book.index[book["code"].isna()]:
        problems.append(f"{_at(name, i, 'code')}: empty")
    _duplicates(book, name, ("code",), problems)
    known = set(book["code"].dropna())
    for i, parent in book["parent"].items():
        if parent is not None and parent not in known:
            problems.append(f"{_at(name, i, 'parent')}: {parent!r} is not a code in {name}")
    return book


def _read_codes(source, resp, book, problems) -> pd.DataFrame:
    codes, name = _load(source, "codes.csv")
    missing = _missing_columns(codes, name, CODE_COLUMNS)
    if missing:
        problems += missing
        return codes
    _waves(codes, name, problems)
    for column in ("panelist_id", "code", "coder"):
        for i in codes.index[codes[column].isna()]:
            problems.append(f"{_at(name, i, column)}: empty")
    _check_values(codes, name, "question", FREE_TEXT, problems)
    known = set(zip(resp["panelist_id"], resp["wave"]))
    for i, p, w in zip(codes.index, codes["panelist_id"], codes["wave"]):
        if (p, w) not in known:
            problems.append(f"{_at(name, i, 'panelist_id')}: ({p!r}, wave {w}) has no row in responses.csv")
    if book is not None and "code" in book.columns:
        in_book = set(book["code"].dropna())
        for i, c in codes["code"].items():
            if c is not None and c not in in_book:
                problems.append(f"{_at(name, i, 'code')}: {c!r} is not in codebook.csv")
    return codes
