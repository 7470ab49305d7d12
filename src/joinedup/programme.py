"""A programme from files: its sites, their units (areas or practices), start dates and exclusions.

The protocol's ``[programme]`` table names a sites file (CSV, columns ``site, unit_code,
start_date[, wave]``), the unit (``"area"``: local authority of residence; ``"practice"``: registered
GP practice) and optional files of units in other programmes (same columns) that are kept out of the
comparison pool. Without ``[programme]`` the built-in Integrated Care Pioneers of the dataset's
``programmes`` table are used, with the Vanguards as the exclusion, so older protocols keep working.

Every design step reads the :class:`Programme`: its ``table`` has the layout of the canonical
``programmes`` table (``programme, site, area_code, wave, start_date``; ``area_code`` holds the unit
code whatever the unit), so the panel, matching, DiD, CS-DiD, synthetic control and the four-group
design take it in place of the dataset's table.

Bad files stop with an error naming the file, row (the file's line, header = line 1) and value:
unknown unit codes, a unit in two sites, unparseable start dates, start dates outside the data, a
site whose units have no residents (no registered patients).

Example:
    >>> import pandas as pd
    >>> sites = pd.DataFrame({"site": ["A", "B"], "unit_code": ["E1", "E2"],
    ...                       "start_date": ["2014-01-01", "2015-01-01"]})
    >>> p = programme_from_frames("Frailty MDTs", sites, unit="area")
    >>> p.table[["programme", "site", "area_code", "wave"]].values.tolist()
    [['programme', 'A', 'E1', 1], ['programme', 'B', 'E2', 2]]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

SITE_COLUMNS = ("site", "unit_code", "start_date")
PROGRAMME_KEY = "programme"  # the programme column's value for a programme read from files
BUILTIN_NAME = "Integrated Care and Support Pioneers"


class ProgrammeError(ValueError):
    """A sites or exclusion file that cannot define a programme (the message names file, row, value)."""


@dataclass(frozen=True)
class Programme:
    """The programme under evaluation: name, unit, sites and the programmes kept out of comparisons.

    ``table``: ``programme, site, area_code, wave, start_date`` for the programme (``programme ==
    key``) and every excluded programme (``programme`` in ``exclude``). ``other`` is the programme
    of the four-group design (the first exclusion). ``co_interventions`` says how other programmes
    are handled: ``"exclude"`` (left out of the comparison pool) or ``"covariate"``.
    """

    name: str
    key: str
    unit: str
    table: pd.DataFrame = field(repr=False)
    exclude: tuple[str, ...] = ()
    source: str = "built-in"
    exclude_names: dict = field(default_factory=dict, repr=False)
    others: tuple[str, ...] = ()  # every other programme in ``table``, excluded or not
    co_interventions: str = "exclude"  # or "covariate": others kept, adjusted for (impact/co_interventions.py)

    @property
    def other(self) -> str | None:
        """The four-group design's second programme: the first other programme."""
        return self.others[0] if self.others else None

    @property
    def sites(self) -> pd.DataFrame:
        """``site, area_code, wave, start_date`` of the programme's own units."""
        rows = self.table[self.table["programme"] == self.key]
        return rows[["site", "area_code", "wave", "start_date"]].reset_index(drop=True)

    @property
    def unit_word(self) -> str:
        return "practice" if self.unit == "practice" else "area"

    def describe(self) -> str:
        """One sentence for notes and the report.

        >>> builtin_programme(pd.DataFrame(columns=["programme", "site", "area_code", "wave",
        ...                                         "start_date"])).describe()[:38]
        'Integrated Care and Support Pioneers ('
        """
        n_sites = self.sites["site"].nunique()
        n_units = self.sites["area_code"].nunique()
        excluded = ", ".join(self.exclude_names.get(e, e) for e in self.exclude)
        return (f"{self.name} ({self.source}): {n_sites} sites, {n_units} {self.unit_word}s"
                + (f"; units also in {excluded} kept out of the comparisons" if excluded else ""))


def builtin_programme(programmes: pd.DataFrame, exclude_vanguards: bool = True) -> Programme:
    """The Pioneers of the dataset's ``programmes`` table, Vanguards excluded (the default)."""
    table = programmes.copy()
    table["start_date"] = pd.to_datetime(table["start_date"])
    exclude = ("vanguard",) if exclude_vanguards and (table["programme"] == "vanguard").any() else ()
    others = ("vanguard",) if (table["programme"] == "vanguard").any() else ()
    return Programme(BUILTIN_NAME, "pioneer", "area", table, exclude, "built-in",
                     {"vanguard": "the Vanguards"}, others)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "other"


