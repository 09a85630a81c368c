"""Snapshots on disk, and links to them that Twilio can fetch: ``/media/<id>?token=<signed, expiring>``.

Twilio needs a public URL to attach a picture to a WhatsApp message, but the
picture of someone's driveway must not be guessable or live forever. The id
is random; the token is an HMAC over the id and an expiry time, keyed by a
secret kept in ``$CLAW_HOME/media-key`` (0600). Snapshots older than
``keep_days`` are deleted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import time
from pathlib import Path

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

log = structlog.get_logger("skills.camera.media")

ID_RE = re.compile(r"^[a-z0-9_-]{1,40}-[0-9a-f]{32}$")


def load_key(home: Path) -> bytes:
    """The signing key, created on first use; never leaves CLAW_HOME."""
    path = home / "media-key"
    if path.exists():
        raw = path.read_text().strip()
        if raw:
            return bytes.fromhex(raw)
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex() + "\n")
    return key


def sign(key: bytes, media_id: str, expires: int) -> str:
    mac = hmac.new(key, f"{media_id}.{expires}".encode(), hashlib.sha256).digest()
    return f"{expires}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def verify(key: bytes, media_id: str, token: str, now: float | None = None) -> bool:
    expires_s, _, _ = token.partition(".")
    if not expires_s.isdigit():
        return False
    expected = sign(key, media_id, int(expires_s))
    if not hmac.compare_digest(expected.encode(), token.encode()):
        return False
    return int(expires_s) > (now if now is not None else time.time())


class MediaStore:
    """Saves JPEGs under the skill's data folder and serves them only with a valid token."""

    def __init__(self, folder: Path, key: bytes, ttl_seconds: float, keep_days: float):
        self.folder = folder
        self.key = key
        self.ttl = ttl_seconds
        self.keep_seconds = keep_days * 86400
        folder.mkdir(parents=True, exist_ok=True)

    def save(self, camera: str, jpeg: bytes) -> str:
        slug = re.sub(r"[^a-z0-9_-]", "-", camera.lower())[:40] or "camera"
        media_id = f"{slug}-{secrets.token_hex(16)}"
        tmp = self.folder / f".{media_id}.tmp"
        tmp.write_bytes(jpeg)
        tmp.replace(self.folder / f"{media_id}.jpg")
        return media_id

    def url(self, public_url: str, media_id: str) -> str:
        token = sign(self.key, media_id, int(time.time() + self.ttl))
        return f"{public_url.rstrip('/')}/media/{media_id}?token={token}"

    def path(self, media_id: str) -> Path | None:
        if not ID_RE.match(media_id):
            return None
        path = self.folder / f"{media_id}.jpg"
        return path if path.is_file() else None

    def prune(self, now: float | None = None) -> int:
        """Delete snapshots older than keep_days; returns how many."""
        cutoff = (now if now is not None else time.time()) - self.keep_seconds
        removed = 0
        for path in self.folder.glob("*.jpg"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        if removed:
            log.info("camera.snapshots_pruned", removed=removed)
        return removed

    def routes(self) -> list[BaseRoute]:
        async def serve(request: Request) -> Response:
            media_id = request.path_params["media_id"]
            token = request.query_params.get("token", "")
            if not ID_RE.match(media_id) or not verify(self.key, media_id, token):
                log.warning("camera.media_denied", media_id=media_id[:80])
                return Response("forbidden", status_code=403, media_type="text/plain")
            path = self.path(media_id)
            if path is None:
                return Response("gone", status_code=404, media_type="text/plain")
            return Response(path.read_bytes(), media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"})

        return [Route("/media/{media_id}", serve, methods=["GET"])]
