"""Outbound WhatsApp through `claw serve`: chunking, retries, the 24-hour window, at-most-once across kill -9."""

from __future__ import annotations

import json

from tests.fakes.llm import Reply
from tests.fakes.twilio import Fail, LateFail, sign
from tests.whatsapp.conftest import OWNER, PUBLIC_URL, post_webhook, query, say, wait_until


def outbox_status(d, outbox_id: int = 1) -> str | None:
    rows = query(d, "select status from outbox where id = ?", outbox_id)
    return rows[0][0] if rows else None


def test_a_long_reply_arrives_as_ordered_numbered_parts(fake_llm, twilio, wa_daemon):
    paragraphs = [f"Paragraph {i}. " + ("All work and no play makes a dull claw. " * 10).strip() for i in range(10)]
    text = "\n\n".join(paragraphs)
    assert 4000 <= len(text) <= 4200
    fake_llm.script(Reply(text=text))
    d = wa_daemon()
    say(d, "tell me a long story")
    wait_until(lambda: outbox_status(d) == "sent", d=d, what="the long reply to be sent")
    sent = twilio.sent()
    n = len(sent)
    assert n in (3, 4)
    assert [m.body.split(" ", 1)[0] for m in sent] == [f"({i}/{n})" for i in range(1, n + 1)]
    assert all(len(m.body) <= 1600 for m in sent)
    assert all(m.body.endswith("claw.") for m in sent)  # cut on a paragraph/sentence boundary
    rebuilt = "\n\n".join(m.body.split(" ", 1)[1] for m in sent)
    assert rebuilt == text


def test_429_and_5xx_are_retried_then_sent_once(fake_llm, twilio, wa_daemon):
    fake_llm.script(Reply(text="Third time lucky."))
    twilio.script(Fail(429, 20429, "Too Many Requests", retry_after=0), Fail(503, None, "Service Unavailable"))
    d = wa_daemon()
    say(d, "hi")
    wait_until(lambda: outbox_status(d) == "sent", d=d, what="the retried reply")
    assert [m.body for m in twilio.sent()] == ["Third time lucky."]
    assert len(twilio.creates()) == 3
    assert query(d, "select attempts from outbox where id = 1") == [(3,)]


def test_outside_the_24h_window_falls_back_to_the_template(fake_llm, twilio, wa_daemon):
    fake_llm.script(Reply(text="Your parcel arrived."))
    twilio.script(Fail(400, 63016, "Failed to send freeform message because you are outside the allowed window."))
    d = wa_daemon(template_sid="HX0123456789abcdef0123456789abcdef")
    say(d, "ping me when the parcel comes")
    wait_until(lambda: outbox_status(d) == "sent", d=d, what="the template")
    [template] = twilio.sent()
    assert template.content_sid == "HX0123456789abcdef0123456789abcdef"
    assert json.loads(template.content_variables or "{}") == {"1": "Your parcel arrived."}
    assert template.to == f"whatsapp:{OWNER}"


def test_outside_the_window_without_template_waits_for_the_owner(fake_llm, twilio, wa_daemon):
    fake_llm.script(Reply(text="Held reply."), Reply(text="Fresh reply."))
    twilio.script(Fail(400, 63016, "outside the allowed window"))
    d = wa_daemon()
    say(d, "first")
    wait_until(lambda: outbox_status(d) == "held", d=d, what="the reply to be held")
    assert twilio.sent() == []
    say(d, "I'm back")
    sent = twilio.wait_for(2)
    assert [m.body for m in sent] == ["Held reply.", "Fresh reply."]
    wait_until(lambda: outbox_status(d, 2) == "sent", d=d)
    assert outbox_status(d) == "sent"


def test_a_late_63016_from_the_status_callback_is_held_then_resent(fake_llm, twilio, wa_daemon):
    fake_llm.script(Reply(text="Reply one."), Reply(text="Reply two."))
    d = wa_daemon()
    say(d, "one")
    wait_until(lambda: outbox_status(d) == "sent", d=d)
    [first] = twilio.sent()
    path = "/webhooks/twilio/status"
    delivered = {"MessageSid": first.sid, "MessageStatus": "delivered", "AccountSid": twilio.account_sid}
    assert post_webhook(d, delivered, path=path).status_code == 204
    failed = {"MessageSid": first.sid, "MessageStatus": "failed", "ErrorCode": "63016", "AccountSid": twilio.account_sid}
    assert post_webhook(d, failed, path=path, signature=sign(PUBLIC_URL + "/webhooks/twilio", failed)).status_code == 403
    assert post_webhook(d, failed, path=path).status_code == 204
    assert outbox_status(d) == "held"
    say(d, "two")
    sent = twilio.wait_for(3)
    assert [m.body for m in sent] == ["Reply one.", "Reply one.", "Reply two."]
    [(payload,)] = query(d, "select payload from outbox where id = 1")
    assert json.loads(payload)["wa"]["receipts"][first.sid] == "failed"


def test_a_late_63016_found_by_fetch_uses_the_template(fake_llm, twilio, wa_daemon):
    fake_llm.script(Reply(text="Garage door closed."))
    twilio.script(LateFail(63016))
    d = wa_daemon(template_sid="HXfeedfacefeedfacefeedfacefeedface", status_check_seconds=0.2, status_callback=False)
    say(d, "tell me a joke")
    sent = twilio.wait_for(2)
    assert sent[0].body == "Garage door closed." and sent[0].status_callback is None
    assert sent[1].content_sid == "HXfeedfacefeedfacefeedfacefeedface"
    assert json.loads(sent[1].content_variables or "{}") == {"1": "Garage door closed."}
    assert any(r.method == "GET" and r.path.endswith(f"/Messages/{sent[0].sid}.json") for r in twilio.requests)


def test_kill9_between_the_create_and_recording_it_sends_no_second_copy(fake_llm, twilio, wa_daemon):
    fake_llm.script(Reply(text="Exactly once, please."))
    gate = twilio.hold()
    d = wa_daemon()
    say(d, "hello")
    twilio.wait_for(1)  # Twilio has the message; its answer is frozen
    assert outbox_status(d) == "sending"
    d.kill9()
    gate.set()
    d.start()
    wait_until(lambda: outbox_status(d) == "sent", d=d, what="reconciliation")
    assert [m.body for m in twilio.sent()] == ["Exactly once, please."]
    assert len(twilio.creates()) == 1
    assert any(r.method == "GET" and r.path.endswith("/Messages.json") for r in twilio.requests)  # it asked Twilio
    [(external_id,)] = query(d, "select external_id from outbox where id = 1")
    assert external_id == twilio.sent()[0].sid
    assert len(fake_llm.requests) == 1
