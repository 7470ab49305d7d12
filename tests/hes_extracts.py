"""Hand-made HES APC extracts for the importer tests: each person is one situation, and the expected
result of each is worked out by hand in tests/test_import_hes_apc.py."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

COLUMNS = ["HESID", "EPIKEY", "PROCODE3", "ADMIDATE", "EPIORDER", "EPISTART", "EPIEND", "EPISTAT", "DISDATE",
           "SPELEND", "ADMIMETH", "ADMISORC", "DISDEST", "DISMETH", "CLASSPAT", "STARTAGE", "SEX", "DIAG_4_01",
           "DIAG_4_02", "OPERTN_4_01", "RESLADST_ONS", "GPPRAC"]
_keys = itertools.count(1)


def ep(hesid, procode, admidate, epistart, epiend, *, order=1, stat="3", disdate="", spelend="Y",
       admimeth="21", admisorc="19", disdest="19", classpat="1", age="70", sex="2", diag="I500",
       diag2="", opertn="-", area="E06000001", gpprac="A81001", epikey=None):
    """One episode row with HES field names (empty strings where HES would leave a field blank)."""
    ended = spelend == "Y"
    return dict(HESID=hesid, EPIKEY=str(epikey or next(_keys)), PROCODE3=procode, ADMIDATE=admidate,
                EPIORDER=str(order), EPISTART=epistart, EPIEND=epiend, EPISTAT=stat,
                DISDATE=disdate or (epiend if ended else ""), SPELEND=spelend, ADMIMETH=admimeth,
                ADMISORC=admisorc, DISDEST=disdest if ended else "98", DISMETH="1" if ended else "8",
                CLASSPAT=classpat, STARTAGE=age, SEX=sex, DIAG_4_01=diag, DIAG_4_02=diag2, OPERTN_4_01=opertn,
                RESLADST_ONS=area, GPPRAC=gpprac)


def write(path: Path, rows: list[dict], delimiter: str = "|") -> Path:
    """Write rows as NHS Digital delivers HES (pipe-delimited text with a header) or as CSV."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path
