"""A fake Frigate NVR HTTP API: ``/api/<camera>/latest.jpg``, ``/api/events``, ``/api/events/<id>/snapshot.jpg``.

Events are added by the test (``add_event``); every request is recorded so a
test can count snapshot fetches. Also builds the MQTT payloads Frigate
publishes on ``frigate/events`` and ``frigate/reviews``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.camera import driveway
from tests.fakes.server import LoopbackServer

__all__ = ["FakeFrigate", "event_message", "review_message"]


def event_message(event_id: str, camera: str, label: str = "car", kind: str = "new", score: float = 0.82) -> str:
    """A ``frigate/events`` payload as Frigate 0.13+ publishes it (trimmed to the fields that matter)."""
    after = {"id": event_id, "camera": camera, "label": label, "sub_label": None, "top_score": score, "score": score,
             "false_positive": False, "start_time": time.time(), "end_time": time.time() if kind == "end" else None,
             "has_snapshot": True, "has_clip": True, "current_zones": [], "entered_zones": []}
    return json.dumps({"type": kind, "before": dict(after, has_snapshot=kind != "new"), "after": after})


def review_message(review_id: str, camera: str, detections: list[str], objects: list[str], kind: str = "new") -> str:
    after = {"id": review_id, "camera": camera, "start_time": time.time(), "end_time": None, "severity": "alert",
             "data": {"detections": detections, "objects": objects, "zones": [], "audio": []}}
    return json.dumps({"type": kind, "before": after, "after": after})


class FakeFrigate(LoopbackServer):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latest: dict[str, bytes] = {}
        self.events: list[dict[str, Any]] = []
        self.snapshots: dict[str, bytes] = {}
        self.requests: list[str] = []
        super().__init__()

    def make_handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def url(self) -> str:
        return self.base_url

    def add_event(self, event_id: str, camera: str, label: str, snapshot: bytes, start: float | None = None) -> None:
        with self._lock:
            self.events.append({"id": event_id, "camera": camera, "label": label, "top_score": 0.8,
                                "start_time": start if start is not None else time.time(), "end_time": None,
                                "has_snapshot": True, "zones": [], "false_positive": False})
            self.snapshots[event_id] = snapshot

    def snapshot_fetches(self) -> list[str]:
        with self._lock:
            return [p for p in self.requests if p.endswith("snapshot.jpg")]


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        fake: FakeFrigate = self.server.fake  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        with fake._lock:
            fake.requests.append(parts.path)
        if m := re.fullmatch(r"/api/events/([^/]+)/snapshot\.jpg", parts.path):
            data = fake.snapshots.get(m.group(1))
            return self._send(200, data, "image/jpeg") if data else self._send(404, b'{"success": false}', "application/json")
        if parts.path == "/api/events":
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            cams = set(q["cameras"].split(",")) if q.get("cameras") else None
            labels = set(q["labels"].split(",")) if q.get("labels") else None
            after = float(q.get("after", 0))
            with fake._lock:
                found = [e for e in fake.events if (cams is None or e["camera"] in cams)
                         and (labels is None or e["label"] in labels) and e["start_time"] > after]
            found.sort(key=lambda e: e["start_time"], reverse=True)  # Frigate lists newest first
            return self._send(200, json.dumps(found[: int(q.get("limit", 100))]).encode(), "application/json")
        if m := re.fullmatch(r"/api/([^/]+)/latest\.jpg", parts.path):
            return self._send(200, fake.latest.get(m.group(1)) or driveway(), "image/jpeg")
        self._send(404, b"not found", "text/plain")

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
