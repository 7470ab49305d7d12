"""Generate the data-dictionary docs page from the table declarations (never written by hand).

Example:
    >>> "## `admissions`" in render_markdown()
    True
"""

from __future__ import annotations

from joinedup.data.tables import TABLES

HEADER = """# Data dictionary

Generated from `src/joinedup/data/tables.py` by `joinedup docs`; do not edit by hand.
Each canonical table is declared once, and the same declaration validates inputs
(`joinedup validate-data`), types the simulator's output and writes this page. Columns may be added to
any table; the columns below are the public interface. A dataset folder holds `NAME.parquet`, a folder
`NAME/` of Parquet part files, or `NAME.csv` (read as text and checked against the declared types).
"""


def render_markdown() -> str:
    parts = [HEADER]
    for table in TABLES.values():
        parts.append(f"\n## `{table.name}`\n\n{table.description}\n\n**Source mapping:** {table.sources}\n")
        if table.optional:
            parts.append("\n**Optional:** a dataset may lack this table (collected only by some evaluations).\n")
        if table.primary_key:
            parts.append(f"\n**Primary key:** {', '.join(f'`{k}`' for k in table.primary_key)}\n")
        parts.append("\n| column | type | description | rules |\n|---|---|---|---|\n")
        for col in table.columns:
            rules = "; ".join(col.rules()).replace("|", "\\|")
            parts.append(f"| `{col.name}` | {col.dtype} | {col.description} | {rules} |\n")
        if table.checks:
            parts.append("\nRow rules: " + "; ".join(f"`{c.name}` ({c.description})" for c in table.checks) + ".\n")
    return "".join(parts)
