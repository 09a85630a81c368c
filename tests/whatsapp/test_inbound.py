"""Inbound WhatsApp through `claw serve`: signature checks, durable acknowledgement, idempotency, media."""

from __future__ import annotations

import base64
import time

import httpx

from tests.fakes.llm import Reply, ToolUse
from tests.fakes.twilio import TEST_JPEG, sign, webhook_params
from tests.whatsapp.conftest import FROM, OWNER, PUBLIC_URL, post_webhook, query, say


def test_happy_path_one_reply_from_our_number_to_the_sender(fake_llm, twilio, wa_daemon):
    fake_llm.script(Reply(text="Hi! The kitchen lights are on."))
    d = wa_daemon()
    say(d, "hello there")
    [sent] = twilio.wait_for(1)
    assert (sent.from_, sent.to, sent.body) == (f"whatsapp:{FROM}", f"whatsapp:{OWNER}", "Hi! The kitchen lights are on.")
    assert sent.status_callback == f"{PUBLIC_URL}/webhooks/twilio/status"
    assert all(r.authorized for r in twilio.requests)
    [req] = fake_llm.requests
    assert req.last_user_text() == "hello there"
    [(payload,)] = query(d, "select payload from inbox where channel = 'whatsapp'")
    assert '"owner": true' in payload
    assert "Test User" in payload
    assert "fake-twilio-auth-token" not in d.logs()


def test_notify_owner_reaches_the_owner_on_whatsapp(fake_llm, twilio, wa_daemon):
    fake_llm.script(Reply(tool_calls=[ToolUse("notify_owner", {"text": "The washing machine is done."})]),
                    Reply(text="Told you."))
    d = wa_daemon(allowed=[OWNER, "+15557654321"])
    say(d, "tell me when it's done", sender=OWNER)
    alert, reply = twilio.wait_for(2, to=OWNER)
    assert (alert.body, reply.body) == ("Alert: The washing machine is done.", "Told you.")
    [(payload,)] = query(d, "select payload from inbox")
    assert '"owner": true' in payload  # (a listed friend's words change nothing: tests/security)


def test_a_reminder_goes_to_whatsapp_labelled_and_shows_in_the_web_chat(twilio, wa_daemon):
    d = wa_daemon()
    r = httpx.post(f"{d.url}/api/tasks", json={"kind": "reminder", "text": "call mom", "delay": "1s"},
                   headers=d.auth(), timeout=10)
    assert r.status_code == 201, r.text
    [sent] = twilio.wait_for(1, to=OWNER)
    assert sent.body == "Reminder: call mom"
    [line] = d.messages()  # the web chat shows it too, marked as sent to WhatsApp, without a second delivery
    assert (line["text"], line["meta"]["via"]) == ("Reminder: call mom", "whatsapp")
    time.sleep(1)
    assert len(twilio.sent()) == 1


def test_a_routine_report_goes_to_whatsapp_and_shows_in_the_web_chat(fake_llm, twilio, wa_daemon):
    fake_llm.script(Reply(text="All quiet at home."))
    d = wa_daemon()
    r = httpx.post(f"{d.url}/api/tasks", json={"kind": "routine", "text": "check the house", "needs_llm": True,
                                               "delay": "1d"}, headers=d.auth(), timeout=10)
    task = r.json()["task"]
    httpx.post(f"{d.url}/api/tasks/{task['id']}/run", headers=d.auth(), timeout=10)
    [sent] = twilio.wait_for(1, to=OWNER)
    assert sent.body == f"Task #{task['id']} (check the house): All quiet at home."
    [line] = d.messages()
    assert (line["text"], line["meta"]["via"]) == (sent.body, "whatsapp")


