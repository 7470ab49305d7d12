"""Schema migrations of the survey store: each step brings a database from version n - 1 to n.

``create_all`` makes missing tables but never changes existing ones, so columns added after a
database was made come here. The version lives in ``schema_version``; a database with no version row
was made by ``create_all`` now (version = latest) or by version 1 (before roles and the audit log).

Example:
    >>> migrate(engine)                                                          # doctest: +SKIP
"""

from __future__ import annotations

import sqlalchemy as sa


def _v2(conn) -> None:
    """Version 2: logins have a role and a site (site dashboards); the audit log table."""
    cols = {c["name"] for c in sa.inspect(conn).get_columns("admins")}
    if "role" not in cols:
        conn.execute(sa.text("ALTER TABLE admins ADD COLUMN role VARCHAR(20) NOT NULL DEFAULT 'admin'"))
    if "site" not in cols:
        conn.execute(sa.text("ALTER TABLE admins ADD COLUMN site VARCHAR(100)"))


def _v3(conn) -> None:
    """Version 3: each wave has a retention period (days after closing); sessions and login failures
    are new tables (made by ``create_all``)."""
    cols = {c["name"] for c in sa.inspect(conn).get_columns("waves")}
    if "retention_days" not in cols:
        conn.execute(sa.text("ALTER TABLE waves ADD COLUMN retention_days INTEGER DEFAULT 730"))
        conn.execute(sa.text("UPDATE waves SET retention_days = 730"))


def _v4(conn) -> None:
    """Version 4: the qualitative workbench's tables (projects, cases, sources, codes, codings, memos,
    matrix summaries, its audit log; see :mod:`joinedup.qual.schema`). Made with ``checkfirst``, so the
    step is safe on a database that has some of them."""
    from joinedup.qual.schema import QUAL_META

    QUAL_META.create_all(conn, checkfirst=True)


def _v5(conn) -> None:
    """Version 5: the initiative register kept in the database, sites' proposals to it, the team's
    decisions and every change (see :mod:`joinedup.process.register_book`); new tables only."""
    from joinedup.process.register_book import REGISTER_META

    REGISTER_META.create_all(conn, checkfirst=True)


STEPS = {2: _v2, 3: _v3, 4: _v4, 5: _v5}


def migrate(engine) -> int:
    """Apply the steps above the database's version; return the version it is at."""
    from joinedup.survey.store import SCHEMA, SCHEMA_VERSION

    with engine.begin() as conn:
        version = conn.execute(sa.select(sa.func.max(SCHEMA.c.version))).scalar()
        if version is None:
            cols = {c["name"] for c in sa.inspect(conn).get_columns("admins")}
            # no version row: made by create_all just now (version 3's tables; the later steps then
            # run, each safe on a new database) or by version 1 or 2
            version = 3 if "role" in cols else 1
            if version == 3 and "retention_days" not in {
                    c["name"] for c in sa.inspect(conn).get_columns("waves")}:
                version = 2  # made by version 2's create_all, which kept no version row
        for step in range(version + 1, SCHEMA_VERSION + 1):
            STEPS[step](conn)
        conn.execute(sa.delete(SCHEMA))
        conn.execute(sa.insert(SCHEMA).values(version=SCHEMA_VERSION))
    return SCHEMA_VERSION
