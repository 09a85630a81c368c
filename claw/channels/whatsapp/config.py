"""``[whatsapp]``: WhatsApp through Twilio. Present in the file means enabled; secrets may come from the environment."""

from __future__ import annotations

import os
import re

from pydantic import Field, field_validator

from claw.channels.base import ChannelConfig

E164 = r"^\+[1-9]\d{6,14}$"
WEBHOOK_PATH = "/webhooks/twilio"
STATUS_PATH = "/webhooks/twilio/status"


class WhatsAppConfig(ChannelConfig):
    from_number: str | None = Field(None, pattern=E164)  # e.g. "+14155238886"; "whatsapp:" is added when sending
    public_url: str | None = None  # what Twilio calls, e.g. "https://claw.example.net"; signatures are over it
    account_sid: str | None = None  # default: $TWILIO_ACCOUNT_SID
    auth_token: str | None = None  # default: $TWILIO_AUTH_TOKEN
    api_base: str = "https://api.twilio.com"
    template_sid: str | None = None  # ContentSid used outside the 24-hour window
    status_callback: bool = True  # ask Twilio to report delivered/read/failed to /webhooks/twilio/status
    max_media_bytes: int = Field(5_000_000, ge=1024)
    rate_limit_per_minute: int = Field(20, ge=0)  # inbound messages per sender; 0 = unlimited
    send_timeout: float = Field(15.0, gt=0)
    #: Without a status report by then, fetch a sent message's status once (catches a late 63016); 0 = never.
    status_check_seconds: float = Field(60.0, ge=0)

    @field_validator("allowed")
    @classmethod
    def _e164(cls, value: list[str]) -> list[str]:
        for number in value:
            if not re.match(E164, number):
                raise ValueError(f"{number!r} is not an E.164 number like '+15551234567'")
        return value

    @field_validator("public_url", "api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None:
            if not value.startswith(("http://", "https://")):
                raise ValueError(f"{value!r} must start with https:// (or http://)")
            value = value.rstrip("/")
        return value

    @property
    def sid(self) -> str | None:
        return self.account_sid or os.environ.get("TWILIO_ACCOUNT_SID")

    @property
    def token(self) -> str | None:
        return self.auth_token or os.environ.get("TWILIO_AUTH_TOKEN")
