"""Chroma's all-MiniLM-L6-v2 ONNX model: fetched once from a configurable place, checked, then loaded.

``load_onnx(cache_dir, url=..., sha256=...)`` returns Chroma's own ``ONNXMiniLM_L6_V2`` (its tokenizer,
onnxruntime session and mean pooling) ready to embed, with its files in the cache folder, or raises
``EmbeddingError`` whose one sentence says what happened and what to do. Guarantees:

- The archive's SHA-256 is checked on every download, whatever the URL. A mirror serves the very bytes
  of Chroma's URL, so Chroma's checksum verifies it too (a mirror cannot swap the model); an archive
  that differs on purpose needs its own checksum (``sha256`` / ``memory.onnx_sha256``), is cached in a
  folder of its own and gets a fingerprint of its own, so its vectors never mix with MiniLM's.
- The cache only ever receives a complete model that loaded: the archive is fetched, checked, unpacked
  and loaded in a temporary folder beside the cache, then moved into place with one rename. A failed
  download, a checksum mismatch, a damaged archive or a model that does not load leaves the cache as it
  was. A complete cached model is used without touching the network.
- ``url`` is an ``http(s)`` URL or a local file (a path or ``file://``), for machines that are offline.
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import numpy as np

from memory.errors import EmbeddingError
from memory.ids import file_sha256

# The same constants as chromadb's ONNXMiniLM_L6_V2 (tests check they still agree).
ONNX_MODEL_NAME = "all-MiniLM-L6-v2"
ONNX_URL = "https://chroma-onnx-models.s3.amazonaws.com/all-MiniLM-L6-v2/onnx.tar.gz"
ONNX_SHA256 = "913d7300ceae3b2dbc2c50d1de4baacab4be7b9380491c27fab7418616a16ec3"
# What Chroma looks for under ``<folder>/onnx/``; if one is missing it downloads again by itself.
ONNX_FILES = (
    "config.json", "model.onnx", "special_tokens_map.json", "tokenizer_config.json", "tokenizer.json", "vocab.txt",
)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_FIX_URL = f"download {ONNX_URL} yourself and set memory.onnx_url to the file's path (or to a mirror's URL)"


@dataclass(frozen=True)
class OnnxModel:
    """A loaded model: Chroma's embedding function, the folder its files are in, its vector size."""

    function: Any  # chromadb's ONNXMiniLM_L6_V2
    folder: Path
    dim: int


def onnx_folder(cache_dir: Path | None, sha256: str = ONNX_SHA256) -> Path:
    """Where the model with this archive checksum is cached (Chroma's own cache without ``cache_dir``)."""
    base = Path(cache_dir) / "onnx" if cache_dir else Path.home() / ".cache" / "chroma" / "onnx_models"
    return base / (ONNX_MODEL_NAME if sha256 == ONNX_SHA256 else f"{ONNX_MODEL_NAME}-{sha256[:16]}")


def onnx_fingerprint(sha256: str, dim: int) -> str:
    """The model identity recorded with each collection (unchanged for Chroma's own archive)."""
    return f"onnx:{ONNX_MODEL_NAME}:384" if sha256 == ONNX_SHA256 else f"onnx:sha256-{sha256[:16]}:{dim}"


def checked_sha256(sha256: str | None) -> str:
    """``sha256`` in lower case (Chroma's checksum when None), or an error naming the setting."""
    want = (sha256 or ONNX_SHA256).strip().lower()
    if not _HEX64.fullmatch(want):
        raise EmbeddingError(f"The checksum {sha256!r} is not a SHA-256; set memory.onnx_sha256 to 64 hex digits.")
    return want


