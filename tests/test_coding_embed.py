"""all-MiniLM-L6-v2 in NumPy against sentence-transformers itself.

tests/data/minilm_reference.json holds embeddings made once by sentence-transformers 6.2.0 on PyTorch
2.13.0 (CPU) from the same model folder (a throwaway environment; PyTorch is not a joinedup dependency),
for sentences covering punctuation, non-ASCII, the empty string and a text past the 256-token limit.
Tolerance 1e-5 absolute per coordinate: float32 arithmetic in a different order.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from joinedup.survey.coding.embed import default_model

REF = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())


@pytest.fixture(scope="module")
def model():
    return default_model()


def test_equals_sentence_transformers(model):
    got = model.encode(REF["sentences"])
    want = np.array(REF["embeddings"], dtype=np.float32)
    assert got.shape == (6, 384)
    assert np.max(np.abs(got - want)) < 1e-5


def test_batches_do_not_change_vectors_and_similarity_makes_sense(model):
    texts = REF["sentences"]
    together = model.encode(texts, batch_size=4)
    alone = np.vstack([model.encode([t]) for t in texts])
    assert np.max(np.abs(together - alone)) < 1e-5
    a, b, c = model.encode(["Staff shortages in home care", "We cannot recruit enough care workers",
                            "The shared care record went live"])
    assert a @ b > a @ c + 0.2
    assert np.allclose(np.linalg.norm(together, axis=1), 1, atol=1e-5)
