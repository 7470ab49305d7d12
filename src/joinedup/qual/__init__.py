"""The qualitative workbench: projects of sources, cases and codes coded in the browser by several
coders (blind), with agreement, retrieval, a framework matrix and REFI-QDA exchange. The statistics
and the REFI format come from :mod:`joinedup.survey.coding`; this package keeps the data in the
survey store and serves the web pages (``joinedup.web.qual_routes``) and the CLI (``joinedup coding``).

Example:
    >>> from joinedup.qual.projects import Workbench                             # doctest: +SKIP
"""
