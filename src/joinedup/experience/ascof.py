"""Adult Social Care Survey (ASCS) outcomes as published in the ASCOF CSV, council by council.

**Layout followed.** The long CSV of "Measures from the Adult Social Care Outcomes Framework" as its
guidance ("How to use the CSV file", 2024-25 publication) describes it: ``Geographical code``,
``Geographical description``, ``Geographical level`` (local authority, regional, council type,
national), ``ONS code``, ``ASCOF measure code``, ``Disaggregation level`` (Total, Female, 18 to 64,
...), ``Measure type`` (Numerator, Denominator, Outcome) and ``Measure value``. Headers are matched
ignoring case, spaces and underscores, and ``Measure group`` is read as the measure code (older
files' name for it). The file has no year column: the caller says which financial year it is
(``year`` = the year it starts, 2015 for 2015-16). Council rows of the ``Total`` disaggregation
are kept; England, regions and council types are skipped (counted in the notes).

**Measures.** :data:`ASCOF_MEASURES`, under the 2014-15 to 2022-23 framework's codes, all from the
ASCS: 1A social care-related quality of life (a mean score: the value is the Outcome), 3A overall
satisfaction of people who use services with their care and support, 3D the share who find it easy
to find information about support (shares: numerator / denominator). The 2023-24 framework renamed
and renumbered measures: pass ``codes`` to read another code as one of these measures.

Bad rows (no ONS code, a value that is not a number such as ``[c]`` or ``*``, a numerator above its
denominator, a council with no numerator or denominator for a share, a duplicate) go to the rejects
with the row, field, value and reason.

Example:
    >>> import io
    >>> text = ("Geographical code,Geographical description,Geographical level,ONS code,ASCOF measure code,"
    ...         "Disaggregation level,Measure type,Measure value\\n"
    ...         "104,Northumberland,Local authority,E06000057,3A,Total,Numerator,300\\n"
    ...         "104,Northumberland,Local authority,E06000057,3A,Total,Denominator,500\\n"
    ...         "104,Northumberland,Local authority,E06000057,3A,Total,Outcome,60.0\\n")
    >>> read_ascof(io.StringIO(text), 2016, ["3A"]).table[["unit_code", "measure", "value"]].values.tolist()
    [['E06000057', 'satisfaction', 0.6]]
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from joinedup.experience._rejects import (
    PublishedLayoutError,
    SurveyRead,
    collect,
    number,
    read_csv_text,
)

TABLE_COLUMNS = ["source", "unit_code", "year", "era", "measure", "question", "base", "positive", "value"]
# code -> (measure name, label, kind: "share" of people or "mean" score)
ASCOF_MEASURES = {
    "1A": ("care_quality_of_life", "Social care-related quality of life (ASCS mean score)", "mean"),
    "3A": ("satisfaction", "Overall satisfaction of people who use services with their care and support", "share"),
    "3D": ("easy_information", "People who use services who find it easy to find information about support", "share"),
}
ONS_CODE = re.compile(r"^E(06|07|08|09|10)[0-9]{6}$")  # English unitary, district, metropolitan, London, county
_COLUMNS = {"geographicalcode": "geo_code", "geographicaldescription": "geo_name", "geographicallevel": "geo_level",
            "onscode": "ons_code", "ascofmeasurecode": "measure_code", "measuregroup": "measure_code",
            "disaggregationlevel": "disaggregation", "measuretype": "measure_type", "measurevalue": "measure_value"}
REQUIRED = ("geo_level", "ons_code", "measure_code", "disaggregation", "measure_type", "measure_value")


def read_ascof(path, year: int, codes=("1A", "3A", "3D"), aliases: dict[str, str] | None = None) -> SurveyRead:
    """Read one year's ASCOF CSV (module docstring); ``aliases`` maps another code to one of
    :data:`ASCOF_MEASURES` (e.g. a 2023-24 code)."""
    raw, name = read_csv_text(path)
    raw = raw.rename(columns={c: _COLUMNS.get(re.sub(r"[\s_]", "", c.lower()), c) for c in raw.columns})
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise PublishedLayoutError(f"{name}: column(s) {', '.join(missing)} missing: see the ASCOF CSV guidance "
                                   "(Geographical level, ONS code, ASCOF measure code, Disaggregation level, Measure "
                                   "type, Measure value)")
    aliases = {k.upper(): v for k, v in (aliases or {}).items()}
    for code in list(codes) + list(aliases.values()):
        if code not in ASCOF_MEASURES:
            raise PublishedLayoutError(f"ASCOF measure {code!r} is not one of {', '.join(ASCOF_MEASURES)}")
    out = SurveyRead(pd.DataFrame(columns=TABLE_COLUMNS), pd.DataFrame(), read=len(raw))
    measure_code = raw["measure_code"].str.strip().str.upper().map(lambda c: aliases.get(c, c))
    level = raw["geo_level"].str.strip().str.lower()
    council = level.isin(["local authority", "council"])
    wanted = measure_code.isin(codes) & raw["disaggregation"].str.strip().str.lower().eq("total")
    out.notes.append(f"{int((wanted & ~council).sum())} England, regional or council-type rows skipped")
    rows = raw[wanted & council].copy()
    rows["code"] = measure_code[rows.index]
    rows["ons"] = rows["ons_code"].str.strip().str.upper()
    rows["type"] = rows["measure_type"].str.strip().str.lower()
    value = number(rows["measure_value"])
    dup = rows.duplicated(["ons", "code", "type"], keep="first")
    checks = [
        ("ons_code", rows["ons"].eq(""), "no ONS code"),
        ("ons_code", rows["ons"].ne("") & ~rows["ons"].str.match(ONS_CODE), "not an English council ONS code"),
        ("measure_type", ~rows["type"].isin(["numerator", "denominator", "outcome"]),
         "measure type is not Numerator, Denominator or Outcome"),
        ("measure_value", value.isna(), "value is suppressed or not a number"),
        ("measure_value", value < 0, "value is negative"),
        ("measure_type", dup, "duplicate row for this council, measure and type (the first is kept)"),
    ]
    rejects, bad = collect(rows, checks, name)
    good = rows[~bad].assign(v=value[~bad])
    wide = good.pivot_table(index=["ons", "code"], columns="type", values="v", aggfunc="first")
    wide = wide.reindex(columns=["numerator", "denominator", "outcome"])
    first_row = good.groupby(["ons", "code"])["__row"].min()
    kind = wide.index.get_level_values("code").map(lambda c: ASCOF_MEASURES[c][2])
    share = np.asarray(kind == "share")
    problems = [
        (share & (wide["numerator"].isna() | wide["denominator"].isna()).to_numpy(),
         "a share needs both its Numerator and Denominator rows"),
        (share & (wide["denominator"] <= 0).to_numpy(), "denominator is not > 0"),
        (share & (wide["numerator"] > wide["denominator"]).to_numpy(), "numerator above denominator"),
        (~share & wide["outcome"].isna().to_numpy(), "a mean score needs its Outcome row"),
    ]
    drop = np.zeros(len(wide), bool)
    extra = []
    for mask, reason in problems:
        for i in np.flatnonzero(mask & ~drop):
            ons, code = wide.index[i]
            extra.append({"source_file": name, "row": int(first_row[(ons, code)]), "field": "measure_value",
                          "value": f"{ons} {code}", "reason": reason})
        drop |= mask
    wide = wide[~drop]
    kind = wide.index.get_level_values("code").map(lambda c: ASCOF_MEASURES[c][2])
    is_share = np.asarray(kind == "share")
    codes_kept = wide.index.get_level_values("code")
    out.table = pd.DataFrame({
        "source": "ASCOF", "unit_code": wide.index.get_level_values("ons"), "year": int(year),
        "era": "ASCS", "measure": [ASCOF_MEASURES[c][0] for c in codes_kept], "question": list(codes_kept),
        "base": wide["denominator"].to_numpy(), "positive": np.where(is_share, wide["numerator"], np.nan),
        "value": np.where(is_share, wide["numerator"] / wide["denominator"], wide["outcome"]),
    })[TABLE_COLUMNS].reset_index(drop=True)
    out.rejects = pd.concat([rejects, pd.DataFrame(extra, columns=rejects.columns)], ignore_index=True)
    return out
