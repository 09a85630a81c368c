"""The headline path through ``claw serve``: "can you find my sonos?", "yes", "play some jazz in the kitchen".

Two fake speakers answer on 127.0.0.2/.3:1400 and the config names only ``[home.discovery] subnets``. The
fake LLM picks tools only from those claw offers, as a model would. Where the machine allows it, the test
re-runs itself in a network namespace with nothing but loopback (``unshare -n``), so no search can leave
the box; elsewhere the given subnets keep the probe on loopback and turn multicast off.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import anthropic_config
from tests.fakes.llm import RecordedRequest, Reply, ToolUse
from tests.fakes.sonos import FakeSonos, FakeSonosSystem
from tests.harness import Daemon

KITCHEN, LIVING = "127.0.0.2", "127.0.0.3"
IN_NAMESPACE = "CLAW_TEST_LOOPBACK_ONLY"
CONFIG = """
[home.discovery]
subnets = ["127.0.0.0/29"]
timeout = 1.5
"""


def _namespace_works() -> bool:
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


def planner(req: RecordedRequest) -> Reply:
    """A model that uses what it is offered: it searches, asks, then plays."""
    said = next(text for text in reversed(user_texts(req)) if text).lower()
    last = req.messages[-1]["content"]
    done = req.tool_results() if isinstance(last, list) and any(b.get("type") == "tool_result" for b in last) else []
    if "find my sonos" in said:
        if not done:
            assert "discover" in req.tool_names()
            return Reply(tool_calls=[ToolUse("discover", {})])
        return Reply(text="I found two Sonos speakers, Kitchen and Living Room. Shall I use them?")
    if said.startswith("play"):
        if not done:
            room = "kitchen" if "kitchen" in said else "living room"
            query = {"query": "jazz"} if "jazz" in said else {}
            return Reply(tool_calls=[ToolUse("music", {"action": "play", "room": room, **query})])
        return Reply(text=re.sub(r"</?untrusted[^>]*>", "", done[-1].content).strip())  # says what it read
    return Reply(text="OK.")


def user_texts(req: RecordedRequest) -> list[str]:
    out = []
    for m in req.messages:
        if m["role"] == "user":
            blocks = m["content"] if isinstance(m["content"], list) else [{"type": "text", "text": m["content"]}]
            out.append(" ".join(b.get("text", "") for b in blocks if b.get("type") == "text"))
    return out


def home(d: Daemon) -> dict:
    r = httpx.get(f"{d.url}/api/home", headers={"Authorization": f"Bearer {d.token}"}, timeout=10)
    r.raise_for_status()
    return r.json()


def ran_in_a_namespace(request: pytest.FixtureRequest) -> bool:
    """Run this test again inside a network namespace with only loopback, when the machine allows it; True when
    that run is done (and passed). Otherwise the test runs here, holding the shared fixed-port lock."""
    if os.environ.get(IN_NAMESPACE) == "1":
        return False
    if not _namespace_works():
        request.getfixturevalue("fixed_loopback_ports")  # shared loopback: one fixed-port test at a time
        return False
    test = f"{Path(__file__).resolve()}::{request.node.name}"
    run = subprocess.run(
        ["unshare", "-n", "sh", "-c", f'ip link set lo up && exec "{sys.executable}" -m pytest -q -n 0 -p no:cacheprovider "{test}"'],
        capture_output=True, text=True, env={**os.environ, IN_NAMESPACE: "1"}, timeout=240,
        cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    return True


def test_find_adopt_and_play_in_three_messages(request):
    if ran_in_a_namespace(request):
        return
    fake_llm = request.getfixturevalue("fake_llm")
    daemon_factory = request.getfixturevalue("daemon_factory")
    system = FakeSonosSystem([FakeSonos(KITCHEN, "Kitchen"), FakeSonos(LIVING, "Living Room")])
    system.start()
    try:
        kitchen, living = system[KITCHEN], system[LIVING]
        living.state.queue.clear()  # nothing to resume there
        fake_llm.responder = planner
        d = daemon_factory(anthropic_config(fake_llm, extra=CONFIG))

        before = home(d)["entities"]
        assert before and all(e["simulated"] for e in before)  # the demo house, and it says so
        music = next(t for t in fake_llm_tools(d, fake_llm) if t["name"] == "music")
        assert "Simulated" in music["description"]

        out = d.say("can you find my sonos?")
        assert "Shall I use them" in out["reply"]  # the model's words, then claw's own question for the yes
        assert out["reply"].endswith("Start using Sonos speaker Kitchen (127.0.0.2) and Sonos speaker Living Room "
                                     "(127.0.0.3)? Reply yes to confirm, or no to cancel (it expires in 10 min).")
        found = fake_llm.requests[-1].tool_results()[0].content
        assert "Kitchen at 127.0.0.2" in found and "Living Room at 127.0.0.3" in found

        calls = len(fake_llm.requests)
        out = d.say("yes")
        assert out["handled_by"] == "confirm" and len(fake_llm.requests) == calls  # the yes costs no model call
        assert "Now using" in out["reply"] and "Kitchen" in out["reply"] and "Living Room" in out["reply"]
        names = sorted(e["name"] for e in home(d)["entities"])
        assert names == ["Kitchen", "Living Room"]  # the simulated house has left

        out = d.say("play some jazz in the kitchen")
        assert kitchen.state.transport == "PLAYING" and "s8007" in kitchen.state.uri  # Jazz FM on the real speaker
        assert living.state.transport != "PLAYING"
        tools = {t["name"]: t for t in fake_llm_tools(d, fake_llm)}
        assert "Simulated" not in tools["music"]["description"]

        d.stop()
        d.start()
        assert sorted(e["name"] for e in home(d)["entities"]) == ["Kitchen", "Living Room"]
        assert not any(e["simulated"] for e in home(d)["entities"])
        out = d.say("play something in the living room")
        assert "Jazz FM" in out["reply"] and "Which one" in out["reply"]  # what can be played, not UPnP error 701
        assert living.state.transport != "PLAYING"
    finally:
        system.stop()


def fake_llm_tools(d: Daemon, fake_llm) -> list[dict]:
    """The tools claw offered in its latest model call (asking once if it made none yet)."""
    if not fake_llm.requests:
        d.say("play nothing yet")  # any message the fast path leaves to the model
    return fake_llm.requests[-1].body["tools"]


def test_claw_discover_adopts_lists_and_forgets_through_the_daemon(request):
    if ran_in_a_namespace(request):
        return
    daemon_factory = request.getfixturevalue("daemon_factory")
    system = FakeSonosSystem([FakeSonos(KITCHEN, "Kitchen"), FakeSonos(LIVING, "Living Room")])
    system.start()
    try:
        d = daemon_factory(CONFIG)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_", "CLAW_"))}
        env["CLAW_HOME"] = str(d.home)

        def claw(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "claw", *args], env=env, capture_output=True, text=True,
                                  timeout=90)

        found = claw("discover")  # the config's subnets apply to the command too, multicast off
        assert found.returncode == 0, found.stderr
        assert "Kitchen at 127.0.0.2:1400 (via tcp" in found.stdout and "claw discover --adopt" in found.stdout
        assert all(e["simulated"] for e in home(d)["entities"])

        adopted = claw("discover", "--adopt")
        assert adopted.returncode == 0, adopted.stderr
        assert "Now using" in adopted.stdout
        assert sorted(e["name"] for e in home(d)["entities"]) == ["Kitchen", "Living Room"]  # no restart needed
        listed = claw("discover", "--list")
        assert "Sonos speaker Kitchen (127.0.0.2)" in listed.stdout and "Living Room (127.0.0.3)" in listed.stdout

        again = claw("discover", "--adopt")
        assert "Nothing new adopted" in again.stdout and "127.0.0.2: already in use" in again.stdout

        gone = claw("discover", "--forget", KITCHEN, "--forget", LIVING)
        assert gone.returncode == 0, gone.stderr
        assert "Stopped using" in gone.stdout
        back = home(d)["entities"]
        assert back and all(e["simulated"] for e in back)  # nothing real left: the demo house returns
        unknown = claw("discover", "--forget", "127.0.0.9")
        assert unknown.returncode != 0 and "none of those is adopted" in unknown.stderr
        auth = {"Authorization": f"Bearer {d.token}"}
        for tool in ("remember", "home_control", "nope"):  # only tools marked for the command line
            r = httpx.post(f"{d.url}/api/tools/{tool}", json={"arguments": {}}, headers=auth, timeout=10)
            assert r.status_code == 404, (tool, r.text)
        r = httpx.post(f"{d.url}/api/tools/home_devices", json={"arguments": {"action": "adopt",
                       "addresses": ["8.8.8.8", "nas.example.com"]}}, headers=auth, timeout=30)
        assert r.status_code == 200 and r.json()["content"].count("not an address on a home network") == 2

        d.stop()
        nodaemon = claw("discover", "--list")
        assert nodaemon.returncode != 0 and "claw serve" in nodaemon.stderr
    finally:
        system.stop()
