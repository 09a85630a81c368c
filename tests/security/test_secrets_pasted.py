"""Secrets the owner pastes into the chat are never stored, whichever way they are known.

An Anthropic key (known by its shape only), the ``HOMEASSISTANT_TOKEN`` of the daemon's environment (known by
its variable's name only), the web token, and a GitHub token (its shape) are pasted on WhatsApp and through the
web API; the fake model even slips one into a tool call. None of them may appear in any table of claw.db
(inbox, outbox, transcript, journal, memory episodes and facts, their FTS tables), in the database files' raw
bytes, in the logs, or in a ``claw backup`` archive (apart from the files whose job is to hold secrets).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from claw.logging import scrub
from claw.secrets import env_secrets
from tests.fakes.llm import FakeLLM, Reply, ToolUse
from tests.fakes.twilio import FakeTwilio
from tests.harness import Daemon, wait_until
from tests.whatsapp.conftest import OWNER, TWILIO_ENV, query, say, wa_config

ANTHROPIC_KEY = "sk-ant-api03-" + "Xq7vB2mK9pL4wR8tY1uZ3nC6dF0gH5jA" * 3 + "-Q1w2E3r4T5yAA"
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
HA_TOKEN = "ha-env-token-7c1d9e2f4a6b8d0e"  # no known shape: only its variable's name marks it


@dataclass
class Pasted:
    d: Daemon
    llm: FakeLLM
    twilio: FakeTwilio
    secrets: dict[str, str]
    backup: Path


def strings_in_tables(db: Path) -> str:
    """Every text and blob value of every table (FTS shadow tables included), as one string."""
    con = sqlite3.connect(db)
    out: list[str] = []
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type = 'table'")]
        for table in tables:
            try:
                rows = con.execute(f'select * from "{table}"').fetchall()
            except sqlite3.OperationalError:  # a virtual table whose module is not loaded here: its shadows count
                continue
            for row in rows:
                for value in row:
                    if isinstance(value, str):
                        out.append(value)
                    elif isinstance(value, bytes):
                        out.append(value.decode("latin-1"))
    finally:
        con.close()
    assert {"inbox", "outbox", "messages", "turn_steps", "memory_episodes", "memory_facts"} <= set(tables)
    return "\n".join(out)


@pytest.fixture(scope="module")
def pasted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pasted]:
    with FakeLLM() as llm, FakeTwilio() as twilio:
        home = tmp_path_factory.mktemp("pasted") / "home"
        d = Daemon(home, wa_config(llm, twilio), {**TWILIO_ENV, "HOMEASSISTANT_TOKEN": HA_TOKEN})
        d.start()
        try:
            secrets = {"anthropic key": ANTHROPIC_KEY, "github token": GITHUB_TOKEN, "HOMEASSISTANT_TOKEN": HA_TOKEN,
                       "web token": d.token}
            llm.script(
                # a model that slips a secret into a tool call: the journal and memory must scrub it too
                Reply(tool_calls=[ToolUse("remember", {"statement": f"The Home Assistant token is {HA_TOKEN}"})]),
                # ... and echoes one in its answer: the transcript, the outbox and the message sent must not
                Reply(text=f"Noted. I did not keep the keys themselves, {HA_TOKEN} included."),
                Reply(text="Thanks, got it."),
            )
            say(d, f"my anthropic key is {ANTHROPIC_KEY}, the home assistant token is {HA_TOKEN} and the web "
                   f"token is {d.token}. remember them please")
            twilio.wait_for(1, to=OWNER)
            d.say(f"and my github token: {GITHUB_TOKEN} (same anthropic key {ANTHROPIC_KEY})")
            wait_until(lambda: query(d, "select count(*) from inbox where status = 'done'") == [(2,)], "both turns", d)
            wait_until(lambda: query(d, "select count(*) from memory_facts") != [(0,)], "the remembered fact", d)
            backup = home.parent / "backup.tar.gz"
            out = subprocess.run([sys.executable, "-m", "claw", "backup", str(backup)], env=d.env,
                                 capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, out.stdout + out.stderr
            yield Pasted(d, llm, twilio, secrets, backup)
        finally:
            d.stop()


def test_pasted_secrets_never_reach_the_model_and_the_turn_knows_some_were_removed(pasted):
    p = pasted
    prompts = "\n".join(r.last_user_text() for r in p.llm.requests)
    assert "[secret]" in prompts and "remember them please" in prompts
    assert [what for what, s in p.secrets.items() if s in prompts] == []
    payloads = [r[0] for r in query(p.d, "select payload from inbox order by id")]
    assert '"secrets_removed": 3' in payloads[0] and '"secrets_removed": 2' in payloads[1]


def test_pasted_secrets_are_in_no_table_no_database_file_no_log_and_no_backup(pasted):
    p = pasted
    tables = strings_in_tables(p.d.home / "claw.db")
    raw = "\n".join(f.read_bytes().decode("latin-1") for f in p.d.home.glob("claw.db*"))
    with tarfile.open(p.backup) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    assert "claw.db" in members
    backed_up = p.d.home.parent / "restored.db"
    backed_up.write_bytes(members["claw.db"])
    places = {
        "tables": tables,
        "database files": raw,
        "logs": p.d.logs(),
        "messages sent": "\n".join(m.body or "" for m in p.twilio.sent()),
        "web transcript": json.dumps(p.d.messages()),
        "backup's database": strings_in_tables(backed_up),
        # the files whose job is to hold secrets (the token, the config's keys) are backed up as they are
        "backup's other files": "\n".join(v.decode("latin-1") for k, v in members.items()
                                          if k not in ("claw.db", "web-token", "config.toml")),
    }
    assert "[secret]" in tables and "remember them please" in tables  # the places scanned are not empty
    assert "themselves, [secret] included" in places["messages sent"]
    assert "The Home Assistant token is [secret]" in tables  # the fact, scrubbed on the way into memory
    assert len(places["logs"]) > 1000
    leaks = [(what, where) for what, secret in p.secrets.items() for where, text in places.items() if secret in text]
    assert leaks == []


def test_the_scrubber_knows_key_shapes_and_leaves_ordinary_text_alone():
    shaped = [ANTHROPIC_KEY, GITHUB_TOKEN, "sk-proj-" + "Ab3" * 20, "xoxb-123456789012-abcdefghijkl",
              "AKIAIOSFODNN7EXAMPLE", "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJhYmMxMjMifQ.c2lnbmF0dXJlX2hlcmU",
              "AIza" + "B" * 35, "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"]
    for secret in shaped:
        assert scrub(f"here: {secret}.") == "here: [secret].", secret
    ordinary = ("call me on +1 555 123 4567 or +15551234567 at 07:30, code 4711, order 1234567890123456",
                "ask-anthropic-about-the-risk-assessment-for-the-kitchen-remodel tomorrow",
                "sk-8 is a ski model; task-2024-05-01-backup-of-everything-important ran",
                "uuid 123e4567-e89b-12d3-a456-426614174000 and sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
                "the AKIA sign, xoxo - Sam; eyJust kidding; ghp_short; https://example.com/a?b=c")
    for text in ordinary:
        assert scrub(text) == text


def test_secret_named_environment_variables_count_and_ordinary_ones_do_not():
    env = {"HOMEASSISTANT_TOKEN": HA_TOKEN, "MY_SERVICE_API_KEY": "abcdefgh12", "DB_PASSWORD": "hunter2hunter2",
           "PATH": "/usr/bin:/bin", "TOKEN_COUNT": "a-long-value-1", "RETRY_TOKEN": "12345678", "X_SECRET": "short"}
    assert sorted(env_secrets(env)) == sorted([HA_TOKEN, "abcdefgh12", "hunter2hunter2"])


def test_nothing_in_the_home_leaks_the_web_token_outside_its_file(pasted):
    token = pasted.d.token
    holders = [f.name for f in pasted.d.home.rglob("*") if f.is_file() and token.encode() in f.read_bytes()]
    assert holders == ["web-token"]
