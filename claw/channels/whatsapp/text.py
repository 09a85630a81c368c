"""Splitting long replies into WhatsApp-sized, numbered parts.

WhatsApp (through Twilio) refuses bodies over 1,600 characters. Parts are cut
at paragraph breaks, else line or sentence ends, else spaces, so each part
reads on its own; the split is deterministic, so a resend after a crash
produces the same parts and the ones already sent can be skipped.
"""

from __future__ import annotations

import re

LIMIT = 1600
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def split_message(text: str, limit: int = LIMIT) -> list[str]:
    """The bodies to send, in order: the text itself when it fits, else parts prefixed ``(i/n)``."""
    text = text.strip() or "…"
    if len(text) <= limit:
        return [text]
    budget = limit - len("(99/99) ")
    while True:
        chunks = _chunks(text, budget)
        prefix_len = len(f"({len(chunks)}/{len(chunks)}) ")
        if all(len(c) + prefix_len <= limit for c in chunks):
            break
        budget -= 4  # only with hundreds of parts
    n = len(chunks)
    return [f"({i}/{n}) {chunk}" for i, chunk in enumerate(chunks, 1)]


def _chunks(text: str, budget: int) -> list[str]:
    chunks: list[str] = []
    rest = text
    while len(rest) > budget:
        cut = _cut_point(rest, budget)
        chunk = rest[:cut].rstrip()
        if chunk:
            chunks.append(chunk)
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def _cut_point(text: str, budget: int) -> int:
    window = text[: budget + 1]
    floor = budget // 3  # never cut so early that parts become tiny
    for sep in ("\n\n", "\n"):
        at = window.rfind(sep)
        if at >= floor:
            return at + len(sep)
    ends = [m.end() for m in _SENTENCE_END.finditer(window) if m.end() <= budget]
    if ends and ends[-1] >= floor:
        return ends[-1]
    at = window.rfind(" ")
    if at >= floor:
        return at + 1
    return budget
