"""The sender gate: who may talk to claw on a channel, and the pairing conversation with everyone else.

A channel's configured list names its owner first; paired senders (approved
through a code) may talk but not approve anything. A stranger never reaches
the inbox, the LLM or the tools: they get one pairing code a day, sent within
an hourly budget (``claw.core.pairing``). The owner hears of strangers at most
once per ``notice_window`` on that channel: the first one at once, those who
follow in one digest at the window's end (``send_digest``, which the inbox
schedules). The owner admits someone by texting "approve CODE" from the
owner's address on the code's own channel, or with ``claw pairing approve``.
Everything here runs inside the inbound transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import structlog
from sqlalchemy.engine import Connection

from claw.core import history, outbox, pairing
from claw.store.db import ensure_conversation, utcnow

log = structlog.get_logger("claw.gate")

PAIRING_REPLY = ("Hi! I only talk to people my owner has approved. To get approved, ask them to send me "
                 "\"approve {code}\" (the code is valid for a day).")
OWNER_NOTICE = ("{who} wants to talk to me on {channel}. Reply \"approve {code}\" to let them in (valid for a day). "
                "If others write within the hour, I'll tell you about them together.")
DIGEST_HEAD = "{count} people asked to talk to me on {channel}:"
DIGEST_MORE = "- and {count} more: `claw pairing list` shows everyone waiting."
DIGEST_TAIL = ("Reply \"approve CODE\" to let someone in (codes are valid for a day). If others write within the "
               "hour, I'll tell you about them together.")
#: The owner hears about strangers at most once in this long, per channel.
NOTICE_WINDOW = timedelta(hours=1)
#: Strangers named in a digest (the newest); the rest are counted.
DIGEST_LINES = 5
NAME_CHARS = 40


def _who(code: pairing.Code) -> str:
    """A stranger as the owner reads them: their profile name (theirs to choose, so cut short) and address."""
    name = " ".join((code.name or "").split())[:NAME_CHARS]
    return f"{name} ({code.address})" if name else code.address


def owner_notice(waiting: list[pairing.Code], channel: str) -> str:
    """One message about every stranger in ``waiting`` (oldest first)."""
    if len(waiting) == 1:
        return OWNER_NOTICE.format(who=_who(waiting[0]), channel=channel, code=waiting[0].code)
    shown = waiting[-DIGEST_LINES:]
    lines = [DIGEST_HEAD.format(count=len(waiting), channel=channel)]
    lines += [f"- {_who(c)}: \"approve {c.code}\"" for c in reversed(shown)]
    if len(waiting) > len(shown):
        lines.append(DIGEST_MORE.format(count=len(waiting) - len(shown)))
    lines.append(DIGEST_TAIL)
    return "\n".join(lines)


@dataclass
class Allowlist:
    """A channel's configured senders (the owner first) and what strangers get: a pairing code, or silence."""

    allowed: list[str] = field(default_factory=list)
    policy: Literal["pairing", "closed"] = "pairing"
    label: str = ""  # the channel as the owner knows it ("WhatsApp")

    @property
    def owner(self) -> str | None:
        return self.allowed[0] if self.allowed else None


@dataclass
class Verdict:
    """``owner`` and ``paired`` may talk; a ``stranger`` got a pairing code (``queued``) or silence."""

    status: Literal["owner", "paired", "stranger"]
    queued: bool = False
    #: A stranger the owner has not heard of yet: when the digest naming them is due.
    digest_at: datetime | None = None

    @property
    def admitted(self) -> bool:
        return self.status != "stranger"


