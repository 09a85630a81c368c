"""The inbox: every inbound message is written durably, once, before anyone acknowledges it.

``Inbox`` is the port channels receive: ``publish`` runs the sender gate, writes
the row (unique on channel + external id, so a retried webhook is a no-op),
puts the sender's held replies back in line, and wakes the dispatcher, all
before the channel answers its caller. A channel only publishes; it never sees
the dispatcher, the agent or the database.

A message's text is scrubbed of secrets (``claw.logging.scrub``) before its row
is written: a key the owner pastes is never stored, so neither the model, the
transcript, memory nor a backup ever holds it. The row's payload says how many
were removed (``secrets_removed``), so the turn can tell the owner.

A database that does not take the write within ``SPOOL_AFTER`` seconds (another
process holds its lock) does not cost the acknowledgement: the message goes to
the spool (``claw.core.spool``), and so does every later one until the spool is
stored, in order, by ``_drain``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from claw.core import history, outbox
from claw.core.gate import SenderGate, Verdict
from claw.core.outbox import Outbox
from claw.core.pairing import parse_approval
from claw.core.spool import Spool
from claw.logging import scrub_count
from claw.store.db import Database, ensure_conversation, is_busy, new_id, utcnow
from claw.store.schema import inbox

log = structlog.get_logger("claw.inbox")


@dataclass
class Accepted:
    inbox_id: int
    conversation_id: str
    created: bool  # False: a duplicate (a retried webhook), acknowledged and ignored


@dataclass
class Inbound:
    """A message as a channel publishes it."""

    channel: str
    external_id: str
    sender: str
    text: str
    profile_name: str | None = None
    images: list[dict[str, str]] = field(default_factory=list)  # {"media_type", "data_b64"}
    #: Attachments the channel could not turn into something the model reads (their media types).
    unreadable: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # channel details kept with the row


@dataclass
class Published:
    """What ``publish`` did. ``turn``: a turn will run; ``queued``: replies wait in the outbox; ``verdict`` None:
    spooled, to be gated and stored once the database is free."""

    verdict: Verdict | None
    accepted: Accepted | None = None
    turn: bool = False
    queued: bool = False


#: How long a webhook waits for the database before its message is spooled (Twilio gives up at 15 s).
SPOOL_AFTER = 3.0
#: Longest pause between tries to store the spool while the database stays locked.
DRAIN_BACKOFF_MAX = 10.0

CANT_READ = "Sorry, I can't read that kind of file yet ({types}). Photos work, and text of course."

# Built once: on the webhook hot path, building and cache-keying statements per call costs more than running them.
_find = select(inbox.c.id, inbox.c.conversation_id).where(
    inbox.c.channel == bindparam("channel"), inbox.c.external_id == bindparam("external_id"))
_inserts: dict[str, Any] = {}


def _insert(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the database in use (SQLite, or PostgreSQL imported only then)."""
    if dialect not in _inserts:
        module = importlib.import_module(f"sqlalchemy.dialects.{dialect}")
        _inserts[dialect] = module.insert(inbox).on_conflict_do_nothing(index_elements=[inbox.c.channel,
                                                                                       inbox.c.external_id])
    return _inserts[dialect]


def accept(conn: Connection, *, channel: str, external_id: str, peer: str, sender: str, text: str,
           payload: dict[str, Any] | None = None, origin: str = "user") -> Accepted:
    conv = ensure_conversation(conn, channel, peer)
    text, removed = scrub_count(text)
    if removed:
        payload = {**(payload or {}), "secrets_removed": removed}
        log.info("inbox.secrets_removed", channel=channel, external_id=external_id, count=removed)
    inserted = conn.execute(_insert(conn.dialect.name), {
        "channel": channel, "external_id": external_id, "conversation_id": conv, "sender": sender, "origin": origin,
        "text": text, "payload": payload or {}, "status": "pending", "received_at": utcnow(),
    })
    if inserted.rowcount == 1:
        return Accepted(new_id(inserted), conv, True)
    existing = conn.execute(_find, {"channel": channel, "external_id": external_id}).one()
    return Accepted(existing.id, existing.conversation_id, False)


def close(conn: Connection, accepted: Accepted, text: str, reply: str | None, handled_by: str) -> None:
    """Mark a row handled without a turn (an approval, an unreadable file) done, keeping the transcript whole."""
    now = utcnow()
    conn.execute(update(inbox).where(inbox.c.id == accepted.inbox_id).values(
        status="done", finished_at=now,
        result={"reply": reply or "", "handled_by": handled_by, "actions": [], "services": []}))
    history.record(conn, accepted.conversation_id, "user", text, inbox_id=accepted.inbox_id, at=now)
    if reply:
        history.record(conn, accepted.conversation_id, "assistant", reply, inbox_id=accepted.inbox_id, at=now,
                       meta={"handled_by": handled_by})


