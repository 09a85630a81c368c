"""Helpers for end-to-end task tests: the CLI against a daemon's home, polling, the tasks API."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx

from tests.harness import Daemon, wait_until  # noqa: F401 - re-exported to the tests here

FAST = """
[tasks]
watch_poll_seconds = 0.5
grace_seconds = {grace}
"""


def fast(grace: float = 60.0) -> str:
    return FAST.format(grace=grace)


def cli(d: Daemon, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = d.env  # the CLI finds the daemon of this home by itself ($CLAW_HOME/serve.json)
    proc = subprocess.run([sys.executable, "-m", "claw", "tasks", *args], env=env, capture_output=True, text=True,
                          timeout=60)
    if ok:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def api(d: Daemon, method: str, path: str, body: Any = None) -> httpx.Response:
    return httpx.request(method, f"{d.url}{path}", json=body, headers=d.auth(), timeout=30)


def create(d: Daemon, **body: Any) -> dict[str, Any]:
    r = api(d, "POST", "/api/tasks", body)
    assert r.status_code == 201, r.text
    return r.json()["task"]




def assistant_texts(d: Daemon) -> list[str]:
    return [m["text"] for m in d.messages() if m["role"] == "assistant"]
