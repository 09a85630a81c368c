"""The notify skill: send a message to the owner on their usual channel (e.g. from a scheduled task)."""

from __future__ import annotations

from claw.skill import Skill, ToolContext, ToolError, tool


class Notify(Skill):
    """Sends the owner a message on their channel."""

    name = "notify"

    @tool(untrusted=False, summary=lambda skill, args: f'Send you a separate message: "{args.text.strip()[:200]}"')
    async def notify_owner(self, text: str, ctx: ToolContext) -> str:
        """Send the owner a separate message now (only for alerts; normal replies need no tool).

        Args:
            text: the message.
        """
        text = text.strip()
        if not text:
            raise ToolError("text is empty")
        if len(text) > 4000:
            raise ToolError("text is longer than 4000 characters")
        await self.ctx.notify_owner(text, meta={"kind": "alert"})
        return "sent to the owner"
