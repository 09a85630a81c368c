"""The ``memory`` skill: recall, remember and forget as tools for the model.

Each turn already gets the most relevant memories in its context; these tools are for
what did not fit (older, narrower, a date range or one speaker), for storing what the
owner asks to keep at once ("remember that ..."), and for the owner's right to be
forgotten. The daemon's memory (``ctx.memory``) does the work.
"""

from __future__ import annotations

from claw.skill import Memory, Skill, ToolContext, ToolError, tool


class MemorySkill(Skill):
    """Long-term memory: search it, add to it, delete from it."""

    name = "memory"

    def _memory(self) -> Memory:
        if self.ctx.memory is None:
            raise ToolError("memory is not available in this daemon")
        return self.ctx.memory

    @tool(effect="read", untrusted=False)  # what others wrote comes back marked, and the turn sees the marks
    async def recall(self, query: str, ctx: ToolContext, after: str = "", before: str = "", speaker: str = "") -> str:
        """Search long-term memory (messages, actions, facts) beyond the context. Dates: local YYYY-MM-DD."""
        scope = None if ctx.is_owner else ctx.conversation  # others only see their own conversation
        try:
            return await self._memory().recall(query, after=after or None, before=before or None,
                                               speaker=speaker or None, conversation=scope)
        except ValueError as exc:
            raise ToolError(str(exc)) from None

    @tool(untrusted=False, summary=lambda skill, args: f'Remember "{args.statement}"')
    async def remember(self, statement: str, ctx: ToolContext, pinned: bool = False) -> str:
        """Store a self-contained fact now ("remember that ..."); pinned: a profile fact always in context."""
        subject = None
        if not ctx.is_owner:
            pinned, subject = False, f"said by {ctx.sender}"
        try:
            # After outside words (a camera's description), the fact keeps that origin: never the owner's profile.
            fact_id = await self._memory().remember(statement, pinned=pinned, subject=subject, origin=ctx.tainted_by)
        except ValueError as exc:
            raise ToolError(str(exc)) from None
        return f"remembered as fact #{fact_id}" + (" (pinned)" if pinned and not ctx.tainted_by else "")

    @tool(untrusted=False, summary=lambda skill, args: f'Forget "{args.what}" for good')
    async def forget(self, what: str, ctx: ToolContext) -> str:
        """Owner only: delete for good a fact id, or every fact and message containing the text."""
        if not ctx.is_owner:
            raise ToolError("only the owner can make me forget things")
        described = await self._memory().forget(what, ctx.conversation)
        # The reply is stored and sent like any other: repeating the words would keep them.
        return described + ". Confirm without repeating what was forgotten."
