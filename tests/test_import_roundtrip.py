"""Simulated England -> HES layout files -> `joinedup import hes-apc` -> the simulator's own canonical
admissions again (person ids through the keyed pseudonym; spell ids renumbered; HES carries no cost)."""

from __future__ import annotations

import pandas as pd
import pytest

from joinedup.data import validate_dataset
from joinedup.data.importers import import_hes_apc, pseudonym
from joinedup.data.importers.hes_ae import import_hes_ae
from joinedup.data.importers.ons_population import import_ons_population
from joinedup.simulate import simulate
from joinedup.simulate.hes_layout import write_hes_layout

KEY = b"round trip key, long enough"


@pytest.fixture(scope="module")
def roundtrip(tmp_path_factory):
    base = tmp_path_factory.mktemp("roundtrip")
    simulate(base / "sim", scale=0.002, seed=5, years=(2013, 2014))
    written = write_hes_layout(base / "sim", base / "hes")
    files = written["hes_apc"]
    report = import_hes_apc(files, base / "imported", KEY)
    import_hes_ae(written["hes_ae"], base / "imported", KEY)
    import_ons_population(written["ons_population"], base / "imported")
    sim = pd.read_parquet(base / "sim" / "admissions")
    imp = pd.read_parquet(base / "imported" / "admissions.parquet")
    return sim, imp, report, files, base


def test_hes_files_are_pipe_delimited_by_financial_year(roundtrip):
    _, _, _, files, _ = roundtrip
    assert [f.name for f in files] == ["hes_apc_2012.txt", "hes_apc_2013.txt", "hes_apc_2014.txt"]
    assert files[0].read_text().splitlines()[0].startswith("HESID|EPIKEY|PROCODE3|ADMIDATE")


def test_import_gives_back_the_simulators_admissions(roundtrip):
    sim, imp, report, _, _ = roundtrip
    assert report.read == len(sim) == report.written and not report.rejected
    assert sum(report.excluded.values()) == 0 and sum(report.deduplicated.values()) == 0
    ids = {p: pseudonym(KEY, str(p)) for p in sim["person_id"].unique()}
    expected = sim.assign(person_id=sim["person_id"].map(ids))
    compare = [c for c in sim.columns if c not in ("spell_id", "cips_id", "cost")]
    key = ["person_id", "admission_date", "discharge_date", "admimeth", "primary_diagnosis", "disdest"]

    def canon(frame):
        frame = frame[compare].astype({"admission_date": "datetime64[ns]", "discharge_date": "datetime64[ns]"})
        return frame.sort_values(key + ["secondary_diagnoses", "procedure"], na_position="first").reset_index(drop=True)

    pd.testing.assert_frame_equal(canon(expected), canon(imp), check_dtype=False)
    assert imp["cost"].isna().all()
    assert imp["transfer_in"].sum() == sim["transfer_in"].sum() > 0


def test_continuous_inpatient_spells_are_the_simulators(roundtrip):
    """Ids differ, so compare each spell's place: starts its CIPS or not, and how many spells the CIPS has."""
    sim, imp, *_ = roundtrip

    def shape(frame):
        size = frame.groupby("cips_id")["spell_id"].transform("size")
        return sorted(zip(frame["admission_date"].astype(str), frame["admimeth"],
                          frame["cips_id"] == frame["spell_id"], size))

    assert shape(sim) == shape(imp)
    assert (sim.groupby("cips_id").size() > 1).sum() > 0  # some transfers do join a CIPS


def test_imported_admissions_validate(roundtrip):
    *_, base = roundtrip
    report = validate_dataset(base / "imported", tables=["admissions", "ae_attendances", "population"])
    assert report.ok, report.summary()


def test_ae_and_population_come_back_too(roundtrip):
    *_, base = roundtrip
    sim = pd.read_parquet(base / "sim" / "ae_attendances")
    imp = pd.read_parquet(base / "imported" / "ae_attendances.parquet")
    ids = {p: pseudonym(KEY, str(p)) for p in sim["person_id"].unique()}
    cols = ["person_id", "area_code", "arrival_date", "department_type", "disposal", "age", "sex"]

    def canon(frame):
        return frame[cols].astype({"arrival_date": "datetime64[ns]"}).sort_values(cols).reset_index(drop=True)

    pd.testing.assert_frame_equal(canon(sim.assign(person_id=sim["person_id"].map(ids))), canon(imp),
                                  check_dtype=False)
    pop_sim = pd.read_parquet(base / "sim" / "population.parquet")
    pop_imp = pd.read_parquet(base / "imported" / "population.parquet")
    key = ["area_code", "year", "sex", "age_band"]
    pd.testing.assert_frame_equal(pop_sim.sort_values(key).reset_index(drop=True),
                                  pop_imp.sort_values(key).reset_index(drop=True), check_dtype=False)
