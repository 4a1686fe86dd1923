"""Random-weight llama-architecture GGUF models, written with the ``gguf`` package's GGUFWriter.

The models are real files llama.cpp loads and runs: a few transformer layers with random weights,
a SentencePiece (SPM) vocabulary that always holds the 256 byte tokens ``<0x00>``..``<0xFF>`` (so
any text tokenizes — without them llama.cpp aborts on an unknown character), ChatML control tokens,
and, unless told otherwise, a ChatML chat template. ``vocab="byte"`` keeps just those tokens (tiny,
for tests); an integer asks for that many tokens, filled with random word pieces (benchmarks).
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIALS = ("<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>")
_LETTERS = "etaoinshrdlucmfwypvbgkjqxz"


def _vocab(size: int | str, rng: np.random.Generator) -> tuple[list[str], list[float], list[int]]:
    T = gguf.TokenType
    tokens = list(SPECIALS)
    types = [T.UNKNOWN, T.CONTROL, T.CONTROL, T.CONTROL, T.CONTROL]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [T.BYTE] * 256
    scores = [0.0] * len(tokens)
    target = len(tokens) if size == "byte" else int(size)
    seen = set(tokens)
    singles = [chr(c) for c in range(0x21, 0x7F)] + ["▁"]
    for piece in singles:
        if len(tokens) >= target:
            break
        tokens.append(piece)
        types.append(T.NORMAL)
        scores.append(-1.0)
        seen.add(piece)
    while len(tokens) < target:
        length = int(rng.integers(2, 9))
        letters = "".join(_LETTERS[i] for i in rng.integers(0, len(_LETTERS), length))
        piece = ("▁" if rng.random() < 0.5 else "") + letters
        if piece in seen:
            continue
        seen.add(piece)
        tokens.append(piece)
        types.append(T.NORMAL)
        scores.append(-float(len(tokens)))
    return tokens, scores, [int(t) for t in types]


def _tensor(writer: gguf.GGUFWriter, name: str, data: np.ndarray, qtype: str) -> None:
    if qtype == "q8_0" and data.ndim == 2 and data.shape[-1] % 32 == 0:
        quantized = gguf.quants.quantize(data, gguf.GGMLQuantizationType.Q8_0)
        writer.add_tensor(name, quantized, raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    elif qtype in ("f16", "q8_0") and data.ndim == 2:
        writer.add_tensor(name, data.astype(np.float16))
    else:
        writer.add_tensor(name, data.astype(np.float32))


def write_tiny_gguf(
    path: Path | str,
    *,
    vocab: int | str = "byte",
    n_layer: int = 2,
    n_embd: int = 64,
    n_head: int = 4,
    n_head_kv: int | None = None,
    n_ff: int = 128,
    n_ctx: int = 4096,
    chat_template: str | None = CHATML_TEMPLATE,
    seed: int = 0,
    qtype: str = "f32",
    weight_scale: float = 0.02,
    tie_embeddings: bool = False,
    embed_scale: float = 10.0,
) -> Path:
    """Write a random-weight llama GGUF to ``path`` and return it (``qtype``: f32, f16 or q8_0).

    ``embed_scale`` multiplies the embedding and output weights: large gives peaked, repetitive
    next-token distributions; 1.0 gives nearly flat ones (a model that picks among many tokens).
    """
    if n_embd % n_head:
        raise ValueError("n_embd must be a multiple of n_head")
    path = Path(path)
    rng = np.random.default_rng(seed)
    tokens, scores, types = _vocab(vocab, rng)
    n_vocab = len(tokens)
    kv_heads = n_head if n_head_kv is None else n_head_kv
    head_dim = n_embd // n_head
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("quarry-test-random")
    writer.add_context_length(n_ctx)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32 if qtype == "f32" else gguf.LlamaFileType.MOSTLY_F16)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(SPECIALS.index("<|im_end|>"))
    writer.add_add_bos_token(False)
    writer.add_add_space_prefix(False)
    if chat_template is not None:
        writer.add_chat_template(chat_template)

    def weight(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape, dtype=np.float32) * weight_scale).astype(np.float32)

    ones = np.ones(n_embd, dtype=np.float32)
    _tensor(writer, "token_embd.weight", weight(n_vocab, n_embd) * embed_scale, qtype)
    _tensor(writer, "output_norm.weight", ones, qtype)
    if not tie_embeddings:  # tied: llama.cpp reuses token_embd as the output layer
        _tensor(writer, "output.weight", weight(n_vocab, n_embd) * embed_scale, qtype)
    for i in range(n_layer):
        block = f"blk.{i}"
        _tensor(writer, f"{block}.attn_norm.weight", ones, qtype)
        _tensor(writer, f"{block}.attn_q.weight", weight(n_embd, n_embd), qtype)
        _tensor(writer, f"{block}.attn_k.weight", weight(kv_heads * head_dim, n_embd), qtype)
        _tensor(writer, f"{block}.attn_v.weight", weight(kv_heads * head_dim, n_embd), qtype)
        _tensor(writer, f"{block}.attn_output.weight", weight(n_embd, n_embd), qtype)
        _tensor(writer, f"{block}.ffn_norm.weight", ones, qtype)
        _tensor(writer, f"{block}.ffn_gate.weight", weight(n_ff, n_embd), qtype)
        _tensor(writer, f"{block}.ffn_up.weight", weight(n_ff, n_embd), qtype)
        _tensor(writer, f"{block}.ffn_down.weight", weight(n_embd, n_ff), qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def write_corrupt_gguf(path: Path | str) -> Path:
    """A file that starts like a GGUF but is truncated garbage."""
    path = Path(path)
    path.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 64)
    return path
