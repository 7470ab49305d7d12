"""Data overview: the first definitions every engine runs identically (DuckDB, Spark, a warehouse).

Each definition is a function from a :class:`~joinedup.data.Dataset` to an Ibis expression; nothing
here touches pandas until :func:`compute_overview` executes them and sorts the result by its keys,
so the same definitions give row-for-row identical tables on every engine.

Example:
    >>> from joinedup.data import open_dataset
    >>> ds = open_dataset("out/demo/data")                                   # doctest: +SKIP
    >>> compute_overview(ds)["emergency_by_month"].head()                    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable

import ibis

from joinedup.data import Dataset

GROUPS = ("Pioneer wave 1", "Pioneer wave 2", "Vanguard only", "Neither programme")


def area_groups(ds: Dataset):
    """Each area's programme group: Pioneer by wave (whatever else it is), Vanguard only, or neither."""
    areas = ds.table("areas")
    prog = ds.table("programmes")
    pioneer = (
        prog.filter(prog.programme == "pioneer")
        .group_by("area_code")
        .aggregate(pioneer_wave=prog.wave.min(), pioneer_start=prog.start_date.min())
    )
    vanguard = prog.filter(prog.programme == "vanguard").group_by("area_code").aggregate(
        vanguard_start=prog.start_date.min())
    joined = areas.left_join(pioneer, "area_code").left_join(vanguard, "area_code")
    group = ibis.cases(
        (joined.pioneer_wave == 1, GROUPS[0]),
        (joined.pioneer_wave == 2, GROUPS[1]),
        (joined.vanguard_start.notnull(), GROUPS[2]),
        else_=GROUPS[3],
    )
    return joined.select(
        "area_code", "area_name", "region", "imd_decile", group=group,
        pioneer_wave=joined.pioneer_wave, pioneer_start=joined.pioneer_start,
        vanguard=joined.vanguard_start.notnull(),
    )


def population_by_year(ds: Dataset):
    """Resident population by year and programme group."""
    pop = ds.table("population")
    groups = area_groups(ds).select("area_code", "group")
    joined = pop.join(groups, "area_code")
    return joined.group_by(["year", "group"]).aggregate(persons=joined.persons.sum())


def population_pyramid(ds: Dataset):
    """England's population by year, sex and age band."""
    pop = ds.table("population")
    return pop.group_by(["year", "sex", "age_band"]).aggregate(persons=pop.persons.sum())


def emergency_by_month(ds: Dataset):
    """Emergency admissions per month by programme group, with the rate per 1,000 residents.

    The denominator is the mid-year population of the calendar year the month falls in.
    """
    adm = ds.table("admissions")
    adm = adm.filter(adm.admission_method == "emergency")
    groups = area_groups(ds).select("area_code", "group")
    counts = (
        adm.join(groups, "area_code")
        .mutate(month=adm.admission_date.truncate("M").cast("date"))
        .group_by(["group", "month"])
        .aggregate(admissions=ibis._.count())
    )
    pop = population_by_year(ds)
    counts = counts.mutate(year=counts.month.year().cast("int32"))
    joined = counts.join(pop, [counts.group == pop.group, counts.year == pop.year])
    return joined.select(
        counts.group, counts.month, counts.admissions, pop.persons,
        rate_per_1000=counts.admissions * 1000.0 / pop.persons,
    )


def admissions_by_method(ds: Dataset):
    """Admissions per calendar year by admission method, England."""
    adm = ds.table("admissions")
    return (
        adm.mutate(year=adm.admission_date.year().cast("int32"))
        .group_by(["year", "admission_method"])
        .aggregate(admissions=ibis._.count(), cost=adm.cost.sum())
    )


def table_rows(ds: Dataset):
    """Rows per canonical table, as one small table."""
    parts = [ds.table(n).aggregate(rows=ibis._.count()).mutate(table=ibis.literal(n)) for n in ds.names]
    return ibis.union(*parts).select("table", "rows")


# name -> (definition, sort keys, count columns subject to disclosure control, national?)
DEFINITIONS: dict[str, tuple[Callable, list[str], list[str], bool]] = {
    "area_groups": (area_groups, ["area_code"], [], True),
    "population_by_year": (population_by_year, ["year", "group"], ["persons"], False),
    "population_pyramid": (population_pyramid, ["year", "sex", "age_band"], ["persons"], True),
    "emergency_by_month": (emergency_by_month, ["group", "month"], ["admissions", "persons"], False),
    "admissions_by_method": (admissions_by_method, ["year", "admission_method"], ["admissions"], True),
    "table_rows": (table_rows, ["table"], ["rows"], True),
}


def compute_overview(ds: Dataset) -> dict:
    """Execute every overview definition on the dataset's engine; results sorted by their keys."""
    out = {}
    for name, (definition, keys, _, _) in DEFINITIONS.items():
        frame = ds.execute(definition(ds))
        out[name] = frame.sort_values(keys, kind="stable").reset_index(drop=True)
    return out
