"""Embedding functions: llama.cpp GGUF (default), an OpenAI-compatible endpoint, Chroma's ONNX model.

All of them are Chroma embedding functions registered under a ``quarry-*`` name, return L2-normalized
vectors, and expose ``fingerprint`` — the identity of the model the memory records with each
collection so a store is never queried with vectors from another model. ``HashingEmbedder`` is a
deterministic, model-free embedder for tests. Failures to load or call a model raise
``EmbeddingError`` with one sentence saying what to do.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import weakref
from pathlib import Path
from typing import Any, cast

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from memory.embeddings_onnx import checked_sha256, load_onnx, onnx_fingerprint
from memory.errors import EmbeddingError

# bge-small-en-v1.5 (33M parameters, 384 dimensions): the strongest English retriever of its size on
# MTEB/BEIR (nDCG@10 51.7 vs 41.9 for all-MiniLM-L6-v2), 67 MB in f16, runs on a CPU at hundreds of
# passages per second. Its queries take an instruction prefix (below).
DEFAULT_EMBEDDING_MODEL = "CompendiumLabs/bge-small-en-v1.5-gguf/bge-small-en-v1.5-f16.gguf"
_QUERY_PREFIXES = {"bge-": "Represent this sentence for searching relevant passages: "}
_WORD = re.compile(r"\w+")


def _normalized(vectors: np.ndarray) -> list[np.ndarray]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return list((vectors / norms).astype(np.float32))


class QuarryEmbedder(EmbeddingFunction[Documents]):
    """What every Quarry embedder adds to Chroma's protocol: a fingerprint and a query side."""

    fingerprint: str = ""
    query_prefix: str = ""

    def embed_query(self, input: Documents) -> Embeddings:
        """Embed search queries (with the model's query instruction, if it has one)."""
        return self([self.query_prefix + text for text in input])

    def is_legacy(self) -> bool:
        """Never legacy; avoids Chroma rebuilding (and reloading) the model to find out."""
        return False

    def default_space(self) -> Any:
        """Vectors are normalized: cosine distance."""
        return "cosine"

    def close(self) -> None:
        """Release the model (no-op for stateless embedders)."""
        _LIVE.pop(_live_key(self.name(), self.get_config()), None)

    def _remember(self) -> None:
        """Make this instance what Chroma gets when it rebuilds the function from its config."""
        _LIVE[_live_key(self.name(), self.get_config())] = self


# Chroma rebuilds a collection's embedding function from its stored config each time it reads the
# collection's schema — on every upsert. Handing back the live instance keeps that from reloading a
# model (which made ingest 10x slower); a new instance is built only when none is alive.
_LIVE: weakref.WeakValueDictionary[str, QuarryEmbedder] = weakref.WeakValueDictionary()


def _live_key(name: str, config: dict[str, Any]) -> str:
    return name + json.dumps(config, sort_keys=True, default=str)


def live_embedder(name: str, config: dict[str, Any]) -> Any:
    """The live embedder registered under ``name`` with this config, or None."""
    return _LIVE.get(_live_key(name, config))


