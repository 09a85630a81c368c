"""A fake IP camera: an HTTP snapshot URL serving a scripted sequence of JPEGs, plus frame generators.

Each GET of ``/snapshot.jpg`` serves the next scripted item; the last one
repeats, as a real camera keeps showing the same scene. Items are JPEG bytes,
or ``NotJpeg()`` / ``Huge(n)`` / ``Status(code)`` for failure cases. Optional
HTTP basic or digest (RFC 7616, MD5, qop=auth) auth. Standard library only, like the other fakes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from tests.fakes.server import LoopbackServer

__all__ = ["FakeCamera", "Huge", "NotJpeg", "Status", "driveway", "noisy", "truck"]


def _jpeg(img: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _scene(size: tuple[int, int]) -> Image.Image:
    w, h = size
    img = Image.new("RGB", size, (110, 140, 90))  # lawn
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, w, int(h * 0.35)], fill=(150, 180, 220))  # sky
    d.polygon([(int(w * 0.35), h), (int(w * 0.65), h), (int(w * 0.55), int(h * 0.35)), (int(w * 0.45), int(h * 0.35))],
              fill=(120, 120, 120))  # driveway
    d.rectangle([int(w * 0.05), int(h * 0.15), int(w * 0.3), int(h * 0.45)], fill=(170, 90, 70))  # house
    return img


def driveway(size: tuple[int, int] = (640, 360)) -> bytes:
    """An empty driveway."""
    return _jpeg(_scene(size))


def noisy(seed: int = 0, size: tuple[int, int] = (640, 360), sigma: float = 6.0, brightness: float = 8.0) -> bytes:
    """The empty driveway with sensor noise and a slight overall brightness flicker (should not pass the gate)."""
    arr = np.asarray(_scene(size), dtype=np.float32)
    rng = np.random.default_rng(seed)
    arr = arr + rng.normal(0, sigma, arr.shape) + brightness
    return _jpeg(Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)))


def truck(size: tuple[int, int] = (640, 360), color: tuple[int, int, int] = (90, 40, 140), dx: float = 0.0) -> bytes:
    """The driveway with a large truck-shaped object (box, cab, wheels), moved right by ``dx`` of the width."""
    img = _scene(size)
    w, h = size
    d = ImageDraw.Draw(img)
    d.rectangle([int(w * (0.3 + dx)), int(h * 0.4), int(w * (0.62 + dx)), int(h * 0.85)], fill=color)  # cargo box
    d.rectangle([int(w * (0.62 + dx)), int(h * 0.55), int(w * (0.75 + dx)), int(h * 0.85)], fill=(230, 230, 230))  # cab
    for cx in (0.36, 0.55, 0.7):
        x = int(w * (cx + dx))
        d.ellipse([x - 18, int(h * 0.82), x + 18, int(h * 0.95)], fill=(20, 20, 20))
    return _jpeg(img)


@dataclass(frozen=True)
class NotJpeg:
    body: bytes = b"<html><body>login required</body></html>"
    content_type: str = "text/html"


@dataclass(frozen=True)
class Huge:
    size: int = 20 * 1024 * 1024
    declare_length: bool = False  # False: chunked, so the client must cap while reading


@dataclass(frozen=True)
class Status:
    code: int = 500


Item = bytes | NotJpeg | Huge | Status


class FakeCamera(LoopbackServer):
    def __init__(self, username: str | None = None, password: str | None = None, path: str = "/snapshot.jpg",
                 auth: str = "basic"):
        self.username, self.password, self.path, self.auth = username, password, path, auth
        self.nonce = secrets.token_hex(16)
        self._lock = threading.Lock()
        self._script: deque[Item] = deque()
        self._current: Item = driveway()
        self.hits = 0
        super().__init__()

    def make_handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def url(self) -> str:
        return self.base_url + self.path

    def script(self, *items: Item) -> None:
        """Serve these next, one per request; the last keeps being served."""
        with self._lock:
            self._script.extend(items)

    def show(self, item: Item) -> None:
        """From now on serve this (drops anything scripted)."""
        with self._lock:
            self._script.clear()
            self._current = item

    def next_item(self) -> Item:
        with self._lock:
            self.hits += 1
            if self._script:
                self._current = self._script.popleft()
            return self._current

    def wait_hits(self, n: int, timeout: float = 15.0) -> bool:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.hits >= n:
                return True
            time.sleep(0.02)
        return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        fake: FakeCamera = self.server.fake  # type: ignore[attr-defined]
        if self.path.split("?")[0] != fake.path:
            return self._send(404, b"not found", "text/plain")
        if fake.username is not None and not self._authorized(fake):
            self.send_response(401)
            challenge = (f'Digest realm="camera", nonce="{fake.nonce}", qop="auth", algorithm=MD5'
                         if fake.auth == "digest" else 'Basic realm="camera"')
            self.send_header("WWW-Authenticate", challenge)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        item = fake.next_item()
        if isinstance(item, NotJpeg):
            return self._send(200, item.body, item.content_type)
        if isinstance(item, Status):
            return self._send(item.code, b"error", "text/plain")
        if isinstance(item, Huge):
            return self._huge(item)
        return self._send(200, item, "image/jpeg")

    def _authorized(self, fake: FakeCamera) -> bool:
        header = self.headers.get("Authorization", "")
        if fake.auth == "basic":
            return header == "Basic " + base64.b64encode(f"{fake.username}:{fake.password}".encode()).decode()
        if not header.startswith("Digest "):
            return False
        f = dict(re.findall(r'(\w+)="?([^",]*)"?', header[7:]))

        def md5(text: str) -> str:
            return hashlib.md5(text.encode()).hexdigest()

        ha1 = md5(f"{fake.username}:camera:{fake.password}")
        ha2 = md5(f"GET:{f.get('uri', '')}")
        expected = md5(f"{ha1}:{f.get('nonce')}:{f.get('nc')}:{f.get('cnonce')}:{f.get('qop')}:{ha2}")
        return f.get("username") == fake.username and f.get("nonce") == fake.nonce and f.get("response") == expected

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _huge(self, item: Huge) -> None:
        chunk = b"\xff\xd8\xff\xe0" + b"\0" * (256 * 1024 - 4)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        if item.declare_length:
            self.send_header("Content-Length", str(item.size))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        try:
            while sent < item.size:
                part = chunk[: item.size - sent]
                if item.declare_length:
                    self.wfile.write(part)
                else:
                    self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                sent += len(part)
            if not item.declare_length:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped reading at its cap, as it should
