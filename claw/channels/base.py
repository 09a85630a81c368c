"""The channel protocol: how messages arrive (HTTP routes or a listener) and how replies leave."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from claw.app import Runtime


@dataclass
class OutgoingMessage:
    id: int
    conversation_id: str
    recipient: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    external_id: str | None = None


@dataclass
class DeliveryResult:
    """``sent``: done. ``retry``: try again later. ``held``: keep until the recipient writes again. ``failed``: give up."""

    status: Literal["sent", "retry", "held", "failed"]
    external_id: str | None = None
    error: str | None = None
    retry_after: float | None = None
    payload: dict[str, Any] | None = None  # replaces the stored payload (e.g. parts already sent)


class Channel(Protocol):
    name: str

    def routes(self) -> list[BaseRoute]:
        """HTTP routes the channel serves (webhooks), mounted on the daemon's server."""
        ...

    async def start(self, runtime: Runtime) -> None: ...

    async def stop(self) -> None: ...

    async def deliver(self, item: OutgoingMessage) -> DeliveryResult: ...

    async def reconcile(self, item: OutgoingMessage) -> DeliveryResult:
        """Decide about a message whose send was interrupted by a crash (sent or not?) before resending."""
        ...

    def owner_address(self) -> str | None:
        """Where the owner is reached on this channel, or None."""
        ...

    def health(self) -> dict[str, Any]: ...
