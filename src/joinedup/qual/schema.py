"""Tables of the qualitative workbench, in the survey store's database (SQLite or PostgreSQL).

Created by migration 4 of :mod:`joinedup.survey.migrations` (``create_all`` with ``checkfirst``, so an
older store gains them and an existing one is left as it is).

* A **project** has members (``coder`` or ``lead``); admins see every project as a lead.
* **Cases** (an interviewee, an organisation, a site) carry **attributes** (site, org type, role, wave).
* A **source** is plain text once read (text, DOCX paragraphs joined by newlines, PDF pages by form
  feeds), optionally of a case; a transcript's speaker **turns** are kept as spans of that text.
* **Codes** form a tree (``parent_id``); **codings** are ``[start, end)`` character offsets (Python
  string indices, i.e. Unicode code points) of a source with a code, a coder and a status: ``blind``
  (a coder's own, unseen by other coders), ``agreed`` (recorded by the lead) or ``suggested`` (assisted
  coding, never final until a person accepts it).
* **Memos** on a project, source, code or coding; a **summary** per framework-matrix cell; an
  **audit** row for every change (who, when, what).

Example:
    >>> from joinedup.qual.schema import QUAL_META
    >>> sorted(QUAL_META.tables)[:3]
    ['qual_audit', 'qual_case_attributes', 'qual_cases']
"""

from __future__ import annotations

import sqlalchemy as sa

QUAL_META = sa.MetaData()
STATUSES = ("blind", "agreed", "suggested")
MEMBER_ROLES = ("coder", "lead")
MEMO_TARGETS = ("project", "source", "code", "coding")

PROJECTS = sa.Table(
    "qual_projects", QUAL_META, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("blind", sa.Boolean, nullable=False, default=True),
    sa.Column("created_by", sa.String(100), nullable=False), sa.Column("created_at", sa.DateTime, nullable=False))
MEMBERS = sa.Table(
    "qual_members", QUAL_META,
    sa.Column("project_id", sa.Integer, sa.ForeignKey("qual_projects.id"), primary_key=True),
    sa.Column("username", sa.String(100), primary_key=True),
    sa.Column("role", sa.String(10), nullable=False))
CASES = sa.Table(
    "qual_cases", QUAL_META, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("qual_projects.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.UniqueConstraint("project_id", "name", name="uq_qual_case"))
CASE_ATTRIBUTES = sa.Table(
    "qual_case_attributes", QUAL_META,
    sa.Column("case_id", sa.Integer, sa.ForeignKey("qual_cases.id"), primary_key=True),
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("value", sa.String(300), nullable=False),
    sa.Index("ix_qual_attr_value", "name", "value"))
SOURCES = sa.Table(
    "qual_sources", QUAL_META, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("qual_projects.id"), nullable=False),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("qual_cases.id"), nullable=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # text, docx, pdf, transcript, survey
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False), sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("project_id", "name", name="uq_qual_source"))
TURNS = sa.Table(
    "qual_turns", QUAL_META,
    sa.Column("source_id", sa.Integer, sa.ForeignKey("qual_sources.id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("speaker", sa.String(100), nullable=False),
    sa.Column("start", sa.Integer, nullable=False), sa.Column("end", sa.Integer, nullable=False))
CODES = sa.Table(
    "qual_codes", QUAL_META, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("qual_projects.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("qual_codes.id"), nullable=True),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.UniqueConstraint("project_id", "name", name="uq_qual_code"))
CODINGS = sa.Table(
    "qual_codings", QUAL_META, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("qual_projects.id"), nullable=False),
    sa.Column("source_id", sa.Integer, sa.ForeignKey("qual_sources.id"), nullable=False),
    sa.Column("start", sa.Integer, nullable=False), sa.Column("end", sa.Integer, nullable=False),
    sa.Column("code_id", sa.Integer, sa.ForeignKey("qual_codes.id"), nullable=False),
    sa.Column("coder", sa.String(100), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    # the same span, code, coder and status once: a double click or a retried post adds no copy
    sa.UniqueConstraint("source_id", "start", "end", "code_id", "coder", "status", name="uq_qual_coding"),
    sa.Index("ix_qual_codings_source", "source_id"), sa.Index("ix_qual_codings_code", "code_id"))
MEMOS = sa.Table(
    "qual_memos", QUAL_META, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("qual_projects.id"), nullable=False),
    sa.Column("target", sa.String(10), nullable=False), sa.Column("target_id", sa.Integer, nullable=False),
    sa.Column("author", sa.String(100), nullable=False), sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False))
SUMMARIES = sa.Table(
    "qual_matrix_summaries", QUAL_META,
    sa.Column("project_id", sa.Integer, sa.ForeignKey("qual_projects.id"), primary_key=True),
    sa.Column("row_key", sa.String(300), primary_key=True),
    sa.Column("code_id", sa.Integer, sa.ForeignKey("qual_codes.id"), primary_key=True),
    sa.Column("summary", sa.Text, nullable=False), sa.Column("author", sa.String(100), nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False))
AUDIT = sa.Table(
    "qual_audit", QUAL_META, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.Integer, nullable=True), sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.String(100), nullable=False), sa.Column("action", sa.String(60), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, default=""))
