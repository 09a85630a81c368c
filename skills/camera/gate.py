"""The change gate: decide locally whether a frame differs enough from the last one to show a model.

Why: a vision request costs money and sends the picture out of the house; a
quiet driveway should cost nothing. Frames are decoded at reduced size (JPEG
DCT scaling via ``draft``), greyed, blurred (sensor noise), normalised for
overall brightness (clouds, auto-exposure flicker), differenced against the
previous frame, masked to the zone, and thresholded twice: per pixel, then by
the share of pixels that changed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, UnidentifiedImageError

WIDTH = 160  # analysis width; enough for a car or a person at driveway distance


class FrameError(Exception):
    """The bytes looked like a JPEG but could not be decoded."""


@dataclass
class GateResult:
    changed: bool
    score: float  # share of (zone) pixels that changed, 0..1
    first: bool = False  # no earlier frame to compare with


def small_grey(jpeg: bytes, width: int = WIDTH) -> np.ndarray:
    """Decode to a blurred, brightness-normalised float array about ``width`` pixels wide."""
    try:
        img: Image.Image = Image.open(io.BytesIO(jpeg))
        img.draft("L", (width, max(1, width * img.height // max(1, img.width))))
        img = img.convert("L")
        height = max(1, round(img.height * width / img.width))
        img = img.resize((width, height), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(1.5))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise FrameError(f"the snapshot could not be decoded ({exc})") from None
    arr = np.asarray(img, dtype=np.float32)
    return arr - float(arr.mean()) + 128.0


def zone_mask(shape: tuple[int, int], zone: list[list[tuple[float, float]]]) -> np.ndarray | None:
    if not zone:
        return None
    h, w = shape
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    for poly in zone:
        draw.polygon([(x * (w - 1), y * (h - 1)) for x, y in poly], fill=255)
    return np.asarray(mask) > 0


class ChangeGate:
    """Keeps the previous frame of one camera and says whether the next one changed."""

    def __init__(self, pixel_threshold: int = 25, min_changed: float = 0.01,
                 zone: list[list[tuple[float, float]]] | None = None):
        self.pixel_threshold = pixel_threshold
        self.min_changed = min_changed
        self.zone = zone or []
        self._last: np.ndarray | None = None
        self._mask: np.ndarray | None = None

    def reset(self) -> None:
        self._last = None

    def check(self, jpeg: bytes) -> GateResult:
        """Compare with the previous frame, then remember this one (so a parked truck stops counting)."""
        cur = small_grey(jpeg)
        last, self._last = self._last, cur
        if last is None or last.shape != cur.shape:
            self._mask = zone_mask(cur.shape, self.zone)
            return GateResult(changed=False, score=0.0, first=True)
        moved = np.abs(cur - last) > self.pixel_threshold
        if self._mask is not None:
            area = int(self._mask.sum()) or 1
            score = float(np.count_nonzero(moved & self._mask)) / area
        else:
            score = float(np.count_nonzero(moved)) / moved.size
        return GateResult(changed=score > self.min_changed, score=score)
