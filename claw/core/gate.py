"""The sender gate: who may talk to claw on a channel, and the pairing conversation with everyone else.

A channel's configured list names its owner first; paired senders (approved
through a code) may talk but not approve anything. A stranger gets one pairing
code an hour and never reaches the inbox, the LLM or the tools; the owner is
told on the same channel and admits them by texting "approve CODE" (or with
``claw pairing approve``). Everything here runs inside the inbound transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import structlog
from sqlalchemy.engine import Connection

from claw.core import history, outbox, pairing
from claw.store.db import ensure_conversation, utcnow

log = structlog.get_logger("claw.gate")

PAIRING_REPLY = ("Hi! I only talk to people my owner has approved. To get approved, ask them to send me "
                 "\"approve {code}\" (the code is valid for an hour).")
OWNER_NOTICE = "{who} wants to talk to me on {channel}. Reply \"approve {code}\" to let them in (valid for an hour)."


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

    @property
    def admitted(self) -> bool:
        return self.status != "stranger"


class SenderGate:
    """Channels that authenticate their callers themselves (the web chat's token) have no allowlist: all owner."""

    def __init__(self, allowlists: dict[str, Allowlist]):
        self.allowlists = allowlists

    def owner(self, channel: str) -> str | None:
        lst = self.allowlists.get(channel)
        return lst.owner if lst is not None else None

    def may_talk(self, conn: Connection, channel: str, sender: str) -> bool:
        lst = self.allowlists.get(channel)
        return lst is None or sender in lst.allowed or pairing.is_allowed(conn, channel, sender)

    def check(self, conn: Connection, channel: str, sender: str, profile_name: str | None) -> Verdict:
        lst = self.allowlists.get(channel)
        if lst is None or sender == lst.owner:
            return Verdict("owner")
        if sender in lst.allowed or pairing.is_allowed(conn, channel, sender):
            return Verdict("paired")
        return self._stranger(conn, channel, sender, profile_name, lst)

    def _stranger(self, conn: Connection, channel: str, sender: str, profile_name: str | None,
                  lst: Allowlist) -> Verdict:
        """One pairing code per hour (no inbox row, no turn, no tokens)."""
        if lst.policy == "closed":
            log.info("gate.stranger_ignored", channel=channel, sender=sender)
            return Verdict("stranger")
        issued = pairing.issue(conn, channel, sender, profile_name)
        if issued is None:
            log.warning("gate.pairing_full", channel=channel, sender=sender,
                        detail="too many live pairing codes; not replying")
            return Verdict("stranger")
        if not issued.new:
            log.info("gate.stranger_waiting", channel=channel, sender=sender)
            return Verdict("stranger")
        conv = ensure_conversation(conn, channel, sender)
        outbox.queue(conn, conversation_id=conv, channel=channel, recipient=sender,
                     text=PAIRING_REPLY.format(code=issued.code))
        if lst.owner:
            who = f"{profile_name} ({sender})" if profile_name else sender
            owner_conv = ensure_conversation(conn, channel, lst.owner)
            notice = OWNER_NOTICE.format(who=who, channel=lst.label or channel, code=issued.code)
            history.record(conn, owner_conv, "assistant", notice, inbox_id=None, at=utcnow(), meta={"origin": "pairing"})
            outbox.queue(conn, conversation_id=owner_conv, channel=channel, recipient=lst.owner, text=notice)
        log.info("gate.pairing_code_sent", channel=channel, sender=sender)
        return Verdict("stranger", queued=True)

    def approve(self, conn: Connection, code: str) -> str:
        """The owner's "approve CODE": admit the sender holding it; the reply for the owner."""
        try:
            found = pairing.approve(conn, code)
        except pairing.PairingError as exc:
            return f"Could not approve: {exc}."
        pairing.queue_welcome(conn, found.channel, found.address)
        log.info("gate.paired", channel=found.channel, address=found.address, via="owner message")
        return f"Approved {found.name + ' ' if found.name else ''}({found.address}). They can talk to me now."
