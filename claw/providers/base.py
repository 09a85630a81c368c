"""Model providers: neutral messages and tool definitions in, text, tool calls and usage out.

Messages are plain dataclasses so a turn can be journaled as JSON and replayed
to any provider after a restart. A provider is a plugin: one module with a
``ProviderPlugin`` registered in the ``claw.providers`` entry-point group (the
built-in ones are registered the same way), bringing its settings, the
environment variables it reads, its prices and its client.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from claw.providers.deferred import import_deferred


@dataclass
class ImagePart:
    media_type: str
    data_b64: str


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any] | str  # a str when the model sent something that is not a JSON object


@dataclass
class ToolResult:
    call_id: str
    name: str
    content: str
    is_error: bool = False


@dataclass
class Message:
    role: Literal["user", "assistant", "tool"]
    text: str = ""
    images: list[ImagePart] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)  # assistant only
    tool_results: list[ToolResult] = field(default_factory=list)  # tool only

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        return cls(
            role=data["role"],
            text=data.get("text", ""),
            images=[ImagePart(**i) for i in data.get("images", [])],
            tool_calls=[ToolCall(**c) for c in data.get("tool_calls", [])],
            tool_results=[ToolResult(**r) for r in data.get("tool_results", [])],
        )


@dataclass
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass
class LLMResponse:
    text: str
    tool_calls: list[ToolCall]
    usage: Usage
    provider: str
    model: str
    stop_reason: str = ""
    cost_usd: float = 0.0  # estimated from the provider's prices
    estimated_input: int | None = None  # the prompt's tokens as the budget check counted them


@dataclass
class Prompt:
    """Everything sent in one request. ``system`` and ``tools`` are the stable, cacheable prefix."""

    system: str
    messages: list[Message]
    tools: list[ToolSpec] = field(default_factory=list)
    context: str = ""  # the volatile part of the system prompt (time, memories), after the cache breakpoint
    max_tokens: int | None = None


class LLMError(Exception):
    """The model could not be reached or refused; ``reason`` is safe to show the owner."""

    def __init__(self, reason: str, *, retryable: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class LazySDK:
    """A provider's SDK and client, made on the first model call rather than at start-up, and only the part
    claw uses: the client and exception classes, imported with the SDK's packages deferred
    (``claw.providers.deferred``; all of ``import anthropic`` is about 55 MB). The import runs in a thread, so
    the event loop keeps serving meanwhile."""

    def __init__(self, package: str, make: Callable[[Any], Any]):
        self.package = package
        self.make = make  # the module with the SDK's client class -> the client
        self.errors: Any = None  # the module with the SDK's exception classes, once imported
        self._client: Any = None
        self._lock = asyncio.Lock()

    def _import(self) -> tuple[Any, Any]:
        try:  # where Stainless-generated SDKs (anthropic, openai) keep them
            return import_deferred(f"{self.package}._client"), import_deferred(f"{self.package}._exceptions")
        except ImportError:  # moved in some release: the package exports both
            module = importlib.import_module(self.package)
            return module, module

    async def client(self) -> Any:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    clients, self.errors = await asyncio.to_thread(self._import)
                    self._client = self.make(clients)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


async def list_models(url: str, headers: dict[str, str], within: float, label: str, rejected: str) -> int:
    """GET a provider's model list without its SDK (``claw doctor``, and the daemon's probe at start, which
    must not load the SDK): how many models it lists, or an ``LLMError`` worded as a request's would be."""
    import httpx

    try:
        async with httpx.AsyncClient(timeout=within) as client:
            r = await client.get(url, headers=headers)
    except httpx.TimeoutException:
        raise LLMError(f"{label} did not answer in time", retryable=True) from None
    except httpx.HTTPError:
        raise LLMError(f"{label} could not be reached", retryable=True) from None
    if r.status_code in (401, 403):
        raise LLMError(rejected)
    if r.status_code >= 400:
        raise LLMError(f"{label} answered with an error ({r.status_code})", retryable=r.status_code >= 500)
    try:
        listed = r.json()
    except ValueError:
        listed = None
    if not isinstance(listed, dict) or not isinstance(listed.get("data"), list):
        raise LLMError(f"{label} answered, but not with a model list")
    return len(listed["data"])


class LLMProvider(Protocol):
    name: str
    model: str

    async def complete(self, prompt: Prompt) -> LLMResponse: ...

    async def check(self) -> str:
        """A cheap authenticated request for ``claw doctor``; returns a one-line status or raises LLMError."""
        ...

    async def close(self) -> None: ...


class ProviderSettings(BaseModel):
    """``[llm]``, ``[llm.fallback]`` and ``[vision]``: which provider, which model, where, and limits.

    Keys a provider adds (its ``Settings``) are kept here and checked against it.
    """

    model_config = ConfigDict(extra="allow")

    provider: str = "auto"  # "auto" (by the keys in the environment), "none", or a provider's name
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    max_tokens: int = Field(1024, ge=16)
    timeout: float = Field(60.0, gt=0)
    max_retries: int = Field(3, ge=0, le=10)


#: USD per million tokens: input, output, cache read, cache write.
Price = tuple[float, float, float, float]


class ProviderPlugin:
    """What a provider module registers. Subclass it, set the class attributes, implement ``create``."""

    name: ClassVar[str]
    #: Environment variables for the key and the base URL; a key present makes ``provider = "auto"`` pick it.
    env_key: ClassVar[str | None] = None
    env_base_url: ClassVar[str | None] = None
    default_model: ClassVar[str] = ""
    #: Where requests go without a base URL (named when cloud vision is refused).
    cloud_host: ClassVar[str] = ""
    #: Lower is tried first by ``provider = "auto"``.
    auto_order: ClassVar[int] = 100
    #: (model name prefix, price); the first match wins; unknown models cost nothing rather than a guess.
    prices: ClassVar[Sequence[tuple[str, Price]]] = ()
    #: The settings it reads, extra keys included.
    Settings: ClassVar[type[ProviderSettings]] = ProviderSettings

    def detected(self) -> bool:
        """Its key is in the environment."""
        return bool(self.env_key and os.environ.get(self.env_key))

    def resolve(self, settings: ProviderSettings) -> ProviderSettings:
        """Fill the key, base URL and model from the environment and defaults where the file leaves them open."""
        data = settings.model_dump()
        data["provider"] = self.name
        data["api_key"] = settings.api_key or (os.environ.get(self.env_key) if self.env_key else None)
        data["base_url"] = settings.base_url or (os.environ.get(self.env_base_url) if self.env_base_url else None)
        data["model"] = settings.model or self.default_model
        return self.Settings.model_validate(data)

    def usable(self, settings: ProviderSettings) -> bool:
        """Enough to make requests (resolved settings): a key by default."""
        return bool(settings.api_key)

    def create(self, settings: ProviderSettings) -> LLMProvider:
        """The client for resolved settings; import the SDK here, not at module level (start-up time, memory)."""
        raise NotImplementedError

    def cost(self, model: str, usage: Usage) -> float:
        for prefix, (p_in, p_out, p_cr, p_cw) in self.prices:
            if model.startswith(prefix):
                return (usage.input_tokens * p_in + usage.output_tokens * p_out + usage.cache_read_tokens * p_cr
                        + usage.cache_write_tokens * p_cw) / 1_000_000
        return 0.0

    def secrets(self, settings: ProviderSettings) -> list[str]:
        return [v for v in (settings.api_key, os.environ.get(self.env_key) if self.env_key else None) if v]
