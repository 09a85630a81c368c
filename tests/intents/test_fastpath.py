"""The fast path in process: follow-ups, a German home, Home Assistant as the backend, the skill's decisions."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import structlog

from claw.config import AgentSection
from claw.skill import IncomingMessage, Shared, SkillContext
from skills.home.homeassistant import HomeAssistantProvider
from skills.home.registry import HomeRegistry
from skills.intents import LocalIntents
from skills.intents.skill import IntentsConfig
from tests.fakes.homeassistant import FakeHomeAssistant
from tests.home.support import noop
from tests.intents.homes import GERMAN_HOME, write_home
from tests.intents.sentence_set import new_path, start_home


def message(text: str, llm: bool, conversation: str = "c1", sender: str = "owner") -> IncomingMessage:
    return IncomingMessage(text, conversation, sender, "web", True, llm)


async def skill_for(registry, tmp_path: Path, agent: AgentSection | None = None, **config) -> LocalIntents:
    agent = agent or AgentSection()
    ctx = SkillContext("intents", ZoneInfo("UTC"), tmp_path, structlog.get_logger(), noop, Shared(home=registry),
                       language=agent.language, local_intents=agent.local_intents)
    skill = LocalIntents(IntentsConfig(**config), ctx)
    await skill.setup()
    return skill


async def test_follow_up_it_means_the_last_device(tmp_path):
    registry, _ = await start_home("demo")
    skill = await skill_for(registry, tmp_path)
    first = await skill.intercept(message("turn on the kitchen light", llm=True))
    assert first.handled_by == "local"
    assert [s.as_dict() for s in first.services] == [
        {"service": "light.turn_on", "entity_ids": ["light.kitchen"], "data": {}, "ok": True}]
    assert first.actions[0]["tool"] == "home_control" and first.actions[0]["ok"] is True
    again = await skill.intercept(message("turn it off", llm=True))
    assert [(s.service, s.entity_ids) for s in again.services] == [("light.turn_off", ["light.kitchen"])]
    assert registry.get("light.kitchen").state == "off"
    # another conversation has no "it"
    assert await skill.intercept(message("turn it off", llm=True, conversation="other")) is None


async def test_refusals_go_to_the_planner_or_explain_without_llm(tmp_path):
    registry, _ = await start_home("demo")
    skill = await skill_for(registry, tmp_path)
    for text in ("turn on the lamp", "turn on the spaceship", "play jazz in the kitchen"):
        assert await skill.intercept(message(text, llm=True)) is None, text
    ambiguous = await skill.intercept(message("turn on the lamp", llm=False))
    assert ambiguous.text.startswith("I'm not sure which lamp") and "Floor Lamp" in ambiguous.text and not ambiguous.services
    unknown = await skill.intercept(message("turn on the spaceship", llm=False))
    assert "spaceship" in unknown.text and not unknown.services
    for llm in (True, False):  # unlocking is recognised and proposed for the owner's yes, with or without a model
        unlock = await skill.intercept(message("unlock the front door lock", llm=llm))
        assert unlock.confirm.tool == "home_control" and not unlock.services
        assert unlock.confirm.args == {"target": "lock.front_door", "action": "unlock"}
        assert unlock.confirm.summary == "Unlock the Front Door Lock"
    assert registry.get("lock.front_door").state == "locked"
    assert registry.get("light.floor_lamp").state == "on" and registry.get("light.office_lamp").state == "off"


async def test_state_questions_answer_without_calls(tmp_path):
    registry, _ = await start_home("demo")
    skill = await skill_for(registry, tmp_path)
    reply = await skill.intercept(message("is the garage door open?", llm=True))
    assert reply.text.startswith("No") and reply.services == []
    assert reply.actions[0]["tool"] == "home_status"
    reply = await skill.intercept(message("what is the temperature", llm=True))
    assert "19.5" in reply.text


async def test_sender_area_lets_a_command_omit_the_area(tmp_path):
    registry, _ = await start_home("demo")
    skill = await skill_for(registry, tmp_path, areas={"web:kitchen-tablet": "kitchen"})
    reply = await skill.intercept(message("turn off the lights", llm=True, sender="kitchen-tablet"))
    assert sorted(reply.services[0].entity_ids) == ["light.kitchen", "light.kitchen_counter"]
    assert await skill.intercept(message("turn off the lights", llm=True)) is None  # no area: ask the planner


async def test_local_intents_false_sends_everything_on(tmp_path):
    registry, _ = await start_home("demo")
    skill = await skill_for(registry, tmp_path, agent=AgentSection(local_intents=False))
    assert await skill.intercept(message("turn off the kitchen light", llm=False)) is None
    assert registry.get("light.kitchen").state == "on"


async def test_slot_lists_follow_renames(tmp_path):
    registry, provider = await start_home("demo")
    path = new_path(registry)
    assert path.analyse("turn on the reading light", "c").plan is None
    entity = registry.get("light.floor_lamp")
    from dataclasses import replace
    registry.upsert_entity(replace(entity, aliases=[*entity.aliases, "reading light"]))
    assert path.analyse("turn on the reading light", "c").plan.entity_ids == ["light.floor_lamp"]


async def test_a_german_home(tmp_path):
    file = write_home(tmp_path / "de.yaml", GERMAN_HOME)
    from skills.home.demo import DemoProvider

    registry = HomeRegistry(structlog.get_logger())
    provider = DemoProvider(file, tick_seconds=None)
    registry.add_provider(provider)
    await provider.start(registry)
    skill = await skill_for(registry, tmp_path, agent=AgentSection(language="de"))
    reply = await skill.intercept(message("Schalte das Küchenlicht ein", llm=True))
    assert [(s.service, s.entity_ids) for s in reply.services] == [("light.turn_on", ["light.kueche"])]
    assert "eingeschaltet" in reply.text
    reply = await skill.intercept(message("schalte es aus", llm=True))
    assert [(s.service, s.entity_ids) for s in reply.services] == [("light.turn_off", ["light.kueche"])]
    reply = await skill.intercept(message("Stelle die Heizung auf 21 Grad", llm=True))
    assert reply.services[0].data == {"temperature": 21.0}
    assert await skill.intercept(message("Schalte die Lampe an", llm=True)) is None  # three lights: ambiguous


async def test_calls_reach_home_assistant(tmp_path, fake_ha: FakeHomeAssistant):
    registry = HomeRegistry(structlog.get_logger())
    provider = HomeAssistantProvider(fake_ha.url, fake_ha.token, log=structlog.get_logger(), timeout=5)
    registry.add_provider(provider)
    await provider.start(registry)
    try:
        skill = await skill_for(registry, tmp_path)
        reply = await skill.intercept(message("set the kitchen light to 30%", llm=True))
        assert reply.services[0].ok
        call = fake_ha.calls[-1]
        assert (call.domain, call.service) == ("light", "turn_on")
        assert call.service_data == {"entity_id": ["light.kitchen"], "brightness_pct": 30}
        await skill.intercept(message("open the garage door", llm=True))
        assert (fake_ha.calls[-1].domain, fake_ha.calls[-1].service, fake_ha.calls[-1].entity_ids) == ("cover", "open_cover", ["cover.garage_door"])
    finally:
        await provider.stop()


async def test_no_model_never_denies_a_device_that_exists(tmp_path):
    """With no LLM, words that name a real device or area (or no device at all) never get "I don't know a device
    called ..."; the turn then says plainly that the model is needed. Only a name with no known word is denied."""
    registry, _ = await start_home("demo")
    skill = await skill_for(registry, tmp_path)
    handled = ["kitchen speaker to 40%", "dim the kitchen to 30%", "what's the temperature in the house?",
               "turn on all the lights in the house"]
    for text in handled:
        reply = await skill.intercept(message(text, llm=False))
        assert reply is not None and "don't know a device" not in reply.text, (text, reply)
    unlock = await skill.intercept(message("unlock the front door", llm=False))
    assert unlock.confirm is not None and unlock.confirm.args["action"] == "unlock"
    for text in ("turn on the kitchen light strip please", "switch on the front door lock thing", "turn on all the the"):
        reply = await skill.intercept(message(text, llm=False))
        assert reply is None or "don't know a device" not in reply.text, (text, reply.text)
    denied = await skill.intercept(message("turn on the spaceship", llm=False))
    assert denied.text == "I don't know a device called 'spaceship'."
    for question in ("what is the meaning of life", "what's the capital of France?"):  # for the model, not a device
        assert await skill.intercept(message(question, llm=False)) is None, question


