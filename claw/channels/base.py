"""Channels: where messages come from and where replies go. Each is a plugin (entry-point group ``claw.channels``).

A channel's plugin names its config table (``[whatsapp]``: present means
enabled), its secrets, its ``claw doctor`` and ``claw security audit`` checks,
and who may talk on it; ``build`` makes the running channel. A running channel
only *publishes* inbound messages to the ``Inbox`` it is given and *delivers*
outbox rows it is handed; it never sees the dispatcher, the agent or the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict
from starlette.routing import BaseRoute

from claw.checks import Check
from claw.core.gate import Allowlist
from claw.core.inbox import Inbox
from claw.core.outbox import DeliveryLedger, DeliveryResult, OutgoingMessage

__all__ = ["Channel", "ChannelConfig", "ChannelDeps", "ChannelPlugin", "DeliveryResult", "OutgoingMessage"]


class ChannelConfig(BaseModel):
    """Keys every channel table has: who may talk (the owner first) and what strangers get."""

    model_config = ConfigDict(extra="forbid")

    allowed: list[str] = []
    policy: Literal["pairing", "closed"] = "pairing"


@dataclass
class ChannelDeps:
    """What the daemon lends a channel: where inbound messages go, and its record of the rows it delivers."""

    inbox: Inbox
    outbox: DeliveryLedger


class Channel(Protocol):
    name: str
    #: Clients read replies from the transcript (the web chat): the outbox row is born sent.
    transcript_only: bool

    def routes(self) -> list[BaseRoute]:
        """HTTP routes the channel serves (webhooks), mounted on the daemon's server."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def deliver(self, item: OutgoingMessage) -> DeliveryResult: ...

    async def reconcile(self, item: OutgoingMessage) -> DeliveryResult:
        """Decide about a message whose send was interrupted by a crash (sent or not?) before resending."""
        ...

    def health(self) -> dict[str, Any]: ...


class ChannelPlugin:
    """What a channel module registers. Subclass it: set ``name``, ``Config``, and implement ``build``."""

    name: ClassVar[str]
    #: How the owner calls it ("WhatsApp"), in messages to them.
    label: ClassVar[str] = ""
    Config: ClassVar[type[ChannelConfig]] = ChannelConfig
    #: Runs without a table (the web chat); others run when their table is in the config.
    always_on: ClassVar[bool] = False
    #: Its senders are authenticated by the channel itself (the web chat's token): no allowlist, all owner.
    trusted: ClassVar[bool] = False
    #: Environment variables holding its secrets, scrubbed from logs whether or not it is configured.
    env_secrets: ClassVar[tuple[str, ...]] = ()

    def build(self, config: Any, deps: ChannelDeps) -> Channel:
        raise NotImplementedError

    def allowlist(self, config: Any) -> Allowlist | None:
        if self.trusted:
            return None
        return Allowlist(list(config.allowed), config.policy, self.label or self.name)

    def secrets(self, config: Any) -> list[str]:
        return []

    def public_url(self, config: Any) -> str | None:
        """The https address the outside world reaches this box at, if the channel needs one."""
        return None

    async def doctor(self, config: Any) -> list[Check]:
        return []

    def audit(self, config: Any) -> list[Check]:
        checks = []
        if not self.trusted:
            checks.append(Check(bool(config.allowed), f"{self.label or self.name} allowlist "
                                + ("set" if config.allowed else "is empty"),
                                f'add [{self.name}] allowed = ["<your address>"] (the owner first)'))
        return checks
