"""Survey data in and out: the wide export keyed by question names, its codebook, and imports of
responses exported from LimeSurvey, REDCap or KoboToolbox with a mapping file.

Export: one row per response (``panelist_id, wave, status`` and one column per question, in the
instrument's order; select_multiple answers as space-separated choice names, as ODK/Kobo do) and a
codebook (question, type, label, choice value, choice label) from the instrument.

Import: each tool names and codes things its own way, so a mapping file (CSV) says what is what:

    source,question,source_value,value
    Q1,pioneer,,                      # column Q1 holds the question `pioneer`, values as they are
    Q3,org_type,A1,ccg                # ... with its codes recoded
    Q3,org_type,A2,la
    bar[SQ001],bar_financial,A1,significant

Per tool, before mapping: LimeSurvey's multiple-choice subquestion columns ``Q[SQ]`` hold ``Y`` when
ticked; REDCap's checkbox columns ``var___code`` hold 1 when ticked (map ``var___code`` to the question
and its choice with ``source_value`` 1); Kobo's group paths (``group/question``) are matched by their
last part as well as in full. Every value must be a choice of its question (after recoding); every
problem is collected and reported with the file's line and column, and nothing is written until the
whole file is clean. Source columns not in the mapping are reported, not silently dropped.

Example:
    >>> result = import_responses("lime.csv", form, "map.csv", "limesurvey", wave=1,
    ...                           id_column="token")                               # doctest: +SKIP
    >>> result.frame.columns[:3].tolist()                                          # doctest: +SKIP
    ['panelist_id', 'wave', 'pioneer']
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import pandas as pd

Source = Literal["limesurvey", "redcap", "kobo"]
SOURCES: tuple[str, ...] = get_args(Source)
CHOICE_TYPES = ("select_one", "select_multiple")


class ResponseImportError(ValueError):
    """A response file that cannot be imported as it is; the message lists every problem."""


@dataclass(frozen=True)
class ImportResult:
    frame: pd.DataFrame           # panelist_id, wave, question columns (wide, as the export)
    unmapped_columns: tuple[str, ...]


def codebook(form) -> pd.DataFrame:
    """The codebook of an instrument: one row per question, and per choice of choice questions.

    Example:
        >>> codebook(form).columns.tolist()                                        # doctest: +SKIP
        ['question', 'type', 'label', 'value', 'value_label']
    """
    rows = []
    for q in form.questions:
        if q.type == "note":
            continue
        if q.type in CHOICE_TYPES:
            rows += [{"question": q.name, "type": q.type, "label": q.label, "value": c.name, "value_label": c.label}
                     for c in q.choices]
        else:
            rows.append({"question": q.name, "type": q.type, "label": q.label, "value": "", "value_label": ""})
    return pd.DataFrame(rows, columns=["question", "type", "label", "value", "value_label"])


def export_wide(form, responses: list[dict]) -> pd.DataFrame:
    """Wide responses: ``panelist_id, wave, status`` and the instrument's questions in order.

    ``responses`` are dicts with ``panelist_id``, ``wave``, ``status`` and ``answers`` (name -> value;
    lists for select_multiple). Answers to questions not in the instrument are an error (data would be
    lost); unanswered questions are empty.

    Example:
        >>> export_wide(form, [{"panelist_id": "p1", "wave": 1, "status": "complete",
        ...                     "answers": {"org_type": "la"}}])                   # doctest: +SKIP
    """
    names = [q.name for q in form.questions if q.type != "note"]
    known = set(names)
    rows = []
    for r in responses:
        extra = sorted(set(r["answers"]) - known)
        if extra:
            raise ValueError(f"response of {r['panelist_id']} (wave {r['wave']}) answers question(s) not in the "
                             f"instrument: {', '.join(extra)}")
        row = {"panelist_id": r["panelist_id"], "wave": r["wave"], "status": r["status"]}
        for n in names:
            v = r["answers"].get(n)
            row[n] = " ".join(v) if isinstance(v, (list, tuple)) else v
        rows.append(row)
    return pd.DataFrame(rows, columns=["panelist_id", "wave", "status", *names])


def read_mapping(path) -> pd.DataFrame:
    """Read and check a mapping file (columns ``source, question, source_value, value``)."""
    m = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
    m.columns = [c.strip() for c in m.columns]
    missing = [c for c in ("source", "question") if c not in m.columns]
    if missing:
        raise ResponseImportError(f"{path}: mapping file has no column(s) {', '.join(missing)}")
    for c in ("source_value", "value"):
        if c not in m.columns:
            m[c] = ""
    return m.apply(lambda s: s.str.strip())


def _prepare(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """Tool-specific reading: Kobo group paths also answer to their last part."""
    if source == "kobo":
        short = {c: c.rsplit("/", 1)[-1] for c in raw.columns if "/" in c}
        for full, last in short.items():
            if last not in raw.columns:
                raw[last] = raw[full]
    return raw


def import_responses(path, form, mapping, source: Source, wave: int, id_column: str) -> ImportResult:
    """Read a response export of ``source`` and return it in joinedup's wide form (see the module).

    ``id_column`` names the source column holding the panelist id (e.g. LimeSurvey's ``token``,
    REDCap's ``record_id``, a Kobo hidden field). Raises :class:`ResponseImportError` listing every problem.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}; got {source!r}")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw = _prepare(raw, source)
    m = mapping if isinstance(mapping, pd.DataFrame) else read_mapping(mapping)
    problems: list[str] = []
    name = Path(str(path)).name
    if id_column not in raw.columns:
        raise ResponseImportError(f"{name}: no column {id_column!r} for the panelist id (columns: {', '.join(raw.columns)})")
    questions = {q.name: q for q in form.questions}
    for i, r in m.iterrows():
        if r["question"] not in questions:
            problems.append(f"mapping line {i + 2}: question {r['question']!r} is not in the instrument")
        if r["source"] not in raw.columns:
            problems.append(f"mapping line {i + 2}: column {r['source']!r} is not in {name}")
    if problems:
        raise ResponseImportError(f"{len(problems)} problem(s):\n  " + "\n  ".join(problems))

    out = pd.DataFrame({"panelist_id": raw[id_column].str.strip(), "wave": int(wave)})
    blank = out.index[out["panelist_id"] == ""]
    problems += [f"{name} line {i + 2}, column {id_column}: no panelist id" for i in blank]
    dup = out.index[out["panelist_id"].duplicated(keep="first") & (out["panelist_id"] != "")]
    problems += [f"{name} line {i + 2}, column {id_column}: panelist {out.at[i, 'panelist_id']!r} appears twice"
                 for i in dup]
    for qname, rules in m.groupby("question", sort=False):
        q = questions[qname]
        values = _map_question(raw, q, rules, source, name, problems)
        out[qname] = values
    unmapped = tuple(c for c in raw.columns if c not in set(m["source"]) and c != id_column
                     and not (source == "kobo" and "/" in c))
    if problems:
        raise ResponseImportError(f"{name}: {len(problems)} problem(s):\n  " + "\n  ".join(problems[:50])
                                  + ("" if len(problems) <= 50 else f"\n  ... and {len(problems) - 50} more"))
    out.attrs["select_multiple"] = [q for q in out.columns if q in questions and questions[q].type == "select_multiple"]
    return ImportResult(out, unmapped)


def _map_question(raw, q, rules, source, name, problems) -> pd.Series:
    choices = {c.name for c in getattr(q, "choices", ())}
    if q.type == "select_multiple" and rules["source"].nunique() > 1:
        # one source column per choice (LimeSurvey Q[SQ] = Y, REDCap var___code = 1, Kobo q/choice = 1)
        ticked = {"limesurvey": {"Y"}, "redcap": {"1"}, "kobo": {"1", "True", "true"}}[source]
        picks = pd.Series([[] for _ in range(len(raw))], index=raw.index)
        for r in rules.itertuples():
            if r.value not in choices:
                problems.append(f"mapping: {r.source} -> {q.name}={r.value!r} is not a choice of {q.name}")
                continue
            on = raw[r.source].isin(ticked | ({r.source_value} if r.source_value else set()))
            for i in raw.index[on]:
                picks[i] = picks[i] + [r.value]
        return picks.map(lambda v: " ".join(v) if v else None)
    col = rules["source"].iloc[0]
    recode = {r.source_value: r.value for r in rules.itertuples() if r.source_value != ""}
    values = raw[col].map(lambda v: recode.get(v, v)).replace("", None)
    if q.type in CHOICE_TYPES:
        for i, v in values.items():
            if v is None:
                continue
            parts = v.split() if q.type == "select_multiple" else [v]
            bad = [p for p in parts if p not in choices]
            if bad:
                problems.append(f"{name} line {i + 2}, column {col}: {v!r} is not a choice of {q.name} "
                                f"(choices: {', '.join(sorted(choices))}); add a recoding row to the mapping")
    elif q.type in ("integer", "decimal"):
        num = pd.to_numeric(values, errors="coerce")
        for i in values.index[values.notna() & num.isna()]:
            problems.append(f"{name} line {i + 2}, column {col}: {values[i]!r} is not a number ({q.name})")
    return values


def analysis_frames(store, form) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The service's data as the analysis' ``invitations.csv`` and ``responses.csv`` frames.

    The respondent attributes (pioneer, org_type, is_lead) come from the roster through the
    invitations, so the responses leave out the questions asking them (the instrument's Pioneer choice
    names are slugs of the names in the roster).

    Example:
        >>> inv, resp = analysis_frames(store, form)                              # doctest: +SKIP
    """
    inv = store.invitations_frame()[["panelist_id", "wave", "pioneer", "org_type", "is_lead", "disposition"]]
    wide = export_wide(form, store.responses())
    return inv, wide.drop(columns=["status", "pioneer", "org_type", "is_lead"], errors="ignore")
