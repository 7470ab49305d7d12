"""A tiny, valid, hand-written dataset of every canonical table, for tests that must not depend on
the simulator. Each test copies it and breaks it on purpose."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from joinedup.data.tables import TABLES

D = dt.date
AREAS = ["E06000001", "E08000016"]
ROWS: dict[str, list[dict]] = {
    "areas": [
        dict(area_code="E06000001", area_name="Hartlepool", region="North East", imd_score=33.2,
             imd_decile=1, rurality="predominantly_urban", population=92000),
        dict(area_code="E08000016", area_name="Barnsley", region="Yorkshire and The Humber",
             imd_score=29.0, imd_decile=2, rurality="urban_with_significant_rural", population=237000),
    ],
    "population": [
        dict(area_code=a, year=2013, sex=s, age_band=b, persons=100 + i)
        for i, (a, s, b) in enumerate((a, s, b) for a in AREAS for s in "FM" for b in ("65-69", "90+"))
    ],
    "practices": [
        dict(practice_code="A81001", area_code="E06000001", list_size=8000),
        dict(practice_code="C85001", area_code="E08000016", list_size=9000),
    ],
    "persons": [
        dict(person_id=1, sex="F", birth_year=1940, area_code="E06000001", practice_code="A81001",
             ltc_count=3, death_date=None, lsoa_imd_decile=1, ethnic_group="white"),
        dict(person_id=2, sex="M", birth_year=1950, area_code="E08000016", practice_code="C85001",
             ltc_count=0, death_date=D(2015, 3, 1), lsoa_imd_decile=None, ethnic_group=None),
    ],
    "admissions": [
        dict(spell_id=10, person_id=1, area_code="E06000001", practice_code="A81001",
             admission_date=D(2013, 1, 5), discharge_date=D(2013, 1, 9), admission_method="emergency",
             admimeth="21", primary_diagnosis="J441", secondary_diagnoses="I10;W19",
             procedure=None, discharge_destination="usual_residence", disdest="19", age=72, sex="F",
             cost=1650.0, cips_id=10, transfer_in=False),
        dict(spell_id=11, person_id=2, area_code="E08000016", practice_code="C85001",
             admission_date=D(2015, 2, 20), discharge_date=D(2015, 3, 1), admission_method="emergency",
             admimeth="21", primary_diagnosis="I509", secondary_diagnoses=None, procedure="K401",
             discharge_destination="died", disdest="79", age=64, sex="M", cost=3100.0,
             cips_id=11, transfer_in=False),
    ],
    "ae_attendances": [
        dict(attendance_id=100, person_id=1, area_code="E06000001", arrival_date=D(2013, 1, 5),
             department_type=1, disposal="admitted", age=72, sex="F"),
    ],
    "social_care_services": [
        dict(service_id=1000, person_id=1, area_code="E06000001", service_type="reablement",
             start_date=D(2013, 1, 9), end_date=D(2013, 2, 20), permanent=False, weekly_cost=300.0,
             funding="la_funded", referral_source="hospital_discharge", spell_id=10),
    ],
    "delayed_transfers": [
        dict(area_code=a, month=D(2013, 1, 1), responsible_org=o, delayed_days=40)
        for a in AREAS for o in ("nhs", "social_care", "both")
    ],
    "programmes": [
        dict(programme="pioneer", site="Barnsley", area_code="E08000016", wave=1, model=None,
             start_date=D(2013, 11, 1)),
    ],
    "schemes": [
        dict(scheme_id="barnsley-1", site="Barnsley", scheme_type="community_mdt",
             target_group="older_people", start_date=D(2014, 4, 1)),
    ],
    "mdt_enrolments": [
        dict(person_id=2, practice_code="C85001", mdt_id="MDT-C85001", enrolment_date=D(2014, 4, 1),
             end_date=None),
    ],
    "unit_costs": [
        dict(item="emergency_spell", year=2015, cost=1609.0, unit="per_spell",
             source="NHS Reference Costs 2015/16"),
    ],
}


def write_tiny_dataset(folder: Path, fmt: str = "parquet") -> Path:
    """Write every table (Parquet with the declared schema, or CSV) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in ROWS.items():
        table = pa.Table.from_pylist(rows, schema=TABLES[name].arrow_schema())
        if fmt == "parquet":
            pq.write_table(table, folder / f"{name}.parquet")
        else:
            table.to_pandas().to_csv(folder / f"{name}.csv", index=False)
    return folder
