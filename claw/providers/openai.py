"""OpenAI Chat Completions provider; also serves OpenAI-compatible local servers (Ollama, llama.cpp) via base_url.

The SDK is imported on the first model call (``LazySDK``), not at start-up; ``check`` needs no SDK.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from claw.providers.base import (
    LazySDK,
    LLMError,
    LLMProvider,
    LLMResponse,
    Price,
    Prompt,
    ProviderPlugin,
    ProviderSettings,
    ToolCall,
    Usage,
    list_models,
)

if TYPE_CHECKING:
    import openai

PRICES: list[tuple[str, Price]] = [
    ("gpt-4.1-nano", (0.1, 0.4, 0.025, 0.0)),
    ("gpt-4.1-mini", (0.4, 1.6, 0.1, 0.0)),
    ("gpt-4.1", (2.0, 8.0, 0.5, 0.0)),
    ("gpt-4o-mini", (0.15, 0.6, 0.075, 0.0)),
    ("gpt-4o", (2.5, 10.0, 1.25, 0.0)),
    ("gpt-5-mini", (0.25, 2.0, 0.025, 0.0)),
    ("gpt-5-nano", (0.05, 0.4, 0.005, 0.0)),
    ("gpt-5", (1.25, 10.0, 0.125, 0.0)),
]


class OpenAI(ProviderPlugin):
    name = "openai"
    env_key = "OPENAI_API_KEY"
    env_base_url = "OPENAI_BASE_URL"
    default_model = "gpt-4.1-mini"
    cloud_host = "api.openai.com"
    auto_order = 20
    prices = PRICES

    def detected(self) -> bool:
        return super().detected() or bool(os.environ.get("OPENAI_BASE_URL"))  # a local server needs no key

    def usable(self, settings: ProviderSettings) -> bool:
        return bool(settings.api_key or settings.base_url)

    def create(self, settings: ProviderSettings) -> LLMProvider:
        return OpenAIProvider(settings)


plugin = OpenAI()


def _messages(prompt: Prompt) -> list[dict[str, Any]]:
    system = f"{prompt.system}\n\n{prompt.context}" if prompt.context else prompt.system
    out: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for m in prompt.messages:
        if m.role == "tool":
            out.extend({"role": "tool", "tool_call_id": r.call_id, "content": r.content} for r in m.tool_results)
        elif m.role == "assistant":
            msg: dict[str, Any] = {"role": "assistant", "content": m.text or None}
            if m.tool_calls:
                msg["tool_calls"] = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {
                            "name": c.name,
                            "arguments": c.arguments if isinstance(c.arguments, str) else json.dumps(c.arguments),
                        },
                    }
                    for c in m.tool_calls
                ]
            out.append(msg)
        elif m.images:
            parts: list[dict[str, Any]] = [
                {"type": "image_url", "image_url": {"url": f"data:{i.media_type};base64,{i.data_b64}"}} for i in m.images
            ]
            if m.text:
                parts.append({"type": "text", "text": m.text})
            out.append({"role": "user", "content": parts})
        else:
            out.append({"role": "user", "content": m.text})
    return out


def _rejected(label: str) -> str:
    return f"the API key for {label} was rejected (check OPENAI_API_KEY)"


def _reason(openai: Any, exc: Exception, label: str) -> LLMError:
    if isinstance(exc, openai.AuthenticationError):
        return LLMError(_rejected(label))
    if isinstance(exc, openai.RateLimitError):
        return LLMError(f"{label} is rate-limiting requests", retryable=True)
    if isinstance(exc, openai.APITimeoutError):
        return LLMError(f"{label} did not answer in time", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return LLMError(f"{label} could not be reached", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        return LLMError(f"{label} answered with an error ({exc.status_code})", retryable=exc.status_code >= 500)
    return LLMError(f"{label} request failed ({type(exc).__name__})")


class OpenAIProvider:
    name = "openai"

    def __init__(self, settings: ProviderSettings):
        self.settings = settings
        self.model = settings.model or OpenAI.default_model
        self.max_tokens = settings.max_tokens
        self.label = "OpenAI" if not settings.base_url else f"the model server at {settings.base_url}"
        # Local servers need no key, but the SDK insists on one.
        self.sdk = LazySDK("openai", lambda sdk: sdk.AsyncOpenAI(
            api_key=settings.api_key or "not-needed", base_url=settings.base_url, timeout=settings.timeout,
            max_retries=settings.max_retries))

    async def complete(self, prompt: Prompt) -> LLMResponse:
        kwargs: dict[str, Any] = {}
        if prompt.tools:
            kwargs["tools"] = [
                {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
                for t in prompt.tools
            ]
        client: openai.AsyncOpenAI = await self.sdk.client()
        try:
            resp = await client.chat.completions.create(
                model=self.model,
                messages=_messages(prompt),  # type: ignore[arg-type]
                max_tokens=prompt.max_tokens or self.max_tokens,
                **kwargs,
            )
        except self.sdk.errors.OpenAIError as exc:
            raise _reason(self.sdk.errors, exc, self.label) from exc
        if not resp.choices:
            return LLMResponse("", [], Usage(), self.name, self.model, "empty")
        choice = resp.choices[0]
        calls = []
        for c in choice.message.tool_calls or []:
            fn = getattr(c, "function", None)
            if fn is None:
                continue
            try:
                args: dict[str, Any] | str = json.loads(fn.arguments or "{}")
                if not isinstance(args, dict):
                    args = fn.arguments
            except json.JSONDecodeError:
                args = fn.arguments
            calls.append(ToolCall(id=c.id, name=fn.name, arguments=args))
        u = resp.usage
        details = getattr(u, "prompt_tokens_details", None) if u else None
        cached = (getattr(details, "cached_tokens", 0) or 0) if details else 0
        usage = Usage(
            input_tokens=(u.prompt_tokens if u else 0) - cached,
            output_tokens=u.completion_tokens if u else 0,
            cache_read_tokens=cached,
        )
        return LLMResponse(choice.message.content or "", calls, usage, self.name, self.model, choice.finish_reason or "")

    async def check(self) -> str:
        base = (self.settings.base_url or "https://api.openai.com/v1").rstrip("/")
        headers = {"Authorization": f"Bearer {self.settings.api_key or 'not-needed'}"}
        listed = await list_models(f"{base}/models", headers, self.settings.timeout, self.label,
                                   _rejected(self.label))
        return f"{self.label} reachable ({listed} models listed)"

    async def close(self) -> None:
        await self.sdk.close()
