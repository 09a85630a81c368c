"""``claw serve`` end to end: local commands with no API key, ambiguity to the fake LLM, local_intents = false."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import anthropic_config
from tests.fakes.llm import Reply
from tests.home.test_e2e_home import ThreadedHA

HA_TOKEN = "ha-intents-secret-token-5c2e"


@pytest.fixture
def ha() -> Iterator[ThreadedHA]:
    fake = ThreadedHA(HA_TOKEN)
    fake.start()
    yield fake
    fake.close()


def test_no_llm_local_commands_work_and_show_in_the_chat(daemon_factory):
    d = daemon_factory("")
    out = d.say("turn off the kitchen light")
    assert out["handled_by"] == "local"
    assert out["services"] == [{"service": "light.turn_off", "entity_ids": ["light.kitchen"], "data": {}, "ok": True}]
    assert out["actions"][0]["tool"] == "home_control" and out["actions"][0]["ok"] is True
    out = d.say("turn it on")
    assert out["handled_by"] == "local" and out["services"][0]["service"] == "light.turn_on"
    out = d.say("turn on the lamp")
    assert out["handled_by"] == "local" and out["services"] == []
    assert "not sure which lamp" in out["reply"]
    # the transcript (what the web chat shows) has the local replies
    texts = [m["text"] for m in d.messages()]
    assert "turn off the kitchen light" in texts and any("Kitchen Light" in t for t in texts)


def test_home_assistant_without_llm(daemon_factory, ha):
    d = daemon_factory(f'[home.homeassistant]\nurl = "{ha.ha.url}"\ntoken = "{HA_TOKEN}"\ntimeout = 3\n')
    out = d.say("set the kitchen light to 30%")
    assert out["handled_by"] == "local", out
    assert out["services"] == [{"service": "light.turn_on", "entity_ids": ["light.kitchen"], "data": {"brightness_pct": 30}, "ok": True}]
    call = ha.ha.calls[-1]
    assert (call.domain, call.service, call.service_data) == ("light", "turn_on", {"entity_id": ["light.kitchen"], "brightness_pct": 30})


def test_ambiguity_and_unknown_names_reach_the_llm(fake_llm, daemon_factory):
    d = daemon_factory(anthropic_config(fake_llm))
    out = d.say("turn off the porch light")
    assert out["handled_by"] == "local" and fake_llm.requests == []
    fake_llm.script(Reply(text="Which lamp: the Floor Lamp or the Desk Lamp?"), Reply(text="I don't see a spaceship."))
    out = d.say("turn on the lamp")
    assert out["handled_by"] == "llm" and out["services"] == []
    out = d.say("turn on the spaceship")
    assert out["handled_by"] == "llm"
    assert len(fake_llm.requests) == 2
    # the earlier local turn is in the model's window, so it knows what happened
    assert "turn off the porch light" in str(fake_llm.requests[0].messages)


def test_local_intents_false_sends_everything_to_the_llm(fake_llm, daemon_factory):
    d = daemon_factory(anthropic_config(fake_llm, extra="[agent]\nlocal_intents = false\n"))
    fake_llm.script(Reply(text="Done by the model."))
    out = d.say("turn off the kitchen light")
    assert out["handled_by"] == "llm" and len(fake_llm.requests) == 1


def test_cli_intents_test_says_exactly_what_the_daemon_answers(daemon_factory):
    """`claw intents test` prints the daemon's decision and reply as JSON on stdout (logs go to stderr) and acts on
    nothing; then the daemon, asked the same sentences on the same home, answers with the same words."""
    import json
    import os
    import subprocess
    import sys

    d = daemon_factory("", start=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_", "CLAW_"))}
    env["CLAW_HOME"] = str(d.home)
    sentences = ["turn off the kitchen light", "unlock the front door", "turn on the spaceship", "tell me a joke"]
    predicted = []
    for text in sentences:
        done = subprocess.run([sys.executable, "-m", "claw", "intents", "test", text], env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        predicted.append(json.loads(done.stdout))  # nothing but the JSON on stdout
    first = predicted[0]
    assert first["intent"] == "HassTurnOff" and first["entities"] == ["light.kitchen"]
    assert first["calls"] == [{"service": "light.turn_off", "entity_ids": ["light.kitchen"], "data": {}}]
    assert [p["decision"] for p in predicted] == ["local", "confirm", "local", "setup"]

    d.start()
    for text, guess in zip(sentences, predicted, strict=True):
        out = d.say(text)
        assert out["reply"] == guess["reply"], text
        assert out["handled_by"] == {"local": "local", "confirm": "confirm", "setup": "setup"}[guess["decision"]]
