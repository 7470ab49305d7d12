"""ONS populations, GP registrations and HES A&E imports on hand-made files; each expectation is worked
out by hand from the rows written in the test."""

from __future__ import annotations

import csv

import pandas as pd

from joinedup.data import validate_dataset
from joinedup.data.importers import pseudonym
from joinedup.data.importers.gp_registrations import import_gp_registrations
from joinedup.data.importers.hes_ae import import_hes_ae
from joinedup.data.importers.ons_population import import_ons_population

KEY = b"test key: sixteen bytes or more"


def _write(path, header, rows, delimiter=","):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def _rejects(out, table):
    with open(out / "rejects" / f"{table}.csv", newline="") as fh:
        return [(int(r["row"]), r["field"]) for r in csv.DictReader(fh)]


def test_ons_single_years_sum_to_five_year_bands(tmp_path):
    rows = [["E06000001", "Hartlepool", "E", "1", str(a), "10", "11"] for a in range(5)]     # rows 1-5
    rows += [["E06000001", "Hartlepool", "E", "1", "89", "3", "4"],                          # row 6
             ["E06000001", "Hartlepool", "E", "1", "90", "7", "8"],                          # row 7: 90+
             ["E06000001", "Hartlepool", "E", "2", "0", "9", "9"],                           # row 8
             ["W06000001", "Anglesey", "W", "1", "0", "5", "5"],                             # row 9: Wales
             ["E06000001", "Hartlepool", "E", "1", "abc", "1", "1"],                         # row 10: bad age
             ["E06000001", "Hartlepool", "E", "3", "0", "1", "1"]]                           # row 11: bad sex
    path = _write(tmp_path / "myeb1.csv", ["ladcode21", "laname21", "country", "sex", "age", "population_2020",
                                           "population_2021"], rows)
    report = import_ons_population([path], tmp_path / "ds")
    pop = pd.read_parquet(tmp_path / "ds" / "population.parquet")
    got = {(r.year, r.sex, r.age_band): r.persons for r in pop.itertuples()}
    assert got == {(2020, "M", "0-4"): 50, (2021, "M", "0-4"): 55, (2020, "M", "85-89"): 3,
                   (2021, "M", "85-89"): 4, (2020, "M", "90+"): 7, (2021, "M", "90+"): 8,
                   (2020, "F", "0-4"): 9, (2021, "F", "0-4"): 9}
    assert report.read == 11 and sum(report.excluded.values()) == 2   # Wales, in both year columns
    assert _rejects(tmp_path / "ds", "population") == [(10, "AGE"), (11, "SEX")]
    assert validate_dataset(tmp_path / "ds", tables=["population"]).ok


def test_gp_registrations_bands_totals_and_rejects(tmp_path):
    head = ["PUBLICATION", "EXTRACT_DATE", "TYPE", "CCG_CODE", "ONS_CCG_CODE", "CODE", "POSTCODE", "SEX",
            "AGE_GROUP_5", "NUMBER_OF_PATIENTS"]
    common = ["GP_PRAC_PAT_LIST", "01APR2024", "GP", "00L", "E38000130"]
    rows = [common + ["A81001", "TS18 1HU", "MALE", "0_4", "100"],       # 1
            common + ["A81001", "TS18 1HU", "FEMALE", "0_4", "90"],      # 2
            common + ["A81001", "TS18 1HU", "MALE", "90_94", "5"],       # 3
            common + ["A81001", "TS18 1HU", "MALE", "95+", "2"],         # 4: summed into 90+ with row 3
            common + ["A81001", "TS18 1HU", "ALL", "ALL", "197"],        # 5: total, excluded
            common + ["A81001", "TS18 1HU", "MALE", "ALL", "107"],       # 6: total, excluded
            common + ["A81002", "TS18 2AW", "MALE", "0_4", "x"],         # 7: rejected
            common + ["Z1", "TS18 2AW", "MALE", "0_4", "3"]]             # 8: rejected, not a practice code
    path = _write(tmp_path / "gp-reg-pat-prac-quin-age.csv", head, rows)
    report = import_gp_registrations([path], tmp_path / "ds")
    pp = pd.read_parquet(tmp_path / "ds" / "practice_population.parquet")
    got = {(r.practice_code, str(r.extract_date)[:10], r.sex, r.age_band): r.persons for r in pp.itertuples()}
    assert got == {("A81001", "2024-04-01", "M", "0-4"): 100, ("A81001", "2024-04-01", "F", "0-4"): 90,
                   ("A81001", "2024-04-01", "M", "90+"): 7}
    assert sum(report.excluded.values()) == 2
    assert _rejects(tmp_path / "ds", "practice_population") == [(7, "NUMBER_OF_PATIENTS"), (8, "ORG_CODE")]


