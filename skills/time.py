"""The time skill: the current local date and time (the model cannot know it otherwise)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from claw.skill import Skill, ToolError, tool


class Time(Skill):
    """Current time and date in the home's time zone or another one."""

    name = "time"

    @tool(effect="read", untrusted=False)
    async def current_time(self, timezone: str | None = None) -> str:
        """Current local date and time.

        Args:
            timezone: IANA zone such as 'Asia/Tokyo'; default is the home's.
        """
        try:
            tz = ZoneInfo(timezone) if timezone else self.ctx.timezone
        except (ZoneInfoNotFoundError, ValueError):
            raise ToolError(f"unknown time zone {timezone!r}; use an IANA name like 'Europe/Paris'") from None
        now = datetime.now(tz)
        return f"{now:%A %d %B %Y, %H:%M} ({tz.key}, UTC{now:%z})"
