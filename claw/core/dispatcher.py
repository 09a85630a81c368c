"""Takes pending inbox rows and runs turns: one at a time per conversation, several conversations at once.

A finished turn's reply goes to the outbox in the same transaction that marks
the inbox row done, so a reply is neither lost nor written twice.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import structlog
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from claw.core import history, outbox
from claw.core.events import TurnInput, TurnOutcome
from claw.core.inbox import result_of
from claw.logging import scrub_data
from claw.providers.base import ImagePart
from claw.store.db import Database, as_utc, utcnow
from claw.store.schema import inbox

log = structlog.get_logger("claw.dispatcher")


# Built once: they run on every turn, and building a statement costs more than running it.
_status = select(inbox.c.status).where(inbox.c.id == bindparam("inbox_id"))
_close = update(inbox).where(inbox.c.id == bindparam("inbox_id")).values(
    status="done", finished_at=bindparam("finished_at"), result=bindparam("result"))
_next_in_conversation = (select(inbox).where(inbox.c.status == "pending", inbox.c.conversation_id == bindparam("conversation"))
                         .order_by(inbox.c.id).limit(1))

OnFinish = Callable[[Connection, TurnInput, TurnOutcome], None]


class TurnRunner(Protocol):
    async def run(self, item: TurnInput) -> TurnOutcome: ...


def finish(conn: Connection, item: TurnInput, outcome: TurnOutcome, on_finish: OnFinish | None = None,
           delivered: bool = False) -> int | None:
    """Close the inbox row, record the exchange and queue the reply, all in one transaction.

    ``on_finish`` writes more in the same transaction (memory episodes), so they exist iff the turn does.
    ``delivered``: the channel's clients read replies from the transcript, so the outbox row is born sent.
    """
    status = conn.execute(_status, {"inbox_id": item.inbox_id}).scalar_one()
    if status == "done":
        return None  # finished by an earlier run; never a second reply
    if outcome.journal_tail is not None:
        outcome.journal_tail(conn)
    now = utcnow()
    # the result repeats tool arguments: scrubbed like every stored text (claw.logging.scrub_data)
    conn.execute(_close, {"inbox_id": item.inbox_id, "finished_at": now, "result": scrub_data(outcome.result())})
    user_role = "task" if item.origin == "scheduler" else "user"
    history.record(conn, item.conversation_id, user_role, item.text, inbox_id=item.inbox_id,
                   at=item.received_at or now, meta={"images": len(item.images)} if item.images else {})
    outbox_id = None
    if outcome.reply:
        history.record(conn, item.conversation_id, "assistant", outcome.reply, inbox_id=item.inbox_id, at=now,
                       meta={"handled_by": outcome.handled_by, "actions": outcome.actions, "services": outcome.services,
                             **({"origin": "scheduler"} if item.origin == "scheduler" else {})})
        outbox_id = outbox.queue(conn, conversation_id=item.conversation_id, channel=item.channel,
                                 recipient=item.sender, text=outcome.reply, inbox_id=item.inbox_id, delivered=delivered)
    if on_finish is not None:
        on_finish(conn, item, outcome)
    return outbox_id


def _turn_input(row: Any) -> TurnInput:
    payload = row.payload or {}
    return TurnInput(
        inbox_id=row.id,
        conversation_id=row.conversation_id,
        channel=row.channel,
        sender=row.sender,
        text=row.text,
        origin=row.origin,
        is_owner=payload.get("owner", True),
        images=[ImagePart(**i) for i in payload.get("images", [])],
        received_at=as_utc(row.received_at),
        payload=payload,
    )


class Pending:
    """Which conversations have new inbox rows: writers mark them, the dispatcher takes them.

    Naming the conversation keeps the dispatcher's scan to it, and skips it while
    its turn runs (its next row starts when that turn ends); no name means "look
    everywhere" (a finished turn, a restart, rows from another process).
    """

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.everywhere = True
        self.conversations: set[str] = set()

    def mark(self, conversation: str | None = None) -> None:
        if conversation is None:
            self.everywhere = True
        else:
            self.conversations.add(conversation)
        self.event.set()

    def take(self, busy: Iterable[str]) -> set[str] | None:
        """The conversations to look at (None: all), forgetting them."""
        scope = None if self.everywhere else self.conversations - set(busy)
        self.everywhere, self.conversations = False, set()
        return scope


class Dispatcher:
    def __init__(self, db: Database, agent: TurnRunner, max_parallel: int, on_reply: Callable[[], None],
                 pending: Pending, on_finish: OnFinish | None = None,
                 transcript_channels: frozenset[str] = frozenset(), on_change: Callable[[str], None] | None = None):
        self.db = db
        self.on_change = on_change  # topic: a turn started (status) or ended (messages); wakes the live streams
        self.transcript_channels = transcript_channels
        self.on_finish = on_finish
        self.agent = agent
        self.max_parallel = max_parallel
        self.on_reply = on_reply
        self.pending = pending
        self._active: dict[str, asyncio.Task[None]] = {}  # conversation -> running turn
        self._waiters: dict[int, list[asyncio.Future[dict[str, Any]]]] = {}
        self._retry: dict[int, tuple[int, float]] = {}  # inbox id -> (attempts, not before) after storage errors
        self._stopping = False

    def wake(self, conversation: str | None = None) -> None:
        self.pending.mark(conversation)

    def _changed(self, topic: str) -> None:
        if self.on_change is not None:
            self.on_change(topic)

    def busy(self) -> int:
        return len(self._active)

    async def wait_for(self, inbox_id: int, within: float, new: bool = False) -> dict[str, Any] | None:
        """The turn's result once it is done, or None after ``within`` seconds (the reply still arrives later).

        ``new``: the row was just written by the caller, so its turn cannot have finished yet.
        """
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(inbox_id, []).append(fut)
        try:
            done = None if new else await self.db.tx(lambda c: result_of(c, inbox_id))
            if done is not None:
                return done
            return await asyncio.wait_for(asyncio.shield(fut), within)
        except TimeoutError:
            return None
        finally:
            waiters = self._waiters.get(inbox_id, [])
            if fut in waiters:
                waiters.remove(fut)
            if not waiters:
                self._waiters.pop(inbox_id, None)

    async def run(self) -> None:
        while not self._stopping:
            self.pending.event.clear()
            scope = self.pending.take(self._active)
            if scope is None or scope:
                try:
                    await self._start_pending(scope)
                except Exception:
                    log.exception("dispatcher.scan_failed")
            try:
                await asyncio.wait_for(self.pending.event.wait(), 5.0)
            except TimeoutError:
                self.pending.mark()  # picks up rows written by other processes

    async def _start_pending(self, only: set[str] | None) -> None:
        """Start the oldest pending message of each idle conversation (of ``only`` if given), up to the bound."""
        free = self.max_parallel - len(self._active)
        if self._stopping:
            return
        if free <= 0:
            self.pending.everywhere = True  # at the bound: look everywhere once a turn ends (no wake-up now)
            return
        busy = list(self._active)

        def load(conn: Connection) -> list[Any]:
            if only is not None:  # one indexed lookup per conversation
                rows = [conn.execute(_next_in_conversation, {"conversation": c}).first() for c in only]
                return sorted((r for r in rows if r is not None), key=lambda r: r.id)[:free]
            oldest = (
                select(func.min(inbox.c.id).label("id"))
                .where(inbox.c.status == "pending", inbox.c.conversation_id.not_in(busy))
                .group_by(inbox.c.conversation_id)
                .order_by(func.min(inbox.c.id))
                .limit(free)
            ).scalar_subquery()
            return list(conn.execute(select(inbox).where(inbox.c.id.in_(oldest)).order_by(inbox.c.id)).all())

        now = time.monotonic()
        rows = await self.db.tx(load)
        if len(rows) >= free:
            self.pending.everywhere = True  # some may have been left out: look again when a turn ends
        for row in rows:
            if self._stopping or row.conversation_id in self._active:
                continue
            if self._retry.get(row.id, (0, 0.0))[1] > now:
                continue  # backing off after a storage error (the scan repeats every few seconds)
            item = _turn_input(row)
            self._active[row.conversation_id] = asyncio.create_task(self._run_turn(item), name=f"turn-{row.id}")
            self._changed("status")  # a turn runs now ("thinking...")

    async def _run_turn(self, item: TurnInput) -> None:
        log.info("turn.start", inbox_id=item.inbox_id, conversation=item.conversation_id, origin=item.origin)
        try:
            try:
                outcome = await self.agent.run(item)
            except asyncio.CancelledError:
                log.info("turn.interrupted", inbox_id=item.inbox_id)  # journaled; resumes at next start
                raise
            except OperationalError as exc:
                self._back_off(item, exc)  # disk full or database locked: retry later, not "something went wrong"
                return
            except Exception:
                ref = uuid.uuid4().hex[:8]
                log.exception("turn.crashed", inbox_id=item.inbox_id, ref=ref)
                outcome = TurnOutcome(f"Sorry, something went wrong on my side (ref {ref}). It's logged.", "error")
            delivered = item.channel in self.transcript_channels
            try:
                await self.db.tx(lambda c: finish(c, item, outcome, self.on_finish, delivered))
            except Exception as exc:
                self._back_off(item, exc)  # the journal holds the turn; a later attempt replays it
                return
            self._retry.pop(item.inbox_id, None)
            log.info("turn.done", inbox_id=item.inbox_id, handled_by=outcome.handled_by, actions=len(outcome.actions))
            result = outcome.result()
            for fut in self._waiters.get(item.inbox_id, []):
                if not fut.done():
                    fut.set_result(result)
            if not delivered:
                self.on_reply()  # wake the sender; transcript channels need no delivery
        finally:
            self._active.pop(item.conversation_id, None)
            self.wake(item.conversation_id)
            self._changed("messages")  # the transcript grew, and the turn no longer runs

    def _back_off(self, item: TurnInput, exc: Exception) -> None:
        """Storage is unavailable (or finishing failed): leave the row pending, try again after a growing pause."""
        attempts = self._retry.get(item.inbox_id, (0, 0.0))[0] + 1
        delay = min(60.0, 2.0 ** attempts)
        self._retry[item.inbox_id] = (attempts, time.monotonic() + delay)
        event = "turn.storage_unavailable" if isinstance(exc, OperationalError) else "turn.finish_failed"
        log.error(event, inbox_id=item.inbox_id, retry_in_s=delay, error=str(getattr(exc, "orig", exc)),
                  exc_info=not isinstance(exc, OperationalError))

    async def stop(self, grace: float) -> None:
        """Stop taking work; give running turns ``grace`` seconds, then cancel them (their journal remains)."""
        self._stopping = True
        self.wake()
        running = list(self._active.values())
        if not running:
            return
        done, pending = await asyncio.wait(running, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=2)
