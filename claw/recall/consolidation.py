"""Background consolidation: once a conversation is quiet, turn its new episodes into facts.

Why debounced: one LLM call per quiet period sees a whole exchange (and its corrections)
instead of one call per message. Why marks: ``memory.consolidate`` does nothing, and
costs nothing, unless episodes exist after the conversation's mark. The same pass
updates the rolling summary when older episodes have fallen out of the recent window.
Usage is recorded with purpose "consolidation", like any turn.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import Any

import structlog

from claw.providers import usage as usage_log
from claw.providers.base import Message, Prompt
from claw.providers.budget import Scope
from claw.providers.llm import LLM
from claw.recall.service import MemoryService, outside_source
from claw.store.db import Database
from memory.consolidate import consolidate

log = structlog.get_logger("claw.recall.consolidation")

SYSTEM = "You maintain the long-term memory of a personal home assistant. Follow the output format exactly."
SUMMARY_PROMPT = """Update the running summary of an older part of a conversation between the owner and their home assistant.
Keep names, dates, decisions, promises and open questions; drop small talk. At most 150 words, plain text, no preamble.

Current summary:
{summary}

Turns that have since left the recent window (time | speaker: text):
{turns}"""
ASK_TIMEOUT = 180.0
#: Only the owner's conversations are consolidated into facts (the owner's words, and their tasks').
OWNER_SPEAKERS = ("owner", "task")
SUMMARY_BATCH = 200


@dataclass
class ConsolidationStats:
    """Counters shown in /healthz, so tests and owners can see it working without timing anything."""

    passes: int = 0  # quiet conversations looked at
    llm_calls: int = 0
    facts_added: int = 0
    facts_superseded: int = 0
    summaries: int = 0
    errors: int = 0
    skipped_no_llm: int = 0


class Consolidator:
    """One asyncio task; conversations are marked dirty by new episodes and handled after the debounce."""

    def __init__(self, service: MemoryService, llm: LLM | None, db: Database, debounce_s: float):
        self.service = service
        self.llm = llm
        self.db = db
        self.debounce_s = debounce_s
        self.stats = ConsolidationStats()
        self._dirty: dict[str, float] = {}  # conversation -> monotonic time of its last new episode
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def touch(self, conversation: str) -> None:
        """New episodes in ``conversation`` (called from the DB thread too, so only plain dict writes)."""
        self._dirty[conversation] = time.monotonic()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for conv in await asyncio.to_thread(self.service.store.unconsolidated, OWNER_SPEAKERS):
            self.touch(conv)  # left over from before a restart: wait a quiet period, then catch up
        self._task = asyncio.create_task(self._run(), name="memory-consolidation")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=5)

    def health(self) -> dict[str, Any]:
        """Memory's part of /healthz: consolidation, and embeddings that keep failing (recall goes by words)."""
        failing = self.service.embeddings_failing
        detail = {"detail": f"embeddings failing, recall by words only: {failing}"} if failing else {}
        return {"ok": failing is None, **detail, "llm": self.llm is not None, "pending": len(self._dirty),
                **asdict(self.stats)}

    async def _run(self) -> None:
        tick = min(max(self.debounce_s / 4, 0.1), 30.0)
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            quiet = [c for c, t in list(self._dirty.items()) if now - t >= self.debounce_s]
            for conv in quiet:
                if now - self._dirty.get(conv, now) < self.debounce_s:
                    continue
                self._dirty.pop(conv, None)
                try:
                    await self.consolidate(conv)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.stats.errors += 1
                    log.exception("memory.consolidation_failed", conversation=conv, error=str(exc))

    async def consolidate(self, conversation: str) -> None:
        """One pass over one conversation: facts (at most one LLM call), then the summary if it overflowed."""
        self.stats.passes += 1
        if self.llm is None:
            self.stats.skipped_no_llm += 1
            log.info("memory.consolidation_skipped", conversation=conversation, reason="no LLM configured")
            return
        # Facts come from the owner's and claw's words only: a camera's description never becomes one.
        result = await asyncio.to_thread(consolidate, self.service.store, conversation,
                                         lambda prompt: self._ask(conversation, prompt),
                                         include=lambda e: outside_source(e) is None)
        if result.error:
            self.stats.errors += 1
        self.stats.facts_added += len(result.added)
        self.stats.facts_superseded += len(result.superseded)
        log.info("memory.consolidated", conversation=conversation, asked=result.asked, added=len(result.added),
                 superseded=len(result.superseded), ignored=result.ignored, error=result.error, mark=result.mark)
        if result.asked:
            await asyncio.to_thread(self._summarize, conversation)

    def _summarize(self, conversation: str) -> None:
        """Fold episodes that left the recent window into the rolling summary (one LLM call, in a thread)."""
        recent = self.service.store.recent(conversation, self.service.window)
        if len(recent) < self.service.window:
            return
        old = self.service.store.get_summary(conversation)
        upto = old.upto_episode_id if old else 0
        fell_out = [e for e in self.service.store.episodes_since(upto, conversation=conversation, limit=SUMMARY_BATCH)
                    if e.id < recent[0].id]
        if len(fell_out) < max(2, self.service.window // 4):
            return  # too little to be worth a call; it waits for the next pass
        tz = self.service.tz
        # The summary is shown as claw's own notes, so outside words (tool output, others) stay out of it.
        turns = "\n".join(f"{e.at.astimezone(tz):%Y-%m-%d %H:%M} | {e.speaker}: {' '.join(e.text.split())[:400]}"
                          for e in fell_out if outside_source(e) is None)
        if not turns:  # only outside words fell out: nothing to add, move past them
            self.service.store.set_summary(conversation, old.text if old else "", fell_out[-1].id)
            return
        text = self._ask(conversation, SUMMARY_PROMPT.format(summary=old.text if old else "(none yet)", turns=turns))
        if any(self.service.store.get_episode(e.id) is None for e in fell_out):
            return  # forgotten while the model summarised them: the next pass summarises what remains
        if text.strip():
            self.service.store.set_summary(conversation, text.strip(), fell_out[-1].id)
            self.stats.summaries += 1

    def _ask(self, conversation: str, prompt: str) -> str:
        """Blocking bridge for the sync consolidation helper: the LLM call runs on the daemon's loop."""
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(self._complete(conversation, prompt), self._loop)
        return future.result(timeout=ASK_TIMEOUT)

    async def _complete(self, conversation: str, prompt: str) -> str:
        assert self.llm is not None
        resp = await self.llm.complete(Prompt(SYSTEM, [Message(role="user", text=prompt)]), Scope("consolidation"))
        self.stats.llm_calls += 1
        await self.db.tx(lambda c: usage_log.record(c, resp, conversation_id=conversation, inbox_id=None,
                                                    purpose="consolidation"))
        return resp.text
