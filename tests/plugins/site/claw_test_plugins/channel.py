"""The ``loopback`` channel: messages arrive as JSON posts to /webhooks/loopback; sent ones land in a JSONL file.

Everything a third-party channel needs, from claw's public channel API only.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from claw.channels.base import Channel, ChannelConfig, ChannelDeps, ChannelPlugin, DeliveryResult, OutgoingMessage
from claw.checks import Check
from claw.core.inbox import Inbound


class LoopbackConfig(ChannelConfig):
    sent_file: str  # where delivered messages are written, one JSON object per line
    secret: str = ""  # callers must send it as X-Loopback-Secret


class LoopbackChannel:
    name = "loopback"
    transcript_only = False

    def __init__(self, config: LoopbackConfig, deps: ChannelDeps):
        self.config = config
        self.inbox = deps.inbox

    def routes(self) -> list[BaseRoute]:
        return [Route("/webhooks/loopback", self.inbound, methods=["POST"])]

    async def inbound(self, request: Request) -> Response:
        if request.headers.get("x-loopback-secret", "") != self.config.secret:
            return Response(status_code=403)
        body = await request.json()
        done = await self.inbox.publish(Inbound(self.name, str(body["id"]), str(body["from"]), str(body["text"])))
        return JSONResponse({"admitted": done.verdict.status, "turn": done.turn})

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def _append(self, item: OutgoingMessage) -> None:
        with Path(self.config.sent_file).open("a") as f:
            f.write(json.dumps({"id": item.id, "to": item.recipient, "text": item.text}) + "\n")

    def _was_sent(self, item: OutgoingMessage) -> bool:
        sent = Path(self.config.sent_file)
        lines = sent.read_text().splitlines() if sent.exists() else []
        return any(json.loads(line)["id"] == item.id for line in lines)

    async def deliver(self, item: OutgoingMessage) -> DeliveryResult:
        await asyncio.to_thread(self._append, item)
        return DeliveryResult("sent", external_id=f"loop-{item.id}")

    async def reconcile(self, item: OutgoingMessage) -> DeliveryResult:
        done = await asyncio.to_thread(self._was_sent, item)
        return DeliveryResult("sent") if done else DeliveryResult("retry", retry_after=0)

    def health(self) -> dict[str, Any]:
        return {"ok": True, "detail": f"writing to {self.config.sent_file}"}


class Loopback(ChannelPlugin):
    name = "loopback"
    label = "Loopback"
    Config = LoopbackConfig

    def build(self, config: Any, deps: ChannelDeps) -> Channel:
        return LoopbackChannel(config, deps)

    def secrets(self, config: Any) -> list[str]:
        return [config.secret] if config.secret else []

    async def doctor(self, config: Any) -> list[Check]:
        folder = Path(config.sent_file).parent
        return [Check(folder.is_dir(), "loopback outbox folder", str(folder))]

    def audit(self, config: Any) -> list[Check]:
        return [*super().audit(config), Check(bool(config.secret), "loopback webhook secret "
                                              + ("set" if config.secret else "missing"), "set [loopback] secret")]


plugin = Loopback()
