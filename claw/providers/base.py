"""The provider protocol: neutral messages and tool definitions in, text, tool calls and usage out.

Messages are plain dataclasses so a turn can be journaled as JSON and replayed
to any provider after a restart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol


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


class LLMProvider(Protocol):
    name: str
    model: str

    async def complete(self, prompt: Prompt) -> LLMResponse: ...

    async def check(self) -> str:
        """A cheap authenticated request for ``claw doctor``; returns a one-line status or raises LLMError."""
        ...

    async def close(self) -> None: ...
