"""Runs ``claw serve`` as a real subprocess for end-to-end tests: start, talk, kill -9, restart."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx


def wait_until(check: Callable[[], Any], what: str = "condition", d: Daemon | None = None, timeout: float = 30.0) -> Any:
    """Poll until ``check()`` is truthy and return it: a deadline against hangs, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{d.logs()[-5000:]}" if d else ""))


#: A guard against a hung start-up, not a timing assertion: a loaded machine can take its time.
START_CEILING = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """One CLAW_HOME and a ``claw serve`` process on it, restartable on the same home and port."""

    def __init__(self, home: Path, config: str = "", env: dict[str, str] | None = None):
        self.home = home
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = 0  # the OS picks one at each start (no race with other tests for a free port)
        self.config_path = home / "config.toml"
        self.config_path.write_text(textwrap.dedent(config))
        self.env = {
            k: v for k, v in os.environ.items()
            if not k.startswith(("ANTHROPIC_", "OPENAI_", "TWILIO_", "CLAW_"))
        }
        self.env.update({"CLAW_HOME": str(home), "PYTHONUNBUFFERED": "1", "TZ": "UTC"})
        self.env.update(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = home / "serve.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return (self.home / "web-token").read_text().strip()

    def start(self, ceiling: float = START_CEILING) -> Daemon:
        """Start ``claw serve`` on a port the OS picks, and wait for the daemon's own word that it serves
        (``$CLAW_HOME/serve.json``, written once start-up is complete). The ceiling only catches a hang."""
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "claw", "serve", "--port", "0"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + ceiling
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"claw serve exited with {self.proc.returncode}:\n{self.logs()}")
            try:
                served = json.loads((self.home / "serve.json").read_text())
            except (OSError, ValueError):
                served = {}
            if served.get("pid") == self.proc.pid:
                self.port = int(served["url"].rsplit(":", 1)[1])
                return self
            time.sleep(0.02)
        raise RuntimeError(f"claw serve did not start within {ceiling:.0f} s:\n{self.logs()}")

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise

    def post(self, text: str, *, id: str | None = None, sender: str | None = None, timeout: float = 30.0) -> httpx.Response:
        body: dict[str, Any] = {"text": text}
        if id:
            body["id"] = id
        if sender:
            body["sender"] = sender
        return httpx.post(f"{self.url}/api/messages", json=body, headers=self.auth(), timeout=timeout)

    def say(self, text: str, **kw: Any) -> dict[str, Any]:
        r = self.post(text, **kw)
        assert r.status_code == 200, r.text
        return r.json()

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def messages(self, sender: str = "owner") -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/api/messages", params={"sender": sender}, headers=self.auth(), timeout=10)
        return r.json()["messages"]

    def wait_for_replies(self, count: int, sender: str = "owner", timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            replies = [m for m in self.messages(sender) if m["role"] == "assistant"]
            if len(replies) >= count:
                return replies
            time.sleep(0.1)
        raise AssertionError(f"expected {count} replies, got {self.messages(sender)}\n{self.logs()}")


COUNTER_SKILL = '''
"""A test skill that counts its invocations in a file, so tests can prove a tool ran exactly once."""
from pathlib import Path
from claw.skill import Skill, tool


class Counter(Skill):
    name = "counter"

    @tool(untrusted=False)  # its result is its own words
    async def bump(self, label: str) -> str:
        """Record one invocation.

        Args:
            label: what to record.
        """
        path = self.ctx.data_dir / "calls.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as f:
            f.write(label + "\\n")
        return f"bumped {label}"

    @tool(sensitive=True)
    async def open_vault(self, reason: str) -> str:
        """Open the vault (needs the owner's confirmation).

        Args:
            reason: why.
        """
        path = self.ctx.data_dir / "vault.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as f:
            f.write(reason + "\\n")
        return "the vault is open"
'''


def install_counter_skill(home: Path) -> None:
    (home / "skills").mkdir(parents=True, exist_ok=True)
    (home / "skills" / "counter.py").write_text(COUNTER_SKILL)


def counter_calls(home: Path, name: str = "calls.txt") -> list[str]:
    path = home / "data" / "counter" / name
    return path.read_text().splitlines() if path.exists() else []
