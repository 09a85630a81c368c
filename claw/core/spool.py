"""The spool: where an inbound message waits, durably, while the database will not take it in time.

Twilio waits 15 s for a webhook's answer and then counts it failed. Another process holding claw.db's write
lock (a backup tool, ``sqlite3`` at a prompt) must not make claw miss that: the inbox appends such a
message to ``spool/inbox.jsonl`` (0600, fsynced before the webhook is answered) and stores it once the
database is free. Lines are stored in the order they were written, and storing is idempotent (unique
channel and external id), so a crash between storing a line and truncating the file stores nothing twice.

The file is written on a thread of its own, never the database's: that one may be the thread waiting.
"""

from __future__ import annotations

import asyncio
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger("claw.spool")


class Spool:
    """An append-only file of JSON records: ``append`` returns once the record is on disk."""

    def __init__(self, path: Path):
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="claw-spool")
        #: Records appended (or attempted) since the file was last emptied. Touched only on the spool's thread.
        self._written = 0

    def load(self) -> list[dict[str, Any]]:
        """The records a stopped daemon left (at start-up, before any append). A torn last line is a record whose
        append never finished, so its webhook was never answered and Twilio sends it again: skipped."""
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return []
        records = []
        for number, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
            except ValueError:
                log.warning("spool.bad_line", file=str(self.path), line=number, detail="skipped (never acknowledged)")
                continue
            if isinstance(record, dict):
                records.append(record)
        self._written = len(records)  # emptied once these are stored, unreadable lines with them
        return records

    async def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        await asyncio.get_running_loop().run_in_executor(self._thread, self._append, line)

    def _append(self, line: bytes) -> None:
        self._written += 1  # counted even if it fails: the inbox holds the record and stores it all the same
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            size = os.fstat(fd).st_size
            try:
                os.write(fd, line)
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, size)  # no torn line for the next record to be glued to
                raise
        finally:
            os.close(fd)

    async def clear(self, stored: int) -> bool:
        """Empty the file if ``stored`` records are all it holds (none was appended meanwhile); True if emptied."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._clear, stored)

    def _clear(self, stored: int) -> bool:
        if stored != self._written:
            return False
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            os.ftruncate(fd, 0)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._written = 0
        return True

    def close(self) -> None:
        self._thread.shutdown(wait=True)
