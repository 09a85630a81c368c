"""Fixtures for the WhatsApp channel: a fake Twilio, daemon config, and signed webhook posting."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import anthropic_config
from tests.fakes.llm import FakeLLM
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, sign, webhook_params
from tests.harness import Daemon, wait_until  # noqa: F401 - re-exported to the tests here

PUBLIC_URL = "https://claw.example.net"
FROM = "+14155238886"
OWNER = "+15551234567"
STRANGER = "+15550001111"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def wa_config(llm: FakeLLM, tw: FakeTwilio, extra: str = "", **options: Any) -> str:
    settings: dict[str, Any] = {"from_number": FROM, "public_url": PUBLIC_URL, "api_base": tw.url,
                                "allowed": [OWNER], "status_check_seconds": 0}
    settings.update(options)

    def value(v: Any) -> str:
        if isinstance(v, list):
            return "[" + ", ".join(f'"{x}"' for x in v) + "]"
        if isinstance(v, str):
            return f'"{v}"'
        return str(v).lower() if isinstance(v, bool) else str(v)

    table = "\n".join(f"{k} = {value(v)}" for k, v in settings.items())
    return anthropic_config(llm, extra=f"[whatsapp]\n{table}\n{extra}")


TWILIO_ENV = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}


@pytest.fixture
def wa_daemon(fake_llm: FakeLLM, twilio: FakeTwilio, daemon_factory: Callable[..., Daemon]) -> Callable[..., Daemon]:
    def make(extra: str = "", start: bool = True, **options: Any) -> Daemon:
        return daemon_factory(wa_config(fake_llm, twilio, extra, **options), env=TWILIO_ENV, start=start)

    return make


def post_webhook(d: Daemon, params: dict[str, str], *, signature: str | None = "auto", path: str = "/webhooks/twilio",
                 signed_url: str | None = None) -> httpx.Response:
    """POST the form as Twilio does; the signature is computed for the public URL unless given (None: no header)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "auto":
        signature = sign(signed_url or PUBLIC_URL + path, params)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return httpx.post(d.url + path, data=params, headers=headers, timeout=10)


def say(d: Daemon, body: str, sender: str = OWNER, **kw: Any) -> dict[str, str]:
    params = webhook_params(body, sender, **kw)
    r = post_webhook(d, params)
    assert r.status_code == 200, r.text
    assert r.text == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    assert r.headers["content-type"].startswith("text/xml")
    return params


def query(d: Daemon, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(d.home / "claw.db") as conn:
        return conn.execute(sql, args).fetchall()


