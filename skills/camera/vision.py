"""Asking the vision model a yes/no question about one snapshot, with a structured answer.

The provider comes from ``[vision]`` (or the chat ``[llm]``). With
``allow_cloud_vision = false`` only a provider whose ``base_url`` points at
this machine or the local network is used, so pictures never leave the house;
anything else is refused with a message that says how to fix it.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import structlog
from PIL import Image

from claw.config import ProviderSettings, resolve_provider
from claw.providers.llm import build_provider
from claw.providers.base import ImagePart, LLMError, LLMProvider, LLMResponse, Message, Prompt

log = structlog.get_logger("skills.camera.vision")

MAX_SIDE = 1024  # larger frames are shrunk before sending: fewer image tokens, same answer

SYSTEM = (
    "You look at one still image from a home security camera and answer the owner's question about it. "
    "Reply with one JSON object and nothing else: "
    '{"match": true or false, "confidence": a number from 0 to 1, "description": "..."}. '
    '"match" is whether the answer to the question is yes (for an open question: whether there is anything '
    'notable to report). "description" is one or two short sentences answering the question from what is '
    'visible, e.g. "A FedEx delivery truck is parked in the driveway." Do not guess beyond the image.'
)


class VisionError(Exception):
    """The vision check could not be made; the message is safe to show the owner."""


@dataclass
class Verdict:
    match: bool
    confidence: float
    description: str


def is_local_url(url: str | None) -> bool:
    """True for loopback, private and link-local addresses, single-label names and .local/.lan/.home.arpa hosts."""
    if not url:
        return False
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        return False
    if host == "localhost" or "." not in host or host.endswith((".local", ".lan", ".home.arpa", ".internal")):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local


def cloud_refusal(settings: ProviderSettings, allow_cloud: bool) -> str | None:
    """Why this provider may not see camera images, or None when it may."""
    if allow_cloud:
        return None
    s = resolve_provider(settings)
    if s.provider == "none":
        return None
    if is_local_url(s.base_url):
        return None
    where = s.base_url or ("api.anthropic.com" if s.provider == "anthropic" else "api.openai.com")
    return (f"camera images are not sent to {s.provider} at {where}: [vision] allow_cloud_vision = false. "
            "Set [vision] provider = \"openai\" with base_url pointing at a local server "
            "(e.g. Ollama: \"http://127.0.0.1:11434/v1\") and a vision model such as \"llava\", "
            "or set allow_cloud_vision = true")


def shrink(jpeg: bytes, max_side: int = MAX_SIDE) -> bytes:
    img: Image.Image = Image.open(io.BytesIO(jpeg))
    if max(img.size) <= max_side:
        return jpeg
    img.draft("RGB", (max_side, max_side))
    img = img.convert("RGB")
    img.thumbnail((max_side, max_side))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def parse_verdict(text: str) -> Verdict:
    """Read the model's JSON answer, tolerating code fences and prose around it."""
    m = re.search(r"\{.*\}", text, re.DOTALL)
    data: Any = None
    if m:
        try:
            data = json.loads(m.group(0))
        except json.JSONDecodeError:
            data = None
    if not isinstance(data, dict) or "match" not in data:
        raise VisionError(f"the vision model did not answer in the expected form: {text[:200]!r}")
    match = data["match"]
    if isinstance(match, str):
        match = match.strip().lower() in ("true", "yes", "1")
    try:
        confidence = min(1.0, max(0.0, float(data.get("confidence", 1.0 if match else 0.0))))
    except (TypeError, ValueError):
        confidence = 0.5
    return Verdict(bool(match), confidence, str(data.get("description") or "").strip())


class VisionChecker:
    """Builds the vision provider on first use and records every request's tokens as purpose "vision"
    (with the camera task's id for a watcher check)."""

    def __init__(self, settings: ProviderSettings | None, allow_cloud: bool, db: Any = None):
        self.settings = settings
        self.db = db
        self.refusal = cloud_refusal(settings, allow_cloud) if settings is not None else None
        self._provider: LLMProvider | None = None
        self.requests = 0

    @property
    def label(self) -> str:
        if self.settings is None:
            return "no vision model"
        s = resolve_provider(self.settings)
        return f"{s.provider}:{s.model}" + (f" at {s.base_url}" if s.base_url else "")

    def provider(self) -> LLMProvider:
        if self.refusal:
            raise VisionError(self.refusal)
        if self._provider is None:
            built = build_provider(self.settings) if self.settings is not None else None
            if built is None:
                raise VisionError("no vision model is configured: set [vision] (or [llm]) with a provider and key")
            self._provider = built
        return self._provider

    async def ask(self, jpeg: bytes, question: str, camera: str, task_id: int | None = None) -> Verdict:
        provider = self.provider()
        image = ImagePart("image/jpeg", base64.b64encode(shrink(jpeg)).decode("ascii"))
        prompt = Prompt(system=SYSTEM, messages=[Message("user", text=f"Camera: {camera}\nQuestion: {question}",
                                                         images=[image])])
        self.requests += 1
        try:
            resp = await provider.complete(prompt)
        except LLMError as exc:
            raise VisionError(f"the vision model failed: {exc.reason}") from exc
        await self._record(resp, task_id)
        verdict = parse_verdict(resp.text)
        log.info("camera.vision", camera=camera, match=verdict.match, confidence=verdict.confidence,
                 model=resp.model, input_tokens=resp.usage.input_tokens)
        return verdict

    async def _record(self, resp: LLMResponse, task_id: int | None = None) -> None:
        if self.db is None:
            return
        from claw.providers import usage

        try:
            await self.db.tx(lambda c: usage.record(c, resp, conversation_id=None, inbox_id=None, purpose="vision",
                                                     task_id=task_id))
        except Exception as exc:  # noqa: BLE001 - accounting must not break an alert
            log.warning("camera.usage_failed", error=str(exc))

    async def close(self) -> None:
        if self._provider is not None:
            await self._provider.close()
