"""Speed of the memory store: bulk insert, database size, search latency at 10k / 100k episodes.

Episodes are synthetic chat turns (the recall bench's templates plus Zipf-distributed
filler vocabulary, so the index has a realistic long tail); queries are the recall
bench's questions. Prints a table with the targets beside the figures.

    python bench/memory_speed.py [--sizes 10000,100000] [--queries 300]
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=200)
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    questions = [q for conv in generate(3, 10) for q, _, _ in conv[2]]  # same chats as the texts
    random.Random(1).shuffle(questions)
    questions = questions[: a.queries]
    texts = make_texts(max(sizes))
    rows = []
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "speed.db")
        store = MemoryStore(f"sqlite:///{path}")
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
            with store.engine.begin() as c:
                c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db_bytes = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
            now = t0 + timedelta(minutes=3 * size)
            for q in questions[:20]:  # warm caches (stems, statistics)
                store.search(q, k=10, now=now)
            lat, cpu = [], []
            for q in questions:
                s, c = time.perf_counter(), time.thread_time()
                store.search(q, k=10, now=now)
                lat.append((time.perf_counter() - s) * 1000)
                cpu.append((time.thread_time() - c) * 1000)
            lat.sort()
            cpu.sort()
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            cpu99 = cpu[min(len(cpu) - 1, int(len(cpu) * 0.99))]
            rows.append((size, statistics.median(lat), p99, statistics.median(cpu), cpu99,
                         have / insert_s, db_bytes / size * 100_000 / 1e6))
        store.close()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"memory speed: {a.queries} queries, k=10, default configuration; "
          f"load average {load:.1f} on {os.cpu_count()} CPUs (wall times suffer from other load, CPU times less)")
    print(f"{'episodes':>9} {'p50 wall':>9} {'p99 wall':>9} {'p50 cpu':>8} {'p99 cpu':>8} {'targets':>18} "
          f"{'insert/s':>9} {'MB/100k':>8}")
    for size, p50, p99, c50, c99, rate, mb in rows:
        t = "p50<=10 p99<=30ms" if size >= 100_000 else ""
        print(f"{size:>9} {p50:>6.1f} ms {p99:>6.1f} ms {c50:>5.1f} ms {c99:>5.1f} ms {t:>18} {rate:>9.0f} {mb:>8.1f}")


if __name__ == "__main__":
    main()
