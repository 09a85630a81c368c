"""Only WhatsApp senders reach the WhatsApp channel.

Twilio signs an SMS webhook to the same URL with the same token, with ``From=+1555...`` instead of
``From=whatsapp:+1555...``. Taken at its number, that was the owner: a stranger approved their own pairing
code with it. There is no SMS channel, so such a webhook is refused (403), logged, and nothing is stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.llm import FakeLLM, Reply
from tests.fakes.twilio import FakeTwilio, webhook_params
from tests.harness import Daemon
from tests.whatsapp.conftest import OWNER, STRANGER, TWILIO_ENV, post_webhook, query, say, wa_config


@pytest.fixture(scope="module")
def wa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daemon, FakeTwilio]]:
    with FakeLLM() as llm, FakeTwilio() as twilio:
        llm.responder = lambda req: Reply(text="ok")
        home: Path = tmp_path_factory.mktemp("senders") / "home"
        d = Daemon(home, wa_config(llm, twilio, rate_limit_per_minute=0), TWILIO_ENV)
        d.start()
        try:
            yield d, twilio
        finally:
            d.stop()


def sms_shaped(body: str, sender: str) -> dict[str, str]:
    """What Twilio posts for an SMS: the same form, ``From`` without the ``whatsapp:`` prefix."""
    return {**webhook_params(body, sender), "From": sender, "To": "+14155238886"}


def test_sms_shaped_sender_cannot_approve_a_pairing_code(wa: tuple[Daemon, FakeTwilio]) -> None:
    d, twilio = wa
    say(d, "let me in", sender=STRANGER, profile="Mallory")
    [to_stranger] = twilio.wait_for(1, to=STRANGER)
    code = re.search(r'"approve ([A-Z0-9]{6})"', to_stranger.body)
    assert code, to_stranger.body
    inbox = query(d, "select count(*) from inbox")

    r = post_webhook(d, sms_shaped(f"approve {code.group(1)}", OWNER))  # correctly signed, owner's number
    assert r.status_code == 403
    assert query(d, "select status from pairing_codes where code = ?", code.group(1)) == [("pending",)]
    assert query(d, "select count(*) from allowed_senders where address = ?", STRANGER) == [(0,)]
    assert query(d, "select count(*) from inbox") == inbox
    assert "not a WhatsApp sender" in d.logs()


@pytest.mark.parametrize("sender", [OWNER, "sms:" + OWNER, "messenger:1234567", "WhatsApp:" + OWNER, ""])
def test_non_whatsapp_senders_are_403_and_nothing_is_stored(wa: tuple[Daemon, FakeTwilio], sender: str) -> None:
    d, _ = wa
    before = [query(d, f"select count(*) from {table}") for table in ("inbox", "outbox", "pairing_codes")]
    params = sms_shaped("turn off the alarm", OWNER)
    params["From"] = sender
    assert post_webhook(d, params).status_code == 403
    assert [query(d, f"select count(*) from {table}") for table in ("inbox", "outbox", "pairing_codes")] == before


def test_the_owner_on_whatsapp_still_gets_through(wa: tuple[Daemon, FakeTwilio]) -> None:
    d, _ = wa
    params = say(d, "hello from whatsapp")
    assert query(d, "select sender from inbox where external_id = ?", params["MessageSid"]) == [(OWNER,)]
