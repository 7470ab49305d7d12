"""Which canonical tables the cohort design reads, so it runs on any source that has them.

The person-level design needs ``persons`` (the linkage spine), ``admissions`` and ``ae_attendances``:
the importers write all three (``import persons``, ``hes-apc``, ``hes-ae``). Everything else is
optional and its absence is said, not fatal: without ``areas`` everyone gets the middle IMD decile (5)
and deprivation neither restricts eligibility nor separates people in matching; without
``unit_costs`` (or ``social_care_services``, which the costs include) the costs are reported as not
available and the use outcomes are still estimated. Only the tables present are validated, so an
imported dataset is not refused for lacking the simulator's programme or MDT tables.

Example:
    >>> ds = cohort_dataset("data/mine")                                        # doctest: +SKIP
    >>> missing_notes(ds)                                                       # doctest: +SKIP
    ['No areas table: ...']
"""

from __future__ import annotations

from joinedup.data import DataSourceError, open_dataset, validate_dataset

NEEDED = ("persons", "admissions", "ae_attendances")
OPTIONAL = {
    "areas": "No areas table: everyone is given IMD decile 5, so deprivation is not matched on and an "
             "imd_decile eligibility rule cannot separate people.",
    "unit_costs": "No unit_costs table: costs are not available (the importers do not write unit costs).",
    "social_care_services": "No social_care_services table: costs are not available (they include social care).",
}


def cohort_dataset(location, engine: str = "duckdb"):
    """Open ``location``, insist on the tables the design needs and validate those present."""
    ds = open_dataset(location, engine)
    missing = [t for t in NEEDED if not ds.has(t)]
    if missing:
        raise DataSourceError(f"the cohort design needs table(s) {', '.join(missing)}, not in the dataset at "
                              f"{location} (it has: {', '.join(sorted(ds.names)) or 'none'}); import them with "
                              "`joinedup import persons|hes-apc|hes-ae`")
    validate_dataset(location, engine, [t for t in (*NEEDED, *OPTIONAL) if ds.has(t)]).raise_for_errors()
    return ds


def missing_notes(ds) -> list[str]:
    """One plain sentence for each optional table the dataset lacks."""
    return [note for name, note in OPTIONAL.items() if not ds.has(name)]


def costs_available(ds) -> bool:
    """True when the tables the cost step reads are all present."""
    return ds.has("unit_costs") and ds.has("social_care_services")


COST_NOTE = ("Admissions carry no cost (HES has none; `import hes-apc` leaves cost empty): the 'cost' outcome "
             "is not estimated from the monthly panel.")


def admission_costs_missing(ds) -> bool:
    """True when some emergency admission has no cost (as every imported HES spell), so summing the
    column would count missing costs as nothing."""
    a = ds.table("admissions")
    a = a.filter(a.admission_method == "emergency")
    got = ds.execute(a.aggregate(n=a.count(), missing=a.cost.isnull().cast("int64").sum()))
    return bool(got["n"][0]) and int(got["missing"][0] or 0) > 0
