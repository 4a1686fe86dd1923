"""Tiny random-weight stand-ins for Chroma's all-MiniLM-L6-v2 ONNX archive, built at test time.

``onnx_archive()`` returns the bytes of an ``onnx.tar.gz`` laid out as Chroma's (``onnx/model.onnx``,
``onnx/tokenizer.json``, ``onnx/vocab.txt``, ``onnx/config.json``, ``onnx/special_tokens_map.json``,
``onnx/tokenizer_config.json``). The model is a real ONNX graph onnxruntime runs: it takes
``input_ids``, ``attention_mask`` and ``token_type_ids`` (int64, ``[batch, seq]``) as Chroma feeds them
and answers ``last_hidden_state`` ``[batch, seq, dim]``: a random token embedding plus a token-type
embedding, through a random ``dim x dim`` projection and tanh, zeroed where the mask is 0. The tokenizer
is a real WordPiece ``tokenizer.json`` (BERT normalizer and pre-tokenizer, ``[CLS] … [SEP]``) whose
vocabulary holds every letter and digit as a word start and as ``##`` continuation, so any text
tokenizes and different words give different token ids (anything else becomes ``[UNK]``).
"""

from __future__ import annotations

import io
import json
import string
import tarfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
WORDS = ("the", "cell", "solar", "perovskite", "battery", "lithium", "efficiency", "ocean", "whale")


def vocabulary() -> list[str]:
    """The WordPiece vocabulary: specials, whole words, characters and their ``##`` continuations."""
    chars = string.ascii_lowercase + string.digits + string.punctuation
    return [*SPECIALS, *WORDS, *chars, *(f"##{c}" for c in string.ascii_lowercase + string.digits)]


def tokenizer_json(vocab: list[str]) -> str:
    """A BERT-style WordPiece ``tokenizer.json`` over ``vocab``."""
    ids = {token: i for i, token in enumerate(vocab)}
    tok = Tokenizer(models.WordPiece(ids, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", ids["[CLS]"]), ("[SEP]", ids["[SEP]"])],
    )
    tok.decoder = decoders.WordPiece()
    return str(tok.to_str())


def model_bytes(vocab_size: int, dim: int, seed: int = 0) -> bytes:
    """A serialized ONNX model: ids, mask and token types in, ``last_hidden_state`` out."""
    rng = np.random.default_rng(seed)
    weights = {
        "word_embeddings": rng.standard_normal((vocab_size, dim)).astype(np.float32),
        "type_embeddings": rng.standard_normal((2, dim)).astype(np.float32) * 0.1,
        "projection": (rng.standard_normal((dim, dim)) / np.sqrt(dim)).astype(np.float32),
        "last_axis": np.array([-1], dtype=np.int64),
    }
    nodes = [
        helper.make_node("Gather", ["word_embeddings", "input_ids"], ["words"]),
        helper.make_node("Gather", ["type_embeddings", "token_type_ids"], ["types"]),
        helper.make_node("Add", ["words", "types"], ["summed"]),
        helper.make_node("MatMul", ["summed", "projection"], ["projected"]),
        helper.make_node("Tanh", ["projected"], ["activated"]),
        helper.make_node("Cast", ["attention_mask"], ["mask_float"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask_float", "last_axis"], ["mask_column"]),
        helper.make_node("Mul", ["activated", "mask_column"], ["last_hidden_state"]),
    ]
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
              for name in ("input_ids", "attention_mask", "token_type_ids")]
    output = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", dim])
    graph = helper.make_graph(nodes, "tiny-minilm", inputs, [output],
                              initializer=[numpy_helper.from_array(v, name) for name, v in weights.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="quarry-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def archive_files(dim: int = 32, seed: int = 0) -> dict[str, bytes]:
    """The files of Chroma's archive, by their path inside it."""
    vocab = vocabulary()
    config = {"model_type": "bert", "hidden_size": dim, "vocab_size": len(vocab), "max_position_embeddings": 512}
    specials = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
                "mask_token": "[MASK]"}
    return {
        "onnx/config.json": json.dumps(config).encode(),
        "onnx/model.onnx": model_bytes(len(vocab), dim, seed),
        "onnx/special_tokens_map.json": json.dumps(specials).encode(),
        "onnx/tokenizer_config.json": json.dumps({"do_lower_case": True, "model_max_length": 512}).encode(),
        "onnx/tokenizer.json": tokenizer_json(vocab).encode(),
        "onnx/vocab.txt": ("\n".join(vocab) + "\n").encode(),
    }


def pack(files: dict[str, bytes]) -> bytes:
    """A tar.gz holding ``files`` (path inside the archive → bytes)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def onnx_archive(dim: int = 32, seed: int = 0) -> bytes:
    """A complete tiny stand-in for Chroma's ``onnx.tar.gz``."""
    return pack(archive_files(dim, seed))
