"""Where snapshots come from: an HTTP snapshot URL, Home Assistant, Frigate, or one RTSP frame via ffmpeg.

Every source returns JPEG bytes or raises ``SourceError`` with a sentence the
owner can act on. Responses are size-capped while streaming, so a camera that
sends a video stream or a 20 MB blob cannot fill memory.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from claw.skill import Shared
from skills.camera.config import CameraSource

JPEG_MAGIC = b"\xff\xd8\xff"


class SourceError(Exception):
    """The camera could not give a usable snapshot; the message names the camera and the reason."""


@dataclass
class FrigateEvent:
    id: str
    camera: str
    label: str
    score: float | None = None
    start: float = 0.0


class Source(Protocol):
    name: str

    async def snapshot(self) -> bytes: ...

    async def close(self) -> None: ...


def check_jpeg(name: str, data: bytes, content_type: str = "") -> bytes:
    if not data.startswith(JPEG_MAGIC):
        kind = content_type.split(";")[0].strip() or "something else"
        raise SourceError(f"camera {name!r} did not send a JPEG (got {kind}, {len(data)} bytes)")
    return data


async def fetch_capped(client: httpx.AsyncClient, name: str, url: str, max_bytes: int, **kw: Any) -> tuple[bytes, str]:
    """GET ``url``, refusing bodies over ``max_bytes`` whether or not Content-Length says so."""
    try:
        async with client.stream("GET", url, **kw) as resp:
            if resp.status_code in (401, 403):
                raise SourceError(f"camera {name!r} refused the credentials (HTTP {resp.status_code})")
            if resp.status_code != 200:
                raise SourceError(f"camera {name!r} answered HTTP {resp.status_code}")
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise SourceError(f"camera {name!r} sent {int(declared) / 1e6:.1f} MB, more than a snapshot "
                                  f"(limit {max_bytes / 1e6:.0f} MB, [camera] max_bytes)")
            body = bytearray()
            async for chunk in resp.aiter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise SourceError(f"camera {name!r} sent more than {max_bytes / 1e6:.0f} MB, "
                                      "more than a snapshot ([camera] max_bytes)")
            return bytes(body), resp.headers.get("content-type", "")
    except httpx.TimeoutException:
        raise SourceError(f"camera {name!r} did not answer in time") from None
    except httpx.HTTPError as exc:
        raise SourceError(f"camera {name!r} is unreachable ({type(exc).__name__})") from None


class HttpSource:
    """Most IP cameras: one URL that returns the current JPEG, behind basic or digest auth."""

    def __init__(self, name: str, cfg: CameraSource, max_bytes: int):
        self.name, self.cfg, self.max_bytes = name, cfg, max_bytes
        auth: httpx.Auth | None = None
        if cfg.username is not None:
            cls = httpx.DigestAuth if cfg.auth == "digest" else httpx.BasicAuth
            auth = cls(cfg.username, cfg.password or "")
        self.client = httpx.AsyncClient(auth=auth, timeout=cfg.timeout, follow_redirects=True)

    async def snapshot(self) -> bytes:
        data, ctype = await fetch_capped(self.client, self.name, str(self.cfg.url), self.max_bytes)
        return check_jpeg(self.name, data, ctype)

    async def close(self) -> None:
        await self.client.aclose()


class HomeAssistantSource:
    """A Home Assistant camera entity through ``/api/camera_proxy``, with the home provider's URL and token."""

    def __init__(self, name: str, cfg: CameraSource, max_bytes: int, shared: Shared):
        self.name, self.cfg, self.max_bytes, self.shared = name, cfg, max_bytes, shared
        self.client = httpx.AsyncClient(timeout=cfg.timeout)

    def _endpoint(self) -> tuple[str, str]:
        if self.cfg.url and self.cfg.token:
            return self.cfg.url.rstrip("/"), self.cfg.token
        home = self.shared.home
        providers = getattr(home, "providers", {}) if home is not None else {}
        ha = providers.get("homeassistant") if hasattr(providers, "get") else None
        url, token = getattr(ha, "url", None), getattr(ha, "token", None)
        if not url or not token:
            raise SourceError(f"camera {self.name!r} needs Home Assistant: configure [home.homeassistant] "
                              "or give url and token in its table")
        return str(self.cfg.url or url).rstrip("/"), str(self.cfg.token or token)

    async def snapshot(self) -> bytes:
        base, token = self._endpoint()
        url = f"{base}/api/camera_proxy/{quote(str(self.cfg.entity))}"
        data, ctype = await fetch_capped(self.client, self.name, url, self.max_bytes,
                                         headers={"Authorization": f"Bearer {token}"})
        return check_jpeg(self.name, data, ctype)

    async def close(self) -> None:
        await self.client.aclose()


