"""Devices the owner adopted from discovery, kept in the skill's State (claw.db), not in config.toml.

A search offers what it found; the owner's "yes" (or ``claw discover --adopt``)
records each device here and the home skill starts its backend at once. Only
kinds claw has a backend for are adopted: Sonos speakers and Home Assistant;
anything else is better added to Home Assistant, which claw then sees.
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from claw.skill import State

from .discovery import ADOPTABLE as BACKEND
from .discovery import KIND_LABELS, Found, clean_name, ha_url

KEY = "adopted"


@dataclass(frozen=True)
class Adopted:
    kind: str  # a discovery kind with a backend (BACKEND)
    name: str
    address: str
    port: int | None
    adopted_at: str

    @property
    def label(self) -> str:
        where = self.address + (f":{self.port}" if self.port and self.kind != "sonos" else "")
        return f"{KIND_LABELS.get(self.kind, self.kind)} {self.name} ({where})"

    @property
    def url(self) -> str:
        """Where a Home Assistant instance answers."""
        return ha_url(self.address, self.port)


def adoptable(found: Found) -> bool:
    return found.kind in BACKEND


def local_address(text: str) -> str | None:
    """The address if it is a private, loopback or link-local IP (devices at home), else None."""
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return str(ip) if ip.is_private or ip.is_loopback or ip.is_link_local else None


def from_found(found: Found) -> Adopted:
    name = clean_name(found.name) or found.address
    return Adopted(found.kind, name, found.address, found.port, datetime.now(UTC).isoformat(timespec="seconds"))


async def load(state: State | None) -> list[Adopted]:
    if state is None:
        return []
    rows: list[dict[str, Any]] = await state.get(KEY, []) or []
    fields = set(Adopted.__dataclass_fields__)
    return [Adopted(**{k: v for k, v in row.items() if k in fields}) for row in rows
            if isinstance(row, dict) and row.get("kind") in BACKEND and row.get("address")]


async def save(state: State | None, devices: list[Adopted]) -> None:
    if state is None:
        raise RuntimeError("this daemon gives the home skill no state to keep adopted devices in")
    await state.put(KEY, [asdict(d) for d in devices])
