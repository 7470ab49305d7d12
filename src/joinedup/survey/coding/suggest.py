"""Assisted coding: suggest codes for uncoded text from human-coded examples.

Texts are embedded with all-MiniLM-L6-v2 (:mod:`joinedup.survey.coding.embed`); each code gets a
logistic regression (class_weight="balanced", so rare codes are not drowned) on the embeddings, or, with
fewer than 3 positive examples (``MIN_POSITIVES``; too few for a regression) or when every training text
has it, a nearest-centroid score: the cosine similarity to the mean direction of its examples, below 0
taken as 0, so a text is suggested the code only when it is about as close to the examples as a
paraphrase (MiniLM paraphrases score about 0.5-0.9, unrelated sentences about 0-0.2). Suggestions are never final: they carry
``accepted=False`` until a person accepts one with :func:`accept`, which makes the coding row and
records who accepted it (``source``: "assisted (accepted by <coder>)"). Embeddings are cached by text
hash on the model object, so within a process each distinct text is embedded once. :func:`evaluate_heldout` reports agreement of suggestions with human coders on
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


def accept(suggestion: Suggestion, coder: str, source_id: str | None = None) -> dict:
    """The coded row for a suggestion that ``coder`` accepts (whole source: start and end are None).

    ``source`` says where the coding came from, ``"assisted (accepted by <coder>)"``; the row's
    ``source_id``, ``start``, ``end``, ``code``, ``coder`` and ``memo`` are the arguments of
    ``CodingProject.code``. The suggestion itself stays unaccepted: only this row is a coding.

    >>> accept(Suggestion("WORKFORCE", 0.91), "ab", "p9/1/challenge")["source"]
    'assisted (accepted by ab)'
    """
    if not isinstance(suggestion, Suggestion):
        raise TypeError("accept takes a Suggestion from CodeSuggester.suggest")
    if not coder or not str(coder).strip():
        raise ValueError("a suggestion is accepted by a named coder")
    source = f"assisted (accepted by {coder})"
    return {"source_id": source_id, "start": None, "end": None, "code": suggestion.code, "coder": coder,
            "source": source, "score": suggestion.score, "memo": f"{source}; score {suggestion.score:.2f}"}


_CACHE_LIMIT = 100_000  # vectors of 384 float32: about 150 MB at most per model


def _text_key(text: str) -> str:
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()


class _Embeddings:
    """Embeddings cached by text hash within a process (the same answer is often scored many times, and
    ``evaluate_heldout`` then ``fit`` embed the same coded answers). One cache per model object."""

    def __init__(self, model=None):
        self.model = model

    def __call__(self, texts: list[str]) -> np.ndarray:
        from joinedup.survey.coding.embed import default_model

        model = self.model or default_model()
        cache = getattr(model, "_embedding_cache", None)
        if cache is None:  # kept on the model object, so it lives as long as the model (default: the process)
            cache = {}
            model._embedding_cache = cache
        keys = [_text_key(t) for t in texts]
        todo = list(dict.fromkeys(k for k in keys if k not in cache))
        if todo:
            first = {}
            for t, k in zip(texts, keys):
                first.setdefault(k, t)
            if len(cache) + len(todo) > _CACHE_LIMIT:
                cache.clear()
            for k, vec in zip(todo, model.encode([str(first[k]) for k in todo])):
                cache[k] = np.asarray(vec, dtype=np.float32)
            if any(k not in cache for k in keys):  # more texts in one call than the cache holds
                return np.asarray(model.encode([str(t) for t in texts]), dtype=np.float32)
        return np.stack([cache[k] for k in keys]) if keys else np.zeros((0, 384), np.float32)


@dataclass
class CodeSuggester:
    model: object = None
    codes: list[str] = field(default_factory=list)
    _fits: dict = field(default_factory=dict, repr=False)
    _embed: _Embeddings | None = field(default=None, repr=False)

    def fit(self, texts: list[str], code_sets: list[set[str]], codes: list[str] | None = None) -> CodeSuggester:
        """Train one scorer per code on human-coded ``texts`` (``code_sets[i]``: codes of ``texts[i]``)."""
        from sklearn.linear_model import LogisticRegression

        texts, code_sets = list(texts), [set(c) for c in code_sets]
        if len(texts) == 0:
            raise ValueError("no training data: fit needs human-coded texts")
        if len(texts) != len(code_sets):
            raise ValueError(f"need as many code sets as texts ({len(texts)} texts, {len(code_sets)} code sets)")
        seen = sorted(set().union(*code_sets))
        if not seen:
            raise ValueError("no training data: none of the texts has a code")
        self.codes = list(dict.fromkeys(codes)) if codes is not None else seen
        unknown = sorted(set(seen) - set(self.codes))
        if unknown:
            raise ValueError(f"training codes not in the codebook: {', '.join(unknown)}")
        self._embed = self._embed or _Embeddings(self.model)
        self._fits = {}
        x = self._embed(texts)
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
        if isinstance(texts, str):
            raise TypeError("scores takes a list of texts, not one string")
        x = self._embed(list(texts))
        cols = {}
        for code in self.codes:
            kind, fit = self._fits.get(code, (None, None))
            if kind == "logistic":
                cols[code] = fit.predict_proba(x)[:, 1]
            elif kind == "centroid":  # cosine similarity to the examples' mean direction, below 0 as 0
                cols[code] = np.clip(x @ fit, 0.0, 1.0)
            else:
                cols[code] = np.zeros(len(texts))
        return pd.DataFrame(cols)

    def suggest(self, texts: list[str], top_k: int = 3, threshold: float = 0.5) -> list[list[Suggestion]]:
        """Up to ``top_k`` codes scoring at least ``threshold`` per text, best first, never accepted."""
        if isinstance(texts, str):
            raise TypeError("suggest takes a list of texts, not one string")
        if top_k < 1:
            raise ValueError("top_k must be at least 1")
        s = self.scores(texts)
        out = []
        for _, row in s.iterrows():
            best = row[row >= threshold].sort_values(ascending=False).head(top_k)
            out.append([Suggestion(c, float(v)) for c, v in best.items()])
        return out


def evaluate_heldout(texts: list[str], code_sets: list[set[str]], test_size: float = 0.3, seed: int = 2013,
                     threshold: float = 0.5, model=None, codes: list[str] | None = None) -> pd.DataFrame:
    """Train on part of the human-coded texts, suggest for the rest, and compare with the humans.

    The split is a random permutation from ``seed`` (the same seed, the same table). A suggestion counts as
    a code when its score is at least ``threshold``. One row per code (n_train_pos, n_test_pos, precision,
    recall, f1, kappa: Cohen's kappa between suggestions and the human codes over the held-out texts; NaN
    where neither says yes) and a ``(micro)`` row pooling every text-by-code decision.
    """
    from sklearn.metrics import cohen_kappa_score, precision_recall_fscore_support

    texts, code_sets = list(texts), [set(c) for c in code_sets]
    if len(texts) != len(code_sets):
        raise ValueError(f"need as many code sets as texts ({len(texts)} texts, {len(code_sets)} code sets)")
    if not 0 < test_size < 1:
        raise ValueError("test_size is a fraction between 0 and 1")
    if len(texts) < 2:
        raise ValueError("no training data: need at least two coded texts to hold some out")
    codes = list(codes) if codes is not None else sorted(set().union(*code_sets))
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(texts))
    n_test = min(len(texts) - 1, max(1, round(test_size * len(texts))))
    test, train = idx[:n_test], idx[n_test:]
    s = CodeSuggester(model).fit([texts[i] for i in train], [code_sets[i] for i in train], codes=codes)
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
