"""A package outside claw adds a channel and a model provider through entry points, and both work end to end.

``site/`` holds the package and its ``.dist-info`` (what pip would install); the daemon and the CLI run
with it on ``PYTHONPATH``, so ``importlib.metadata`` finds its entry points. Nothing in ``claw/`` names it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.harness import Daemon, wait_until

SITE = Path(__file__).parent / "site"
KEY = "parrot-secret-key-123"
SECRET = "loop-secret-456"


def post(d: Daemon, sender: str, text: str, mid: str) -> dict[str, Any]:
    r = httpx.post(f"{d.url}/webhooks/loopback", json={"id": mid, "from": sender, "text": text},
                   headers={"X-Loopback-Secret": SECRET}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def sent(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def claw(d: Daemon, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "claw", *args], env=d.env, capture_output=True, text=True, timeout=60)


def test_a_third_party_channel_and_provider_work_end_to_end(tmp_path: Path, daemon_factory: Any) -> None:
    out = tmp_path / "sent.jsonl"
    d = daemon_factory(f"""
[llm]
provider = "parrot"
api_key = "{KEY}"
accent = "Polly"

[loopback]
sent_file = "{out}"
secret = "{SECRET}"
allowed = ["alice"]
""", env={"PYTHONPATH": str(SITE)})
    health = httpx.get(f"{d.url}/healthz", headers=d.auth(), timeout=10).json()
    assert health["components"]["llm"]["detail"] == "parrot:parrot-1"
    assert health["components"]["channels"]["loopback"]["ok"]

    # The owner writes on the new channel; the new provider answers; the reply leaves on the new channel.
    assert post(d, "alice", "hello there", "m1") == {"admitted": "owner", "turn": True}
    wait_until(lambda: any(m["text"] == "Polly says: hello there" for m in sent(out)), "the reply", d)
    assert post(d, "alice", "hello there", "m1")["turn"] is False  # the same message id again: a no-op
    assert post(d, "alice", "call current_time", "m2")["turn"]
    wait_until(lambda: any(m["text"].startswith("Polly did it: ") for m in sent(out)), "the tool's result", d)

    # A stranger gets a pairing code on this channel; the owner approves it there.
    assert post(d, "bob", "hi", "m3") == {"admitted": "stranger", "turn": False}
    notice = wait_until(lambda: next((m["text"] for m in sent(out) if m["to"] == "alice" and "approve" in m["text"]),
                                     None), "the owner's notice", d)
    assert "on Loopback" in notice
    code = re.search(r'"approve ([A-Z0-9]{6})"', notice).group(1)  # type: ignore[union-attr]
    post(d, "alice", f"approve {code}", "m4")
    wait_until(lambda: any(m["to"] == "bob" and "approved" in m["text"] for m in sent(out)), "bob's welcome", d)
    assert post(d, "bob", "am I in?", "m5") == {"admitted": "paired", "turn": True}
    reply = wait_until(lambda: next((m["text"] for m in sent(out) if m["to"] == "bob" and "am I in?" in m["text"]),
                                    None), "bob's reply", d)
    assert reply.startswith("Polly says: <untrusted source=\"sender:bob\">")  # not the owner: his words are data

    # Its prices, its checks, its secrets.
    usage = claw(d, "usage", "--by", "conversation")
    alice = next(line for line in usage.stdout.splitlines() if "loopback:alice" in line)
    assert "calls     3" in alice and "~$0.0060" in alice, usage.stdout  # 3 calls x (1000 in x $1 + 100 out x $10)/M
    doctor = claw(d, "doctor")
    assert "ok   llm: parrot parrot-1: squawk" in doctor.stdout and "ok   loopback outbox folder" in doctor.stdout, doctor.stdout
    audit = claw(d, "security", "audit")
    assert "ok   Loopback allowlist set" in audit.stdout and "ok   loopback webhook secret set" in audit.stdout
    logs = d.logs()
    assert KEY not in logs and SECRET not in logs


def test_a_provider_setting_it_does_not_read_is_a_config_error(tmp_path: Path, daemon_factory: Any) -> None:
    d = daemon_factory(f'[llm]\nprovider = "parrot"\napi_key = "{KEY}"\ncolour = "green"\n',
                       env={"PYTHONPATH": str(SITE)}, start=False)
    proc = claw(d, "doctor")
    assert proc.returncode != 0 and "llm.colour: unknown key" in proc.stdout + proc.stderr
    unknown = daemon_factory('[llm]\nprovider = "budgie"\n', name="other", start=False)
    proc = claw(unknown, "doctor")
    assert "llm.provider: unknown provider 'budgie' (installed: anthropic, openai" in proc.stdout + proc.stderr
