"""One line of ``claw doctor`` or ``claw security audit``: what was checked, whether it is fine, what to do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Check:
    """``ok`` None: worth knowing, not a fault. ``detail``: the state, or for a problem how to fix it."""

    ok: bool | None
    what: str
    detail: str = ""
