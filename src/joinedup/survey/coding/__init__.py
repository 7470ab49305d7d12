"""Qualitative coding: codebook, sources and codings (``project``), agreement between coders
(``agreement``), REFI-QDA exchange (``refi``), sentence embeddings (``embed``) and assisted coding
(``suggest``).

Example:
    >>> from joinedup.survey.coding.project import CodingProject, Codebook     # doctest: +SKIP
"""
