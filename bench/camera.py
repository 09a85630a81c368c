"""Camera benchmark: change-gate throughput on one core, and vision requests for a static scene.

    python bench/camera.py [--seconds 5] [--hours 1]

1. Frames per second through the change gate for a 1080p JPEG, decode included
   (one thread, so one core): the gate must keep up with many cameras polled
   every few seconds on a small box.
2. Vision requests per hour for a static scene: a simulated hour of polls at
   2 s of an unchanging driveway with sensor noise and brightness flicker,
   through the real gate and watch loop with a counting vision model. Target 0.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PIL import Image, ImageDraw
from table import print_table  # noqa: E402

from skills.camera.config import CameraSource
from skills.camera.gate import ChangeGate
from skills.camera.vision import Verdict
from skills.camera.watch import Camera, WatchEngine, Watcher


def frame_1080p(seed: int, noise: float = 5.0, brightness: float = 0.0) -> bytes:
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (1920, 1080), (110, 140, 90))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, 1920, 380], fill=(150, 180, 220))
    d.polygon([(700, 1080), (1250, 1080), (1050, 380), (900, 380)], fill=(120, 120, 120))
    d.rectangle([100, 160, 600, 500], fill=(170, 90, 70))
    arr = np.asarray(img, dtype=np.float32) + rng.normal(0, noise, (1080, 1920, 3)) + brightness
    out = io.BytesIO()
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=85)
    return out.getvalue()


def gate_fps(seconds: float) -> tuple[float, float]:
    frames = [frame_1080p(i) for i in range(4)]
    gate = ChangeGate()
    gate.check(frames[0])
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        gate.check(frames[n % 4])
        n += 1
    elapsed = time.perf_counter() - start
    return n / elapsed, elapsed / n * 1000


class CountingVision:
    label = "counting"

    def __init__(self) -> None:
        self.requests = 0

    async def ask(self, jpeg: bytes, question: str, camera: str) -> Verdict:
        self.requests += 1
        return Verdict(False, 0.9, "nothing")


class Frames:
    name = "bench"

    def __init__(self, frames: list[bytes]):
        self.frames, self.i = frames, 0

    async def snapshot(self) -> bytes:
        self.i += 1
        return self.frames[self.i % len(self.frames)]

    async def close(self) -> None:
        return None


class NoDb:
    async def tx(self, fn: Any) -> None:
        return None


class NoAlerts:
    async def alert(self, *a: Any) -> None:
        raise AssertionError("a static scene must not alert")

    async def tell(self, text: str, **meta: Any) -> None:
        raise AssertionError(text)


async def static_requests(hours: float, interval: float) -> tuple[int, int]:
    """Run the real poll step over simulated time (no sleeping): polls of a static 720p scene."""
    frames = []
    for i in range(6):
        img = Image.open(io.BytesIO(frame_1080p(100 + i, noise=6, brightness=(-10, 0, 10)[i % 3]))).resize((1280, 720))
        out = io.BytesIO()
        img.save(out, "JPEG", quality=80)
        frames.append(out.getvalue())
    vision = CountingVision()
    cam = Camera("bench", CameraSource(url="http://bench/snap.jpg"), Frames(frames))
    engine = WatchEngine(NoDb(), {"bench": cam}, vision, NoAlerts(), frigate_polling=False)  # type: ignore[arg-type]
    w = Watcher(1, "bench", "Is a delivery truck in the driveway?", "poll", interval, [], 0.6, 600)
    gate = ChangeGate()
    polls = int(hours * 3600 / interval)
    for _ in range(polls):
        await engine.poll_once(w, cam, gate)
    return polls, vision.requests


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0, help="how long to run the gate throughput test")
    ap.add_argument("--hours", type=float, default=1.0, help="simulated hours of a static scene")
    ap.add_argument("--interval", type=float, default=2.0, help="poll interval of the simulated watcher")
    args = ap.parse_args()
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    fps, ms = gate_fps(args.seconds)
    polls, requests = asyncio.run(static_requests(args.hours, args.interval))
    per_hour = requests / args.hours
    rows = [
        ("change gate, 1080p JPEG incl. decode, 1 core", f"{fps:,.0f} frames/s ({ms:.1f} ms/frame)",
         ">= 10 frames/s", fps >= 10),
        (f"vision requests, static scene ({polls:,} polls at {args.interval:g} s)", f"{per_hour:g} / hour", "0",
         requests == 0),
    ]
    print_table(rows, "camera gate and watcher, in process")


if __name__ == "__main__":
    main()
