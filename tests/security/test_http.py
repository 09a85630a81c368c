"""Attacks on the running daemon's HTTP front door, from outside, on 127.0.0.1 only.

Slow headers and slow bodies are cut off at the configured deadline while /healthz keeps answering; the
connection cap answers the surplus 503; a forged 9,000-field webhook is refused before its form is parsed or
signed; hostile JSON is a 400 and an oversize body a 413 on every route; a foreign Host is a 400 (DNS
rebinding), a foreign Origin on a POST a 403; /healthz says only "ok" or "degraded" and /openapi.json nothing
without the token. Deadlines in these tests are ceilings against hangs, never timing assertions.
"""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.llm import FakeLLM
from tests.fakes.twilio import FakeTwilio, sign, webhook_params
from tests.harness import Daemon, wait_until
from tests.whatsapp.conftest import OWNER, PUBLIC_URL, TWILIO_ENV, post_webhook, query, wa_config

#: Short deadlines, so cut-offs show within the test; generous connection cap, so 50 sockets fit.
LIMITS = "[server]\nheader_timeout = 1.5\nbody_timeout = 1.5\nmax_connections = 120\n"
SOCKETS = 50


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """One daemon for the module: WhatsApp on (public_url https://claw.example.net), the default parser."""
    with FakeLLM() as llm, FakeTwilio() as twilio:
        home: Path = tmp_path_factory.mktemp("http") / "home"
        d = Daemon(home, wa_config(llm, twilio, extra=LIMITS, rate_limit_per_minute=0), TWILIO_ENV)
        d.start()
        try:
            yield d
        finally:
            d.stop()


