"""Compiling a routine's instruction into concrete tool calls, once, when it is created.

One LLM request with the tool schemas: the model answers with the calls that
carry the instruction out (stored as ``[{"tool", "args"}]`` and run later with
zero tokens), or with no call when the instruction needs judgement at run time.
With no model, skills that know sentences without one (the fast path) are asked
instead. Calls that fail validation or need the owner's confirmation are not compiled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from claw.agent.turn import Toolbox
from claw.providers.base import LLMResponse, Message, Prompt
from claw.providers.budget import Scope
from claw.providers.llm import LLM, LLMError
from claw.skill import ToolContext, ToolError

log = structlog.get_logger("claw.tasks.compile")

SYSTEM = (
    "You compile a standing instruction for a home assistant into the exact tool calls that carry it out each "
    "time it runs. Call every tool needed, in order, with concrete arguments, all in this one answer; they are "
    "recorded, not run now. Do not call tools to look things up. If doing it needs judgement at run time "
    "(reading state, summarising, deciding, answering), call no tool and reply JUDGEMENT."
)


NO_LOCAL = "no language model is configured, and the fast path does not know it as a device command"


@dataclass
class Compiled:
    actions: list[dict[str, Any]] | None  # None: run as an LLM turn
    reason: str
    response: LLMResponse | None = None


def check_actions(actions: list[dict[str, Any]], skills: Toolbox, ctx: ToolContext) -> list[dict[str, Any]]:
    """Validate each call against its tool; refuse tools that need the owner's yes every time."""
    out = []
    for action in actions:
        tool = skills.tools.get(action["tool"])
        if tool is None or action["tool"] == "tasks":
            names = ", ".join(sorted(n for n in skills.tools if n != "tasks"))
            raise ToolError(f"unknown tool {action['tool']!r} for a task; available: {names}")
        args = tool.validate(action.get("args") or {})
        if tool.is_sensitive(args, ctx):
            raise ToolError(f"{action['tool']} with these arguments needs the owner's confirmation each time, "
                            "so it cannot run unattended")
        out.append({"tool": action["tool"], "args": args.model_dump(mode="json", exclude_none=True)})
    return out


LOCAL = "compiled by the fast path (no language model needed)"


async def compile_instruction(text: str, llm: LLM | None, skills: Toolbox, ctx: ToolContext) -> Compiled:
    if llm is None:  # the fast path knows plain device commands ("set the heat to 21") without a model
        local = await skills.compile_locally(text)
        try:
            return Compiled(check_actions(local, skills, ctx), LOCAL) if local else Compiled(None, NO_LOCAL)
        except ToolError as exc:
            return Compiled(None, f"{NO_LOCAL} ({exc})")
    specs = [s for s in skills.specs() if s.name != "tasks"]
    prompt = Prompt(SYSTEM, [Message(role="user", text=f"Instruction: {text}")], specs, max_tokens=512)
    try:
        resp = await llm.complete(prompt, Scope("task_compile"))
    except LLMError as exc:
        log.warning("tasks.compile_failed", reason=exc.reason)
        return Compiled(None, f"could not compile it now ({exc.reason})")
    if not resp.tool_calls:
        return Compiled(None, "it needs judgement each time", resp)
    raw = [{"tool": c.name, "args": c.arguments if isinstance(c.arguments, dict) else {}} for c in resp.tool_calls]
    try:
        return Compiled(check_actions(raw, skills, ctx), "compiled", resp)
    except ToolError as exc:
        return Compiled(None, f"compiling gave an unusable call ({exc})", resp)
