"""Who may talk: unknown senders get a pairing code and never reach the LLM; the owner admits them."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.fakes.llm import Reply
from tests.whatsapp.conftest import OWNER, STRANGER, query, say, wait_until


def claw(d, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "claw", *args], env=d.env, capture_output=True, text=True, timeout=30)


def code_in(text: str) -> str:
    m = re.search(r'"approve ([A-Z0-9]{6})"', text)
    assert m, text
    return m.group(1)


def test_unknown_sender_gets_a_code_costs_no_tokens_and_cli_approval_admits_them(fake_llm, twilio, wa_daemon):
    fake_llm.script(Reply(text="Hello, new friend."))
    d = wa_daemon()
    say(d, "hi, who are you?", sender=STRANGER, profile="Sam")
    [to_stranger] = twilio.wait_for(1, to=STRANGER)
    [to_owner] = twilio.wait_for(1, to=OWNER)
    code = code_in(to_stranger.body)
    assert code in to_owner.body and "Sam" in to_owner.body and STRANGER in to_owner.body
    say(d, "hello??", sender=STRANGER)  # no second code, no second reply
    say(d, "anyone?", sender=STRANGER)
    assert query(d, "select count(*) from inbox") == [(0,)]
    assert fake_llm.requests == []

    listed = claw(d, "pairing", "list")
    assert listed.returncode == 0 and code in listed.stdout and OWNER in listed.stdout
    approved = claw(d, "pairing", "approve", code.lower())
    assert approved.returncode == 0, approved.stderr
    welcome = twilio.wait_for(2, to=STRANGER)[1]
    assert "approved" in welcome.body.lower()

    say(d, "can you turn on the lights?", sender=STRANGER)
    reply = twilio.wait_for(3, to=STRANGER)[2]
    assert reply.body == "Hello, new friend."
    [req] = fake_llm.requests
    assert "can you turn on the lights?" in req.last_user_text()  # (the core may mark non-owner text as untrusted)
    [(payload,)] = query(d, "select payload from inbox where sender = ?", STRANGER)
    assert '"owner": false' in payload

    assert claw(d, "pairing", "revoke", STRANGER).returncode == 0
    assert claw(d, "pairing", "revoke", OWNER).returncode != 0  # configured numbers are changed in the file
    assert claw(d, "pairing", "approve", "ZZZZZZ").returncode != 0


def test_owner_approves_by_text_and_strangers_stay_out_of_the_llm(fake_llm, twilio, wa_daemon):
    fake_llm.script(Reply(text="Hi Alex."))
    d = wa_daemon()
    say(d, "let me in", sender=STRANGER, profile="Alex")
    code = code_in(twilio.wait_for(1, to=STRANGER)[0].body)
    twilio.wait_for(1, to=OWNER)
    say(d, "approve WRONG1")
    assert "Could not approve" in twilio.wait_for(2, to=OWNER)[1].body
    say(d, f"Approve {code}")
    confirmation = twilio.wait_for(3, to=OWNER)[2]
    assert confirmation.body.startswith("Approved Alex") and STRANGER in confirmation.body
    twilio.wait_for(2, to=STRANGER)
    assert fake_llm.requests == []  # neither the stranger nor the approvals cost tokens
    say(d, "thanks!", sender=STRANGER)
    assert twilio.wait_for(3, to=STRANGER)[2].body == "Hi Alex."
    [req] = fake_llm.requests
    assert "thanks!" in req.last_user_text()


def test_per_sender_rate_limit_drops_the_flood_but_acknowledges(fake_llm, twilio, wa_daemon):
    fake_llm.responder = lambda req: Reply(text="ok")
    d = wa_daemon(rate_limit_per_minute=3)
    for i in range(6):
        say(d, f"message {i}")
    wait_until(lambda: query(d, "select count(*) from inbox where status = 'done'") == [(3,)], d=d)
    assert query(d, "select count(*) from inbox") == [(3,)]


def test_doctor_checks_twilio_and_prints_the_webhook_url(fake_llm, twilio, wa_daemon):
    d = wa_daemon(start=False)
    out = claw(d, "doctor")
    assert "ok   whatsapp credentials: account 'Fake account' is active" in out.stdout, out.stdout + out.stderr
    assert "https://claw.example.net/webhooks/twilio" in out.stdout
    assert any(r.path.endswith(".json") and r.authorized for r in twilio.requests)
    bad = dict(d.env, TWILIO_AUTH_TOKEN="wrong-token-123")
    out = subprocess.run([sys.executable, "-m", "claw", "doctor"], env=bad, capture_output=True, text=True, timeout=30)
    assert "FIX  whatsapp credentials: Twilio answered 401" in out.stdout and out.returncode == 1
    assert "wrong-token-123" not in out.stdout
