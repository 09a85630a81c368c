"""The budget skill: the owner reads or sets claw's token budgets in chat ("spend at most 50k tokens a day").

What the owner sets is kept (claw.db) and wins over the config from then on, across
restarts, until set again; 0 removes a limit. The budgets hold before every model call
(``claw.providers.budget``); this only changes their figures.
"""

from __future__ import annotations

from typing import Any, Literal

from claw.skill import Skill, Tool, ToolContext, ToolError, tool

WHAT = {"daily": "every model call of the day", "conversation": "your own turns in one conversation, per day",
        "tasks": "unattended tasks, per day"}


def _figure(n: int) -> str:
    return f"{n:,} tokens" if n else "no limit"


class Budget(Skill):
    """Token budgets, read and set in chat."""

    name = "budget"

    async def setup(self) -> None:
        if self.ctx.budgets is not None and self.ctx.state is not None:
            saved = await self.ctx.state.get("limits")
            if saved:
                self.ctx.budgets.set_limits({k: int(v) for k, v in saved.items() if k in WHAT})

    def tools(self) -> list[Tool]:
        return super().tools() if self.ctx.budgets is not None and self.ctx.state is not None else []

    def health(self) -> dict[str, Any]:
        if self.ctx.budgets is None:
            return {"ok": True, "detail": "no model budgets here"}
        return {"ok": True, "limits": self.ctx.budgets.limits()}

    @tool(effect=lambda args: "read" if args.action == "show" else "change", untrusted=False,
          summary=lambda skill, args: "Set token budgets: " + ", ".join(
              f"{k} {_figure(v)}" for k, v in (("daily", args.daily), ("conversation", args.conversation),
                                                ("tasks", args.tasks)) if v is not None))
    async def token_budget(self, action: Literal["show", "set"], ctx: ToolContext, daily: int | None = None,
                           conversation: int | None = None, tasks: int | None = None) -> str:
        """Show or set daily token budgets (0 = no limit).

        Args:
            daily: all calls.
            conversation: per conversation.
            tasks: unattended tasks.
        """
        assert self.ctx.budgets is not None and self.ctx.state is not None
        if action == "set":
            given = {k: v for k, v in (("daily", daily), ("conversation", conversation), ("tasks", tasks))
                     if v is not None}
            if not given:
                raise ToolError("give daily, conversation or tasks (tokens; 0 = no limit)")
            if any(v < 0 for v in given.values()):
                raise ToolError("a budget is a number of tokens, 0 or more (0 = no limit)")
            saved = dict(await self.ctx.state.get("limits") or {})
            saved.update(given)
            await self.ctx.state.put("limits", saved)
            self.ctx.budgets.set_limits(given)
        limits = self.ctx.budgets.limits()
        spent = await self.ctx.budgets.spent_today(ctx.conversation)
        lines = [f"{k}: {_figure(limits[k])} ({WHAT[k]}); spent today {spent.get(k, 0):,}" for k in WHAT]
        return ("Budgets now:\n" if action == "set" else "") + "\n".join(lines)
