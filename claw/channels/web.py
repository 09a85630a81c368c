"""The local web channel: the web chat page, ``claw chat``/``claw say`` and ``POST /api/messages``.

Its callers hold the web token, so every sender is the owner. Replies are stored
in the conversation transcript, which clients read; delivering one is only a
state change, and re-delivery after a crash is harmless.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from claw.channels.base import Channel, ChannelDeps, ChannelPlugin, DeliveryResult, OutgoingMessage


class WebChannel:
    name = "web"
    transcript_only = True

    def routes(self) -> list[BaseRoute]:
        return []  # the web API lives in claw.web.app; it is the daemon's own front door

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def deliver(self, item: OutgoingMessage) -> DeliveryResult:
        return DeliveryResult("sent")

    async def reconcile(self, item: OutgoingMessage) -> DeliveryResult:
        return DeliveryResult("sent")

    def health(self) -> dict[str, Any]:
        return {"ok": True}


class Web(ChannelPlugin):
    name = "web"
    label = "the web chat"
    always_on = True
    trusted = True

    def build(self, config: Any, deps: ChannelDeps) -> Channel:
        return WebChannel()


plugin = Web()
