"""kill -9 while memory consolidation waits for the LLM, then a restart with no help from the test.

Consolidation runs once a conversation has been quiet for ``[memory] consolidate_after_minutes`` and asks
the model to turn the new episodes into facts. The daemon dies while the fake LLM holds that request
(answering nothing), with one more message arriving in the meantime. After the restart the consolidation
must run again by itself, once, over every episode, each shown once, and leave each fact once.

The fake model words the same fact differently every time it answers, so a second extraction over the
same episodes would leave a near-duplicate fact that the store's exact-text check cannot merge.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx

from tests.conftest import anthropic_config
from tests.fakes.llm import RecordedRequest, Reply
from tests.faults.conftest import assert_exactly_once, query, wait_until
from tests.harness import Daemon

CONVERSATION = "web:owner"
PARTNER = ["Owner's partner is Sam", "The owner's partner is called Sam", "Sam is the owner's partner"]
SISTER = ["Owner's sister Alice lives in Leeds", "Alice, the owner's sister, lives in Leeds",
          "The owner's sister Alice is in Leeds"]


def is_consolidation(req: RecordedRequest) -> bool:
    return "Answer with JSON only" in req.last_user_text() and "New turns" in req.last_user_text()


def turn_lines(prompt: str) -> list[tuple[int, str]]:
    """(episode id, "speaker: text") for each turn listed in a consolidation prompt."""
    return [(int(m[1]), m[2]) for m in re.finditer(r"^(\d+) \| [^|]+ \| (.*)$", prompt, re.MULTILINE)]


def memory_health(d: Daemon) -> dict[str, Any]:
    return httpx.get(f"{d.url}/healthz", headers=d.auth(), timeout=5).json()["components"]["memory"]


def test_kill_while_consolidation_waits_for_the_llm(fake_llm, daemon_factory):
    answers: list[str] = []  # consolidation prompts the fake actually answered (a held, abandoned one is not)

    def respond(req: RecordedRequest) -> Reply:
        text = req.last_user_text()
        if not is_consolidation(req):
            return Reply(text=f"Noted: {text}")
        n = len(answers)
        answers.append(text)
        ids = [i for i, _ in turn_lines(text)]
        decisions: list[dict[str, Any]] = []
        if "my partner is Sam" in text:
            decisions.append({"action": "add", "statement": PARTNER[min(n, 2)], "subject": "owner", "pinned": True,
                              "source": ids[:2]})
        if "Alice lives in Leeds" in text:
            decisions.append({"action": "add", "statement": SISTER[min(n, 2)], "subject": "Alice", "source": ids[2:]})
        return Reply(text=json.dumps({"decisions": decisions}))

    fake_llm.responder = respond
    d = daemon_factory(anthropic_config(fake_llm, extra="[memory]\nconsolidate_after_minutes = 0.02\n"))
    fake_llm.hold().set()  # the turn's request passes ...
    gate = fake_llm.hold()  # ... the consolidation that follows it is held
    assert d.say("my partner is Sam", id="m1")["reply"] == "Noted: my partner is Sam"
    assert fake_llm.wait_for_requests(2, timeout=30)
    held = fake_llm.requests[1]
    assert is_consolidation(held) and "my partner is Sam" in held.last_user_text()
    # the owner writes again while the consolidation is in flight (its request is not held)
    assert d.say("my sister Alice lives in Leeds", id="m2")["reply"] == "Noted: my sister Alice lives in Leeds"
    assert query(d, "select count(*) from memory_facts") == [(0,)]
    assert query(d, "select count(*) from memory_marks") == [(0,)]
    d.kill9()
    gate.set()  # the fake sees the daemon hung up and answers nothing
    assert answers == []

    before = len(fake_llm.requests)
    d.start()
    wait_until(lambda: memory_health(d)["facts_added"] >= 2, "consolidation after the restart", d)
    time.sleep(3)  # a few quiet periods (1.2 s each): room for a repeated consolidation to show up
    health = memory_health(d)
    assert health["llm_calls"] == 1 and health["facts_added"] == 2 and health["errors"] == 0, health
    assert health["pending"] == 0
    after = [r for r in fake_llm.requests[before:] if is_consolidation(r)]
    assert len(after) == 1 and len(answers) == 1

    # the one answered pass saw every episode of the conversation exactly once
    episodes = query(d, "select id, speaker, text from memory_episodes where conversation = ? order by id",
                     CONVERSATION)
    assert [text for _, _, text in episodes] == [
        "my partner is Sam", "Noted: my partner is Sam",
        "my sister Alice lives in Leeds", "Noted: my sister Alice lives in Leeds"]
    shown = turn_lines(answers[0])
    assert [i for i, _ in shown] == [i for i, _, _ in episodes]
    assert [line for _, line in shown] == [f"{speaker}: {text}" for _, speaker, text in episodes]
    assert query(d, "select episode_id from memory_marks where conversation = ?", CONVERSATION) == [(episodes[-1][0],)]

    # each fact once, from the one answered pass; nothing superseded, nothing near-duplicated
    facts = query(d, "select statement, pinned, valid_to_us from memory_facts order by id")
    assert facts == [(PARTNER[0], 1, None), (SISTER[0], 0, None)]
    purposes = dict(query(d, "select purpose, count(*) from usage group by purpose"))
    assert purposes == {"turn": 2, "consolidation": 1}  # the abandoned request cost nothing
    assert_exactly_once(d, 2)
    replies = query(d, "select json_extract(meta, '$.inbox_id'), count(*) from memory_episodes "
                       "where json_extract(meta, '$.role') = 'assistant' group by 1")
    assert sorted(replies) == [(i, 1) for (i,) in query(d, "select id from inbox order by id")]

    # the extracted profile fact reaches the next turn, once
    d.say("what do you know about me?", id="m3")
    [turn] = [r for r in fake_llm.requests if r.last_user_text() == "what do you know about me?"]
    system = turn.system_text()
    assert system.count(PARTNER[0]) == 1 and PARTNER[1] not in system
