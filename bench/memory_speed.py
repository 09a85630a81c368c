"""Speed of the memory store: bulk insert, database size, search latency up to a million episodes.

Two corpora. Synthetic: chat turns (the recall bench's templates plus Zipf-distributed filler
vocabulary, so the index has a realistic long tail), many conversations, searched across all.
Household: what years of claw in one home look like, 90% of turns in the owner's one thread
and most of those the same device commands and replies ("turn on the kitchen light" tens of
thousands of times), searched within that thread. Queries are the recall bench's questions
(and, for the household, "when did I last ..." about its commands). Prints a table with the
targets beside the figures.

    python bench/memory_speed.py [--sizes 10000,100000] [--household 100000,1000000] [--queries 200]
    python bench/memory_speed.py --vectors 384 --household ''   # with embeddings (bge-small's width)

With ``--vectors N`` every episode and question gets a pseudo-random N-dimensional vector, so the figures are
the store's cost of the embedding configuration (vector matrix, similarity, fusion) and the memory the
vectors hold; the model's own time to embed a question comes on top.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from memory_eval import generate  # noqa: E402

from memory import MemoryStore  # noqa: E402


def make_texts(n: int, seed: int = 3) -> list[tuple[str, str, str]]:
    """(conversation, speaker, text) triples: real-looking turns mixed with long-tail words."""
    rnd = random.Random(seed)
    base = [(e["conversation"], e["speaker"], e["text"]) for conv in generate(seed, 10) for e in conv[1]]
    syll = ["ka", "lo", "mi", "ra", "ten", "vo", "sh", "qu", "an", "el", "or", "ist", "ber", "zu", "ne"]
    vocab = ["".join(rnd.choice(syll) for _ in range(rnd.randint(2, 4))) for _ in range(30000)]
    cum = list(itertools.accumulate(1 / (i + 1) for i in range(len(vocab))))
    out = []
    for i in range(n):
        conv, spk, text = base[i % len(base)]
        extra = " ".join(rnd.choices(vocab, cum_weights=cum, k=rnd.randint(3, 14)))
        out.append((f"{conv}-{i // 6000}", spk, f"{text} {extra}" if rnd.random() < 0.7 else extra))
    return out


OWNER_THREAD = "whatsapp:+15550001111"
ROOMS = ["kitchen", "living room", "bedroom", "office", "garage", "porch", "hall", "bathroom", "garden", "kids room"]
#: (what the household says, what claw answers): the same few dozen commands, thousands of times each
COMMANDS = [
    ("turn on the {room} light", "Turned on the {Room} Light."),
    ("turn off the {room} light", "Turned off the {Room} Light."),
    ("dim the {room} lights to {pct}%", "Set the {Room} Lights to {pct}%."),
    ("set the heat to {temp}", "Set the Thermostat to {temp} °C."),
    ("play some jazz in the {room}", "Playing Jazz FM in the {Room}."),
    ("pause the music", "Paused the {Room} Speaker."),
    ("is the garage door closed?", "The Garage Door is closed."),
    ("lock the front door", "Locked the Front Door."),
    ("what's the temperature in the {room}?", "The {Room} is at {temp} °C."),
    ("turn everything off downstairs", "Turned off 9 devices downstairs."),
    ("good night", "Good night! Turned off the lights and locked the front door."),
    ("remind me to take the bins out", "Reminder set for 19:00: take the bins out."),
]


def household_texts(n: int, seed: int = 5) -> list[tuple[str, str, str]]:
    """A household's years with claw: 90% of turns in the owner's one thread, most of them the same device
    commands and replies again and again; the rest real-looking chat turns (the recall bench's chats)."""
    rnd = random.Random(seed)
    base = [(e["conversation"], e["speaker"], e["text"]) for conv in generate(seed, 10) for e in conv[1]]
    others = [f"whatsapp:+1555000{i:04d}" for i in range(2, 22)] + ["web:owner"]
    out: list[tuple[str, str, str]] = []
    while len(out) < n:
        if rnd.random() < 0.1:
            _, spk, text = rnd.choice(base)
            out.append((rnd.choice(others), spk, text))
        elif rnd.random() < 0.6:
            said, answer = rnd.choice(COMMANDS)
            room = rnd.choice(ROOMS)
            fill = {"room": room, "Room": room.title(), "pct": rnd.choice([20, 30, 40, 50, 80]),
                    "temp": rnd.choice([18, 19, 20, 21, 22])}
            out.append((OWNER_THREAD, rnd.choice(["Dana", "Sam", "Alex"]), said.format(**fill)))
            out.append((OWNER_THREAD, "claw", answer.format(**fill)))
        else:
            _, spk, text = base[len(out) % len(base)]
            out.append((OWNER_THREAD, spk, text))
    return out[:n]


def measure(store: MemoryStore, questions: list[str], now: datetime, conversation: str | None) -> tuple[float, ...]:
    """(p50, p99) wall and (p50, p99) CPU of searching each question, in ms, after warming the caches."""
    for q in questions[:20]:  # warm caches (stems, statistics)
        store.search(q, k=10, now=now, conversation=conversation)
    lat, cpu = [], []
    for q in questions:
        s, c = time.perf_counter(), time.thread_time()
        store.search(q, k=10, now=now, conversation=conversation)
        lat.append((time.perf_counter() - s) * 1000)
        cpu.append((time.thread_time() - c) * 1000)
    lat.sort()
    cpu.sort()
    at99 = min(len(lat) - 1, int(len(lat) * 0.99))
    return statistics.median(lat), lat[at99], statistics.median(cpu), cpu[at99]


def random_vectors(dim: int):  # type: ignore[no-untyped-def]
    """An embedder giving each text its own fixed pseudo-random unit vector."""
    import zlib

    import numpy as np

    def embed(texts: list[str]) -> list[list[float]]:
        out = np.stack([np.random.default_rng(zlib.crc32(t.encode())).standard_normal(dim, dtype=np.float32)
                        for t in texts])
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).tolist()
    return embed


