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

Skills are discovered (the ``claw.skills`` entry-point group, where the
built-in ones are registered too, and ``$CLAW_HOME/skills/*.py``); nothing else
needs editing to add one. What a skill needs from the daemon comes through its
``SkillContext``: the owner's channel, the models, standing tasks, memory, and
what skills share with each other and the daemon (the home).
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, cast, get_type_hints
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from starlette.routing import BaseRoute

from claw.providers.base import ImagePart, LLMError, LLMResponse, Message, Prompt

__all__ = [
    "Budgets",
    "HomeView",
    "ImagePart",
    "IncomingMessage",
    "LLMError",
    "LLMResponse",
    "LocalReply",
    "Confirm",
    "Effect",
    "Memory",
    "State",
    "Message",
    "Models",
    "Prompt",
    "Shared",
    "Skill",
    "SkillConfig",
    "SkillContext",
    "TaskInfo",
    "TaskKind",
    "Tasks",
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
    #: Words from outside the owner that came into this turn before the call ("the Porch camera's picture"),
    #: or None: a tool that stores what it is given (a fact) keeps that origin with it.
    tainted_by: str | None = None
    #: Set by a tool whose result carries outside words this time (a recall that found a camera's words):
    #: where they came from, as the owner would read it. Tools declared ``untrusted`` need not set it.
    outside: str | None = None
    #: The owner allowed this standing task to open garage doors, gates and entry doors unattended.
    may_open: bool = False
    #: A follow-up call the tool proposes ("use the speakers just found"): the owner's next "yes" runs it,
    #: with no model call. Only kept when the owner asked in their own words.
    offer: Confirm | None = None

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
class Confirm:
    """A sensitive call a local answer proposes instead of making: the owner's yes runs ``tool`` with ``args``."""

    tool: str
    args: dict[str, Any]
    summary: str  # what it does, as the owner reads it: "Unlock the Front Door"


@dataclass
class LocalReply:
    """A reply a skill produced without the LLM (the local fast path); with ``confirm``, the reply is ignored
    and the daemon asks the owner to confirm that call, exactly as when the model makes it."""

    text: str
    handled_by: str = "local"
    actions: list[dict[str, Any]] = field(default_factory=list)
    services: list[ServiceCall] = field(default_factory=list)
    confirm: Confirm | None = None


# -- what the daemon lends a skill -------------------------------------------------------------


class EntityView(Protocol):
    entity_id: str
    state: str
    attributes: dict[str, Any]


class HomeView(Protocol):
    """The home registry as the daemon uses it (the home skill publishes the full one in ``Shared.home``)."""

    def get(self, entity_id: str) -> Any: ...

    def entities(self, domain: str | None = None, area: str | None = None) -> list[Any]: ...

    def snapshot(self) -> dict[str, Any]: ...

    def subscribe(self, callback: Callable[[Any, Any, Any], None]) -> Callable[[], None]: ...


@dataclass
class Shared:
    """What skills share with each other and the daemon: a skill publishes, others (and claw) read."""

    home: HomeView | None = None


class Models(Protocol):
    """Model calls for skills: the chat model, or the vision model (``[vision]``, which may refuse cloud models).

    Usage is recorded with ``purpose`` and against ``task_id`` when given, so task budgets hold.
    """

    @property
    def vision_label(self) -> str: ...

    @property
    def vision_refusal(self) -> str | None:
        """Why images may not go to the vision model (``allow_cloud_vision = false``), or None."""
        ...

    async def complete(self, prompt: Prompt, *, vision: bool = False, purpose: str = "skill",
                       task_id: int | None = None) -> LLMResponse:
        """Raises ``LLMError`` (reason safe to show) when no model is configured or the call fails."""
        ...


@dataclass
class TaskInfo:
    """A standing task as a skill sees it."""

    id: int
    kind: str
    title: str
    instruction: str
    status: str
    spec: dict[str, Any]
    state: dict[str, Any]


class TaskKind(Protocol):
    """A skill that runs a kind of task itself (camera watchers): the tasks service owns their definition,
    status and budgets, and tells the handler when the table changed."""

    async def refresh(self) -> None: ...

    async def run_task(self, task: TaskInfo) -> str: ...


class Tasks(Protocol):
    """Standing tasks. Requests are the ``tasks`` tool's fields; answers are text for the model.
    Mistakes raise ``ToolError``."""

    async def create(self, fields: dict[str, Any], ctx: ToolContext) -> str: ...

    async def listing(self) -> str: ...

    async def update(self, task_id: int, fields: dict[str, Any], ctx: ToolContext) -> str: ...

    async def set_status(self, task_id: int, status: str, reason: str | None = None) -> str: ...

    async def delete(self, task_id: int) -> str: ...

    async def run_now(self, task_id: int) -> str: ...

    # For a skill's own kind of task:
    def register_kind(self, kind: str, handler: TaskKind) -> None: ...

    async def add(self, kind: str, title: str, instruction: str, spec: dict[str, Any], state: dict[str, Any]) -> TaskInfo: ...

    async def of_kind(self, kind: str) -> list[TaskInfo]: ...

    async def save_state(self, task_id: int, state: dict[str, Any]) -> None: ...

    async def remove(self, task_id: int, kind: str) -> bool: ...

    async def may_run(self, task_id: int) -> str | None:
        """Why the task must not run now (paused, deleted, over budget), or None."""
        ...


class Memory(Protocol):
    """Long-term memory: search it, add to it, forget from it."""

    async def recall(self, query: str, *, after: str | None = None, before: str | None = None,
                     speaker: str | None = None, conversation: str | None = None) -> str: ...

    async def remember(self, statement: str, *, pinned: bool = False, subject: str | None = None,
                       origin: str | None = None) -> int:
        """``origin``: where the words came from if not the owner (then it is never a profile fact)."""
        ...

    async def forget(self, what: str, conversation: str | None = None) -> str:
        """Forget for good; a description of what went, without repeating it."""
        ...

    async def add_episode(self, text: str, *, conversation: str, speaker: str, at: datetime | None = None,
                          meta: dict[str, Any] | None = None) -> None: ...


class State(Protocol):
    """A skill's own small records in claw.db (JSON values by key), kept across restarts and backups.

    For what the owner set up through the skill (adopted devices, a chosen default), never for bulk data.
    """

    async def get(self, key: str, default: Any = None) -> Any: ...

    async def put(self, key: str, value: Any) -> None: ...


class Budgets(Protocol):
    """The day's token budgets (0: no limit) by name: ``daily`` (every model call), ``conversation`` (the owner's
    turns in one conversation), ``tasks`` (unattended work). The config sets them; the owner may change them."""

    def limits(self) -> dict[str, int]: ...

    def set_limits(self, limits: dict[str, int]) -> None: ...

    async def spent_today(self, conversation: str | None = None) -> dict[str, int]: ...


@dataclass
class SkillContext:
    """What the daemon lends a skill. Services are None where this daemon has none (tasks switched off)."""

    name: str
    timezone: ZoneInfo
    data_dir: Path
    log: Any
    notify_owner: Callable[..., Awaitable[Any]]
    shared: Shared = field(default_factory=Shared)
    models: Models | None = None
    tasks: Tasks | None = None
    memory: Memory | None = None
    state: State | None = None
    budgets: Budgets | None = None
    #: The https address the outside world reaches this box at (a channel's public URL), if any.
    public_url: str | None = None
    #: ``[agent] language`` and whether the local fast path is on.
    language: str = "en"
    local_intents: bool = True


_TOOL_MARK = "__claw_tool__"

#: ``sensitive=``: a constant, or a rule of the validated arguments and, if it takes two parameters,
#: the ToolContext (None when the call is checked outside a turn); with three, (skill, args, ctx).
Sensitive = (bool | Callable[[Any], bool] | Callable[[Any, ToolContext | None], bool]
             | Callable[[Any, Any, ToolContext | None], bool])
#: What a call does to the world: ``read`` changes nothing; ``change`` touches a device, a standing task,
#: memory, a message to someone or a setting.
Effect = Literal["read", "change"]


@dataclass
class _ToolMark:
    name: str | None
    sensitive: Sensitive
    description: str | None
    summary: Callable[[Any, Any], str] | None = None
    cli: bool = False
    effect: Effect | Callable[[Any], Effect] = "change"
    untrusted: bool = True


def tool(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    sensitive: Sensitive = False,
    description: str | None = None,
    summary: Callable[[Any, Any], str] | None = None,
    cli: bool = False,
    effect: Effect | Callable[[Any], Effect] = "change",
    untrusted: bool = True,
) -> Any:
    """Mark a skill method as a tool.

    ``sensitive`` (or a function of the validated arguments, and optionally the
    ToolContext, returning bool) means the call waits for the owner's explicit yes.
    ``effect`` (or a function of the validated arguments): ``"read"`` for a call that changes
    nothing. A call that changes something waits for the owner's yes once words from outside
    the owner entered the turn; a tool that says nothing counts as changing something.
    ``untrusted``: the tool's results carry words from outside the owner (devices, cameras,
    the network, other people), so they taint the turn; a tool that says False may still
    flag one result with ``ctx.outside``.
    ``summary(skill, args)`` says what a call does, as the owner reads it when asked
    to confirm ("Unlock the Front Door"); without it the call is shown as written.
    ``cli`` lets the owner's command line call it through the daemon's API (``POST /api/tools/NAME``),
    their command standing for the yes: for tools a ``claw`` subcommand needs, never by default.
    """

    def mark(f: Callable[..., Any]) -> Callable[..., Any]:
        setattr(f, _TOOL_MARK, _ToolMark(name, sensitive, description, summary, cli, effect, untrusted))
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

    Titles repeat the names; ``anyOf [X, null]`` is just an optional X; empty, zero and false
    defaults say nothing an omitted argument does not; extra keys are refused by validation anyway.
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
            if key == "default" and value in (None, "", [], {}, 0):  # 0 == False
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
        self._summary = mark.summary
        self._effect = mark.effect
        self.cli = mark.cli
        #: Its results carry outside words (see ``tool(untrusted=...)``).
        self.untrusted = mark.untrusted
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
        self.args_model: type[BaseModel] = create_model(
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
        rule = self._sensitive
        if not callable(rule):
            return bool(rule)
        arity = len(inspect.signature(rule).parameters)
        if arity >= 3:
            return bool(cast("Callable[[Any, Any, ToolContext | None], bool]", rule)(self.skill, args, ctx))
        if arity == 2:
            return bool(cast("Callable[[Any, ToolContext | None], bool]", rule)(args, ctx))
        return bool(cast("Callable[[Any], bool]", rule)(args))

    def changes(self, args: BaseModel) -> bool:
        """Whether this call changes something (anything but a declared ``read``, a failing rule included)."""
        effect = self._effect
        if callable(effect):
            try:
                effect = effect(args)
            except Exception:
                return True
        return effect != "read"

    def summary(self, args: BaseModel) -> str | None:
        """What this call does, for the owner's confirmation; None when the tool says nothing (or fails to)."""
        if self._summary is None:
            return None
        try:
            return str(self._summary(self.skill, args)).strip() or None
        except Exception:  # a summary must never stop the question being asked
            return None

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

    async def compile(self, text: str) -> list[dict[str, Any]] | None:
        """Tool calls (``[{"tool", "args"}]``) that carry out ``text`` each time, worked out without a model, for a
        routine made while none is configured; None: this skill cannot."""
        return None

    def tool_notes(self) -> dict[str, str]:
        """Words to add to tools' descriptions from what the skill knows now (its cameras' names, a simulated
        house), by tool name; asked for every model call, so keep it cheap and stable."""
        return {}

    def routes(self) -> list[BaseRoute]:
        """HTTP routes the skill serves on the daemon (e.g. signed links to snapshots); asked after ``setup``."""
        return []

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
