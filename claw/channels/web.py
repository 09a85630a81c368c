"""The local web channel: the web chat page, ``claw chat``/``claw say`` and ``POST /api/messages``.

Replies are stored in the conversation transcript, which clients read; so
delivering one is only a state change, and re-delivery after a crash is harmless.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from claw.channels.base import DeliveryResult, OutgoingMessage

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from claw.app import Runtime


class WebChannel:
    name = "web"
    #: Clients read replies from the transcript: the outbox row is written already sent.
    transcript_only = True

    def routes(self) -> list[BaseRoute]:
        return []  # the web API lives in claw.web.app; it is the daemon's own front door

    async def start(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def stop(self) -> None:
        return None

    async def deliver(self, item: OutgoingMessage) -> DeliveryResult:
        return DeliveryResult("sent")

    async def reconcile(self, item: OutgoingMessage) -> DeliveryResult:
        return DeliveryResult("sent")

    def owner_address(self) -> str | None:
        return "owner"

    def health(self) -> dict[str, Any]:
        return {"ok": True}
