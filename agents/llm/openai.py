"""The OpenAI-compatible HTTP backend (OpenAI, vLLM, llama.cpp's server, llama-cpp-python's server).

Guarantees: the base URL and model come from settings and the API key from the environment
variable *named* in settings (never stored); every request has a timeout; 429 and 5xx answers and
dropped connections are retried with exponential backoff (the openai SDK's, honouring
``Retry-After``) up to ``llm.max_retries`` times; a server that stays unreachable or refuses raises
``LLMConnectionError`` with one sentence saying what to check. Structured calls send the JSON
schema (``llm.openai_schema_mode``) and the answer is validated anyway, because some servers
ignore the request. The server's tokenizer is out of reach, so prompts are measured with the seam's
documented estimate (``agents.llm.estimate_tokens``: characters / 3, rounded up, plus a few tokens per
message) against ``llm.n_ctx``, which for this backend is the context the server holds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import openai

from agents.errors import LLMConnectionError
from agents.llm import DEFAULT_CONTEXT, BaseChatModel
from agents.llm.structured import Generation, Message

if TYPE_CHECKING:
    from agents.settings import Settings

NO_KEY = "sk-no-key-required"  # local servers ignore the key but the SDK insists on one


class OpenAIChatModel(BaseChatModel):
    """A model behind an OpenAI-compatible ``/v1/chat/completions`` endpoint."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout_s: float = 120.0,
        max_retries: int = 4,
        max_tokens: int = 1024,
        temperature: float = 0.2,
        seed: int | None = 0,
        schema_mode: str = "json_schema",
        context_tokens: int = DEFAULT_CONTEXT,
    ) -> None:
        super().__init__(max_tokens=max_tokens, context_tokens=context_tokens)
        self.name = model
        self.model = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.temperature = temperature
        self.seed = seed
        self.schema_mode = schema_mode
        self.client = openai.OpenAI(
            base_url=base_url,
            api_key=os.environ.get(api_key_env) or NO_KEY,
            timeout=timeout_s,
            max_retries=max_retries,
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, model: str | None = None, base_url: str | None = None
    ) -> OpenAIChatModel:
        """The backend for ``model`` at ``base_url`` (defaults: the ``[llm]`` settings)."""
        llm = settings.llm
        return cls(
            model or llm.model,
            base_url=base_url or llm.base_url,
            api_key_env=llm.api_key_env,
            timeout_s=llm.timeout_s,
            max_retries=llm.max_retries,
            max_tokens=llm.max_tokens,
            temperature=llm.temperature,
            seed=llm.seed,
            schema_mode=llm.openai_schema_mode,
            context_tokens=llm.n_ctx,
        )

    @property
    def where(self) -> str:
        """The server's base URL as the SDK uses it."""
        return str(self.client.base_url).rstrip("/")

    def response_format(self, json_schema: dict[str, Any]) -> dict[str, Any]:
        """The ``response_format`` asking for ``json_schema`` in the configured dialect."""
        if self.schema_mode == "json_object":
            return {"type": "json_object", "schema": json_schema}
        name = "".join(c for c in str(json_schema.get("title", "answer")) if c.isalnum() or c in "_-")
        return {
            "type": "json_schema",
            "json_schema": {"name": name[:64] or "answer", "schema": json_schema, "strict": False},
        }

    def _generate(self, messages: Sequence[Message], json_schema: dict[str, Any] | None, max_tokens: int) -> Generation:
        extra: dict[str, Any] = {}
        if json_schema is not None:
            extra["response_format"] = self.response_format(json_schema)
        if self.seed is not None:
            extra["seed"] = self.seed
        try:
            response = self.client.chat.completions.create(
                model=self.model,
                messages=[dict(m) for m in messages],  # type: ignore[misc]
                max_tokens=max_tokens,
                temperature=self.temperature,
                **extra,
            )
        except openai.APIConnectionError as exc:
            raise LLMConnectionError(
                f"Cannot reach the model server at {self.where} ({type(exc).__name__}); start it or fix llm.base_url."
            ) from exc
        except openai.AuthenticationError as exc:
            raise LLMConnectionError(
                f"The model server at {self.where} refused the API key (HTTP {exc.status_code}); set "
                f"the environment variable {self.api_key_env}."
            ) from exc
        except openai.APIStatusError as exc:
            raise LLMConnectionError(
                f"The model server at {self.where} answered HTTP {exc.status_code} for model "
                f"{self.model!r} (after retries); check llm.model and the server's log."
            ) from exc
        return _generation(response)

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()


def _generation(response: Any) -> Generation:
    choice = response.choices[0] if response.choices else None
    text = (choice.message.content or "") if choice is not None else ""
    usage = response.usage
    return Generation(
        text,
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        finish_reason=str(getattr(choice, "finish_reason", None) or "stop"),
    )


def describe_openai(settings: Settings, load: bool = True) -> dict[str, Any]:
    """The doctor's view of the OpenAI-compatible server: reachable, and is the model there."""
    llm = settings.llm
    report: dict[str, Any] = {
        "ok": False,
        "backend": "openai",
        "reference": llm.model,
        "base_url": llm.base_url or "https://api.openai.com/v1",
        "api_key": f"${llm.api_key_env} " + ("set" if os.environ.get(llm.api_key_env) else "not set"),
    }
    if not load:
        report["ok"] = True
        return report
    model = OpenAIChatModel(llm.model, base_url=llm.base_url, api_key_env=llm.api_key_env, timeout_s=10, max_retries=0)
    try:
        served = [m.id for m in model.client.models.list()]
        report["served_models"] = served
        report["ok"] = True
        if served and llm.model not in served:
            report["ok"] = False
            report["error"] = f"the server does not serve {llm.model!r}; it serves {', '.join(served[:5])}"
    except openai.APIConnectionError as exc:
        report["error"] = f"cannot reach {model.where} ({type(exc).__name__}); start the server or fix llm.base_url"
    except openai.APIStatusError as exc:
        report["error"] = f"{model.where} answered HTTP {exc.status_code}; check {llm.api_key_env} and llm.base_url"
    finally:
        model.close()
    return report
