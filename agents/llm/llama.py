"""The llama.cpp in-process backend.

Guarantees: one ``Llama`` per model file in the process, shared by every role that names it, with
calls serialized by a lock (parallel agents call from threads); all layers on the GPU when the
build supports it; llama.cpp's own log noise kept off the terminal. The prompt is rendered with
the GGUF's chat template, or — for a GGUF without one — with ``llm.chat_format_fallback``, said
out loud in ``doctor`` (never llama-cpp-python's silent ``llama-2`` guess). Structured calls are
decoded under the grammar from ``agents.llm.grammar`` with the "grammar second" sampler: the token is
drawn from the unconstrained distribution first and only when the grammar rejects it is the whole
vocabulary filtered and the token drawn again. Prompt prefixes are reused across calls from a
RAM cache of several KV states (``llm.prefix_cache_mb``), so alternating roles keep theirs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.errors import LLMError, ModelLoadError, PromptTooLongError
from agents.llm import BaseChatModel
from agents.llm.cpu import weights_loading
from agents.llm.engine import Engine
from agents.llm.grammar import schema_to_gbnf
from agents.llm.hub import cached_path, resolve_model
from agents.llm.prefix import PrefixCache
from agents.llm.structured import Generation, Message

if TYPE_CHECKING:
    from llama_cpp import Llama

    from agents.settings import Settings

FALLBACK_TEMPLATES = {
    "chatml": (
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content']"
        " + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}"
        "{{ '<|im_start|>assistant\n' }}{% endif %}"
    ),
    "llama-3": (
        "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
        "'<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
        "{% endif %}"
    ),
    # Gemma turns: no system role, so the system text opens the first user turn (as Gemma's own template does).
    "gemma": (
        "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}"
        "{{ '<start_of_turn>user\n' + message['content'] | trim + '\n\n' }}"
        "{% elif message['role'] == 'user' %}{% if loop.first or messages[loop.index0 - 1]['role'] != 'system' %}"
        "{{ '<start_of_turn>user\n' }}{% endif %}{{ message['content'] | trim + '<end_of_turn>\n' }}"
        "{% else %}{{ '<start_of_turn>model\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endif %}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
    ),
    "mistral-instruct": (
        "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'assistant' %}"
        "{{ message['content'] + eos_token }}{% else %}{{ '[INST] ' + message['content'] + "
        "' [/INST]' }}{% endif %}{% endfor %}"
    ),
}


@dataclass
class CallStats:
    """Timings of the most recent call (for ``bench/llm.py`` and debugging)."""

    prompt_tokens: int = 0
    reused_tokens: int = 0
    prompt_s: float = 0.0
    ttft_s: float = 0.0
    decode_s: float = 0.0
    prompt_cpu_s: float = 0.0  # process CPU time (all threads): robust to other load on the machine
    ttft_cpu_s: float = 0.0
    decode_cpu_s: float = 0.0
    completion_tokens: int = 0
    grammar_rejections: int = 0


_ENGINES: dict[tuple[str, int, int], Engine] = {}
_ENGINES_LOCK = threading.Lock()


def chat_template(metadata: dict[str, str], fallback: str) -> tuple[str, str]:
    """(template, source) from GGUF metadata, else the named or literal fallback template."""
    own = metadata.get("tokenizer.chat_template")
    if own:
        return own, "gguf"
    if fallback in FALLBACK_TEMPLATES:
        return FALLBACK_TEMPLATES[fallback], f"fallback: {fallback} (the GGUF has no chat template)"
    if "{{" in fallback or "{%" in fallback:
        return fallback, "fallback: llm.chat_format_fallback template (the GGUF has no chat template)"
    names = ", ".join(FALLBACK_TEMPLATES)
    raise ModelLoadError(
        f"The model has no chat template and llm.chat_format_fallback={fallback!r} is unknown; "
        f"set it to one of {names} or to a Jinja chat template."
    )


def read_metadata(path: Path) -> dict[str, str]:
    """The GGUF's metadata (vocabulary only is loaded: fast, no context, no weights)."""
    import llama_cpp
    from llama_cpp._internals import LlamaModel

    _check_size(path)
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    try:
        model = LlamaModel(path_model=str(path), params=params, verbose=False)
    except ValueError as exc:
        raise ModelLoadError(
            f"llama.cpp could not read {path}; the file may be truncated or not a GGUF model: "
            "download it again or choose another model."
        ) from exc
    try:
        return model.metadata()
    finally:
        model.close()


