"""One turn: the owner's yes or no to a waiting action -> skills' local answers -> the planner.

The planner reads top to bottom: build the context, ask the model, run the
tools it asked for, repeat until it answers or the step limit. Every step goes
through the journal first, so a turn interrupted by a crash replays what was
recorded and carries on where it stopped.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any, Protocol

import structlog
from sqlalchemy.engine import Connection

from claw.agent import confirm, journal
from claw.agent.journal import Journal, ModelStep
from claw.agent.prompt import PromptBuilder, window
from claw.agent.untrusted import sources_in, untrusted
from claw.config import AgentSection
from claw.core.events import TurnInput, TurnOutcome
from claw.providers import usage as usage_log
from claw.providers.base import (
    LLMError,
    LLMResponse,
    Message,
    Prompt,
    ProviderSettings,
    ToolCall,
    ToolResult,
    ToolSpec,
)
from claw.providers.budget import Cap, OverBudget, Scope
from claw.providers.llm import LLM, what_is_missing
from claw.skill import Confirm, IncomingMessage, Skill, Tool, ToolContext, ToolError
from claw.store.db import Database

log = structlog.get_logger("claw.agent")

TOOL_TIMEOUT = 60.0
STEP_LIMIT = "not run: the turn reached its step limit ([agent] max_steps)"
ONE_QUESTION = "not run: another call waits for the owner's yes; one question at a time, ask again after the answer"
def no_model_reply(settings: ProviderSettings, config_file: str) -> str:
    """The answer to a message that needs the model when none can be used: what exactly to set, and where."""
    return f"I can't answer that yet: {what_is_missing(settings)} (config: {config_file}), then restart."


class Toolbox(Protocol):
    """The tools the model may call and the skills that may answer first (``claw.skillset.SkillSet``)."""

    tools: dict[str, Tool]

    def interceptors(self) -> list[Skill]: ...

    def specs(self) -> list[ToolSpec]: ...

    async def compile_locally(self, text: str) -> list[dict[str, Any]] | None: ...


class Agent:
    def __init__(self, db: Database, settings: AgentSection, toolbox: Toolbox, llm: LLM | None,
                 prompts: PromptBuilder, setup_reply: str):
        self.db = db
        self.settings = settings
        self.toolbox = toolbox
        self.llm = llm
        self.prompts = prompts
        self.setup_reply = setup_reply  # what to set when there is no model (no_model_reply)

    async def run(self, item: TurnInput) -> TurnOutcome:
        limit = self.settings.history_messages

        def load(conn: Connection) -> tuple[list[dict[str, Any]], confirm.PendingAction | None, list[Message]]:
            """Everything the turn reads from the database, in one trip to the DB thread."""
            steps = journal.load(conn, item.inbox_id)
            wants_pending = not steps and item.origin == "user" and item.is_owner
            pending = confirm.waiting(conn, item.conversation_id) if wants_pending else None
            return steps, pending, window(conn, item.conversation_id, limit)

        steps, pending, recent = await self.db.tx(load)
        j = Journal(self.db, item.inbox_id, steps)
        if j.confirmed is not None:
            return await self._run_confirmed(item, j)
        if j.fresh:
            outcome = await self._before_planner(item, j, pending)
            if outcome is not None:
                return outcome
        if self.llm is None:
            return TurnOutcome(self.setup_reply, "setup")
        return await self._plan(item, j, self.llm, recent)

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> str:
        """Run one tool marked ``cli`` for the owner's own command line (``claw discover --adopt``): no turn,
        no model, and the owner's command stands for their yes. Raises KeyError for a tool that is unknown or
        not marked ``cli``, ToolError for bad arguments or a failed call, TimeoutError.
        """
        tool = self.toolbox.tools.get(name)
        if tool is None or not tool.cli:
            raise KeyError(name)
        args = tool.validate(arguments)
        ctx = ToolContext("cli", "owner", "cli", True, confirmed=True)  # the owner at their own shell
        log.info("tool.direct", tool=name, args=args.model_dump(mode="json", exclude_none=True))
        try:
            result = await asyncio.wait_for(tool.invoke(args, ctx), TOOL_TIMEOUT)
        except (ToolError, TimeoutError):
            raise
        except Exception as exc:
            log.exception("tool.crashed", tool=name)
            raise ToolError(f"the tool failed: {type(exc).__name__}: {exc}") from None
        return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, default=str)

    # -- before the planner -------------------------------------------------

    async def _before_planner(self, item: TurnInput, j: Journal,
                              pending: confirm.PendingAction | None) -> TurnOutcome | None:
        if pending is not None:
            if confirm.YES.match(item.text):
                return await self._confirm(item, j, pending)
            await self.db.tx(lambda c: confirm.close(c, pending.id, "cancelled"))
            if confirm.NO.match(item.text):
                return TurnOutcome(f"OK, cancelled: {pending.summary}.", "confirm")
        if item.origin == "user" and not item.images:
            message = IncomingMessage(
                item.text, item.conversation_id, item.sender, item.channel, item.is_owner, self.llm is not None
            )
            for skill in self.toolbox.interceptors():
                try:
                    local = await skill.intercept(message)
                except Exception as exc:
                    log.error("skill.intercept_failed", skill=skill.name, error=str(exc))
                    continue
                if local is not None and local.confirm is not None:
                    return await self._ask_owner(item, local.confirm)
                if local is not None:
                    return TurnOutcome(local.text, local.handled_by, local.actions, [s.as_dict() for s in local.services])
        return None

    async def _offer(self, item: TurnInput, offer: dict[str, Any]) -> str:
        """Keep what a tool offered for the owner's yes, and return the daemon's own question for it: the owner
        reads what the yes will do in claw's words, whatever the model wrote above it."""
        minutes = self.settings.confirm_minutes
        return await self.db.tx(lambda c: confirm.create(c, item.conversation_id, offer["tool"], offer["args"],
                                                         minutes, offer["summary"]))

    async def _ask_owner(self, item: TurnInput, proposed: Confirm) -> TurnOutcome:
        """A skill's local answer is a sensitive call: ask for the yes, as when the model asks for it."""
        minutes = self.settings.confirm_minutes
        question = await self.db.tx(lambda c: confirm.create(c, item.conversation_id, proposed.tool, proposed.args,
                                                            minutes, proposed.summary))
        action = {"tool": proposed.tool, "args": proposed.args, "ok": False, "pending_confirmation": True}
        return TurnOutcome(question, "confirm", [action])

    async def _confirm(self, item: TurnInput, j: Journal, pending: confirm.PendingAction) -> TurnOutcome:
        data = {"action_id": pending.id, "tool": pending.tool, "args": pending.args, "origin": pending.origin}

        def start(conn: Connection) -> bool:
            if not confirm.close(conn, pending.id, "done"):
                return False
            journal.append(conn, item.inbox_id, "confirm", data)
            return True

        if not await self.db.tx(start):
            return TurnOutcome("That request was already handled or has expired.", "confirm")
        j.adopt("confirm", data)
        return await self._run_confirmed(item, j)

    async def _run_confirmed(self, item: TurnInput, j: Journal) -> TurnOutcome:
        data = j.confirmed
        assert data is not None
        call = ToolCall(id=f"confirm-{data['action_id']}", name=data["tool"], arguments=data["args"])
        result = await self._tool(item, j, call, confirmed=True, tainted_by=data.get("origin"))
        content = str(result["content"]).strip()
        if result["ok"]:
            reply = content[:1].upper() + content[1:] if content else "Done."
        else:
            reply = f"That didn't work: {content}"
        return TurnOutcome(reply, "confirm", j.actions(), j.services())

    # -- the planner --------------------------------------------------------

    async def _plan(self, item: TurnInput, j: Journal, llm: LLM, recent: list[Message]) -> TurnOutcome:
        """Context -> model -> tools -> model ... until an answer, a question for the owner, or the step limit."""
        prompt = await self.prompts.build(item, recent)
        # Outside words already in the context (another person's message, a camera's alert in the window);
        # results that bring more are added as they are read. From then on, changes wait for the owner's yes.
        taint = sources_in("\n".join([prompt.context or "", *(m.text for m in prompt.messages)]))
        max_steps = self.settings.max_steps
        offer: dict[str, Any] | None = None  # the last follow-up a tool offered this turn
        for n in range(1, max_steps + 1):
            try:
                step = await self._ask(item, j, llm, prompt)
            except OverBudget as exc:
                log.info("turn.over_budget", inbox_id=item.inbox_id, reason=exc.reason)
                return TurnOutcome(f"I stopped to stay within budget: {exc.reason}.", "budget", j.actions(),
                                   j.services())
            except LLMError as exc:
                log.warning("turn.llm_failed", inbox_id=item.inbox_id, reason=exc.reason)
                return TurnOutcome(
                    f"Sorry, I can't think right now: {exc.reason}. Your message is saved; please try again in a few minutes.",
                    "error", j.actions(), j.services())
            prompt.messages.append(step.message)
            if not step.message.tool_calls:
                text = step.message.text.strip() or "I don't have an answer to that."
                if offer is not None:
                    text += "\n\n" + await self._offer(item, offer)
                return TurnOutcome(text, "llm", j.actions(), j.services(), journal_tail=j.tail)
            if n == max_steps:  # no step left to read the results: record the calls as not run, and stop
                for call in step.message.tool_calls:
                    if j.result(call.id) is None:
                        await self._record(j, call, STEP_LIMIT, ok=False, ran=False)
                break
            results = await self._run_tools(item, j, step.message.tool_calls, taint[0] if taint else None)
            prompt.messages.append(Message(role="tool", tool_results=[_as_seen(r) for r in results]))
            taint += [r["tainted"] for r in results if r.get("tainted") and r["tainted"] not in taint]
            offer = next((r["offer"] for r in reversed(results) if r.get("offer")), offer)
            questions = [r["needs_confirmation"] for r in results if r.get("needs_confirmation")]
            if questions:  # a sensitive call waits for the yes: no offer may take its place
                others = sum(1 for r in results if r["content"] == ONE_QUESTION)
                if others:
                    questions.append(f"({others} other action{'s' if others > 1 else ''} I was about to take "
                                     f"{'were' if others > 1 else 'was'} not done.)")
                reply = "\n\n".join(p for p in [step.message.text.strip(), *questions] if p)
                return TurnOutcome(reply, "llm", j.actions(), j.services())
        done = ", ".join(a["tool"] for a in j.actions() if not a.get("not_run")) or "nothing"
        return TurnOutcome(
            f"I stopped after {max_steps} steps without finishing. What I did: {done}. Tell me how you'd like to continue.",
            "llm", j.actions(), j.services())

    async def _ask(self, item: TurnInput, j: Journal, llm: LLM, prompt: Prompt) -> ModelStep:
        """The model's next answer: the recorded one on replay, else asked now and journaled with its usage."""
        recorded = j.recorded_model_step()
        if recorded is not None:
            return recorded
        resp: LLMResponse = await llm.complete(prompt, Scope(
            "task" if item.origin == "scheduler" else "turn", item.conversation_id, item.payload.get("task_id"),
            Cap.from_json(item.payload.get("budget"))))
        calls = [ToolCall(c.id or f"call_{uuid.uuid4().hex[:12]}", c.name, c.arguments) for c in resp.tool_calls]
        step = ModelStep(Message(role="assistant", text=resp.text, tool_calls=calls), resp.stop_reason)

        def record_usage(conn: Connection) -> None:
            usage_log.record(conn, resp, conversation_id=item.conversation_id, inbox_id=item.inbox_id,
                             purpose="task" if item.origin == "scheduler" else "turn",
                             task_id=item.payload.get("task_id"))

        # The owner's answer is written with the reply (one DB trip fewer): a crash before that asks the
        # model again, as a crash during the call would. Task turns write at once: budgets read usage.
        await j.record_model_step(step, also=record_usage, defer=not calls and item.origin == "user")
        return step

    async def _run_tools(self, item: TurnInput, j: Journal, calls: list[ToolCall],
                         tainted_by: str | None) -> list[dict[str, Any]]:
        """A step's calls run together; all of them finish (and are journaled) before a failure goes up.

        They were chosen before any of their results was read, so only earlier outside words taint them.
        """
        done = await asyncio.gather(*(self._tool(item, j, c, tainted_by=tainted_by) for c in calls),
                                    return_exceptions=True)
        for outcome in done:
            if isinstance(outcome, BaseException):
                raise outcome
        return [o for o in done if not isinstance(o, BaseException)]

    # -- one tool call ------------------------------------------------------

    async def _tool(self, item: TurnInput, j: Journal, call: ToolCall, confirmed: bool = False,
                    tainted_by: str | None = None) -> dict[str, Any]:
        """Validate and run one call, journaling its start before and its result after; replays return the record.

        It waits for the owner's yes when the tool says so (unlock), and when it changes something after
        outside words came into the turn (``tainted_by``): nothing but the owner's own words changes the home.
        """
        recorded = j.result(call.id)
        if recorded is not None:
            return recorded
        if j.started(call.id):
            return await self._record(j, call, journal.INTERRUPTED, ok=False)
        tool = self.toolbox.tools.get(call.name)
        if tool is None:
            names = ", ".join(sorted(self.toolbox.tools)) or "none"
            return await self._record(j, call, f"unknown tool {call.name!r}; available tools: {names}", ok=False)
        try:
            args = tool.validate(call.arguments)
        except ToolError as exc:
            return await self._record(j, call, str(exc), ok=False)
        plain_args = args.model_dump(mode="json", exclude_none=True)
        ctx = ToolContext(item.conversation_id, item.sender, item.channel, item.is_owner, item.origin,
                          confirmed=confirmed, tainted_by=tainted_by,
                          may_open=item.origin == "scheduler" and bool(item.payload.get("may_open")))
        tainted = tainted_by is not None and tool.changes(args)
        if not confirmed and (tainted or tool.is_sensitive(args, ctx)):
            if not item.is_owner:
                return await self._record(j, call, "refused: only the owner can approve this action", ok=False)
            if j.asking:  # one waiting action per conversation: the owner answers about the first
                return await self._record(j, call, ONE_QUESTION, ok=False, ran=False)
            j.asking = True
            minutes = self.settings.confirm_minutes
            summary = tool.summary(args)
            origin = tainted_by if tainted else None
            question = await self.db.tx(lambda c: confirm.create(c, item.conversation_id, tool.name, plain_args, minutes,
                                                                summary, origin))
            return await self._record(j, call, "waiting for the owner's confirmation; do not retry", ok=False,
                                      needs_confirmation=question)
        await j.start(call)
        ok = True
        try:
            result = await asyncio.wait_for(tool.invoke(args, ctx), TOOL_TIMEOUT)
            content = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, default=str)
        except ToolError as exc:
            ok, content = False, str(exc)
        except TimeoutError:
            ok, content = False, f"the tool did not finish within {TOOL_TIMEOUT:.0f} s"
        except Exception as exc:
            log.exception("tool.crashed", tool=call.name)
            ok, content = False, f"the tool failed: {type(exc).__name__}: {exc}"
        offer = ctx.offer if ok and item.origin == "user" and item.is_owner else None
        # Outside words in the result: the tool's own word for them, its declaration (for what it returned; a
        # failure is the skill's own message), or marks claw put in it (a recall that found a camera's words).
        marked = sources_in(content)
        outside = ctx.outside or (f"the result of {tool.name}" if tool.untrusted and ok else marked[0] if marked else None)
        return await self._record(j, call, content, ok=ok, services=[s.as_dict() for s in ctx.services],
                                  args=plain_args, from_tool=True, offer=offer, tainted=outside)

    async def _record(self, j: Journal, call: ToolCall, content: str, *, ok: bool,
                      services: list[dict[str, Any]] | None = None, args: Any = None,
                      needs_confirmation: str | None = None, from_tool: bool = False, ran: bool = True,
                      offer: Confirm | None = None, tainted: str | None = None) -> dict[str, Any]:
        limit = self.settings.tool_result_max_chars
        if len(content) > limit:
            content = content[:limit] + f"\n[truncated {len(content) - limit} characters]"
        action: dict[str, Any] = {"tool": call.name, "args": args if args is not None else call.arguments, "ok": ok}
        if needs_confirmation:
            action["pending_confirmation"] = True
        elif not ran:
            action["not_run"] = True
        elif not ok:
            action["error"] = content
        data: dict[str, Any] = {"call_id": call.id, "name": call.name, "content": content, "ok": ok, "action": action,
                                "services": services or []}
        if needs_confirmation:
            data["needs_confirmation"] = needs_confirmation
        if offer is not None:  # journaled with the result, so a replayed turn still asks
            data["offer"] = {"tool": offer.tool, "args": offer.args, "summary": offer.summary}
        if from_tool:
            data["untrusted"] = True  # written by the tool (devices, cameras, the web): data for the model, not orders
        if tainted:
            data["tainted"] = tainted  # ... and it carries outside words: later changes in the turn wait for a yes
        return await j.record_result(data)


def _as_seen(result: dict[str, Any]) -> ToolResult:
    """A journaled result as the model sees it: what a tool wrote is wrapped as untrusted (the journal keeps it raw)."""
    content = result["content"]
    if result.get("untrusted"):
        content = untrusted(f"tool:{result['name']}", content)
    return ToolResult(result["call_id"], result["name"], content, not result["ok"])
