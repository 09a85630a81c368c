"""Property tests against a live daemon: whatever arrives, never a 5xx, the daemon stays up, and a rejected
request stores nothing (inbox, outbox and conversation counts do not move)."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes.twilio import sign, webhook_params
from tests.whatsapp.conftest import OWNER, PUBLIC_URL

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),  # includes invalid UTF-8
    st.dictionaries(st.sampled_from(["text", "sender", "id", "extra"]), json_values, max_size=4).map(
        lambda v: json.dumps(v).encode()),
    st.just(b'{"text": "\xff\xfe broken utf-8"}'),
    st.just(b'{"text": "' + b"a" * 20_000 + b'"}'),  # over server.max_body_bytes
)
content_types = st.sampled_from([
    "application/json", "application/json; charset=latin-1", "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "", "application/jsonx", "APPLICATION/JSON",
])


def snapshot(live: Any) -> tuple[int, int, int]:
    return live.count("inbox"), live.count("outbox"), live.count("conversations")


@FUZZ
@given(body=bodies, content_type=content_types, auth=st.sampled_from(["good", "bad", "none", "query"]))
def test_post_messages_never_5xx_and_rejections_store_nothing(live, body, content_type, auth):
    d = live.d
    headers = {"Content-Type": content_type} if content_type else {}
    params = {}
    if auth == "good":
        headers["Authorization"] = f"Bearer {d.token}"
    elif auth == "bad":
        headers["Authorization"] = f"Bearer {d.token[:-1]}x"
    elif auth == "query":
        params["token"] = d.token  # the page accepts ?token= once; the API must not
    before = snapshot(live)
    r = httpx.post(f"{d.url}/api/messages", content=body, headers=headers, params=params, timeout=60)
    assert r.status_code < 500, (r.status_code, r.text)
    if auth != "good":
        assert r.status_code == 401
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/json") and "error" in r.json()
        assert snapshot(live) == before
    assert "set-cookie" not in r.headers


def test_huge_and_chunked_bodies_are_refused_before_reading_them_all(live):
    d = live.d
    before = snapshot(live)
    headers = {"Authorization": f"Bearer {d.token}", "Content-Type": "application/json"}

    def chunks():
        yield b'{"text": "'
        for _ in range(2000):
            yield b"x" * 1024  # 2 MB without a Content-Length
        yield b'"}'

    r = httpx.post(f"{d.url}/api/messages", content=chunks(), headers=headers, timeout=60)
    assert r.status_code == 413
    # a declared length far over the limit is refused from the headers alone (raw socket: httpx won't lie)
    with socket.create_connection(("127.0.0.1", d.port), timeout=30) as sock:
        sock.sendall(f"POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {d.token}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 99999999\r\n\r\n{}".encode())
        status_line = sock.recv(200).split(b"\r\n")[0]
    assert b" 413 " in status_line, status_line
    assert snapshot(live) == before and live.alive()


form_fields = st.dictionaries(
    st.sampled_from(["MessageSid", "AccountSid", "From", "To", "Body", "NumMedia", "MediaUrl0",
                     "MediaContentType0", "ProfileName", "WaId", "SmsStatus"]) | st.text(max_size=12),
    st.text(max_size=60), max_size=8)


@FUZZ
@given(fields=form_fields, signature=st.sampled_from(["none", "garbage", "valid"]),
       content_type=st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain", ""]))
def test_twilio_webhook_never_5xx_and_unsigned_stores_nothing(live, fields, signature, content_type):
    d = live.d
    headers = {"Content-Type": content_type} if content_type else {}
    if signature == "garbage":
        headers["X-Twilio-Signature"] = "bm90IGEgc2lnbmF0dXJl"
    elif signature == "valid":
        headers["X-Twilio-Signature"] = sign(PUBLIC_URL + "/webhooks/twilio", fields)
    before = snapshot(live)
    r = httpx.post(f"{d.url}/webhooks/twilio", data=fields, headers=headers, timeout=60)
    assert r.status_code < 500, (r.status_code, r.text)
    if signature != "valid":
        assert r.status_code == 403
    if r.status_code >= 400:
        assert snapshot(live) == before


@FUZZ
@given(raw=st.binary(max_size=400))
def test_twilio_webhook_raw_bytes_and_invalid_utf8(live, raw):
    d = live.d
    before = snapshot(live)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "AAAA"}
    r = httpx.post(f"{d.url}/webhooks/twilio", content=raw, headers=headers, timeout=60)
    assert r.status_code == 403, r.text  # nothing is read as a message before the signature holds
    assert snapshot(live) == before


def test_signed_webhook_with_a_huge_body_is_refused(live):
    d = live.d
    before = snapshot(live)
    params = webhook_params("x" * 200_000, OWNER)
    headers = {"X-Twilio-Signature": sign(PUBLIC_URL + "/webhooks/twilio", params)}
    r = httpx.post(f"{d.url}/webhooks/twilio", data=params, headers=headers, timeout=60)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
    assert snapshot(live) == before and live.alive()


def test_the_daemon_survived_the_fuzzing(live):
    assert live.alive()
    assert "http.error" not in live.d.logs()  # no request reached the 500 handler