def context_length(metadata: dict[str, str]) -> int:
    """The context length the model was trained with (0 when the GGUF does not say)."""
    arch = metadata.get("general.architecture", "llama")
    try:
        return int(metadata.get(f"{arch}.context_length", "0"))
    except ValueError:
        return 0


def _check_size(path: Path) -> None:
    if path.stat().st_size < 32:
        raise ModelLoadError(f"The model file {path} is too small to be a GGUF model; download it again.")


def _load_llama(path: Path, **kwargs: Any) -> Llama:
    from llama_cpp import Llama

    _check_size(path)
    try:
        with weights_loading():  # no AMX repacking: its kernels crash on some CPUs (agents.llm.cpu)
            return Llama(model_path=str(path), verbose=False, **kwargs)
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelLoadError(
            f"llama.cpp could not load {path} ({str(exc).splitlines()[0][:120]}); the file may be "
            "truncated or not a GGUF model: download it again or choose another model."
        ) from exc


def open_engine(
    path: Path, *, n_ctx: int, n_gpu_layers: int, n_threads: int | None, fallback: str, cache_mb: int
) -> Engine:
    """The shared engine for a model file, loading it on first use."""
    key = (str(path.resolve()), n_ctx, n_gpu_layers)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            train_ctx = context_length(read_metadata(path)) or n_ctx
            llama = _load_llama(
                path,
                n_ctx=min(n_ctx, train_ctx),
                n_gpu_layers=n_gpu_layers,
                n_threads=n_threads,
                # Prompt batches use as many threads as decoding: llama-cpp-python's default (every
                # core) makes short prompt suffixes many times slower when the cores are busy.
                n_threads_batch=n_threads,
                n_batch=512,
            )
            template, source = chat_template(llama.metadata, fallback)
            engine = Engine(llama, path, template, source, cache=PrefixCache(cache_mb * 2**20))
            _ENGINES[key] = engine
        engine.users += 1
        return engine


def release_engine(engine: Engine) -> None:
    """Drop one user of an engine; the last one frees the model."""
    with _ENGINES_LOCK:
        engine.users -= 1
        if engine.users > 0:
            return
        for key, value in list(_ENGINES.items()):
            if value is engine:
                del _ENGINES[key]
    with engine.lock:
        from agents.llm.sampling import free_sampler

        for sampler in engine.grammars.values():
            free_sampler(sampler)
        engine.grammars.clear()
        engine.cache.clear()
        engine.llama.close()


