from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

import pytest

from memory import MemoryStore
from memory.consolidate import consolidate, parse_decisions

T0 = datetime(2024, 5, 1, 9)


class FakeLLM:
    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return self.answers.pop(0)


def test_extracts_supersedes_and_skips_when_nothing_new(store: MemoryStore) -> None:
    e1 = store.add_episode("My partner is called Sam", conversation="c", speaker="owner", at=T0)
    store.add_episode("Nice to meet Sam!", conversation="c", speaker="claw", at=T0)
    ask = FakeLLM(json.dumps({"decisions": [
        {"action": "add", "statement": "The owner's partner is Sam", "subject": "owner", "pinned": True, "source": [e1]},
        {"action": "ignore"}]}))
    r = consolidate(store, "c", ask)
    assert r.asked and len(r.added) == 1 and r.ignored == 1 and r.error is None
    fact = store.get_fact(r.added[0])
    assert fact is not None and fact.pinned and fact.source_episode_ids == [e1]

    again = consolidate(store, "c", ask)  # nothing new: no LLM call at all
    assert not again.asked and len(ask.prompts) == 1

    e3 = store.add_episode("We broke up, I'm with Alex now", conversation="c", speaker="owner",
                           at=T0 + timedelta(days=40))
    ask2 = FakeLLM("Sure! ```json\n" + json.dumps({"decisions": [
        {"action": "supersede", "id": fact.id, "statement": "The owner's partner is Alex", "source": [e3]}]}) + "\n```")
    r2 = consolidate(store, "c", ask2)
    assert "The owner's partner is Sam" in ask2.prompts[0]  # similar existing fact shown
    assert "We broke up" in ask2.prompts[0] and "Nice to meet" not in ask2.prompts[0]
    [(old, new)] = r2.superseded
    assert old == fact.id
    assert [f.statement for f in store.search_facts("partner")] == ["The owner's partner is Alex"]
    assert [f.statement for f in store.search_facts("partner", at=T0 + timedelta(days=1))] == ["The owner's partner is Sam"]
    assert store.get_mark("c") == e3


def test_malformed_answer_keeps_mark_and_logs(store: MemoryStore, caplog: pytest.LogCaptureFixture) -> None:
    store.add_episode("I like tea", conversation="c", at=T0)
    with caplog.at_level(logging.WARNING, logger="memory.consolidate"):
        r = consolidate(store, "c", FakeLLM("I think you should remember: {tea"))
    assert r.asked and r.error and store.get_mark("c") == 0 and not store.facts()
    assert "skipped" in caplog.text

    def boom(prompt: str) -> str:
        raise TimeoutError("LLM down")

    assert consolidate(store, "c", boom).error == "TimeoutError: LLM down"
    ok = consolidate(store, "c", FakeLLM('[{"action": "add", "statement": "Likes tea"}]'))
    assert ok.added and store.get_mark("c") > 0


def test_bad_decisions_are_ignored_not_fatal(store: MemoryStore) -> None:
    store.add_episode("hello", conversation="c", at=T0)
    r = consolidate(store, "c", FakeLLM(json.dumps({"decisions": [
        {"action": "supersede", "id": "nope", "statement": "x"}, {"action": "fly"}, {"action": "add"}]})))
    assert r.error is None and r.ignored == 3


def test_parse_decisions_variants() -> None:
    assert parse_decisions('{"decisions": []}') == []
    assert parse_decisions('prose [{"action": "ignore"}] more') == [{"action": "ignore"}]
    with pytest.raises(ValueError):
        parse_decisions('{"decisions": "all"}')


def test_a_forget_while_the_model_answers_discards_the_answer(store: MemoryStore) -> None:
    """The owner's forget wins over a consolidation already in flight: no fact from the forgotten text."""
    secret = store.add_episode("The safe code is 4711", conversation="c", speaker="owner", at=T0)
    store.add_episode("Got it.", conversation="c", speaker="claw", at=T0)
    answer = json.dumps({"decisions": [{"action": "add", "statement": "The safe code is 4711", "source": [secret]}]})

    def ask(prompt: str) -> str:
        store.forget_episodes_matching("safe code")  # `claw memory forget` lands mid-call
        return answer

    r = consolidate(store, "c", ask)
    assert r.asked and r.error and not r.added
    assert not store.facts() and store.get_mark("c") == 0
    again = consolidate(store, "c", FakeLLM(json.dumps({"decisions": [{"action": "ignore"}]})))
    assert again.asked and again.error is None and "4711" not in again.prompt  # what remains is read


def test_left_over_work_is_what_the_owner_said_after_the_mark(store: MemoryStore) -> None:
    """What a restarted daemon consolidates: notifications since the mark wait for the owner (no LLM call idle)."""
    said = store.add_episode("I like jazz", conversation="c", speaker="owner", at=T0)
    store.add_episode("Hi, it's the plumber", conversation="guest", speaker="+4915", at=T0)
    store.set_mark("c", said)
    store.add_episode("Reminder: bins out tonight", conversation="c", speaker="claw", at=T0)
    assert store.unconsolidated(("owner", "task")) == []
    store.add_episode("And I hate opera", conversation="c", speaker="owner", at=T0)
    store.add_episode("Ann's mail", conversation="ann", speaker="owner", at=T0)  # never consolidated
    assert store.unconsolidated(("owner", "task")) == ["ann", "c"]
