"""``claw chat``'s ear on the daemon: the live stream (``GET /api/events``) read in a background thread.

What claw sends unasked (reminders, alerts, task reports) and replies that came too
late for their request are printed as they arrive; a lost connection is retried from
the last line seen, so nothing is printed twice or skipped.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx

Line = dict[str, Any]


def events(lines: Iterator[str]) -> Iterator[tuple[str, str, str]]:
    """(event, id, data) of each server-sent event in ``lines``; comments (pings) are skipped."""
    kind, ident, data = "message", "", list[str]()
    for line in lines:
        if not line:
            if data:
                yield kind, ident, "\n".join(data)
            kind, ident, data = "message", "", []
        elif line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("id:"):
            ident = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))


class Follower:
    """Calls ``show`` with each assistant line that is unasked or was left ``late`` by its request."""

    def __init__(self, url: str, headers: dict[str, str], sender: str, after: int, show: Callable[[Line], None]):
        self.url, self.headers, self.sender = url, headers, sender
        self.after = after
        self.show = show
        self.late: set[int] = set()  # inbox ids whose request gave up waiting (HTTP 202)
        self.recent: dict[int, Line] = {}  # replies seen but not shown, by inbox id, in case they are late
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def mark_late(self, inbox_id: int) -> None:
        """Its request gave up waiting: show the reply when it comes, or now if it came already (a race)."""
        with self.lock:
            self.late.add(inbox_id)
            seen = self.recent.pop(inbox_id, None)
        if seen is not None:
            self.show(seen)

    def start(self) -> None:
        threading.Thread(target=self._run, name="claw-chat-live", daemon=True).start()

    def _run(self) -> None:
        pause = 1.0
        while not self.stopped.is_set():
            try:
                self._follow()
                pause = 1.0
            except (httpx.HTTPError, ValueError):
                pass  # the daemon restarted or the network blinked: carry on from self.after
            self.stopped.wait(pause)
            pause = min(pause * 2, 30.0)

    def _follow(self) -> None:
        params: dict[str, str | int] = {"after": self.after, "sender": self.sender}
        # read timeout: the daemon pings every 15 s, so a minute of silence is a dead connection
        with httpx.stream("GET", f"{self.url}/api/events", params=params, headers=self.headers,
                          timeout=httpx.Timeout(10.0, read=60.0)) as response:
            response.raise_for_status()
            for kind, ident, data in events(response.iter_lines()):
                if kind != "message":
                    continue
                try:
                    line = json.loads(data)
                except ValueError:  # never stuck on one line: past it, by its id
                    self.after = max(self.after, int(ident)) if ident.isdigit() else self.after
                    continue
                self.after = max(self.after, line["id"])
                if line["role"] != "assistant":
                    continue
                meta = line.get("meta") or {}
                with self.lock:
                    wanted = meta.get("origin") in ("notify", "scheduler") or line.get("inbox_id") in self.late
                    if not wanted and line.get("inbox_id") is not None:
                        self.recent[line["inbox_id"]] = line
                        if len(self.recent) > 50:
                            self.recent.pop(next(iter(self.recent)))
                if wanted:
                    self.show(line)
                if self.stopped.is_set():
                    return


def last_id(url: str, headers: dict[str, str], sender: str) -> int:
    """The id of the conversation's newest line: the stream starts after it (what is old is not news)."""
    r = httpx.get(f"{url}/api/messages", params={"sender": sender}, headers=headers, timeout=10)
    r.raise_for_status()
    return max((m["id"] for m in r.json()["messages"]), default=0)

