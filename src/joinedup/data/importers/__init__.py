"""Importers from NHS extract layouts to the canonical tables, one module per extract type.

Each reads its files with DuckDB as text, applies the published cleaning rules (documented beside
each rule), pseudonymises person identifiers with a keyed hash, writes the canonical table into a
dataset folder and every record it cannot use into ``DATASET/rejects/<table>.csv``, and returns an
:class:`~joinedup.data.importers.common.ImportReport` of counts.

Example:
    >>> from joinedup.data.importers import import_hes_apc, load_key      # doctest: +SKIP
"""

from joinedup.data.importers.common import ImportError_, ImportReport
from joinedup.data.importers.hes_apc import import_hes_apc
from joinedup.data.importers.pseudonym import PseudonymKeyError, load_key, pseudonym

__all__ = ["ImportError_", "ImportReport", "PseudonymKeyError", "import_hes_apc", "load_key", "pseudonym"]
