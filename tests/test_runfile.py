"""One daemon per home, and the CLI finds it wherever it listens (the harness starts daemons on --port 0)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from typing import Any

from tests.conftest import anthropic_config
from tests.fakes.llm import Reply
from tests.harness import Daemon


def claw(d: Daemon, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in d.env.items() if k != "CLAW_URL"} | env
    return subprocess.run([sys.executable, "-m", "claw", *args], env=environ, capture_output=True, text=True,
                          timeout=120)


def test_the_cli_finds_the_daemon_on_any_port_and_a_home_runs_one_daemon(fake_llm: Any, daemon_factory: Any) -> None:
    fake_llm.responder = lambda req: Reply(text="here")
    d = daemon_factory(anthropic_config(fake_llm))
    served = json.loads((d.home / "serve.json").read_text())
    assert served == {"pid": d.proc.pid, "url": d.url} and d.port != 8750
    said = claw(d, "say", "are you there?")
    assert said.returncode == 0 and said.stdout.strip() == "here", said.stdout + said.stderr

    second = claw(d, "serve", "--port", "0")
    assert second.returncode != 0 and "already running" in second.stderr and d.url in second.stderr
    assert "Traceback" not in second.stderr
    assert claw(d, "say", "still one?").stdout.strip() == "here"

    d.stop()
    assert not (d.home / "serve.json").exists()
    gone = claw(d, "say", "anyone?")
    assert gone.returncode != 0 and "is `claw serve` running?" in gone.stderr


def test_tasks_are_never_written_behind_a_running_daemon(fake_llm: Any, daemon_factory: Any) -> None:
    """A daemon that runs but does not answer (stopped here with SIGSTOP) gets no edit behind its back."""
    d = daemon_factory("[tasks]\n")
    added = claw(d, "tasks", "add", "--in", "1h", "--remind", "stretch")
    assert added.returncode == 0 and "Added task #1" in added.stdout, added.stdout + added.stderr
    assert d.proc is not None
    d.proc.send_signal(signal.SIGSTOP)
    try:
        paused = claw(d, "tasks", "pause", "1")
    finally:
        d.proc.send_signal(signal.SIGCONT)
    assert paused.returncode != 0 and "does not answer" in paused.stderr
    listed = json.loads(claw(d, "tasks", "list", "--json").stdout)["tasks"]
    assert [t["status"] for t in listed] == ["active"]
    assert claw(d, "tasks", "pause", "1").returncode == 0
    assert json.loads(claw(d, "tasks", "list", "--json").stdout)["tasks"][0]["status"] == "paused"


def test_say_follows_url_and_tells_where_to_point_it(fake_llm: Any, daemon_factory: Any) -> None:
    fake_llm.responder = lambda req: Reply(text="here")
    d = daemon_factory(anthropic_config(fake_llm))
    (d.home / "serve.json").rename(d.home / "moved.json")  # as if the CLI could not tell where it listens
    try:
        lost = claw(d, "say", "hello?")
        assert lost.returncode != 0 and "--url URL or CLAW_URL" in lost.stderr, lost.stderr
        for args in (["say", "hello?", "--url", d.url], ["--url", d.url, "say", "hello?"]):
            found = claw(d, *args)
            assert found.returncode == 0 and found.stdout.strip() == "here", found.stdout + found.stderr
        assert claw(d, "say", "hello?", CLAW_URL=d.url).stdout.strip() == "here"
    finally:
        (d.home / "moved.json").rename(d.home / "serve.json")


def test_options_of_claw_may_follow_the_command(tmp_path: Any) -> None:
    from claw.cli.main import hoist

    assert hoist(["serve", "--config", "x.toml", "--port", "1"]) == ["--config", "x.toml", "serve", "--port", "1"]
    assert hoist(["tasks", "add", "--url=http://h:1", "--", "--config"]) == ["--url=http://h:1", "tasks", "add", "--",
                                                                             "--config"]
    d = Daemon(tmp_path / "home")
    missing = claw(d, "serve", "--config", str(tmp_path / "nope.toml"))
    assert missing.returncode != 0 and "nope.toml: config file not found" in missing.stderr, missing.stderr


def test_a_busy_port_is_one_line_before_anything_starts(tmp_path: Any) -> None:
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        busy = claw(Daemon(tmp_path / "home"), "serve", "--port", str(port))
    finally:
        taken.close()
    assert busy.returncode != 0 and "Traceback" not in busy.stderr
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in busy.stderr and "--port N" in busy.stderr
    assert "claw.started" not in busy.stdout + busy.stderr
