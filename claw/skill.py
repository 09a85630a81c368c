"""The skill SDK: the only part of claw that skill modules import.

A skill is a class with a pydantic ``Config`` and a few ``@tool`` methods. The
method's type hints and docstring become the JSON schema the model sees, and
arguments are validated against it before the method runs::

    class Dice(Skill):
        '''Rolls dice.'''
        name = "dice"

        class Config(SkillConfig):
            sides: int = 6

        @tool
        async def roll(self, count: int = 1) -> str:
            '''Roll some dice.

            Args:
                count: how many dice to roll.
            '''
            ...

Skills are discovered (the ``skills`` package, the ``claw.skills`` entry-point
group, ``$CLAW_HOME/skills/*.py``); nothing else needs editing to add one.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, get_type_hints
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

__all__ = [
    "IncomingMessage",
    "LocalReply",
    "Skill",
    "SkillConfig",
    "SkillContext",
    "Tool",
    "ToolContext",
    "ToolError",
    "tool",
]


class SkillConfig(BaseModel):
    """Base for a skill's config: unknown keys are an error, never ignored."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True


class ToolError(Exception):
    """Raised by a tool for a failure the model and the owner should read."""


@dataclass
class ServiceCall:
    """A device service call a tool made, reported by the HTTP API."""

    service: str
    entity_ids: list[str]
    data: dict[str, Any]
    ok: bool
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {"service": self.service, "entity_ids": self.entity_ids, "data": self.data, "ok": self.ok}
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class ToolContext:
    """Who is asking, passed to a tool that declares a ``ToolContext`` parameter."""

    conversation: str
    sender: str
    channel: str
    is_owner: bool
    origin: str = "user"  # "user" or "scheduler"
    services: list[ServiceCall] = field(default_factory=list)
    confirmed: bool = False  # the owner explicitly approved this very call

    def record_service(self, service: str, entity_ids: list[str], data: dict[str, Any], ok: bool, error: str | None = None) -> None:
        self.services.append(ServiceCall(service, list(entity_ids), dict(data), ok, error))


@dataclass
class IncomingMessage:
    """A message offered to skills' ``intercept`` hook before the planner."""

    text: str
    conversation: str
    sender: str
    channel: str
    is_owner: bool
    llm_available: bool


@dataclass
class LocalReply:
    """A reply a skill produced without the LLM (the local fast path)."""

    text: str
    handled_by: str = "local"
    actions: list[dict[str, Any]] = field(default_factory=list)
    services: list[ServiceCall] = field(default_factory=list)


@dataclass
class SkillContext:
    """What the daemon lends a skill: its config, time zone, a data folder and a way to reach the owner."""

    name: str
    timezone: ZoneInfo
    data_dir: Path
    log: Any
    notify_owner: Callable[..., Awaitable[None]]
    services: dict[str, Any] = field(default_factory=dict)  # shared objects other skills publish


_TOOL_MARK = "__claw_tool__"


@dataclass
class _ToolMark:
    name: str | None
    sensitive: bool | Callable[[BaseModel], bool]
    description: str | None


def tool(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    sensitive: bool | Callable[[Any], bool] = False,
    description: str | None = None,
) -> Any:
    """Mark a skill method as a tool.

    ``sensitive`` (or a function of the validated arguments, and optionally the
    ToolContext, returning bool) means the call waits for the owner's explicit yes.
    """

    def mark(f: Callable[..., Any]) -> Callable[..., Any]:
        setattr(f, _TOOL_MARK, _ToolMark(name, sensitive, description))
        return f

    return mark(fn) if fn is not None else mark


def _parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into a summary and per-argument descriptions."""
    if not doc:
        return "", {}
    doc = inspect.cleandoc(doc)
    parts = re.split(r"^\s*(?:Args|Arguments|Parameters):\s*$", doc, maxsplit=1, flags=re.M)
    summary = " ".join(line.strip() for line in parts[0].strip().splitlines() if line.strip())
    args: dict[str, str] = {}
    if len(parts) > 1:
        current = None
        for line in parts[1].splitlines():
            m = re.match(r"^\s*(\w+)(?:\s*\([^)]*\))?:\s*(.*)$", line)
            if m and (current is None or len(line) - len(line.lstrip()) <= 4):
                current = m.group(1)
                args[current] = m.group(2).strip()
            elif re.match(r"^\S", line):
                break  # another section (Returns:, Raises:) starts
            elif current and line.strip():
                args[current] += " " + line.strip()
    return summary, args


def _compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Shrink pydantic's schema without losing meaning: every token of it is paid on every turn.

    Titles repeat the names; ``anyOf [X, null]`` is just an optional X; empty defaults say
    nothing an omitted argument does not; extra keys are refused by validation anyway.
    """

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        node = dict(node)
        options = node.get("anyOf")
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            if len(rest) == 1:
                del node["anyOf"]
                node = {**rest[0], **node}
        out = {}
        for key, value in node.items():
            if key == "title" and isinstance(value, str):
                continue
            if key == "additionalProperties" and value is False:
                continue
            if key == "default" and value in (None, "", [], {}):
                continue
            out[key] = walk(value)
        return out

    return walk(schema)


