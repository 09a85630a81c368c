"""The shape of task turns: the text an LLM routine or goal iteration starts with, and what becomes of
its outcome (goal journal, quiet replies) before the dispatcher records it.

Task turns enter the pipeline with origin "scheduler" (the agent marks them so in
the prompt and the transcript stores them as role "task", never as a user
message). ``TaskAwareAgent`` wraps the agent the dispatcher runs, so the tasks
service sees each task turn's outcome first: a goal iteration's answer goes to
its journal, and "nothing to report" never reaches the owner.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from claw.core.events import TurnInput, TurnOutcome
from claw.tasks.models import Task
from claw.tasks.triggers import fmt_local

QUIET = "NOTHING TO REPORT"
GOAL_DONE = "GOAL DONE"


def routine_text(task: Task) -> str:
    return (
        f"Standing task #{task.id} ({task.title}): {task.instruction}\n"
        f"Do it now with the tools. Reply only with what the owner asked to hear or what changed; "
        f"if there is nothing worth telling, reply exactly {QUIET}."
    )


def goal_text(task: Task, iteration: int, tokens_used: int, measurements: list[str],
              journal: list[dict[str, Any]], tz: ZoneInfo, now: datetime) -> str:
    spec = task.spec
    lines = [
        f"Goal #{task.id}: {task.instruction}",
        f"Iteration {iteration} of at most {spec['max_iterations']}; tokens used {tokens_used} of {spec['token_budget']}.",
    ]
    if spec.get("deadline"):
        lines.append(f"Deadline: {fmt_local(datetime.fromisoformat(spec['deadline']), tz)}.")
    if measurements:
        lines.append("Measurements now:\n" + "\n".join(f"- {m}" for m in measurements))
    if journal:
        lines.append("Journal of earlier iterations:\n" + "\n".join(
            f"{j['iteration']}. ({fmt_local(datetime.fromisoformat(j['at']), tz)}) {j['text']}" for j in journal[-10:]))
    else:
        lines.append("This is the first iteration.")
    lines.append(
        "Decide the next step and take it with the tools. Then reply in one or two sentences with what you did "
        "and what you learned; this goes to the goal's journal, not to the owner. "
        f"Start the reply with {GOAL_DONE} if the goal is reached or cannot be advanced."
    )
    return "\n".join(lines)


AfterTurn = Callable[[TurnInput, TurnOutcome], Awaitable[TurnOutcome]]


class TurnRunner(Protocol):
    async def run(self, item: TurnInput) -> TurnOutcome: ...


class TaskAwareAgent:
    """Delegates to the real agent; hands task turns' outcomes to the tasks service first."""

    def __init__(self, agent: TurnRunner, after_turn: AfterTurn):
        self.agent = agent
        self.after_turn = after_turn

    async def run(self, item: TurnInput) -> TurnOutcome:
        outcome = await self.agent.run(item)
        if item.origin == "scheduler" and item.payload.get("task_id"):
            outcome = await self.after_turn(item, outcome)
        return outcome


def waits_for_owner(outcome: TurnOutcome) -> bool:
    return any(a.get("pending_confirmation") for a in outcome.actions)
