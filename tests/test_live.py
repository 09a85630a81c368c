"""What claw sends on its own reaches the owner where they look: labelled, live on the event stream, in a
``claw chat`` session on a real pseudo-terminal; a task's internal prompt is never shown."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import threading
import time

import httpx

from tests.conftest import anthropic_config
from tests.fakes.llm import Reply
from tests.harness import Daemon
from tests.tasks.conftest import api, create, fast, wait_until


class Terminal:
    """A command on a pseudo-terminal, as a person runs it: what it printed so far, and typing."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.output = ""

    def expect(self, text: str, timeout: float = 20.0, start: int = 0) -> str:
        """Wait for ``text`` in what was printed from ``start`` on; returns that part."""
        deadline = time.monotonic() + timeout
        while text not in self.output[start:]:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} not seen; the terminal shows:\n{self.output}"
            if select.select([self.master], [], [], left)[0]:
                try:
                    self.output += os.read(self.master, 4096).decode(errors="replace")
                except OSError:  # the command exited
                    time.sleep(0.1)
        return self.output[start:]

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> int:
        self.type("\x04")  # Ctrl-D
        code = self.proc.wait(timeout=15)
        os.close(self.master)
        return code


def stream_lines(d: Daemon, seen: list[dict], stop: threading.Event) -> None:
    """Collect the ``message`` events of GET /api/events (what an open web chat receives)."""
    with httpx.stream("GET", f"{d.url}/api/events", headers=d.auth(), timeout=httpx.Timeout(10, read=60)) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "message":
                seen.append(json.loads(line[6:]))
            if stop.is_set():
                return


def test_reminder_reaches_the_web_chat_labelled_and_live_in_claw_chat(daemon_factory):
    d = daemon_factory(fast())  # no LLM, no WhatsApp: the owner is reached in the web chat
    seen: list[dict] = []
    stop = threading.Event()
    listener = threading.Thread(target=stream_lines, args=(d, seen, stop), daemon=True)
    listener.start()
    chat = Terminal([sys.executable, "-m", "claw", "chat"], d.env)
    try:
        chat.expect("you> ")
        d.say("note\u2028this")  # a line separator inside a message must not wedge the stream on that line
        create(d, kind="reminder", text="call mom", delay="1s")
        chat.expect("Reminder: call mom")
        mark = len(chat.output)
        chat.type("what time is it?\n")
        out = chat.expect("\nyou> ", start=mark + len("what time is it?"))
        assert chat.close() == 0
    finally:
        if chat.proc.poll() is None:
            chat.proc.kill()
    assert chat.output.count("Reminder: call mom") == 1  # printed once, not again with the next reply
    assert "Reminder" not in out
    wait_until(lambda: any(m["text"] == "Reminder: call mom" for m in seen), what="the reminder on the stream")
    stop.set()
    [line] = [m for m in d.messages() if "call mom" in m["text"]]
    assert line["role"] == "assistant" and line["meta"]["origin"] == "notify" and line["meta"]["kind"] == "reminder"
    assert line["inbox_id"] is None


def test_a_task_turn_shows_its_answer_labelled_and_never_its_prompt(fake_llm, daemon_factory):
    fake_llm.script(Reply(text="All quiet at home."))
    d = daemon_factory(anthropic_config(fake_llm, extra=fast()))
    routine = create(d, kind="routine", text="check the house and report", needs_llm=True, delay="1d")
    api(d, "POST", f"/api/tasks/{routine['id']}/run")
    wait_until(lambda: any("All quiet" in m["text"] for m in d.messages()), what="the task's answer", d=d)
    lines = d.messages()
    assert [m["text"] for m in lines] == [f"Task #{routine['id']} (check the house and report): All quiet at home."]
    assert lines[0]["meta"]["origin"] == "scheduler"
    assert "Do it now with the tools" in fake_llm.requests[0].last_user_text()  # the prompt went to the model only


def test_event_stream_refuses_without_token_or_with_bad_parameters(daemon_factory):
    d = daemon_factory("")
    assert httpx.get(f"{d.url}/api/events", timeout=10).status_code == 401
    bad = httpx.get(f"{d.url}/api/events", params={"after": "-1"}, headers=d.auth(), timeout=10)
    assert bad.status_code == 400 and "after" in bad.json()["error"]
    assert httpx.get(f"{d.url}/api/events", params={"sender": "a b"}, headers=d.auth(), timeout=10).status_code == 400


def test_a_stop_ends_open_streams_cleanly(daemon_factory):
    """Stopping ends each stream as a finished response, not a connection the server cut after its grace."""
    d = daemon_factory("")
    seen: list[dict] = []
    ended: list[str] = []

    def follow() -> None:
        try:
            stream_lines(d, seen, threading.Event())
            ended.append("finished")
        except httpx.HTTPError as exc:
            ended.append(type(exc).__name__)

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    time.sleep(0.5)
    assert d.stop() == 0
    reader.join(10)
    assert ended == ["finished"]