def test_hes_ae_attendances(tmp_path):
    head = ["HESID", "AEKEY", "ARRIVALDATE", "AEDEPTTYPE", "AEATTENDDISP", "ARRIVALAGE", "SEX", "RESLADST_ONS"]
    rows = [["P1", "1", "2015-01-01", "01", "01", "70", "2", "E06000001"],   # 1
            ["P1", "1", "2015-01-01", "01", "01", "70", "2", "E06000001"],   # 2: the same row again: de-duplicated
            ["P2", "3", "2015-01-02", "04", "03", "7002", "9", "E06000001"],  # 3: infant, sex not known, UTC
            ["P3", "4", "2015-01-03", "01", "99", "40", "1", "E06000001"],    # 4: disposal not known: rejected
            ["P4", "5", "2015-01-03", "01", "02", "40", "1", "S12000033"],    # 5: Scotland: excluded
            ["P5", "6", "bad", "01", "02", "40", "1", "E06000001"],           # 6: date: rejected
            ["P6", "7", "2015-01-05", "01", "02", "40", "1", "E06000001"],    # 7 and 8: two attendances that
            ["P6", "8", "2015-01-05", "01", "02", "40", "1", "E06000001"]]    # differ only in AEKEY: both kept
    path = _write(tmp_path / "hes_ae.txt", head, rows, "|")
    report = import_hes_ae([path], tmp_path / "ds", KEY)
    ae = pd.read_parquet(tmp_path / "ds" / "ae_attendances.parquet").set_index("person_id")
    assert report.read == 8 and report.written == 4 and sum(report.deduplicated.values()) == 1
    p1, p2 = ae.loc[pseudonym(KEY, "P1")], ae.loc[pseudonym(KEY, "P2")]
    assert (p1.disposal, p1.department_type, p1.age, p1.sex) == ("admitted", 1, 70, "F")
    assert (p2.disposal, p2.department_type, p2.age) == ("discharged", 3, 0) and pd.isna(p2.sex)
    assert _rejects(tmp_path / "ds", "ae_attendances") == [(4, "AEATTENDDISP"), (6, "ARRIVALDATE")]
    assert sum(report.excluded.values()) == 1
    assert validate_dataset(tmp_path / "ds", tables=["ae_attendances"]).ok


def test_ecds_native_names_import_beside_hes_ae(tmp_path):
    """ECDS under SUS+ ECDS names (Der_Pseudo_NHS_Number, EC_Ident, Arrival_Date, EC_Department_Type,
    Age_At_Arrival, Sex, Der_Postcode_Dist_Unitary_Auth, Discharge_Destination_SNOMED_CT) imports with a
    HES A&E year in one command; SNOMED destinations grouped as epidm groups them."""
    hes = _write(tmp_path / "hes_ae_1819.txt",
                 ["HESID", "AEKEY", "ARRIVALDATE", "AEDEPTTYPE", "AEATTENDDISP", "ARRIVALAGE", "SEX", "RESLADST_ONS"],
                 [["P1", "1", "2019-03-30", "01", "01", "70", "2", "E06000001"]], "|")
    head = ["Der_Pseudo_NHS_Number", "EC_Ident", "Arrival_Date", "EC_Department_Type", "EC_AttendanceCategory",
            "EC_Arrival_Mode_SNOMED_CT", "Age_At_Arrival", "Sex", "Der_Postcode_Dist_Unitary_Auth",
            "Discharge_Destination_SNOMED_CT"]
    rows = [["P1", "11", "2019-04-02", "01", "1", "1048031000000100", "70", "2", "E06000001", "306706006"],  # ward
            ["P2", "12", "2019-04-03", "03", "1", "1048071000000103", "30", "1", "E06000001", "306689006"],  # home
            ["P3", "13", "2019-04-03", "01", "1", "", "88", "2", "E06000001", "305398007"],                 # died
            ["P4", "14", "2019-04-04", "01", "1", "", "60", "1", "E06000001", "19712007"],                  # transfer
            ["P5", "15", "2019-04-04", "01", "1", "", "45", "X", "E06000001", "1066331000000109"],          # AEC
            ["P6", "16", "2019-04-05", "01", "1", "", "45", "1", "E06000001", "123456789"],                 # 6: unknown
            ["P7", "17", "2019-04-05", "05", "1", "", "45", "1", "E06000001", "306689006"],                 # 7: type 5
            ["P8", "18", "2019-04-06", "01", "1", "", "45", "1", "E06000001", ""]]                          # 8: blank
    ecds = _write(tmp_path / "ecds_1920.csv", head, rows)
    report = import_hes_ae([hes, ecds], tmp_path / "ds", KEY)
    ae = pd.read_parquet(tmp_path / "ds" / "ae_attendances.parquet")
    who = {pseudonym(KEY, f"P{i}"): f"P{i}" for i in range(1, 9)}
    got = sorted((who[r.person_id], str(r.arrival_date), r.disposal, r.department_type)
                 for r in ae.itertuples())
    assert got == [("P1", "2019-03-30", "admitted", 1), ("P1", "2019-04-02", "admitted", 1),
                   ("P2", "2019-04-03", "discharged", 3), ("P3", "2019-04-03", "died", 1),
                   ("P4", "2019-04-04", "transferred", 1), ("P5", "2019-04-04", "referred", 1)]
    assert report.read == 9 and report.written == 6
    assert _rejects(tmp_path / "ds", "ae_attendances") == [(6, "DISCHARGE_DESTINATION_SNOMED_CT"), (7, "AEDEPTTYPE"),
                                                           (8, "AEATTENDDISP")]
    assert validate_dataset(tmp_path / "ds", tables=["ae_attendances"]).ok