def rss_mb() -> float:
    """Resident memory now (Linux; NaN elsewhere)."""
    try:
        return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024
    except (OSError, IndexError):
        return float("nan")


def run(texts: list[tuple[str, str, str]], sizes: list[int], questions: list[str],
        conversation: str | None, vectors: int = 0) -> list[tuple[float, ...]]:
    """Fill one store up to each size in turn and time the questions there."""
    rows = []
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "speed.db")
        store = MemoryStore(f"sqlite:///{path}", embeddings=random_vectors(vectors) if vectors else "none")
        t0 = datetime(2023, 1, 1)
        have = 0
        insert_s = 0.0
        for size in sizes:
            batch = [{"text": t, "conversation": c, "speaker": s, "at": t0 + timedelta(minutes=3 * i),
                      "meta": {"i": i}} for i, (c, s, t) in enumerate(texts[have:size], start=have)]
            start = time.perf_counter()
            for j in range(0, len(batch), 1000):
                store.add_episodes(batch[j:j + 1000])
            insert_s += time.perf_counter() - start
            have = size
            while store.embed_pending(10_000):
                pass
            with store.engine.begin() as c:
                c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db_bytes = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
            before = rss_mb()
            figures = measure(store, questions, t0 + timedelta(minutes=3 * size), conversation)
            grown = rss_mb() - before
            if vectors:  # the daemon: each turn's episodes are embedded before the next turn's search
                after = []
                for q in questions[:20]:
                    store.add_episode(f"{q} (asked again)", conversation=conversation or "bench")
                    store.embed_pending()
                    s = time.perf_counter()
                    store.search(q, k=10, conversation=conversation)
                    after.append((time.perf_counter() - s) * 1000)
                print(f"{size} episodes: a search after a new vector, p50 {statistics.median(after):.1f} ms, "
                      f"max {max(after):.1f} ms")
            rows.append((size, *figures, have / insert_s, db_bytes / size * 100_000 / 1e6, grown))
        store.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000", help="synthetic corpus (long-tail words, many chats)")
    ap.add_argument("--household", default="100000,1000000",
                    help="household corpus (90%% in one thread, repetitive), searched within that thread; '' skips")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--vectors", type=int, default=0, help="embeddings of this width (pseudo-random); 0: none")
    a = ap.parse_args()
    questions = [q for conv in generate(3, 10) for q, _, _ in conv[2]]  # same chats as the texts
    random.Random(1).shuffle(questions)
    questions = questions[: a.queries]
    runs = []
    if a.sizes:
        sizes = [int(x) for x in a.sizes.split(",")]
        runs.append(("synthetic", run(make_texts(max(sizes)), sizes, questions, None, a.vectors)))
    if a.household:
        sizes = [int(x) for x in a.household.split(",")]
        asked = questions[: a.queries // 2] + [f"when did I last {c[0].format(room=r, pct=50, temp=21)}"
                                               for c, r in zip(COMMANDS * 20, ROOMS * 30, strict=False)][: a.queries // 2]
        runs.append(("household", run(household_texts(max(sizes)), sizes, asked, OWNER_THREAD, a.vectors)))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    config = f"embeddings of {a.vectors} dimensions" if a.vectors else "default configuration"
    print(f"memory speed: {a.queries} queries, k=10, {config}; "
          f"load average {load:.1f} on {os.cpu_count()} CPUs (wall times suffer from other load, CPU times less)")
    print(f"{'corpus':>9} {'episodes':>9} {'p50 wall':>9} {'p99 wall':>9} {'p50 cpu':>8} {'p99 cpu':>8} "
          f"{'targets':>18} {'insert/s':>9} {'MB/100k':>8} {'search RSS':>10}")
    for corpus, rows in runs:
        for size, p50, p99, c50, c99, rate, mb, grown in rows:
            t = "p50<=10 p99<=30ms" if size >= 100_000 else ""
            print(f"{corpus:>9} {size:>9} {p50:>6.1f} ms {p99:>6.1f} ms {c50:>5.1f} ms {c99:>5.1f} ms {t:>18} "
                  f"{rate:>9.0f} {mb:>8.1f} {grown:>+7.1f} MB")


if __name__ == "__main__":
    main()