def test_bad_or_missing_signature_is_403_and_nothing_is_stored(fake_llm, twilio, wa_daemon):
    d = wa_daemon()
    params = webhook_params("let me in", OWNER)
    local_url = f"{d.url}/webhooks/twilio"
    cases = {
        "wrong signature": post_webhook(d, params, signature="bm90IGEgc2lnbmF0dXJl"),
        "signed for another URL": post_webhook(d, params, signed_url=local_url),
        "missing header": post_webhook(d, params, signature=None),
        "wrong token": post_webhook(d, params, signature=sign(PUBLIC_URL + "/webhooks/twilio", params, "other-token")),
        "tampered body": post_webhook(d, {**params, "Body": "changed"}, signature=sign(PUBLIC_URL + "/webhooks/twilio", params)),
        "status callback unsigned": post_webhook(d, {"MessageSid": "SM1", "MessageStatus": "read"}, signature=None,
                                                 path="/webhooks/twilio/status"),
    }
    assert {name: r.status_code for name, r in cases.items()} == {name: 403 for name in cases}
    assert query(d, "select count(*) from inbox") == [(0,)]
    assert query(d, "select count(*) from outbox") == [(0,)]
    assert fake_llm.requests == [] and twilio.requests == []
    logs = d.logs()
    assert "whatsapp.rejected" in logs and "let me in" not in logs


def test_the_same_message_sid_three_times_is_one_turn_and_one_reply(fake_llm, twilio, wa_daemon):
    fake_llm.script(Reply(text="Only once."), Reply(text="Second message answered."))
    d = wa_daemon()
    params = webhook_params("do it once", OWNER)
    for _ in range(3):
        r = post_webhook(d, params)
        assert r.status_code == 200 and r.text.endswith("<Response/>")
    twilio.wait_for(1)
    say(d, "and a different message")  # a later turn proves the retries were not queued behind
    sent = twilio.wait_for(2)
    assert [m.body for m in sent] == ["Only once.", "Second message answered."]
    assert [r.last_user_text() for r in fake_llm.requests] == ["do it once", "and a different message"]
    assert query(d, "select count(*) from inbox where external_id = ?", params["MessageSid"]) == [(1,)]


def test_an_inbound_image_reaches_the_model_as_an_image_block(fake_llm, twilio, wa_daemon):
    fake_llm.script(Reply(text="A white pixel."), Reply(text="Too big."))
    d = wa_daemon(max_media_bytes=2048)
    say(d, "what is this?", media=[(twilio.add_media("image/jpeg"), "image/jpeg")])
    twilio.wait_for(1)
    [image] = fake_llm.requests[0].images()
    assert image["source"] == {"type": "base64", "media_type": "image/jpeg",
                               "data": base64.b64encode(TEST_JPEG).decode()}
    media_gets = [r for r in twilio.requests if r.method == "GET" and "/Media/" in r.path]
    assert len(media_gets) == 1 and media_gets[0].authorized
    # Over [whatsapp] max_media_bytes: not passed on, and the model is told so.
    say(d, "and this?", media=[(twilio.add_media("image/png", b"\x89PNG" + b"0" * 4096), "image/png")])
    twilio.wait_for(2)
    assert all(i["source"]["media_type"] != "image/png" for i in fake_llm.requests[1].images())
    assert "couldn't download the photo" in fake_llm.requests[1].last_user_text()


def test_other_media_gets_a_polite_reply_and_text_still_gets_a_turn(fake_llm, twilio, wa_daemon):
    fake_llm.script(Reply(text="Noted the text."))
    d = wa_daemon()
    say(d, "", media=[(twilio.add_media("audio/ogg", b"OggS"), "audio/ogg")])
    [polite] = twilio.wait_for(1)
    assert "can't read that kind of file yet" in polite.body and "audio/ogg" in polite.body
    say(d, "and some text", media=[(twilio.add_media("application/pdf", b"%PDF"), "application/pdf")])
    sent = twilio.wait_for(3)
    assert "can't read" in sent[1].body and sent[2].body == "Noted the text."
    assert [r.last_user_text() for r in fake_llm.requests] == ["and some text"]
    assert not [r for r in twilio.requests if "/Media/" in r.path]  # nothing we cannot use is downloaded
