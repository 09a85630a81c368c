"""What a new or edited task says, checked at the edge (tool arguments, HTTP body, CLI options).

``prepare`` turns a request into the row to store, refusing anything unusable
(a schedule in the past, "every 0 minutes", an invalid cron, an unknown entity)
with a ``TaskSpecError`` whose message the owner can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from claw.config import TasksSection
from claw.tasks import conditions
from claw.tasks.triggers import TriggerError, format_duration, make_trigger, parse_at, parse_duration


class TaskSpecError(ValueError):
    """A task that cannot be created as asked; the message says why and what to write instead."""


class ActionIn(BaseModel):
    """One tool call a routine or watcher makes, exactly as a tool would be called."""

    model_config = ConfigDict(extra="forbid")

    tool: str = Field(min_length=1)
    args: dict[str, Any] = Field(default_factory=dict)


class TaskRequest(BaseModel):
    """A task to create (or the fields of one to change)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["reminder", "routine", "watcher", "goal"] | None = None
    text: str | None = Field(None, max_length=4000)
    title: str | None = Field(None, max_length=120)
    at: str | None = None
    delay: str | None = None
    cron: str | None = None
    every: str | None = None
    actions: list[ActionIn] | None = None
    needs_llm: bool | None = None
    when: str | None = None
    hold_for: str | None = None
    cooldown: str | None = None
    measure: list[str] | None = None
    stop_when: str | None = None
    max_iterations: int | None = Field(None, ge=1, le=1000)
    token_budget: int | None = Field(None, ge=1)
    deadline: str | None = None
    max_runs: int | None = Field(None, ge=1)
    expires: str | None = None
    tokens_per_day: int | None = Field(None, ge=0)
    #: The owner allows it to open garage doors, gates and entry doors unattended (otherwise that waits for a yes).
    allow_opening: bool | None = None

    def has_schedule(self) -> bool:
        return any(v not in (None, "") for v in (self.at, self.delay, self.cron, self.every))


@dataclass
class Prepared:
    """The row to insert, plus what the service still has to do (compile actions with the LLM)."""

    values: dict[str, Any]
    needs_compile: bool = False
    notes: list[str] = field(default_factory=list)


def infer_kind(req: TaskRequest) -> str:
    if req.kind:
        return req.kind
    if req.when:
        return "watcher"
    if req.stop_when or req.max_iterations or req.token_budget or req.deadline or req.measure:
        return "goal"
    return "routine" if req.cron or req.every else "reminder"


