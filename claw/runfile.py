"""Where a running daemon is found: ``$CLAW_HOME/serve.json`` (its pid and URL), written once it listens and
removed when it stops, and a lock on ``$CLAW_HOME/serve.lock`` held while it runs, so a home has one daemon.

The CLI reads it to reach the daemon wherever it listens (``--port 0``, another host); the lock tells a live
daemon from a file left by a crash.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

RUN_FILE = "serve.json"
LOCK_FILE = "serve.lock"


class AlreadyRunning(Exception):
    """Another daemon runs on this home; the message says where."""


@dataclass
class Running:
    pid: int
    url: str


def claim(home: Path) -> IO[str]:
    """Take the home's lock for this process (keep the returned file open while serving)."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = open(home / LOCK_FILE, "a")  # noqa: SIM115 - held for the life of the process
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        other = find(home)
        where = f" at {other.url} (pid {other.pid})" if other else ""
        raise AlreadyRunning(f"claw is already running on {home}{where}; stop it first, or use another CLAW_HOME") from None
    return lock


def publish(home: Path, url: str) -> None:
    """Say where this process listens (atomically; 0600, like everything in the home)."""
    tmp = home / f".{RUN_FILE}.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"pid": os.getpid(), "url": url}, f)
    tmp.replace(home / RUN_FILE)


def clear(home: Path) -> None:
    (home / RUN_FILE).unlink(missing_ok=True)


def find(home: Path) -> Running | None:
    """The daemon running on ``home``, or None (no file, or a file whose daemon no longer holds the lock)."""
    try:
        data = json.loads((home / RUN_FILE).read_text())
        with open(home / LOCK_FILE) as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return Running(int(data["pid"]), str(data["url"]))
            return None  # nobody holds it: the file is left from a crash
    except (OSError, ValueError, KeyError, TypeError):
        return None