def load_onnx(cache_dir: Path | None, *, url: str | None = None, sha256: str | None = None) -> OnnxModel:
    """The model from the cache, fetched from ``url`` (Chroma's by default) and checked first if absent."""
    url = url or ONNX_URL
    want = checked_sha256(sha256)
    folder = onnx_folder(cache_dir, want)
    if _complete(folder):
        return _load(folder, f"delete {folder} so that it is downloaded again")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    except OSError as exc:
        raise EmbeddingError(
            f"Cannot write the ONNX model cache {folder.parent} ({exc.strerror or exc}); make it writable or "
            "point the models folder elsewhere."
        ) from exc
    try:
        archive = work / "onnx.tar.gz"
        _fetch(url, archive)
        got = file_sha256(archive)
        if got != want:
            raise EmbeddingError(
                f"The ONNX model archive from {url} has SHA-256 {got}, not {want}; point memory.onnx_url at an "
                "intact copy, or set memory.onnx_sha256 to its checksum if it is a different model on purpose."
            )
        unpacked = work / "unpacked"
        _unpack(archive, unpacked, url)
        model = _load(unpacked, f"point memory.onnx_url at Chroma's archive or a faithful mirror ({ONNX_URL})")
        _commit(unpacked / "onnx", folder)
        model.function.DOWNLOAD_PATH = folder  # where Chroma looks for its files from now on
        return OnnxModel(model.function, folder, model.dim)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _fetch(url: str, dest: Path) -> None:
    """Copy the archive at ``url`` (http(s), file:// or a path) to ``dest``."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        _download(url, dest)
        return
    if parts.scheme not in ("", "file") and not re.fullmatch(r"[a-zA-Z]", parts.scheme):  # "C:" is a drive
        raise EmbeddingError(f"The ONNX model URL {url} is neither http(s) nor a file; {_FIX_URL}.")
    source = Path(url2pathname(parts.path) if parts.scheme == "file" else url).expanduser()
    try:
        shutil.copyfile(source, dest)
    except OSError as exc:
        raise EmbeddingError(
            f"Cannot read the ONNX model archive {source} ({exc.strerror or type(exc).__name__}); fix memory.onnx_url."
        ) from exc


def _download(url: str, dest: Path) -> None:
    """Stream ``url`` into ``dest``, with a progress bar on a terminal."""
    import httpx
    from tqdm import tqdm

    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=httpx.Timeout(60.0, connect=15.0)) as resp:
            resp.raise_for_status()
            total = int(resp.headers.get("content-length") or 0) or None
            with dest.open("wb") as out, tqdm(desc=ONNX_MODEL_NAME, total=total, unit="B", unit_scale=True,
                                              disable=None, leave=False) as bar:
                for block in resp.iter_bytes(1 << 20):
                    bar.update(out.write(block))
    except httpx.HTTPStatusError as exc:
        reason = f"HTTP {exc.response.status_code}"
    except httpx.TimeoutException:
        reason = "the server stopped answering"
    except httpx.HTTPError:
        reason = "offline, or the server cannot be reached"
    except OSError as exc:
        raise EmbeddingError(
            f"Cannot write the ONNX model to {dest.parent} ({exc.strerror or exc}); free some space or make the "
            "models folder writable."
        ) from exc
    else:
        return
    raise EmbeddingError(f"Cannot download Chroma's ONNX embedding model from {url} ({reason}); {_FIX_URL}.")


def _unpack(archive: Path, dest: Path, url: str) -> None:
    """Unpack the tar.gz into ``dest`` (no links or paths leaving it) and check Chroma's files are there."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise EmbeddingError(
            f"The ONNX model archive from {url} cannot be unpacked ({type(exc).__name__}); point memory.onnx_url "
            f"at Chroma's onnx.tar.gz or a faithful mirror of {ONNX_URL}."
        ) from exc
    missing = [f"onnx/{name}" for name in ONNX_FILES if not (dest / "onnx" / name).is_file()]
    if missing:
        raise EmbeddingError(
            f"The ONNX model archive from {url} lacks {', '.join(missing)}; point memory.onnx_url at Chroma's "
            f"onnx.tar.gz or a faithful mirror of {ONNX_URL}."
        )


def _load(folder: Path, fix: str) -> OnnxModel:
    """Chroma's embedding function over the files in ``folder/onnx``, tried once to learn the vector size."""
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    try:
        function = ONNXMiniLM_L6_V2()
    except ValueError as exc:  # Chroma's way of saying onnxruntime or tokenizers is missing
        raise EmbeddingError(f"Chroma's ONNX embedder cannot start ({exc}); install the missing package.") from exc
    function.DOWNLOAD_PATH = folder
    try:
        probe = np.asarray(function(["Quarry checks the model."]), dtype=np.float32)
    except Exception as exc:  # onnxruntime and tokenizers raise bare Exception subclasses; typed here
        raise EmbeddingError(f"The ONNX model in {folder} does not load or run ({type(exc).__name__}); {fix}.") from exc
    if probe.ndim != 2 or probe.shape[1] == 0 or not np.isfinite(probe).all():
        raise EmbeddingError(f"The ONNX model in {folder} does not produce sentence vectors; {fix}.")
    return OnnxModel(function, folder, int(probe.shape[1]))


def _complete(folder: Path) -> bool:
    return all((folder / "onnx" / name).is_file() for name in ONNX_FILES)


def _commit(unpacked: Path, folder: Path) -> None:
    """Move a checked ``onnx`` folder into the cache in one rename (replacing an incomplete copy)."""
    if _complete(folder):  # another process got there first: keep its copy (the same checked archive)
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / "onnx").exists():  # an incomplete earlier copy
            shutil.rmtree(folder / "onnx")
        os.replace(unpacked, folder / "onnx")
    except OSError as exc:
        raise EmbeddingError(
            f"Cannot move the ONNX model into {folder} ({exc.strerror or exc}); make the models folder writable."
        ) from exc