def test_ecds_file_missing_a_field_names_both_names(tmp_path):
    import pytest

    from joinedup.data.importers import ImportError_

    path = _write(tmp_path / "ecds.csv", ["Der_Pseudo_NHS_Number", "Arrival_Date"], [["P1", "2019-04-02"]])
    with pytest.raises(ImportError_, match="AEDEPTTYPE or EC_DEPARTMENT_TYPE is missing"):
        import_hes_ae([path], tmp_path / "ds", KEY)


def test_delayed_transfers_la_table(tmp_path):
    """The DTOC local authority table: one row per authority and month, total delayed days by agency."""
    from joinedup.data.importers.delayed_transfers import import_delayed_transfers

    head = ["LA Code", "LA Name", "Period", "NHS", "Social Care", "Both", "Total"]
    rows = [["E06000001", "Hartlepool", "February 2019", "120", "45", "0", "165"],      # 1
            ["E08000016", "Barnsley", "2019-02", "1,210", "300", "12", "1522"],         # 2: thousands comma
            ["E92000001", "England", "2019-02", "50000", "20000", "5000", "75000"],    # 3: England: excluded
            ["00CN", "Old code", "2019-02", "1", "1", "1", "3"],                         # 4: rejected (code)
            ["E06000002", "Middlesbrough", "Febtember 2019", "1", "1", "1", "3"],        # 5: rejected (month)
            ["E06000003", "Redcar", "Feb-19", "-", "1", "1", "2"],                       # 6: rejected (NHS days)
            ["E06000001", "Hartlepool", "February 2019", "120", "45", "0", "165"],      # 7: identical: one
            ["E06000001", "Hartlepool", "2019-02-01", "121", "45", "0", "166"]]         # 8: revision: rejected
    path = _write(tmp_path / "dtoc_la.csv", head, rows)
    report = import_delayed_transfers([path], tmp_path / "ds")
    dt = pd.read_parquet(tmp_path / "ds" / "delayed_transfers.parquet")
    got = sorted((r.area_code, str(r.month), r.responsible_org, r.delayed_days) for r in dt.itertuples())
    assert got == [("E06000001", "2019-02-01", "both", 0), ("E06000001", "2019-02-01", "nhs", 120),
                   ("E06000001", "2019-02-01", "social_care", 45), ("E08000016", "2019-02-01", "both", 12),
                   ("E08000016", "2019-02-01", "nhs", 1210), ("E08000016", "2019-02-01", "social_care", 300)]
    assert report.read == 8 and sum(report.deduplicated.values()) == 1 and sum(report.excluded.values()) == 1
    assert _rejects(tmp_path / "ds", "delayed_transfers") == [(4, "LA_CODE"), (5, "PERIOD"), (6, "DAYS_NHS"),
                                                              (8, "PERIOD")]
    assert validate_dataset(tmp_path / "ds", tables=["delayed_transfers"]).ok
