"""Assisted coding: suggest codes for uncoded text from human-coded examples.

Texts are embedded with all-MiniLM-L6-v2 (:mod:`joinedup.survey.coding.embed`); each code gets a
logistic regression (class_weight="balanced", so rare codes are not drowned) on the embeddings, or, with
fewer than 3 positive examples, a nearest-centroid score (cosine similarity to the mean of its examples,
mapped to 0-1) that is honest about how little it has seen. Suggestions are never final: they carry
``accepted=False`` until a person accepts one with :func:`accept`, which makes the coding row and
records who accepted it. :func:`evaluate_heldout` reports agreement of suggestions with human coders on
text the model did not see (precision, recall, F1, Cohen's kappa per code).

Example:
    >>> s = CodeSuggester().fit(texts, [{"IT"}, {"WORKFORCE", "FUNDING"}, ...])  # doctest: +SKIP
    >>> s.suggest(["nobody to do home care visits"])[0][0]                       # doctest: +SKIP
    Suggestion(code='WORKFORCE', score=0.91, accepted=False)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MIN_POSITIVES = 3


@dataclass(frozen=True)
class Suggestion:
    code: str
    score: float
    accepted: bool = False


def accept(suggestion: Suggestion, coder: str, source_id: str) -> dict:
    """A coding row for an accepted suggestion (whole source), naming who accepted it."""
    if not coder:
        raise ValueError("a suggestion is accepted by a named coder")
    return {"source_id": source_id, "start": None, "end": None, "code": suggestion.code, "coder": coder,
            "memo": f"assisted (accepted by {coder}; score {suggestion.score:.2f})"}


class _Embeddings:
    """Embeddings cached by text hash within a process (the same answer is often scored many times)."""

    def __init__(self, model=None):
        self.model = model
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        from joinedup.survey.coding.embed import default_model

        model = self.model or default_model()
        keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        todo = [i for i, k in enumerate(keys) if k not in self.cache]
        if todo:
            for i, vec in zip(todo, model.encode([texts[i] for i in todo])):
                self.cache[keys[i]] = vec
        return np.stack([self.cache[k] for k in keys]) if keys else np.zeros((0, 384), np.float32)


@dataclass
class CodeSuggester:
    model: object = None
    codes: list[str] = field(default_factory=list)
    _fits: dict = field(default_factory=dict, repr=False)
    _embed: _Embeddings | None = field(default=None, repr=False)

    def fit(self, texts: list[str], code_sets: list[set[str]], codes: list[str] | None = None) -> CodeSuggester:
        """Train one scorer per code on human-coded ``texts`` (``code_sets[i]``: codes of ``texts[i]``)."""
        from sklearn.linear_model import LogisticRegression

        if len(texts) == 0 or len(texts) != len(code_sets):
            raise ValueError(f"need as many code sets as texts ({len(texts)} texts, {len(code_sets)} code sets), "
                             "and at least one")
        seen = sorted(set().union(*code_sets))
        self.codes = list(codes) if codes is not None else seen
        unknown = sorted(set(seen) - set(self.codes))
        if unknown:
            raise ValueError(f"training codes not in the codebook: {', '.join(unknown)}")
        self._embed = self._embed or _Embeddings(self.model)
        x = self._embed(list(texts))
        for code in self.codes:
            y = np.array([code in s for s in code_sets], dtype=int)
            if y.sum() >= MIN_POSITIVES and y.sum() < len(y):
                clf = LogisticRegression(class_weight="balanced", max_iter=2000, C=4.0).fit(x, y)
                self._fits[code] = ("logistic", clf)
            elif y.sum() > 0:
                centre = x[y == 1].mean(0)
                self._fits[code] = ("centroid", centre / np.linalg.norm(centre))
        return self

    def scores(self, texts: list[str]) -> pd.DataFrame:
        """Score (0-1) of every code for every text (texts x codes)."""
        if self._embed is None:
            raise ValueError("fit the suggester on coded examples first")
        x = self._embed(list(texts))
        cols = {}
        for code in self.codes:
            kind, fit = self._fits.get(code, (None, None))
            if kind == "logistic":
                cols[code] = fit.predict_proba(x)[:, 1]
            elif kind == "centroid":
                cols[code] = (x @ fit + 1) / 2
            else:
                cols[code] = np.zeros(len(texts))
        return pd.DataFrame(cols)

    def suggest(self, texts: list[str], top_k: int = 3, threshold: float = 0.5) -> list[list[Suggestion]]:
        """Up to ``top_k`` codes scoring at least ``threshold`` per text, best first, never accepted."""
        s = self.scores(texts)
        out = []
        for _, row in s.iterrows():
            best = row[row >= threshold].sort_values(ascending=False).head(top_k)
            out.append([Suggestion(c, float(v)) for c, v in best.items()])
        return out


def evaluate_heldout(texts: list[str], code_sets: list[set[str]], test_size: float = 0.3, seed: int = 2013,
                     threshold: float = 0.5, model=None) -> pd.DataFrame:
    """Train on part of the human-coded texts, suggest for the rest, and compare with the humans.

    One row per code (n_train_pos, n_test_pos, precision, recall, f1, kappa) and a ``(micro)`` row.
    """
    from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support

    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(texts))
    n_test = max(1, int(round(test_size * len(texts))))
    test, train = idx[:n_test], idx[n_test:]
    s = CodeSuggester(model).fit([texts[i] for i in train], [code_sets[i] for i in train])
    pred = s.scores([texts[i] for i in test]) >= threshold
    rows, all_true, all_pred = [], [], []
    for code in s.codes:
        y = np.array([code in code_sets[i] for i in test])
        p = pred[code].to_numpy()
        pr, rc, f1, _ = precision_recall_fscore_support(y, p, average="binary", zero_division=0)
        kappa = cohen_kappa_score(y, p) if len(set(y) | set(p)) > 1 else float("nan")
        rows.append({"code": code, "n_train_pos": int(sum(code in code_sets[i] for i in train)),
                     "n_test_pos": int(y.sum()), "precision": pr, "recall": rc, "f1": f1, "kappa": kappa})
        all_true.append(y)
        all_pred.append(p)
    t, p = np.concatenate(all_true), np.concatenate(all_pred)
    pr, rc, f1, _ = precision_recall_fscore_support(t, p, average="binary", zero_division=0)
    rows.append({"code": "(micro)", "n_train_pos": int(sum(r["n_train_pos"] for r in rows)),
                 "n_test_pos": int(t.sum()), "precision": pr, "recall": rc, "f1": f1, "kappa": cohen_kappa_score(t, p)})
    return pd.DataFrame(rows)
