"""Asking the vision model a yes/no question about one snapshot, with a structured answer.

The model is the daemon's vision model (``ctx.models``: ``[vision]``, or the chat
``[llm]``), which refuses cloud providers under ``allow_cloud_vision = false``.
"""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass
from typing import Any

import structlog
from PIL import Image

from claw.skill import ImagePart, LLMError, Message, Models, Prompt

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
    """Asks the daemon's vision model; each request's tokens are recorded as purpose "vision"
    (against the camera task for a watcher check)."""

    def __init__(self, models: Models | None):
        self.models = models
        self.refusal = models.vision_refusal if models is not None else None
        self.requests = 0

    @property
    def label(self) -> str:
        return self.models.vision_label if self.models is not None else "no vision model"

    async def ask(self, jpeg: bytes, question: str, camera: str, task_id: int | None = None) -> Verdict:
        if self.models is None:
            raise VisionError("no vision model is configured: set [vision] (or [llm]) with a provider and key")
        if self.refusal:
            raise VisionError(self.refusal)
        image = ImagePart("image/jpeg", base64.b64encode(shrink(jpeg)).decode("ascii"))
        prompt = Prompt(system=SYSTEM, messages=[Message("user", text=f"Camera: {camera}\nQuestion: {question}",
                                                         images=[image])])
        self.requests += 1
        try:
            resp = await self.models.complete(prompt, vision=True, purpose="vision", task_id=task_id)
        except LLMError as exc:
            raise VisionError(f"the vision model failed: {exc.reason}") from exc
        verdict = parse_verdict(resp.text)
        log.info("camera.vision", camera=camera, match=verdict.match, confidence=verdict.confidence,
                 model=resp.model, input_tokens=resp.usage.input_tokens)
        return verdict