async def test_unlocking_several_doors_at_once_is_refused_not_crashed(tmp_path):
    registry, _ = await start_home("family")
    skill = await skill_for(registry, tmp_path)
    reply = await skill.intercept(message("unlock the house", llm=False))
    assert reply is not None and reply.confirm is None and not reply.services
    assert "one door at a time" in reply.text
    assert registry.get("lock.front_door").state == "locked" and registry.get("lock.back_door").state == "locked"


async def test_a_reply_counts_what_many_devices_did(tmp_path):
    """A template written for one device ("Turned off the light") must not hide that nine went off."""
    registry, _ = await start_home("family")
    skill = await skill_for(registry, tmp_path)
    lights = len(registry.entities("light"))
    assert lights > 4
    everything = await skill.intercept(message("turn off all the lights", llm=False))
    assert everything.text.startswith(f"Turned off {lights} lights.\n"), everything.text  # then: simulated
    again = await skill.intercept(message("turn them on", llm=False))
    assert again.text.startswith(f"Turned on {lights} lights."), again.text
    few = await skill.intercept(message("turn off the kitchen lights", llm=False))
    kitchen = [e.name for e in registry.entities("light", area="kitchen")]
    assert 1 < len(kitchen) <= 4 and all(name in few.text for name in kitchen), few.text
