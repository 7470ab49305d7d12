"""Qualitative coding: codebook, sources and codings (``project``), agreement between coders
(``agreement``), REFI-QDA exchange (``refi``), sentence embeddings (``embed``) and assisted coding
(``suggest``).

``MiniLM``, ``CodeSuggester``, ``Suggestion``, ``accept`` and ``evaluate_heldout`` are importable from
here; they load lazily, so importing the package does not load NumPy models or scikit-learn.

Example:
    >>> from joinedup.survey.coding.project import CodingProject, Codebook     # doctest: +SKIP
"""

_LAZY = {"MiniLM": "embed", "CodeSuggester": "suggest", "Suggestion": "suggest", "accept": "suggest",
         "evaluate_heldout": "suggest"}


def __getattr__(name):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