def parse_moment(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """A local date/time, or a duration from now ("3d")."""
    try:
        return now + timedelta(seconds=parse_duration(text))
    except TriggerError:
        return parse_at(text, tz, now)


def _title(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 60 else line[:57] + "..."


def prepare(req: TaskRequest, *, tz: ZoneInfo, now: datetime, settings: TasksSection, created_by: str,
            home: Any = None, tool_names: set[str] | None = None, llm_available: bool = False) -> Prepared:
    """Check a creation request and build the row. ``home`` (the registry) checks watched entities."""
    kind = infer_kind(req)
    text = (req.text or "").strip()
    if not text:
        raise TaskSpecError("say what the task should do or say (text)")
    try:
        trigger = None
        if kind == "watcher":
            if req.has_schedule():
                raise TaskSpecError("a watcher runs on home state changes; give it 'when', not a schedule")
        else:
            if kind == "goal" and not (req.cron or req.every):
                raise TaskSpecError("a goal needs a cadence for its iterations: every (e.g. 30m) or cron")
            trigger = make_trigger(at=req.at, in_=req.delay, cron=req.cron, every=req.every, tz=tz, now=now,
                                   min_interval=settings.min_interval_seconds)
        expires_at = parse_moment(req.expires, tz, now) if req.expires else None
    except TriggerError as exc:
        raise TaskSpecError(str(exc)) from None
    if expires_at is not None and expires_at <= now:
        raise TaskSpecError("expires: that moment is already past")

    spec: dict[str, Any] = {"allow_opening": True} if req.allow_opening else {}
    needs_compile = False
    if req.actions:
        if kind == "goal":
            raise TaskSpecError("a goal decides its own steps; give it no actions")
        if kind == "reminder":
            kind = "routine"
        _check_tools([a.tool for a in req.actions], tool_names)
        spec["actions"] = [a.model_dump() for a in req.actions]
    if kind == "routine" and not req.actions:
        if req.needs_llm:
            spec["needs_llm"] = True
        else:
            needs_compile = True
            spec["compile"] = "pending"
    if kind == "watcher":
        spec.update(_watch_spec(req, settings, home))
        if not req.actions and req.needs_llm:
            spec["needs_llm"] = True
    if kind == "goal":
        spec.update(_goal_spec(req, settings, tz, now, home))

    values: dict[str, Any] = {
        "kind": kind,
        "title": (req.title or _title(text)).strip(),
        "instruction": text,
        "trigger": trigger,
        "spec": spec,
        "created_by": created_by,
        "max_runs": req.max_runs,
        "expires_at": expires_at.astimezone(UTC) if expires_at else None,
        "tokens_per_day": req.tokens_per_day,
    }
    return Prepared(values, needs_compile=needs_compile and llm_available)


def _check_tools(names: list[str], tool_names: set[str] | None) -> None:
    if tool_names is None:
        return
    if "tasks" in names:
        raise TaskSpecError("a task cannot create or change tasks")
    unknown = [n for n in names if n not in tool_names]
    if unknown:
        raise TaskSpecError(f"unknown tool(s) {', '.join(unknown)}; available: {', '.join(sorted(tool_names))}")


def check_entity(entity_id: str, home: Any) -> None:
    if home is None:
        raise TaskSpecError("no home skill is running, so there is no device state to watch")
    if home.get(entity_id) is None:
        known = [e.entity_id for e in home.entities()]
        import difflib

        close = difflib.get_close_matches(entity_id, known, n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise TaskSpecError(f"no device {entity_id!r}{hint}")


def _condition(text: str, home: Any) -> conditions.Condition:
    try:
        cond = conditions.parse_condition(text)
    except conditions.ConditionError as exc:
        raise TaskSpecError(str(exc)) from None
    check_entity(cond.entity_id, home)
    return cond


def _seconds(text: str | None, what: str, default: float) -> float:
    if text in (None, ""):
        return default
    try:
        value = parse_duration(text)
    except TriggerError as exc:
        raise TaskSpecError(f"{what}: {exc}") from None
    if value < 0:
        raise TaskSpecError(f"{what} cannot be negative")
    return value


def _watch_spec(req: TaskRequest, settings: TasksSection, home: Any) -> dict[str, Any]:
    if not req.when:
        raise TaskSpecError("a watcher needs a condition: when, e.g. 'cover.garage_door == open'")
    cond = _condition(req.when, home)
    return {
        "when": conditions.to_json(cond),
        "hold_for": _seconds(req.hold_for, "hold_for", 0.0),
        "cooldown": _seconds(req.cooldown, "cooldown", settings.default_cooldown_seconds),
    }


def _goal_spec(req: TaskRequest, settings: TasksSection, tz: ZoneInfo, now: datetime, home: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "max_iterations": req.max_iterations or settings.goal_max_iterations,
        "token_budget": req.token_budget or settings.goal_token_budget,
    }
    if req.deadline:
        try:
            deadline = parse_moment(req.deadline, tz, now)
        except TriggerError as exc:
            raise TaskSpecError(f"deadline: {exc}") from None
        spec["deadline"] = deadline.astimezone(UTC).isoformat()
    if req.stop_when:
        spec["stop_when"] = conditions.to_json(_condition(req.stop_when, home))
    if req.measure:
        for entity_id in req.measure:
            check_entity(entity_id, home)
        spec["measure"] = list(req.measure)
    return spec


def describe_camera(spec: dict[str, Any]) -> str:
    """When a camera watcher (kind "camera", run by the camera skill) looks at its camera."""
    if spec.get("trigger") == "frigate":
        labels = spec.get("labels") or []
        return f"on Frigate events on {spec.get('camera')}" + (f" ({', '.join(labels)})" if labels else "")
    return f"every {spec.get('interval', 0):g} s on {spec.get('camera')}, when the picture changes"


def describe_spec(kind: str, spec: dict[str, Any]) -> str:
    """What the task will do when it runs, in a line."""
    if kind == "camera":
        return (f"asks the vision model {spec.get('question')!r}; alerts at confidence >= "
                f"{spec.get('min_confidence', 0):g} (cooldown {format_duration(spec.get('cooldown', 0))})")
    if spec.get("actions"):
        calls = "; ".join(f"{a['tool']}({', '.join(f'{k}={v!r}' for k, v in a['args'].items())})" for a in spec["actions"])
        return f"runs {len(spec['actions'])} tool call(s) without the LLM: {calls}"
    if kind == "reminder":
        return "sends the text as a reminder, without the LLM"
    if kind == "watcher":
        cond = conditions.from_json(spec["when"])
        hold = f" for {format_duration(spec['hold_for'])}" if spec.get("hold_for") else ""
        what = "an LLM turn" if spec.get("needs_llm") else "a message"
        return f"watches {cond.describe()}{hold}; then {what} (cooldown {format_duration(spec.get('cooldown', 0))})"
    if kind == "goal":
        parts = [f"at most {spec['max_iterations']} iterations", f"{spec['token_budget']} tokens"]
        if spec.get("deadline"):
            parts.append(f"deadline {spec['deadline']}")
        if spec.get("stop_when"):
            parts.append(f"stops when {conditions.from_json(spec['stop_when']).describe()}")
        return "an LLM turn per iteration (" + ", ".join(parts) + ")"
    if spec.get("compile") == "pending":
        return "will be compiled into tool calls when the daemon picks it up (or run as an LLM turn)"
    return "runs an LLM turn each time (it needs judgement)"