def result_of(conn: Connection, inbox_id: int) -> dict[str, Any] | None:
    """The finished turn's result (reply, handled_by, actions, services), or None while it runs."""
    row = conn.execute(select(inbox.c.status, inbox.c.result).where(inbox.c.id == inbox_id)).first()
    if row is None or row.status != "done":
        return None
    return row.result or {}


class Inbox:
    """The inbound port: the gate, the durable write, and the wake-ups once it is committed."""

    def __init__(self, db: Database, gate: SenderGate, wake_turns: Callable[[str], None], outbox: Outbox,
                 spool: Spool | None = None):
        self.db = db
        self.gate = gate
        self.wake_turns = wake_turns
        self.outbox = outbox
        self.spool = spool
        #: Spooled messages not stored yet, in order; while any waits, new messages queue behind them.
        self.spooled: list[Inbound] = []
        self._stored = 0  # spooled messages stored since the spool file was last emptied
        self._drainer: asyncio.Task[None] | None = None
        #: channel -> the owner's pairing digest waiting for its window's end (one per channel)
        self._digests: dict[str, asyncio.TimerHandle] = {}
        self._digest_tasks: set[asyncio.Task[None]] = set()

    async def may_talk(self, channel: str, sender: str) -> bool:
        """Whether the sender is admitted (say, before downloading what they sent). A read on a connection of
        its own: it must not queue behind a write waiting for another process's lock."""
        def read() -> bool:
            with self.db.engine.connect() as conn:
                return self.gate.may_talk(conn, channel, sender)
        return await asyncio.to_thread(read)

    async def publish(self, msg: Inbound, batched: bool = False) -> Published:
        """Gate and write the message; with ``batched``, concurrent webhooks share one commit. Spooled instead
        when earlier messages wait in the spool, or the database has not taken it within SPOOL_AFTER."""
        if self.spool is None:
            return self._after(msg, await self._store(msg, batched))
        if self.spooled:
            return await self._to_spool(msg)
        attempt = asyncio.ensure_future(self._store(msg, batched))
        try:
            done = await asyncio.wait_for(asyncio.shield(attempt), SPOOL_AFTER)
        except TimeoutError:
            attempt.add_done_callback(lambda t: self._late(msg, t))  # if it commits after all, it still counts
            return await self._to_spool(msg)
        except Exception as exc:
            if not is_busy(exc):
                raise
            return await self._to_spool(msg)
        return self._after(msg, done)

    async def _store(self, msg: Inbound, batched: bool) -> Published:
        write = self.db.tx_batched if batched else self.db.tx
        return await write(self._writer(msg))

    def _writer(self, msg: Inbound) -> Callable[[Connection], Published]:
        return lambda conn: self._write(conn, msg)

    def _after(self, msg: Inbound, done: Published) -> Published:
        """What follows a committed write: wake the turn, the outbox, the pairing digest."""
        if done.turn and done.accepted is not None:
            self.wake_turns(done.accepted.conversation_id)
        if done.queued:
            self.outbox.wake()
        if done.verdict is not None and done.verdict.digest_at is not None:
            self._digest_at(msg.channel, done.verdict.digest_at)
        return done

    def _late(self, msg: Inbound, attempt: asyncio.Future[Published]) -> None:
        if not attempt.cancelled() and attempt.exception() is None:
            self._after(msg, attempt.result())  # the spooled copy will be a duplicate, ignored

    async def _to_spool(self, msg: Inbound) -> Published:
        """Append the message (its secrets scrubbed) to the spool; returns once it is on disk."""
        assert self.spool is not None
        text, removed = scrub_count(msg.text)
        msg = dataclasses.replace(msg, text=text, extra={**msg.extra, "secrets_removed": removed} if removed
                                  else msg.extra)
        self.spooled.append(msg)  # its place in line is taken now, before the file write
        if len(self.spooled) == 1:
            log.warning("inbox.spooling", detail="the database did not take a message in time (another process "
                        "holds its lock?); messages wait in the spool", file=str(self.spool.path))
        self._drain_soon()
        await self.spool.append(dataclasses.asdict(msg))  # raises if not on disk: not acknowledged, retried
        log.info("inbox.spooled", channel=msg.channel, external_id=msg.external_id, waiting=len(self.spooled))
        return Published(None)

    def resume(self) -> None:
        """At start-up: store what a stopped daemon left in the spool, before anything new."""
        if self.spool is None:
            return
        names = {f.name for f in dataclasses.fields(Inbound)}
        left = [Inbound(**{k: v for k, v in r.items() if k in names}) for r in self.spool.load()]
        if left:
            log.info("inbox.spool_found", messages=len(left))
            self.spooled[:0] = left
            self._drain_soon()

    def _drain_soon(self) -> None:
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain(), name="spool-drain")

    async def _drain(self) -> None:
        """Store spooled messages one at a time, in order, retrying while the database refuses; then empty the file."""
        assert self.spool is not None
        pause = 0.5
        while True:
            while self.spooled:
                msg = self.spooled[0]
                try:
                    done = await self.db.tx(self._writer(msg))
                except Exception as exc:
                    log.warning("inbox.spool_waiting", waiting=len(self.spooled), error=str(exc).splitlines()[0],
                                retry_in=pause)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, DRAIN_BACKOFF_MAX)
                    continue
                self.spooled.pop(0)
                self._stored += 1
                pause = 0.5
                self._after(msg, done)
            if await self.spool.clear(self._stored):
                self._stored = 0
                log.info("inbox.spool_stored")
                return
            if not self.spooled:  # cannot happen (each line is in self.spooled first); the next start stores it
                log.error("inbox.spool_mismatch", file=str(self.spool.path))
                return

    async def stop(self) -> None:
        """Stop storing the spool (what is left stays in the file for the next start)."""
        if self._drainer is not None:
            self._drainer.cancel()
            await asyncio.gather(self._drainer, return_exceptions=True)
        if self.spool is not None:
            await asyncio.to_thread(self.spool.close)

    def _digest_at(self, channel: str, at: datetime) -> None:
        """Send the owner the channel's pairing digest at ``at`` (the window's end); one timer a channel. A
        restart loses the timer, not the strangers: the next stranger's message schedules it again."""
        if channel in self._digests:
            return
        delay = max(0.0, (at - utcnow()).total_seconds())
        self._digests[channel] = asyncio.get_running_loop().call_later(delay, self._digest_due, channel)

    def _digest_due(self, channel: str) -> None:
        self._digests.pop(channel, None)
        task = asyncio.create_task(self._send_digest(channel), name=f"pairing-digest-{channel}")
        self._digest_tasks.add(task)
        task.add_done_callback(self._digest_tasks.discard)

    async def _send_digest(self, channel: str) -> None:
        try:
            sent = await self.db.tx(lambda c: self.gate.send_digest(c, channel))
        except Exception:
            log.exception("inbox.pairing_digest_failed", channel=channel)
            return
        if sent:
            self.outbox.wake()

    async def enqueue(self, *, channel: str, external_id: str, peer: str, sender: str, text: str,
                      payload: dict[str, Any] | None = None, origin: str = "user") -> Accepted:
        """A message from inside the house (the web API's token holder, a scheduled task): no gate."""
        accepted = await self.db.tx(lambda c: accept(c, channel=channel, external_id=external_id, peer=peer,
                                                     sender=sender, text=text, payload=payload, origin=origin))
        if accepted.created:
            self.wake_turns(accepted.conversation_id)
        return accepted

    def _write(self, conn: Connection, msg: Inbound) -> Published:
        """One transaction, no effects outside it (a batched write may run twice after a rollback)."""
        verdict = self.gate.check(conn, msg.channel, msg.sender, msg.profile_name)
        if not verdict.admitted:
            return Published(verdict, queued=verdict.queued)
        is_owner = verdict.status == "owner"
        payload: dict[str, Any] = {"owner": is_owner, **msg.extra}
        if msg.profile_name:
            payload["profile_name"] = msg.profile_name
        if msg.images:
            payload["images"] = msg.images
        if msg.unreadable:
            payload["unreadable"] = msg.unreadable
        accepted = accept(conn, channel=msg.channel, external_id=msg.external_id, peer=msg.sender, sender=msg.sender,
                          text=msg.text, payload=payload)
        if not accepted.created:
            log.info("inbox.duplicate", channel=msg.channel, external_id=msg.external_id)
            return Published(verdict, accepted)
        done = Published(verdict, accepted, turn=True)
        if self.outbox.may_hold(msg.channel, msg.sender):  # they wrote again: held replies go back in line
            done.queued = outbox.release_held(conn, msg.channel, msg.sender) > 0
        code = parse_approval(msg.text) if is_owner and not msg.images else None
        if code is not None:
            reply = self.gate.approve(conn, code, msg.channel, msg.sender)
            close(conn, accepted, msg.text, reply, "pairing")
            outbox.queue(conn, conversation_id=accepted.conversation_id, channel=msg.channel, recipient=msg.sender,
                         text=reply, inbox_id=accepted.inbox_id)
            done.turn, done.queued = False, True
        elif msg.unreadable:
            outbox.queue(conn, conversation_id=accepted.conversation_id, channel=msg.channel, recipient=msg.sender,
                         text=CANT_READ.format(types=", ".join(msg.unreadable)), inbox_id=accepted.inbox_id)
            done.queued = True
            if not msg.text.strip() and not msg.images:  # nothing else in it: no turn
                close(conn, accepted, msg.text, None, msg.channel)
                done.turn = False
        return done