class Tool:
    """One callable tool: its schema for the model, argument validation and invocation."""

    def __init__(self, skill: Skill, method: Callable[..., Any], mark: _ToolMark):
        self.skill = skill
        self.method = method
        self.name = mark.name or method.__name__
        summary, arg_docs = _parse_docstring(method.__doc__)
        self.description = mark.description or summary or self.name
        self._sensitive = mark.sensitive
        hints = get_type_hints(method)
        self._context_param: str | None = None
        fields: dict[str, Any] = {}
        for pname, param in inspect.signature(method).parameters.items():
            if pname == "self":
                continue
            annotation = hints.get(pname, Any)
            if annotation is ToolContext:
                self._context_param = pname
                continue
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[pname] = (annotation, Field(default, description=arg_docs.get(pname)))
        self.args_model: type[BaseModel] = create_model(  # type: ignore[call-overload]
            f"{self.name}_args", __config__=ConfigDict(extra="forbid"), **fields
        )
        self.parameters = _compact_schema(self.args_model.model_json_schema())

    def validate(self, arguments: Any) -> BaseModel:
        """Validate raw arguments from the model; raises ``ToolError`` with a readable message."""
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except json.JSONDecodeError as exc:
                raise ToolError(f"arguments are not valid JSON: {exc.msg}") from None
        if not isinstance(arguments, dict):
            raise ToolError("arguments must be a JSON object")
        try:
            return self.args_model.model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}" for err in exc.errors()
            )
            raise ToolError(f"invalid arguments: {problems}") from None

    def is_sensitive(self, args: BaseModel, ctx: ToolContext | None = None) -> bool:
        """A ``sensitive=`` callable gets the validated arguments, and the ToolContext if it takes two parameters."""
        if callable(self._sensitive):
            if len(inspect.signature(self._sensitive).parameters) >= 2:
                return bool(self._sensitive(args, ctx))
            return bool(self._sensitive(args))
        return bool(self._sensitive)

    @property
    def may_be_sensitive(self) -> bool:
        return bool(self._sensitive)

    async def invoke(self, args: BaseModel, ctx: ToolContext) -> Any:
        kwargs = {name: getattr(args, name) for name in type(args).model_fields}
        if self._context_param:
            kwargs[self._context_param] = ctx
        result = self.method(**kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    def definition(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


class Skill:
    """Base class of a skill. Subclasses set ``name``, optionally ``Config``, and define ``@tool`` methods."""

    name: ClassVar[str] = ""
    Config: ClassVar[type[SkillConfig]] = SkillConfig
    #: Top-level config table used instead of ``[skills.NAME]`` (e.g. ``home`` for ``[home]``).
    section: ClassVar[str | None] = None
    #: Lower runs first when several skills offer an ``intercept``.
    intercept_priority: ClassVar[int] = 100

    def __init__(self, config: SkillConfig, ctx: SkillContext):
        self.config = config
        self.ctx = ctx

    async def setup(self) -> None:
        """Connect to devices or services. Raising here skips the skill, the daemon still starts."""

    async def ready(self) -> None:
        """The daemon now serves requests: start warm-up work that need not delay start-up (return quickly)."""

    async def close(self) -> None:
        """Release connections on shutdown."""

    async def intercept(self, message: IncomingMessage) -> LocalReply | None:
        """Answer a message without the LLM, or return None to let the planner handle it."""
        return None

    def health(self) -> dict[str, Any]:
        """Component health for ``/healthz`` and ``claw doctor``: at least ``{"ok": bool}``."""
        return {"ok": True}

    def tools(self) -> list[Tool]:
        found = []
        for attr in dir(type(self)):
            member = getattr(type(self), attr, None)
            mark = getattr(member, _TOOL_MARK, None)
            if mark is not None:
                found.append(Tool(self, getattr(self, attr), mark))
        return found
