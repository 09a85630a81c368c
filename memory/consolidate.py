"""Turn new episodes into facts with any LLM: build the prompt, parse the answer, apply it.

LLM-agnostic on purpose: the daemon injects `ask(prompt) -> str` (its own provider call,
with usage accounting). Consolidation costs nothing when there is nothing new: the last
processed episode id is stored per conversation (`memory_marks`), and `ask` is not called
unless episodes after that mark exist. A malformed answer is logged and leaves the mark
where it was, so the same episodes are offered again next time.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .records import FactHit, Hit
from .store import MemoryStore

log = logging.getLogger(__name__)

PROMPT = """You maintain the long-term memory of a personal home assistant.
Read the new conversation turns and decide which durable facts about the owner, their
people, home, devices, preferences and plans are worth remembering. Ignore small talk,
one-off requests and anything already known.

Existing facts that may be related (id: statement):
{facts}

New turns (id | time | speaker: text):
{turns}

Answer with JSON only, no prose:
{{"decisions": [
  {{"action": "add", "statement": "<one self-contained fact>", "subject": "<who/what or null>", "pinned": false, "source": [<turn ids>]}},
  {{"action": "supersede", "id": <existing fact id>, "statement": "<the fact that is true now>", "source": [<turn ids>]}},
  {{"action": "ignore"}}
]}}
Use "supersede" when a new turn contradicts or updates an existing fact (the old one is kept
as history). Set "pinned": true only for core profile facts (names, family, home layout).
If nothing is worth keeping answer {{"decisions": []}}."""


@dataclass
class ConsolidationResult:
    """What one consolidation pass did; `asked` is False when nothing was new."""

    conversation: str
    asked: bool = False
    added: list[int] = field(default_factory=list)
    superseded: list[tuple[int, int]] = field(default_factory=list)  # (old id, new id)
    ignored: int = 0
    error: str | None = None
    mark: int = 0
    prompt: str = ""


def build_prompt(episodes: list[Hit], similar: list[FactHit]) -> str:
    facts = "\n".join(f"{f.id}: {f.statement}" for f in similar) or "(none)"
    turns = "\n".join(
        f"{e.id} | {e.at:%Y-%m-%d %H:%M} | {e.speaker or '?'}: {' '.join(e.text.split())[:1000]}"
        for e in episodes)
    return PROMPT.format(facts=facts, turns=turns)


def parse_decisions(answer: str) -> list[dict[str, Any]]:
    """Decisions from a model answer; tolerates code fences and prose around the JSON.

    Raises ValueError when no usable JSON is found.
    """
    text = answer.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fence:
        text = fence.group(1).strip()
    data: Any = None
    # Try the outermost JSON value first: whichever bracket opens earliest.
    spans = [(text.find(o), text.rfind(c)) for o, c in (("{", "}"), ("[", "]"))]
    for i, j in sorted(spans):
        if i != -1 and j > i:
            try:
                data = json.loads(text[i:j + 1])
                break
            except ValueError:
                continue
    if isinstance(data, dict):
        data = data.get("decisions")
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise ValueError(f"no JSON list of decisions in model answer: {answer[:200]!r}")
    return data


def _similar_facts(store: MemoryStore, episodes: list[Hit], limit: int) -> list[FactHit]:
    best: dict[int, FactHit] = {}
    for e in episodes:
        for f in store.search_facts(e.text, k=5):
            if f.id not in best or best[f.id].score < f.score:
                best[f.id] = f
    ranked = sorted(best.values(), key=lambda f: -f.score)[:limit]
    # Profile (pinned) facts are what updates most often contradict ("I'm with Alex now"
    # shares no word with "partner is Sam"), so they are always shown.
    for f in store.facts(pinned_only=True):
        if len(ranked) >= limit + 10:
            break
        if f.id not in best:
            ranked.append(f)
    return ranked


def _forgotten_meanwhile(store: MemoryStore, conversation: str, mark: int, shown: list[Hit]) -> bool:
    """Whether any episode shown to the model was deleted while it answered (the owner's forget wins)."""
    left = {e.id for e in store.episodes_since(mark, conversation=conversation, limit=len(shown))}
    return any(e.id not in left for e in shown)


def consolidate(store: MemoryStore, conversation: str, ask: Callable[[str], str], *,
                max_episodes: int = 200, max_facts: int = 30,
                include: Callable[[Hit], bool] | None = None) -> ConsolidationResult:
    """Extract facts from the episodes of `conversation` not yet consolidated.

    Calls `ask` at most once. On success the mark moves to the last episode shown; on
    any failure (ask raised, unparseable answer) it stays, and `result.error` says why.
    `include` picks the episodes that may become facts; the others are passed over.
    """
    res = ConsolidationResult(conversation, mark=store.get_mark(conversation))
    read = store.episodes_since(res.mark, conversation=conversation, limit=max_episodes)
    new = [e for e in read if include is None or include(e)]
    if not new:
        if read:  # nothing the caller lets become a fact: passed over for good
            res.mark = read[-1].id
            store.set_mark(conversation, res.mark)
        return res
    similar = _similar_facts(store, new, max_facts)
    res.prompt = build_prompt(new, similar)
    res.asked = True
    try:
        answer = ask(res.prompt)
        decisions = parse_decisions(answer)
    except Exception as e:  # the injected LLM call may fail in any way
        res.error = f"{type(e).__name__}: {e}"
        log.warning("memory consolidation of %s skipped, mark kept at %s: %s",
                    conversation, res.mark, res.error)
        return res
    if _forgotten_meanwhile(store, conversation, res.mark, read):
        res.error = "episodes were forgotten while the model read them; the next pass reads what remains"
        log.info("memory consolidation of %s discarded: %s", conversation, res.error)
        return res
    by_id = {e.id: e for e in new}
    for d in decisions:
        action = str(d.get("action", "")).lower()
        statement = str(d.get("statement") or "").strip()
        sources = [int(s) for s in d.get("source") or [] if str(s).isdigit() and int(s) in by_id]
        at = max((by_id[s].at for s in sources), default=new[-1].at)
        subject = d.get("subject") if isinstance(d.get("subject"), str) else None
        try:
            if action == "add" and statement:
                fid = store.remember(statement, subject=subject, source_episode_ids=sources,
                                     pinned=bool(d.get("pinned")), at=at)
                res.added.append(fid)
            elif action == "supersede" and statement:
                old = store.get_fact(int(d.get("id")))  # type: ignore[arg-type]
                if old is None or old.valid_to is not None:
                    log.info("consolidation: fact %s not current, adding instead", d.get("id"))
                    res.added.append(store.remember(statement, subject=subject, source_episode_ids=sources, at=at))
                else:
                    new_id = store.supersede(old.id, statement, subject=subject,
                                             source_episode_ids=sources, at=max(at, old.valid_from))
                    res.superseded.append((old.id, new_id))
            else:
                res.ignored += 1
        except (TypeError, ValueError) as e:
            log.warning("consolidation: bad decision %r: %s", d, e)
            res.ignored += 1
    res.mark = read[-1].id
    store.set_mark(conversation, res.mark)
    return res