@register_embedding_function
class HashingEmbedder(QuarryEmbedder):
    """A deterministic bag-of-words embedder (signed feature hashing): no model, for tests."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.fingerprint = f"hashing:{dim}"
        self._remember()

    def __call__(self, input: Documents) -> Embeddings:
        out = np.zeros((len(input), self.dim), dtype=np.float32)
        for row, text in enumerate(input):
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        return cast(Embeddings, _normalized(out))

    @staticmethod
    def name() -> str:
        """Registered name."""
        return "quarry-hashing"

    def get_config(self) -> dict[str, Any]:
        """Serializable configuration."""
        return {"dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashingEmbedder:
        """Rebuild from ``get_config()``."""
        return live_embedder("quarry-hashing", config) or HashingEmbedder(int(config.get("dim", 256)))


def resolve_gguf(reference: str, cache_dir: Path | None) -> Path:
    """A local GGUF path for ``reference`` (a path, or "owner/repo/file.gguf" downloaded once)."""
    path = Path(reference).expanduser()
    if path.is_file():
        return path
    parts = reference.split("/")
    if len(parts) < 3 or not reference.endswith(".gguf") or path.is_absolute():
        raise EmbeddingError(
            f"The embedding model {reference} is neither a GGUF file nor a Hugging Face reference "
            "owner/repo/file.gguf; fix memory.embedding_model."
        )
    repo, filename = "/".join(parts[:2]), "/".join(parts[2:])
    target = (cache_dir or Path.home() / ".cache" / "quarry" / "models") / parts[0] / parts[1]
    if (target / filename).is_file():
        return target / filename
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(repo_id=repo, filename=filename, local_dir=target))
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as exc:
        raise EmbeddingError(
            f"Cannot download the embedding model {reference} ({type(exc).__name__}); connect to the "
            "internet once or set memory.embedding_model to a local GGUF file."
        ) from exc


@register_embedding_function
class LlamaEmbedder(QuarryEmbedder):
    """A GGUF embedding model run by llama.cpp, many passages per decode; pooling from the GGUF.

    Inputs are sorted by length and packed, up to ``batch_tokens`` tokens and llama.cpp's sequence
    limit, into one ``llama_decode`` each. Flash attention is on: without it the CPU cost per token
    grows with the batch (the masked attention spans the whole batch). 512 tokens per decode measured
    best here (about 2,000 MiniLM tokens per CPU-second); inputs longer than the model's training
    context are truncated, keeping the closing special token. Calls are serialized: one llama.cpp
    context and one batch buffer serve every caller, and parallel agents search (embedding a query)
    while others store pages (embedding passages).
    """

    def __init__(
        self,
        model_path: str,
        *,
        n_threads: int | None = None,
        n_gpu_layers: int = -1,
        batch_tokens: int = 512,
        query_prefix: str | None = None,
    ) -> None:
        import llama_cpp

        self.model_path = str(model_path)
        self.n_threads, self.n_gpu_layers, self.batch_tokens = n_threads, n_gpu_layers, batch_tokens
        if not Path(self.model_path).is_file():
            raise EmbeddingError(f"The embedding model {self.model_path} does not exist; fix memory.embedding_model.")
        try:
            self._llm = self._load(llama_cpp.LLAMA_POOLING_TYPE_UNSPECIFIED)
            if llama_cpp.llama_pooling_type(self._llm.ctx) == llama_cpp.LLAMA_POOLING_TYPE_NONE:
                self._llm.close()  # a model without pooling in its GGUF: mean-pool it
                self._llm = self._load(llama_cpp.LLAMA_POOLING_TYPE_MEAN)
        except (ValueError, RuntimeError, OSError) as exc:
            raise EmbeddingError(
                f"llama.cpp cannot load the embedding model {self.model_path} ({exc}); check the file "
                "or choose another memory.embedding_model."
            ) from exc
        self._lib = llama_cpp
        self.dim = int(self._llm.n_embd())
        self._max_len = max(2, min(int(llama_cpp.llama_model_n_ctx_train(self._llm.model)), batch_tokens))
        self._n_seq = max(1, min(batch_tokens, int(llama_cpp.llama_max_parallel_sequences())))
        self._batch = llama_cpp.llama_batch_init(batch_tokens, 0, 1)
        self._lock = threading.Lock()
        stem = Path(self.model_path).name
        self.fingerprint = f"llama:{stem}:{self.dim}"
        if query_prefix is None:
            query_prefix = next((p for key, p in _QUERY_PREFIXES.items() if stem.lower().startswith(key)), "")
        self.query_prefix = query_prefix
        self._remember()

    def _load(self, pooling: int) -> Any:
        import llama_cpp

        return llama_cpp.Llama(
            model_path=self.model_path,
            embedding=True,
            n_ctx=self.batch_tokens,
            n_batch=self.batch_tokens,
            n_ubatch=self.batch_tokens,
            n_threads=self.n_threads,
            n_threads_batch=self.n_threads,
            n_gpu_layers=self.n_gpu_layers,
            pooling_type=pooling,
            flash_attn=True,  # without it the CPU cost per token grows with the batch (masked attention)
            verbose=False,
        )

    def _tokens(self, text: str) -> list[int]:
        toks = self._llm.tokenize(text.encode("utf-8", "replace"), add_bos=True, special=False)
        if len(toks) > self._max_len:  # keep the closing special token (e.g. [SEP]) when truncating
            toks = [*toks[: self._max_len - 1], toks[-1]]
        return toks or [0]

    def _decode(self, seqs: list[list[int]]) -> np.ndarray:
        lib, batch = self._lib, self._batch
        n = 0
        token = np.ctypeslib.as_array(batch.token, shape=(self.batch_tokens,))
        pos = np.ctypeslib.as_array(batch.pos, shape=(self.batch_tokens,))
        for sid, toks in enumerate(seqs):
            k = len(toks)
            token[n : n + k] = toks
            pos[n : n + k] = np.arange(k)
            for j in range(n, n + k):
                batch.seq_id[j][0] = sid
                batch.n_seq_id[j] = 1
                batch.logits[j] = 1
            n += k
        batch.n_tokens = n
        lib.llama_memory_clear(lib.llama_get_memory(self._llm.ctx), True)
        if lib.llama_decode(self._llm.ctx, batch) != 0:
            raise EmbeddingError("llama.cpp failed to embed a batch; lower memory.batch tokens or check the model.")
        out = np.empty((len(seqs), self.dim), dtype=np.float32)
        for sid in range(len(seqs)):
            ptr = lib.llama_get_embeddings_seq(self._llm.ctx, sid)
            out[sid] = np.ctypeslib.as_array(ptr, shape=(self.dim,))
        return out

    def __call__(self, input: Documents) -> Embeddings:
        with self._lock:
            return self._embed(input)

    def _embed(self, input: Documents) -> Embeddings:
        tokenized = [self._tokens(text) for text in input]
        order = sorted(range(len(tokenized)), key=lambda i: len(tokenized[i]))
        result = np.zeros((len(tokenized), self.dim), dtype=np.float32)
        group: list[int] = []
        used = 0
        for i in [*order, -1]:
            size = len(tokenized[i]) if i >= 0 else 0
            if group and (i < 0 or used + size > self.batch_tokens or len(group) >= self._n_seq):
                result[group] = self._decode([tokenized[g] for g in group])
                group, used = [], 0
            if i >= 0:
                group.append(i)
                used += size
        return cast(Embeddings, _normalized(result))

    def close(self) -> None:
        """Free the model and the batch."""
        super().close()
        if getattr(self, "_llm", None) is not None:
            self._lib.llama_batch_free(self._batch)
            self._llm.close()
            self._llm = None

    @staticmethod
    def name() -> str:
        """Registered name."""
        return "quarry-llama"

    def get_config(self) -> dict[str, Any]:
        """Serializable configuration."""
        return {"model_path": self.model_path, "n_gpu_layers": self.n_gpu_layers, "batch_tokens": self.batch_tokens}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> LlamaEmbedder:
        """Rebuild from ``get_config()``."""
        return live_embedder("quarry-llama", config) or LlamaEmbedder(
            config["model_path"],
            n_gpu_layers=int(config.get("n_gpu_layers", -1)),
            batch_tokens=int(config.get("batch_tokens", 512)),
        )


@register_embedding_function
class OpenAIEmbedder(QuarryEmbedder):
    """An OpenAI-compatible ``/embeddings`` endpoint (vLLM, llama.cpp server, Ollama, OpenAI)."""

    def __init__(self, model: str, *, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY") -> None:
        from openai import OpenAI

        self.model, self.base_url, self.api_key_env = model, base_url, api_key_env
        key = os.environ.get(api_key_env) or "not-needed"  # local servers ignore the key
        self._client = OpenAI(base_url=base_url, api_key=key, max_retries=2)
        self.fingerprint = f"openai:{base_url or 'api.openai.com'}:{model}"
        self._remember()

    def __call__(self, input: Documents) -> Embeddings:
        import openai

        vectors: list[list[float]] = []
        try:
            for lo in range(0, len(input), 256):
                answer = self._client.embeddings.create(model=self.model, input=list(input[lo : lo + 256]))
                vectors.extend(item.embedding for item in sorted(answer.data, key=lambda d: d.index))
        except openai.OpenAIError as exc:
            raise EmbeddingError(
                f"The embeddings endpoint {self.base_url or 'OpenAI'} failed ({type(exc).__name__}); check "
                "memory.embedding_base_url and that the server is running."
            ) from exc
        return cast(Embeddings, _normalized(np.asarray(vectors, dtype=np.float32)))

    def close(self) -> None:
        """Close the HTTP client."""
        super().close()
        self._client.close()

    @staticmethod
    def name() -> str:
        """Registered name."""
        return "quarry-openai"

    def get_config(self) -> dict[str, Any]:
        """Serializable configuration (the key's variable name, never the key)."""
        return {"model": self.model, "base_url": self.base_url, "api_key_env": self.api_key_env}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAIEmbedder:
        """Rebuild from ``get_config()``."""
        return live_embedder("quarry-openai", config) or OpenAIEmbedder(
            config["model"], base_url=config.get("base_url"), api_key_env=config.get("api_key_env", "OPENAI_API_KEY")
        )


@register_embedding_function
class OnnxEmbedder(QuarryEmbedder):
    """Chroma's all-MiniLM-L6-v2 on onnxruntime, fetched once into ``cache_dir`` (``memory.embeddings_onnx``).

    ``url`` is a mirror or a local copy of Chroma's archive; ``sha256`` that archive's checksum when it is
    deliberately another model (Chroma's checksum otherwise: it is always checked).
    """

    def __init__(self, cache_dir: str | None = None, *, url: str | None = None, sha256: str | None = None) -> None:
        self.cache_dir, self.url, self.sha256 = cache_dir, url, sha256
        model = load_onnx(Path(cache_dir) if cache_dir else None, url=url, sha256=sha256)
        self._onnx, self.folder, self.dim = model.function, model.folder, model.dim
        self.fingerprint = onnx_fingerprint(checked_sha256(sha256), self.dim)
        self._remember()

    def __call__(self, input: Documents) -> Embeddings:
        try:
            vectors = np.asarray(self._onnx(list(input)), dtype=np.float32)
        except Exception as exc:  # onnxruntime and tokenizers raise bare Exception subclasses; typed here
            raise EmbeddingError(
                f"Chroma's ONNX embedding model failed ({type(exc).__name__}); delete {self.folder} so that it "
                "is fetched again, or choose memory.embedding_backend = 'llama'."
            ) from exc
        return cast(Embeddings, _normalized(vectors))

    @staticmethod
    def name() -> str:
        """Registered name."""
        return "quarry-onnx"

    def get_config(self) -> dict[str, Any]:
        """Serializable configuration."""
        return {"cache_dir": self.cache_dir, "url": self.url, "sha256": self.sha256}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OnnxEmbedder:
        """Rebuild from ``get_config()``."""
        return live_embedder("quarry-onnx", config) or OnnxEmbedder(
            config.get("cache_dir"), url=config.get("url"), sha256=config.get("sha256")
        )


def build_embedder(
    backend: str,
    model: str,
    *,
    cache_dir: Path | None = None,
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    n_gpu_layers: int = -1,
    n_threads: int | None = None,
    onnx_url: str | None = None,
    onnx_sha256: str | None = None,
) -> QuarryEmbedder:
    """The embedding function for ``backend`` ("llama", "openai", "onnx" or "hashing")."""
    if backend == "llama":
        path = resolve_gguf(model, cache_dir)
        return LlamaEmbedder(str(path), n_gpu_layers=n_gpu_layers, n_threads=n_threads)
    if backend == "openai":
        return OpenAIEmbedder(model, base_url=base_url, api_key_env=api_key_env)
    if backend == "onnx":
        return OnnxEmbedder(str(cache_dir) if cache_dir else None, url=onnx_url, sha256=onnx_sha256)
    if backend == "hashing":
        return HashingEmbedder()
    raise EmbeddingError(f"Unknown embedding backend {backend!r}; use llama, openai or onnx.")
