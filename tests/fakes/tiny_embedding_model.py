"""A real sentence-embedding model, tiny: what fastembed loads from a folder of Hugging Face files.

No weights can be downloaded here, so the tests build one: a word-level tokenizer (``tokenizer.json``), the
config files fastembed reads, and an ONNX graph that looks each token up in a table (``last_hidden_state``),
which fastembed mean-pools and normalises like any sentence-transformers model. Words of one topic share a
direction, so "automobile" is near "sedan" though they share no letters: the thing lexical search cannot do.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

TOPICS = [
    "car automobile sedan minivan vehicle drive highway",
    "garden fence hedge lawn flowers",
    "birthday party cake candles",
]


def build(folder: Path, dim: int = 8) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"[PAD]": 0, "[UNK]": 1}
    table = [np.zeros(dim), np.zeros(dim)]  # padding and unknown words weigh nothing
    rng = np.random.default_rng(7)
    for axis, topic in enumerate(TOPICS):
        for word in topic.split():
            vocab[word] = len(vocab)
            table.append(np.eye(dim)[axis] + rng.normal(scale=0.05, size=dim))
    for word in "my the we a on broke down painted ate".split():
        vocab[word] = len(vocab)
        table.append(np.eye(dim)[dim - 1] * 0.1 + rng.normal(scale=0.02, size=dim))
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 128, "pad_token": "[PAD]"}))
    (folder / "special_tokens_map.json").write_text(json.dumps({"pad_token": "[PAD]", "unk_token": "[UNK]"}))
    (folder / "config.json").write_text(json.dumps({"hidden_size": dim, "pad_token_id": 0}))
    weights = numpy_helper.from_array(np.array(table, dtype=np.float32), "table")
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "seq"])
              for name in ("input_ids", "attention_mask", "token_type_ids")]
    output = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", dim])
    graph = helper.make_graph([helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"], axis=0)],
                              "tiny", inputs, [output], [weights])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(folder / "model.onnx"))
    return folder
