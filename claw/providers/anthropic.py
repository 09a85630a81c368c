"""Anthropic Messages API provider: tool_use/tool_result blocks, parallel calls, prompt caching.

The SDK is imported on the first model call (``LazySDK``), not at start-up; ``check`` needs no SDK.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from claw.providers.base import (
    LazySDK,
    LLMError,
    LLMProvider,
    LLMResponse,
    Message,
    Price,
    Prompt,
    ProviderPlugin,
    ProviderSettings,
    ToolCall,
    Usage,
    list_models,
)

if TYPE_CHECKING:
    import anthropic

PRICES: list[tuple[str, Price]] = [
    ("claude-opus-4-5", (5.0, 25.0, 0.5, 6.25)),
    ("claude-opus", (15.0, 75.0, 1.5, 18.75)),
    ("claude-sonnet", (3.0, 15.0, 0.3, 3.75)),
    ("claude-haiku-4", (1.0, 5.0, 0.1, 1.25)),
    ("claude-3-5-haiku", (0.8, 4.0, 0.08, 1.0)),
    ("claude-3-haiku", (0.25, 1.25, 0.03, 0.3)),
]


class Anthropic(ProviderPlugin):
    name = "anthropic"
    env_key = "ANTHROPIC_API_KEY"
    env_base_url = "ANTHROPIC_BASE_URL"
    default_model = "claude-sonnet-4-6"
    cloud_host = "api.anthropic.com"
    auto_order = 10
    prices = PRICES

    def create(self, settings: ProviderSettings) -> LLMProvider:
        return AnthropicProvider(settings)


plugin = Anthropic()


def _content(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if message.role == "tool":
        for r in message.tool_results:
            blocks.append({"type": "tool_result", "tool_use_id": r.call_id, "content": r.content, "is_error": r.is_error})
        return blocks
    for image in message.images:
        blocks.append({"type": "image", "source": {"type": "base64", "media_type": image.media_type, "data": image.data_b64}})
    if message.text:
        blocks.append({"type": "text", "text": message.text})
    for call in message.tool_calls:
        args = call.arguments if isinstance(call.arguments, dict) else {"_raw": call.arguments}
        blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": args})
    return blocks or [{"type": "text", "text": "(empty)"}]


def to_anthropic(prompt: Prompt) -> dict[str, Any]:
    """Build request kwargs; ``cache_control`` marks the end of the stable prefix (tools, then system)."""
    tools = [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in prompt.tools]
    if tools:
        tools[-1]["cache_control"] = {"type": "ephemeral"}
    messages = [{"role": "user" if m.role == "tool" else m.role, "content": _content(m)} for m in prompt.messages]
    system = [{"type": "text", "text": prompt.system, "cache_control": {"type": "ephemeral"}}]
    if prompt.context:
        system.append({"type": "text", "text": prompt.context})
    kwargs: dict[str, Any] = {"system": system, "messages": messages}
    if tools:
        kwargs["tools"] = tools
    return kwargs


#: Larger replies are streamed: the SDK will not wait for a long one in a single response.
STREAM_ABOVE = 16_000

REJECTED = "the Anthropic API key was rejected (check ANTHROPIC_API_KEY)"


def _reason(anthropic: Any, exc: Exception) -> LLMError:
    if isinstance(exc, anthropic.AuthenticationError):
        return LLMError(REJECTED)
    if isinstance(exc, anthropic.RateLimitError):
        return LLMError("Anthropic is rate-limiting requests", retryable=True)
    if isinstance(exc, anthropic.APITimeoutError):
        return LLMError("Anthropic did not answer in time", retryable=True)
    if isinstance(exc, anthropic.APIConnectionError):
        return LLMError("Anthropic could not be reached", retryable=True)
    if isinstance(exc, anthropic.APIStatusError):
        overloaded = exc.status_code in (529, 503)
        return LLMError(
            "Anthropic is overloaded" if overloaded else f"Anthropic answered with an error ({exc.status_code})",
            retryable=exc.status_code >= 500 or exc.status_code == 429,
        )
    return LLMError(f"Anthropic request failed ({type(exc).__name__})")


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, settings: ProviderSettings):
        self.settings = settings
        self.model = settings.model or Anthropic.default_model
        self.max_tokens = settings.max_tokens
        # The SDK retries 429/5xx/529 itself with backoff and honours retry-after.
        self.sdk = LazySDK("anthropic", lambda sdk: sdk.AsyncAnthropic(
            api_key=settings.api_key, base_url=settings.base_url, timeout=settings.timeout,
            max_retries=settings.max_retries))

    async def complete(self, prompt: Prompt) -> LLMResponse:
        kwargs = to_anthropic(prompt)
        client: anthropic.AsyncAnthropic = await self.sdk.client()
        max_tokens = prompt.max_tokens or self.max_tokens
        try:
            if max_tokens <= STREAM_ABOVE:  # one JSON body: a third of the SDK's CPU of parsing a stream
                final = await client.messages.create(model=self.model, max_tokens=max_tokens, **kwargs)
            else:  # the SDK refuses long requests without streaming (they may outlast an HTTP timeout)
                async with client.messages.stream(model=self.model, max_tokens=max_tokens, **kwargs) as stream:
                    final = await stream.get_final_message()
        except self.sdk.errors.AnthropicError as exc:
            raise _reason(self.sdk.errors, exc) from exc
        text_parts, calls = [], []
        for block in final.content:
            if block.type == "text":
                text_parts.append(block.text)
            elif block.type == "tool_use":
                args = block.input if isinstance(block.input, dict) else json.dumps(block.input)
                calls.append(ToolCall(id=block.id, name=block.name, arguments=args))
        u = final.usage
        usage = Usage(
            input_tokens=u.input_tokens or 0,
            output_tokens=u.output_tokens or 0,
            cache_read_tokens=getattr(u, "cache_read_input_tokens", 0) or 0,
            cache_write_tokens=getattr(u, "cache_creation_input_tokens", 0) or 0,
        )
        return LLMResponse("".join(text_parts), calls, usage, self.name, self.model, final.stop_reason or "")

    async def check(self) -> str:
        base = (self.settings.base_url or "https://api.anthropic.com").rstrip("/")
        headers = {"x-api-key": self.settings.api_key or "", "anthropic-version": "2023-06-01"}
        listed = await list_models(f"{base}/v1/models?limit=5", headers, self.settings.timeout, "Anthropic", REJECTED)
        return f"anthropic reachable ({listed} models listed)"

    async def close(self) -> None:
        await self.sdk.close()