class SenderGate:
    """Channels that authenticate their callers themselves (the web chat's token) have no allowlist: all owner."""

    def __init__(self, allowlists: dict[str, Allowlist], notice_window: timedelta = NOTICE_WINDOW):
        self.allowlists = allowlists
        self.notice_window = notice_window

    def owner(self, channel: str) -> str | None:
        lst = self.allowlists.get(channel)
        return lst.owner if lst is not None else None

    def may_talk(self, conn: Connection, channel: str, sender: str) -> bool:
        lst = self.allowlists.get(channel)
        return lst is None or sender in lst.allowed or pairing.is_allowed(conn, channel, sender)

    def check(self, conn: Connection, channel: str, sender: str, profile_name: str | None,
              now: datetime | None = None) -> Verdict:
        lst = self.allowlists.get(channel)
        if lst is None or sender == lst.owner:
            return Verdict("owner")
        if sender in lst.allowed or pairing.is_allowed(conn, channel, sender):
            return Verdict("paired")
        return self._stranger(conn, channel, sender, profile_name, lst, now or utcnow())

    def _stranger(self, conn: Connection, channel: str, sender: str, profile_name: str | None,
                  lst: Allowlist, now: datetime) -> Verdict:
        """A code (no inbox row, no turn, no tokens), sent once if the hour's budget allows; the owner told
        at once, or in the window's digest."""
        if lst.policy == "closed":
            log.info("gate.stranger_ignored", channel=channel, sender=sender)
            return Verdict("stranger")
        issued = pairing.issue(conn, channel, sender, profile_name, now)
        if issued is None:
            log.warning("gate.pairing_full", channel=channel, sender=sender, limit=pairing.MAX_PENDING,
                        detail="too many codes waiting; this stranger is not recorded")
            return Verdict("stranger")
        verdict = Verdict("stranger")
        if issued.replied:
            log.info("gate.stranger_waiting", channel=channel, sender=sender)
        elif pairing.claim_reply(conn, channel, issued.id, now):
            conv = ensure_conversation(conn, channel, sender)
            outbox.queue(conn, conversation_id=conv, channel=channel, recipient=sender,
                         text=PAIRING_REPLY.format(code=issued.code))
            verdict.queued = True
            log.info("gate.pairing_code_sent", channel=channel, sender=sender)
        else:
            log.warning("gate.pairing_reply_limited", channel=channel, sender=sender, limit=pairing.REPLIES_PER_HOUR,
                        detail="code kept for the owner (claw pairing list); sent if they write again later")
        if not lst.owner:
            return verdict
        last = pairing.last_notice(conn, channel)
        if last is None or now - last >= self.notice_window:
            verdict.queued = self.send_digest(conn, channel, now) or verdict.queued
        else:
            verdict.digest_at = last + self.notice_window
        return verdict

    def send_digest(self, conn: Connection, channel: str, now: datetime | None = None) -> bool:
        """Tell the channel's owner, in one message, about every stranger they have not heard of; False when
        there is none (or no owner to tell)."""
        now = now or utcnow()
        lst = self.allowlists.get(channel)
        if lst is None or not lst.owner:
            return False
        waiting = pairing.unnoticed(conn, channel, now)
        if not waiting:
            return False
        notice = owner_notice(waiting, lst.label or channel)
        owner_conv = ensure_conversation(conn, channel, lst.owner)
        history.record(conn, owner_conv, "assistant", notice, inbox_id=None, at=now, meta={"origin": "pairing"})
        outbox.queue(conn, conversation_id=owner_conv, channel=channel, recipient=lst.owner, text=notice)
        pairing.mark_noticed(conn, [c.id for c in waiting], now)
        log.info("gate.owner_told", channel=channel, strangers=len(waiting))
        return True

    def approve(self, conn: Connection, code: str, channel: str, sender: str) -> str:
        """The owner's "approve CODE": only the owner's address on the code's own channel counts (another
        channel's sender with the same-looking address is not the owner here). Returns the reply."""
        lst = self.allowlists.get(channel)
        if lst is None or not lst.owner or sender != lst.owner:
            log.warning("gate.approval_refused", channel=channel, sender=sender, reason="not this channel's owner")
            return ("Could not approve: approvals count only from the owner on the channel the code came from "
                    "(or with `claw pairing approve CODE`).")
        try:
            found = pairing.approve(conn, code, channel=channel)
        except pairing.PairingError as exc:
            return f"Could not approve: {exc}."
        pairing.queue_welcome(conn, found.channel, found.address)
        log.info("gate.paired", channel=found.channel, address=found.address, via="owner message")
        return f"Approved {found.name + ' ' if found.name else ''}({found.address}). They can talk to me now."