def _line(index) -> int:
    return int(index) + 2  # header is line 1


def read_sites_file(path: str | Path) -> pd.DataFrame:
    """A sites file as a frame (strings kept as written), or a ProgrammeError naming what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise ProgrammeError(f"sites file {str(path)!r} does not exist")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ProgrammeError(f"{path}: not a readable CSV file: {exc}") from None
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in SITE_COLUMNS if c not in frame.columns]
    if missing:
        raise ProgrammeError(f"{path}: missing column(s) {missing}; a sites file has columns "
                             f"site, unit_code, start_date[, wave] (it has: {list(frame.columns)})")
    if frame.empty:
        raise ProgrammeError(f"{path}: no rows")
    frame.attrs["path"] = str(path)
    return frame


def _clean(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """Parsed rows: strings stripped, dates parsed, waves integers (defaulting to start-date order)."""
    out = frame.copy()
    for col in ("site", "unit_code"):
        out[col] = out[col].astype(str).str.strip()
        empty = out[col] == ""
        if empty.any():
            i = out.index[empty][0]
            raise ProgrammeError(f"{what}: row {_line(i)}: empty {col}")
    dates = pd.to_datetime(out["start_date"].astype(str).str.strip(), format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        i = out.index[dates.isna()][0]
        raise ProgrammeError(f"{what}: row {_line(i)}: start_date {out.loc[i, 'start_date']!r} is not a "
                             "date YYYY-MM-DD")
    out["start_date"] = dates
    if "wave" in out.columns and (out["wave"].astype(str).str.strip() != "").all():
        waves = pd.to_numeric(out["wave"], errors="coerce")
        bad = waves.isna() | (waves != waves.round()) | (waves < 1)
        if bad.any():
            i = out.index[bad][0]
            raise ProgrammeError(f"{what}: row {_line(i)}: wave {out.loc[i, 'wave']!r} is not a whole number >= 1")
        out["wave"] = waves.astype(int)
    else:  # waves: the order of the distinct start dates
        order = {d: k + 1 for k, d in enumerate(sorted(out["start_date"].unique()))}
        out["wave"] = out["start_date"].map(order).astype(int)
    return out


def _check_overlaps(rows: pd.DataFrame, what: str) -> None:
    """A unit may belong to one site only (a unit listed twice in its own site is a duplicate)."""
    dup = rows[rows.duplicated("unit_code", keep=False)]
    if len(dup):
        code = dup["unit_code"].iloc[0]
        both = dup[dup["unit_code"] == code]
        lines = ", ".join(str(_line(i)) for i in both.index)
        sites = sorted(set(both["site"]))
        kind = "is listed twice in site" if len(sites) == 1 else "is in overlapping sites"
        raise ProgrammeError(f"{what}: unit_code {code!r} {kind} {', '.join(map(repr, sites))} (rows {lines})")


def _check_known(rows: pd.DataFrame, known: set | None, unit: str, what: str) -> None:
    if known is None:
        return
    unknown = ~rows["unit_code"].isin(known)
    if unknown.any():
        i = rows.index[unknown][0]
        table = "practices" if unit == "practice" else "areas"
        raise ProgrammeError(f"{what}: row {_line(i)}: unknown unit_code {rows.loc[i, 'unit_code']!r} "
                             f"({int(unknown.sum())} row(s) with codes not in the data's {table} table)")


def _check_dates(rows: pd.DataFrame, span: tuple | None, what: str) -> None:
    """Start dates must leave a pre-period inside the data and fall before its end."""
    if span is None:
        return
    first, last = (pd.Timestamp(d) for d in span)
    outside = (rows["start_date"] <= first) | (rows["start_date"] > last)
    if outside.any():
        i = rows.index[outside][0]
        raise ProgrammeError(f"{what}: row {_line(i)}: start_date {rows.loc[i, 'start_date'].date()} is outside "
                             f"the data ({first.date()} to {last.date()}; a start needs data before it)")


def _check_residents(rows: pd.DataFrame, residents: pd.Series | None, unit: str, what: str) -> None:
    if residents is None:
        return
    per_site = rows.assign(n=rows["unit_code"].map(residents).fillna(0)).groupby("site", sort=False)["n"].sum()
    empty = per_site[per_site <= 0]
    if len(empty):
        site = empty.index[0]
        i = rows.index[rows["site"] == site][0]
        people = "registered patients" if unit == "practice" else "residents"
        raise ProgrammeError(f"{what}: row {_line(i)}: site {site!r} has no {people} in the data "
                             f"(units {sorted(rows.loc[rows['site'] == site, 'unit_code'])})")


def programme_from_frames(name: str, sites: pd.DataFrame, unit: str = "area",
                          exclude: dict[str, pd.DataFrame] | None = None, known_units: set | None = None,
                          span: tuple | None = None, residents: pd.Series | None = None,
                          source: str = "files") -> Programme:
    """A programme from a sites frame and exclusion frames (name -> frame), checked (module docstring).

    ``known_units``: the data's unit codes; ``span``: the data's (first, last) dates; ``residents``:
    people per unit code. Each check is skipped when its argument is None.
    """
    if unit not in ("area", "practice"):
        raise ProgrammeError(f"unit must be 'area' or 'practice'; got {unit!r}")
    what = sites.attrs.get("path", "sites")
    rows = _clean(sites, what)
    _check_overlaps(rows, what)
    _check_known(rows, known_units, unit, what)
    _check_dates(rows, span, what)
    _check_residents(rows, residents, unit, what)
    parts = [rows.assign(programme=PROGRAMME_KEY)]
    keys, names = [], {}
    for label, frame in (exclude or {}).items():
        ex_what = frame.attrs.get("path", label)
        ex_rows = _clean(frame, ex_what)
        _check_known(ex_rows, known_units, unit, ex_what)
        key = _slug(label)
        while key in keys or key == PROGRAMME_KEY:
            key += "_"
        keys.append(key)
        names[key] = label
        parts.append(ex_rows.drop_duplicates(["site", "unit_code"]).assign(programme=key))
    table = pd.concat(parts, ignore_index=True).rename(columns={"unit_code": "area_code"})
    table = table[["programme", "site", "area_code", "wave", "start_date"]]
    return Programme(name, PROGRAMME_KEY, unit, table, tuple(keys), source, names, tuple(keys))


def data_checks(ds, unit: str) -> tuple[set, tuple, pd.Series]:
    """Known unit codes, the (first, last) date of the admissions and people per unit in the dataset."""
    adm = ds.table("admissions")
    span = ds.execute(adm.aggregate(first=adm.admission_date.min(), last=adm.admission_date.max()))
    span = (span["first"].iloc[0], span["last"].iloc[0])
    if unit == "practice":
        known = set(ds.execute(ds.table("practices").select("practice_code"))["practice_code"])
        try:
            pp = ds.table("practice_population")
            counts = ds.execute(pp.group_by("practice_code").aggregate(n=pp.persons.sum()))
            residents = counts.set_index("practice_code")["n"]
        except Exception:  # optional table absent: fall back on the practices' list sizes
            counts = ds.execute(ds.table("practices"))
            residents = counts.set_index("practice_code")["list_size"]
    else:
        known = set(ds.execute(ds.table("areas").select("area_code"))["area_code"])
        pop = ds.table("population")
        counts = ds.execute(pop.group_by("area_code").aggregate(n=pop.persons.sum()))
        residents = counts.set_index("area_code")["n"]
    return known, span, residents


def load_programme(spec, resolve, ds, store: str | None = None) -> Programme:
    """The protocol's ``[programme]`` (``spec``), files resolved with ``resolve``, checked against ``ds``;
    ``store``: the survey database URL read by ``initiative_register = "store"`` ([process] store)."""
    sites = read_sites_file(resolve(spec.sites))
    exclude = {}
    for name in spec.exclude:
        frame = read_sites_file(resolve(name))
        exclude[Path(name).stem] = frame
    known, span, residents = data_checks(ds, spec.unit)
    programme = programme_from_frames(spec.name, sites, spec.unit, exclude, known, span, residents,
                                      source=f"sites file {Path(spec.sites).name}")
    if getattr(spec, "initiative_register", None):  # treatment timing from the register (joinedup.process)
        from joinedup.process.treatment import programme_with_register
        where = spec.initiative_register if spec.initiative_register == "store" else resolve(spec.initiative_register)
        programme = programme_with_register(programme, where, spec.initiative_types, span, store=store)
    if getattr(spec, "co_interventions", "exclude") == "covariate":  # kept in the pool, adjusted for
        from dataclasses import replace
        programme = replace(programme, exclude=(), co_interventions="covariate")
    return programme


def programme_of(protocol, ds) -> Programme:
    """The protocol's programme: ``[programme]`` if given, else the built-in Pioneers."""
    spec = getattr(protocol, "programme", None)
    if spec is not None:
        return load_programme(spec, protocol.resolve, ds,
                              store=getattr(getattr(protocol, "process", None), "store", None))
    impact = protocol.impact
    return builtin_programme(ds.execute(ds.table("programmes")),
                             impact.exclude_vanguards if impact is not None else True)
