"""HES APC import on hand-made extracts: every expectation below is worked out by hand from the rows
in ``_extracts`` (see the comment beside each person)."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from hes_extracts import ep, write
from joinedup.data import open_dataset, validate_dataset
from joinedup.data.importers import (
    ImportError_,
    PseudonymKeyError,
    import_hes_apc,
    load_key,
    pseudonym,
)
from joinedup.indicators import events

KEY = b"test key: sixteen bytes or more"


def _extracts(folder):
    year1 = [  # financial year 2013/14, pipe-delimited as NHS Digital delivers it
        ep("P1", "RAA", "2014-03-28", "2014-03-28", "2014-03-30", spelend="N"),  # spell crosses into 2014/15
        ep("P5", "RAA", "2014-03-20", "2014-03-20", "", stat="1", spelend="N"),   # unfinished at year end
        ep("P7", "RAA", "2014-02-01", "2014-02-01", "2014-02-04", epikey=900),    # duplicate, EPIKEY 900
        ep("P9", "RAA", "2014-02-10", "2014-02-10", "2014-02-10", classpat="3", admimeth="11"),  # regular
        ep("", "RAA", "2014-01-01", "2014-01-01", "2014-01-02"),                  # no person: rejected, row 5
    ]
    year2 = [  # 2014/15 as CSV
        ep("P1", "RAA", "", "2014-03-30", "2014-04-03", order=2),               # ADMIDATE missing: filled
        ep("P5", "RAA", "2014-03-20", "2014-03-20", "2014-04-05"),              # the finished copy
        ep("P7", "RAA", "2014-02-01", "2014-02-01", "2014-02-04", epikey=901),    # same episode, EPIKEY 901
        # transfer chain: RAA -> RBB (2B, from 51) -> RCC (81, a day later), then a new admission
        ep("P2", "RAA", "2015-01-10", "2015-01-10", "2015-01-12", disdest="51"),
        ep("P2", "RBB", "2015-01-12", "2015-01-12", "2015-01-20", admimeth="2B", admisorc="51", disdest="51"),
        ep("P2", "RCC", "2015-01-21", "2015-01-21", "2015-01-25", admimeth="81", admisorc="51"),
        ep("P2", "RAA", "2015-02-01", "2015-02-01", "2015-02-02"),
        # same-day readmission at the same provider: two spells, the second a day-0 readmission
        ep("P3", "RAA", "2015-06-01", "2015-06-01", "2015-06-01"),
        ep("P3", "RAA", "2015-06-01", "2015-06-01", "2015-06-03"),
        # same-day transfer: discharged to another hospital (51) and admitted there from one (51)
        ep("P4", "RAA", "2015-06-01", "2015-06-01", "2015-06-01", disdest="51"),
        ep("P4", "RBB", "2015-06-01", "2015-06-01", "2015-06-04", admisorc="51"),
        ep("P6", "RAA", "2015-03-25", "2015-03-25", "", stat="1", spelend="N"),   # open spell
        ep("P8", "RAA", "2014-07-01", "2014-07-01", "2014-07-03", age="7003", sex="0", gpprac="V81999",
           diag="P599"),                                                        # infant, sex not known
        ep("P11", "RAA", "", "2015-13-45", "2015-12-01"),                       # no date parses: row 14
        ep("P12", "RAA", "2015-05-01", "2015-05-01", "2015-05-02", admimeth="ZZ"),   # row 15
        ep("P13", "RAA", "2015-05-01", "2015-05-01", "2015-05-02", area="W06000001"),  # lives in Wales
        ep("P14", "RAA", "2015-05-01", "2015-05-01", "2015-05-02", diag="12X"),     # row 17
    ]
    return [write(folder / "hes_apc_1314.txt", year1), write(folder / "hes_apc_1415.csv", year2, ",")]


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hes")
    files = _extracts(folder)
    out = folder / "dataset"
    report = import_hes_apc(files, out, KEY)
    adm = pd.read_parquet(out / "admissions.parquet")
    inverse = {pseudonym(KEY, f"P{i}"): f"P{i}" for i in range(1, 15)}
    adm["who"] = adm["person_id"].map(inverse)
    return report, adm, out, files


def test_counts_read_written_deduplicated_excluded_rejected(imported):
    report, adm, _, _ = imported
    assert report.read == 22 and report.written == len(adm) == 13
    assert list(report.deduplicated.values()) == [1, 1]         # P7's second EPIKEY; P5's unfinished copy
    assert sum(report.excluded.values()) == 2                   # P9 regular attender, P13 outside England
    assert report.rejected == {"episodes: no admission date and no episode start that parses": 1,
                               "episodes: no person identifier": 1,
                               "spells: primary diagnosis is not an ICD-10 code": 1,
                               "spells: unknown admission method code": 1}
    assert "rejected: 4" in report.summary() and "records/s" in report.summary()


def test_rejects_file_names_source_row_field_and_reason(imported):
    _, _, out, _files = imported
    with open(out / "rejects" / "admissions.csv", newline="") as fh:
        rows = [(r["source_file"].split("/")[-1], int(r["row"]), r["field"]) for r in csv.DictReader(fh)]
    assert rows == [("hes_apc_1314.txt", 5, "HESID/TOKEN_PERSON_ID"), ("hes_apc_1415.csv", 14, "EPISTART"),
                    ("hes_apc_1415.csv", 15, "ADMIMETH"), ("hes_apc_1415.csv", 17, "DIAG_4_01")]


def test_spells_from_episodes_across_years(imported):
    _, adm, _, _ = imported
    assert sorted(adm["who"].value_counts().items()) == [("P1", 1), ("P2", 4), ("P3", 2), ("P4", 2), ("P5", 1),
                                                         ("P6", 1), ("P7", 1), ("P8", 1)]
    p1 = adm[adm.who == "P1"].iloc[0]  # admission facts from episode 1 (2013/14), discharge from episode 2
    assert (str(p1.admission_date), str(p1.discharge_date), p1.disdest) == ("2014-03-28", "2014-04-03", "19")
    p5 = adm[adm.who == "P5"].iloc[0]  # the finished copy replaced the unfinished one
    assert str(p5.discharge_date) == "2014-04-05"
    p6 = adm[adm.who == "P6"].iloc[0]  # open spell: an admission without a discharge
    assert pd.isna(p6.discharge_date) and pd.isna(p6.disdest) and p6.admission_method == "emergency"


def test_transfer_chain_is_one_cips(imported):
    _, adm, _, _ = imported
    p2 = adm[adm.who == "P2"].sort_values("admission_date")
    assert p2["transfer_in"].tolist() == [False, True, True, False]
    assert p2["cips_id"].nunique() == 2 and p2["cips_id"].iloc[0] == p2["spell_id"].iloc[0] == p2["cips_id"].iloc[2]
    p4 = adm[adm.who == "P4"].sort_values("discharge_date")  # same-day transfer
    assert p4["transfer_in"].tolist() == [False, True] and p4["cips_id"].nunique() == 1
    p3 = adm[adm.who == "P3"]  # same-day readmission: two CIPS, neither a transfer
    assert p3["cips_id"].nunique() == 2 and not p3["transfer_in"].any()


def test_infant_unknown_sex_and_no_practice(imported):
    _, adm, _, _ = imported
    p8 = adm[adm.who == "P8"].iloc[0]
    assert p8.age == 0 and pd.isna(p8.sex) and pd.isna(p8.practice_code)
    assert adm[adm.who == "P1"].iloc[0].sex == "F" and adm[adm.who == "P1"].iloc[0].practice_code == "A81001"


def test_output_is_valid_canonical_admissions(imported):
    _, _, out, _ = imported
    report = validate_dataset(out, tables=["admissions"])
    assert report.ok, report.summary()


def test_indicators_count_cips_starts_and_never_a_transfer_as_readmission(imported):
    _, _, out, _ = imported
    ds = open_dataset(out)
    # Emergency CIPS starts: P1, P2 (RAA twice; 2B and 81 are transfers), P3 twice, P4 once, P5, P6, P7, P8.
    assert int(events.emergency(ds).count().execute()) == 10
    readm = events.readmissions_30d(ds).execute()
    # Index discharges: P1, P2's last, both of P3, P4's second, P5, P7, P8 (P2's and P4's transferred
    # spells continue their CIPS; P6 is open). Only P3's first is followed by an emergency admission.
    assert len(readm) == 8 and int(readm["hit"].sum()) == 1
    bed = events.emergency_bed_days(ds).execute()   # every emergency spell with a discharge (not P6)
    assert len(bed) == 11


def test_key_is_required_and_kept_outside_outputs(tmp_path, monkeypatch):
    monkeypatch.delenv("JOINEDUP_PSEUDONYM_KEY", raising=False)
    with pytest.raises(PseudonymKeyError, match="no pseudonymisation key"):
        load_key(None)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "k.txt").write_text("x" * 40)
    with pytest.raises(PseudonymKeyError, match="inside the output folder"):
        load_key(tmp_path / "out" / "k.txt", tmp_path / "out")
    monkeypatch.setenv("JOINEDUP_PSEUDONYM_KEY", "short")
    with pytest.raises(PseudonymKeyError, match="at least 16"):
        load_key(None)


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("HESID|PROCODE3\nP1|RAA\n")
    with pytest.raises(ImportError_, match=r"bad.txt: column ADMIDATE is missing"):
        import_hes_apc([path], tmp_path / "out", KEY)


def test_cli_prints_counts_and_refuses_without_key(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from joinedup.cli import app

    files = _extracts(tmp_path)
    key = tmp_path / "key.txt"
    key.write_text("k" * 32)
    args = ["import", "hes-apc", *[a for f in files for a in ("--in", str(f))], "--out", str(tmp_path / "ds")]
    result = CliRunner().invoke(app, [*args, "--key-file", str(key)])
    assert result.exit_code == 0, result.output
    assert "rejected: 4" in result.output and "rows/s" in result.output
    monkeypatch.delenv("JOINEDUP_PSEUDONYM_KEY", raising=False)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "no pseudonymisation key" in result.output


def test_standardised_rates_count_events_without_sex(tmp_path):
    """A spell whose sex is not known stays in the data; a DSR cannot place it in a stratum, so
    monthly_counts reports it as not standardised (1 of the tiny dataset's 2 emergency spells)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from joinedup.data.tables import TABLES
    from joinedup.indicators.catalogue import CATALOGUE
    from joinedup.indicators.compute import monthly_counts
    from tiny_dataset import ROWS, write_tiny_dataset

    folder = write_tiny_dataset(tmp_path / "tiny")
    rows = [dict(r) for r in ROWS["admissions"]]
    rows[0]["sex"] = None
    pq.write_table(pa.Table.from_pylist(rows, schema=TABLES["admissions"].arrow_schema()),
                   folder / "admissions.parquet")
    assert validate_dataset(folder).ok
    counts = monthly_counts(open_dataset(folder), CATALOGUE["emergency_admissions"])
    assert counts.not_standardised == 1.0 and counts.events["numerator"].sum() == 1.0
    crude = monthly_counts(open_dataset(folder), CATALOGUE["emergency_bed_days"])
    assert crude.not_standardised == 0.0 and crude.events["numerator"].sum() == 4 + 9  # both spells' bed days


def test_cips_window_and_transfers_follow_nhs_digital_methodology(tmp_path):
    """NHS Digital's CIPS rule (via epidm::cip_spells): linked when the next spell starts 0-2 days after
    a discharge and DISDEST is 49-53/84, or ADMISORC 49-53/87, or ADMIMETH 2B/81; never when a
    discharge home (19) is followed by an admission through A&E (21) from another provider's A&E (51)."""
    rows = [
        ep("Q1", "RAA", "2015-01-01", "2015-01-01", "2015-01-05", disdest="49"),    # high security ...
        ep("Q1", "RBB", "2015-01-07", "2015-01-07", "2015-01-09"),                  # ... 2 days later: linked
        ep("Q2", "RAA", "2015-01-01", "2015-01-01", "2015-01-05", disdest="84"),    # non-NHS medium secure
        ep("Q2", "RBB", "2015-01-06", "2015-01-06", "2015-01-09"),                  # 1 day later: linked
        ep("Q3", "RAA", "2015-01-01", "2015-01-01", "2015-01-05"),                  # home, then same day
        ep("Q3", "RBB", "2015-01-05", "2015-01-05", "2015-01-09", admisorc="87", admimeth="22"),  # from non-NHS: linked
        ep("Q4", "RAA", "2015-01-01", "2015-01-01", "2015-01-05"),                  # home, then same day via
        ep("Q4", "RBB", "2015-01-05", "2015-01-05", "2015-01-09", admisorc="51"),   # A&E from another's A&E: new
        ep("Q5", "RAA", "2015-01-01", "2015-01-01", "2015-01-05", disdest="51"),    # to another hospital but
        ep("Q5", "RBB", "2015-01-08", "2015-01-08", "2015-01-09"),                  # 3 days later: new
        ep("Q6", "RAA", "2015-01-01", "2015-01-01", "2015-01-05", disdest="51"),    # 2 days later: linked
        ep("Q6", "RBB", "2015-01-07", "2015-01-07", "2015-01-09"),
    ]
    out = tmp_path / "ds"
    import_hes_apc([write(tmp_path / "cips.txt", rows)], out, KEY)
    adm = pd.read_parquet(out / "admissions.parquet")
    adm["who"] = adm["person_id"].map({pseudonym(KEY, f"Q{i}"): f"Q{i}" for i in range(1, 7)})
    cips = adm.groupby("who")["cips_id"].nunique().to_dict()
    assert cips == {"Q1": 1, "Q2": 1, "Q3": 1, "Q4": 2, "Q5": 2, "Q6": 1}
    second = adm.sort_values("admission_date").groupby("who")["transfer_in"].last().to_dict()
    assert second == {"Q1": True, "Q2": True, "Q3": True, "Q4": False, "Q5": False, "Q6": True}
    # Emergency CIPS starts: one per linked person, two for Q4 and Q5.
    assert int(events.emergency(open_dataset(out)).count().execute()) == 8