class LlamaChatModel(BaseChatModel):
    """A GGUF model run in-process by llama.cpp (loaded on first call)."""

    def __init__(
        self,
        reference: str,
        *,
        models_dir: Path,
        hf_endpoint: str | None = None,
        n_ctx: int = 32768,
        n_gpu_layers: int = -1,
        n_threads: int | None = None,
        chat_format_fallback: str = "chatml",
        max_tokens: int = 1024,
        temperature: float = 0.2,
        seed: int = 0,
        prefix_cache_mb: int = 2048,
    ) -> None:
        super().__init__(max_tokens=max_tokens)
        self.reference = reference
        self.name = Path(reference).name
        self.models_dir = models_dir
        self.hf_endpoint = hf_endpoint
        self.n_ctx = n_ctx
        self.n_gpu_layers = n_gpu_layers
        self.n_threads = n_threads
        self.fallback = chat_format_fallback
        self.temperature = temperature
        self.seed = seed
        self.prefix_cache_mb = prefix_cache_mb
        self.last_stats = CallStats()
        self._engine: Engine | None = None
        self._load_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, model: str | None = None) -> LlamaChatModel:
        """The backend for ``model`` (default: ``llm.model``) with the ``[llm]`` settings."""
        llm = settings.llm
        return cls(
            model or llm.model,
            models_dir=settings.models_dir,
            hf_endpoint=llm.hf_endpoint,
            n_ctx=llm.n_ctx,
            n_gpu_layers=llm.n_gpu_layers,
            n_threads=llm.n_threads,
            chat_format_fallback=llm.chat_format_fallback,
            max_tokens=llm.max_tokens,
            temperature=llm.temperature,
            seed=llm.seed,
            prefix_cache_mb=llm.prefix_cache_mb,
        )

    def load(self) -> Engine:
        """Resolve (download once) and load the model; idempotent."""
        with self._load_lock:
            if self._engine is None:
                path = resolve_model(self.reference, self.models_dir, endpoint=self.hf_endpoint)
                self._engine = open_engine(
                    path,
                    n_ctx=self.n_ctx,
                    n_gpu_layers=self.n_gpu_layers,
                    n_threads=self.n_threads,
                    fallback=self.fallback,
                    cache_mb=self.prefix_cache_mb,
                )
            return self._engine

    def close(self) -> None:
        """Release the model (freed when no other backend uses the same file)."""
        with self._load_lock:
            if self._engine is not None:
                release_engine(self._engine)
                self._engine = None

    @property
    def context_tokens(self) -> int:
        """The context the loaded engine holds (``llm.n_ctx`` capped at what the model was trained for)."""
        return int(self.load().llama.n_ctx())

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """The exact prompt tokens: the model's tokenizer over the chat-template-rendered prompt."""
        return len(self.render(messages))

    def render(self, messages: Sequence[Message]) -> list[int]:
        """The prompt tokens for a conversation, through the model's chat template."""
        engine = self.load()
        if engine.formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            llama = engine.llama
            eos, bos = llama.token_eos(), llama.token_bos()
            engine.formatter = Jinja2ChatFormatter(
                template=engine.template,
                eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
                bos_token=llama._model.token_get_text(bos) if bos != -1 else "",
            )
        prompt = engine.formatter(messages=[dict(m) for m in messages]).prompt
        return engine.llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

    def _generate(self, messages: Sequence[Message], json_schema: dict[str, Any] | None, max_tokens: int) -> Generation:
        from agents.llm.sampling import decode

        engine = self.load()
        tokens = self.render(messages)
        grammar = schema_to_gbnf(json_schema) if json_schema is not None else None
        n_ctx = engine.llama.n_ctx()
        if len(tokens) >= n_ctx - 1:
            raise PromptTooLongError(
                f"The prompt has {len(tokens)} tokens but the model's context holds {n_ctx}; "
                "shorten the input or raise llm.n_ctx."
            )
        limit = min(max_tokens, n_ctx - len(tokens) - 1)
        with engine.lock:
            started, cpu_started = time.perf_counter(), time.process_time()
            reused = engine.cache.prepare(engine.llama, tokens)
            prompt_s = time.perf_counter() - started
            prompt_cpu_s = time.process_time() - cpu_started
            result = decode(engine, tokens, grammar, limit, temperature=self.temperature, seed=self.seed)
        self.last_stats = CallStats(
            prompt_tokens=len(tokens),
            reused_tokens=reused,
            prompt_s=prompt_s,
            ttft_s=prompt_s + result.first_token_s,
            decode_s=result.decode_s,
            prompt_cpu_s=prompt_cpu_s,
            ttft_cpu_s=prompt_cpu_s + result.first_token_cpu_s,
            decode_cpu_s=result.decode_cpu_s,
            completion_tokens=len(result.tokens),
            grammar_rejections=result.rejections,
        )
        return Generation(result.text, len(tokens), len(result.tokens), result.finish_reason)


def describe_llama(settings: Settings, load: bool = True) -> dict[str, Any]:
    """The doctor's view of the default llama.cpp model (reads metadata; never runs the model)."""
    import llama_cpp

    llm = settings.llm
    report: dict[str, Any] = {
        "ok": False,
        "backend": "llama",
        "reference": llm.model,
        "gpu_layers": llm.n_gpu_layers if llama_cpp.llama_supports_gpu_offload() else 0,
    }
    path = cached_path(llm.model, settings.models_dir)
    report["path"] = str(path) if path else None
    try:
        if not load:
            report["ok"] = path is not None
            if path is None:
                report["error"] = f"{llm.model} is not downloaded yet; run doctor without --no-load"
            return report
        path = resolve_model(llm.model, settings.models_dir, endpoint=llm.hf_endpoint)
        meta = read_metadata(path)
        _, source = chat_template(meta, llm.chat_format_fallback)
        trained = context_length(meta)
        report.update(
            path=str(path),
            architecture=meta.get("general.architecture"),
            name=meta.get("general.name"),
            context_length=trained,
            n_ctx=min(llm.n_ctx, trained or llm.n_ctx),
            chat_template=source,
            ok=True,
        )
    except LLMError as err:
        report["error"] = str(err)
    return report
