"""The WhatsApp channel (through Twilio) as a plugin: its table, secrets, checks and allowlist.

The channel itself (``channel``, ``send``) and the Twilio SDK load only when
``[whatsapp]`` is configured and the daemon builds it.
"""

from __future__ import annotations

from typing import Any

from claw.channels.base import Channel, ChannelDeps, ChannelPlugin
from claw.channels.whatsapp.config import WhatsAppConfig
from claw.checks import Check


class WhatsApp(ChannelPlugin):
    name = "whatsapp"
    label = "WhatsApp"
    Config = WhatsAppConfig
    env_secrets = ("TWILIO_AUTH_TOKEN", "TWILIO_API_SECRET")

    def build(self, config: Any, deps: ChannelDeps) -> Channel:
        from claw.channels.whatsapp.channel import WhatsAppChannel

        return WhatsAppChannel(config, deps)

    def secrets(self, config: Any) -> list[str]:
        return [config.auth_token] if config.auth_token else []

    def public_url(self, config: Any) -> str | None:
        url: str | None = config.public_url
        return url

    async def doctor(self, config: Any) -> list[Check]:
        from claw.channels.whatsapp.doctor import check_whatsapp

        return await check_whatsapp(config)

    def audit(self, config: Any) -> list[Check]:
        return [
            *super().audit(config),
            Check(True, "Twilio webhook signature checking on"),  # always: an unsigned webhook is refused (403)
            Check(bool(config.public_url), "WhatsApp public_url " + (
                "set" if config.public_url else "missing: signatures cannot be checked against what Twilio signed"),
                'set [whatsapp] public_url = "https://<your tunnel host>"'),
        ]


plugin = WhatsApp()