@pytest.fixture(scope="module")
def h11(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """The same limits on the h11 parser (``[server] http = "h11"``), the one used without httptools."""
    d = Daemon(tmp_path_factory.mktemp("h11") / "home", LIMITS + 'http = "h11"\n')
    d.start()
    try:
        yield d
    finally:
        d.stop()


def connect(d: Daemon) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
    s.setblocking(False)
    return s


def trickle(d: Daemon, opening: bytes, drip: bytes, ceiling: float = 30.0) -> list[bytes]:
    """Open ``SOCKETS`` connections, send ``opening`` on each, then one byte of ``drip`` every 0.2 s until the
    server closes each; /healthz must answer meanwhile. Returns what each socket received before its end."""
    socks = [connect(d) for _ in range(SOCKETS)]
    got: dict[socket.socket, bytes] = {s: b"" for s in socks}
    open_ = set(socks)
    for s in socks:
        s.sendall(opening)
    assert httpx.get(f"{d.url}/healthz", timeout=10).json()["status"] in ("ok", "degraded")
    deadline = time.monotonic() + ceiling
    try:
        while open_ and time.monotonic() < deadline:
            readable, _, _ = select.select(list(open_), [], [], 0.2)
            for s in readable:
                try:
                    chunk = s.recv(4096)
                except ConnectionResetError:
                    chunk = b""
                got[s] += chunk
                if not chunk or b"\r\n\r\n" in got[s]:  # closed, or answered (always with connection: close)
                    open_.discard(s)
            for s in list(open_):
                try:
                    s.send(drip)
                except (BrokenPipeError, ConnectionResetError):
                    open_.discard(s)
        assert not open_, f"{len(open_)} of {SOCKETS} slow connections still open after {ceiling:.0f} s"
    finally:
        for s in socks:
            s.close()
    return list(got.values())


@pytest.mark.parametrize("parser", ["live", "h11"])
def test_slow_headers_are_cut_off_while_healthz_answers(parser: str, request: pytest.FixtureRequest) -> None:
    d: Daemon = request.getfixturevalue(parser)
    answers = trickle(d, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", b"a")
    assert {a.split(b"\r\n")[0] for a in answers} - {b""} == {b"HTTP/1.1 408 Request Timeout"}
    assert httpx.get(f"{d.url}/healthz", timeout=10).status_code == 200


def test_a_connection_sending_nothing_is_cut_off(live: Daemon) -> None:
    with socket.create_connection(("127.0.0.1", live.port), timeout=20) as s:
        assert s.recv(4096).startswith(b"HTTP/1.1 408")


def test_headers_beyond_max_header_bytes_are_refused(live: Daemon) -> None:
    with socket.create_connection(("127.0.0.1", live.port), timeout=20) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20_000)
        assert s.recv(4096).split(b"\r\n")[0] in (b"HTTP/1.1 431 Request Header Fields Too Large",
                                                  b"HTTP/1.1 400 Bad Request")


def test_slow_body_is_answered_408_while_healthz_answers(live: Daemon) -> None:
    head = (b"POST /webhooks/twilio HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"X-Twilio-Signature: " + b"A" * 27 + b"=\r\nContent-Length: 5000\r\n\r\nBody=")
    answers = trickle(live, head, b"x")
    # b"": our next byte raced the server's close, and the reset took the unread answer with it
    assert {a.split(b"\r\n")[0] for a in answers} - {b""} == {b"HTTP/1.1 408 Request Timeout"}
    assert "body too slow" in live.logs()


def test_connections_beyond_the_cap_get_503_and_healthz_recovers(tmp_path: Path) -> None:
    d = Daemon(tmp_path / "home", "[server]\nmax_connections = 8\nheader_timeout = 60.0\n").start()
    try:
        held = [socket.create_connection(("127.0.0.1", d.port), timeout=5) for _ in range(8)]
        with socket.create_connection(("127.0.0.1", d.port), timeout=10) as extra:
            assert extra.recv(4096).startswith(b"HTTP/1.1 503")
        for s in held:
            s.close()
        wait_until(lambda: httpx.get(f"{d.url}/healthz", timeout=5).status_code == 200, "healthz after the flood")
    finally:
        d.stop()


# -- webhooks ------------------------------------------------------------------------------------------------


def test_forged_webhook_with_9000_fields_is_refused_before_parsing_or_signing(live: Daemon) -> None:
    form = "&".join(f"{i}=" for i in range(9000))  # 45 KB: under max_body_bytes
    forged = sign(PUBLIC_URL + "/webhooks/twilio", {"f": "x"})  # a well-formed signature, of something else
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": forged}
    before = live.logs().count("too many fields")
    with httpx.Client(timeout=30) as client:
        for _ in range(200):
            assert client.post(f"{live.url}/webhooks/twilio", content=form, headers=headers).status_code == 403
        r = client.post(f"{live.url}/webhooks/twilio", content="x" * 10,
                        headers={**headers, "X-Twilio-Signature": "x" * 5000})
        assert r.status_code == 403
    logs = live.logs()
    assert logs.count("too many fields") - before == 200  # refused on the count, not after signing it
    assert "malformed signature" in logs
    params = webhook_params("still here", OWNER)
    assert post_webhook(live, params).status_code == 200  # a real one right after the burst
    assert query(live, "select count(*) from inbox where external_id = ?", params["MessageSid"]) == [(1,)]


def test_signature_over_the_url_with_its_default_port_is_still_accepted(live: Daemon) -> None:
    params = webhook_params("port variant", OWNER)
    r = post_webhook(live, params, signed_url="https://claw.example.net:443/webhooks/twilio")
    assert r.status_code == 200


# -- bodies ----------------------------------------------------------------------------------------------------

HOSTILE = {
    "deep nesting": b"[" * 50_000,
    "deep object": b'{"text": ' + b'{"a": ' * 200 + b"1" + b"}" * 200 + b"}",
    "5,000-digit number": b'{"text": "hi", "id": ' + b"9" * 5000 + b"}",
    "infinite number": b'{"text": "hi", "arguments": 1e999}',
    "NaN": b'{"text": NaN}',
    "bad UTF-8": b'{"text": "\xff\xfe"}',
    "not JSON": b"{nope",
}
JSON_ROUTES = ["/api/messages", "/api/tasks", "/api/tools/current_time"]


@pytest.mark.parametrize("route", JSON_ROUTES)
def test_hostile_json_is_400_on_every_json_route(live: Daemon, route: str) -> None:
    headers = {**live.auth(), "Content-Type": "application/json"}
    got = {name: httpx.post(f"{live.url}{route}", content=body, headers=headers, timeout=10)
           for name, body in HOSTILE.items()}
    assert {name: r.status_code for name, r in got.items()} == {name: 400 for name in HOSTILE}
    assert all("not valid JSON" in r.json()["error"] for r in got.values())
    assert "http.error" not in live.logs()


@pytest.mark.parametrize("route", [*JSON_ROUTES, "/webhooks/twilio", "/healthz"])
def test_oversize_body_is_413_on_every_route(live: Daemon, route: str) -> None:
    headers = {**live.auth(), "Content-Type": "application/json"}
    r = httpx.post(f"{live.url}{route}", content=b'"' + b"x" * 200_000 + b'"', headers=headers, timeout=10)
    assert r.status_code == 413, r.text


def test_a_declared_150_mb_body_is_refused_before_it_is_sent(live: Daemon) -> None:
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as s:
        s.sendall(b"POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Authorization: Bearer " + live.token.encode() + b"\r\nContent-Length: 150000000\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 413")


# -- Host, Origin, what is said without the token ------------------------------------------------------------


def test_foreign_host_is_400_known_names_pass(live: Daemon) -> None:
    def status(host: str, path: str = "/healthz") -> int:
        return httpx.get(f"{live.url}{path}", headers={**live.auth(), "Host": host}, timeout=10).status_code

    assert status("rebind.attacker.example") == 400
    assert status(f"rebind.attacker.example:{live.port}", "/openapi.json") == 400
    assert status(f"localhost:{live.port}") == 200
    assert status(f"127.0.0.1:{live.port}") == 200
    assert status("claw.example.net") == 200  # the WhatsApp public_url's host (a tunnel may keep it)


def test_foreign_origin_on_a_post_is_403(live: Daemon) -> None:
    def post(origin: str, path: str = "/api/messages") -> int:
        return httpx.post(f"{live.url}{path}", json={"nope": 1}, timeout=10,
                          headers={**live.auth(), "Origin": origin}).status_code

    assert post("http://rebind.attacker.example") == 403
    assert post("null") == 403
    assert post("http://rebind.attacker.example", "/webhooks/twilio") == 403
    assert post(f"http://127.0.0.1:{live.port}") == 422  # same origin: past the guard, to the handler
    assert post("https://claw.example.net") == 422
    r = httpx.get(f"{live.url}/healthz", headers={"Origin": "http://rebind.attacker.example"}, timeout=10)
    assert r.status_code == 200  # reads are not refused on Origin (the browser keeps cross-origin answers)


def test_healthz_without_the_token_says_only_the_status(live: Daemon) -> None:
    anonymous = httpx.get(f"{live.url}/healthz", timeout=10).json()
    assert set(anonymous) == {"status"} and anonymous["status"] in ("ok", "degraded")
    detailed = httpx.get(f"{live.url}/healthz", headers=live.auth(), timeout=10).json()
    assert "whatsapp" in detailed["components"]["channels"]
    wrong = httpx.get(f"{live.url}/healthz", headers={"Authorization": "Bearer wrong"}, timeout=10).json()
    assert set(wrong) == {"status"}


def test_openapi_needs_the_token(live: Daemon) -> None:
    r = httpx.get(f"{live.url}/openapi.json", timeout=10)
    assert r.status_code == 401 and "paths" not in r.text
    assert "/api/messages" in httpx.get(f"{live.url}/openapi.json", headers=live.auth(), timeout=10).json()["paths"]


def test_daemon_survived_the_module(live: Daemon) -> None:
    assert live.proc is not None and live.proc.poll() is None
    assert json.loads(httpx.get(f"{live.url}/healthz", timeout=10).text)["status"] in ("ok", "degraded")