class FrigateSource:
    """Frigate NVR's HTTP API: the latest frame, recent events, and an event's own snapshot."""

    def __init__(self, name: str, cfg: CameraSource, max_bytes: int):
        self.name, self.cfg, self.max_bytes = name, cfg, max_bytes
        self.base = str(cfg.url).rstrip("/")
        self.camera = cfg.frigate_camera or name
        auth = httpx.BasicAuth(cfg.username, cfg.password or "") if cfg.username else None
        self.client = httpx.AsyncClient(auth=auth, timeout=cfg.timeout)

    async def snapshot(self) -> bytes:
        url = f"{self.base}/api/{quote(self.camera)}/latest.jpg"
        data, ctype = await fetch_capped(self.client, self.name, url, self.max_bytes)
        return check_jpeg(self.name, data, ctype)

    async def event_snapshot(self, event_id: str) -> bytes:
        url = f"{self.base}/api/events/{quote(event_id)}/snapshot.jpg"
        data, ctype = await fetch_capped(self.client, self.name, url, self.max_bytes)
        return check_jpeg(self.name, data, ctype)

    async def events(self, after: float, labels: list[str] | None = None, limit: int = 20) -> list[FrigateEvent]:
        """Events on this camera that started after ``after`` (unix time), oldest first."""
        params: dict[str, Any] = {"cameras": self.camera, "after": after, "limit": limit}
        if labels:
            params["labels"] = ",".join(labels)
        try:
            resp = await self.client.get(f"{self.base}/api/events", params=params)
        except httpx.HTTPError as exc:
            raise SourceError(f"Frigate for camera {self.name!r} is unreachable ({type(exc).__name__})") from None
        if resp.status_code != 200:
            raise SourceError(f"Frigate for camera {self.name!r} answered HTTP {resp.status_code}")
        try:
            items = resp.json()
            found = [FrigateEvent(str(e["id"]), str(e["camera"]), str(e["label"]),
                                  e.get("top_score") or e.get("score"), float(e.get("start_time") or 0)) for e in items]
        except (ValueError, KeyError, TypeError, AttributeError):
            raise SourceError(f"Frigate for camera {self.name!r} sent events in an unexpected shape") from None
        return sorted(found, key=lambda e: e.start)

    async def close(self) -> None:
        await self.client.aclose()


class RtspSource:
    """One frame from an RTSP stream through ffmpeg, for cameras with no snapshot URL."""

    def __init__(self, name: str, cfg: CameraSource, max_bytes: int):
        self.name, self.cfg, self.max_bytes = name, cfg, max_bytes

    async def snapshot(self) -> bytes:
        ffmpeg = shutil.which("ffmpeg")
        if ffmpeg is None:
            raise SourceError(f"camera {self.name!r} is an RTSP stream and needs ffmpeg, which is not installed "
                              "(apt install ffmpeg), or use the camera's HTTP snapshot URL instead")
        proc = await asyncio.create_subprocess_exec(
            ffmpeg, "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", str(self.cfg.url),
            "-frames:v", "1", "-f", "image2", "-c:v", "mjpeg", "pipe:1",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.cfg.timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise SourceError(f"camera {self.name!r}: ffmpeg got no frame within {self.cfg.timeout:g} s") from None
        if proc.returncode != 0 or not out:
            why = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise SourceError(f"camera {self.name!r}: ffmpeg could not read the stream ({why[0][:200]})")
        if len(out) > self.max_bytes:
            raise SourceError(f"camera {self.name!r}: the frame is larger than {self.max_bytes / 1e6:.0f} MB")
        return check_jpeg(self.name, out)

    async def close(self) -> None:
        return None


def build_source(name: str, cfg: CameraSource, max_bytes: int, shared: Shared) -> Source:
    if cfg.type == "http":
        return HttpSource(name, cfg, max_bytes)
    if cfg.type == "homeassistant":
        return HomeAssistantSource(name, cfg, max_bytes, shared)
    if cfg.type == "frigate":
        return FrigateSource(name, cfg, max_bytes)
    return RtspSource(name, cfg, max_bytes)
