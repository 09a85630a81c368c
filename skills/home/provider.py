"""The small protocol every home backend implements, and the entity model they share.

Entities follow Home Assistant's model (``light.kitchen``, state, attributes)
because that is what the ecosystem speaks. A provider contributes entities and
areas to the registry and carries out service calls for the entities it owns.
Adding a backend is one new module implementing ``Provider``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


class HomeError(Exception):
    """A device or backend problem worth telling the owner about (never a crash)."""


class TargetError(HomeError):
    """What a person said does not pick out devices unambiguously."""

    def __init__(self, message: str, target: str, candidates: list[str]):
        super().__init__(message)
        self.target = target
        self.candidates = candidates  # friendly names, for the model to ask the owner


class AmbiguousTarget(TargetError):
    """Several devices fit and nothing says which one: ask, never guess."""


class UnknownTarget(TargetError):
    """Nothing fits; ``candidates`` holds the closest names, possibly none."""


class NothingQueued(HomeError):
    """A speaker asked to play with nothing to resume: the owner should pick something."""


class InvalidService(HomeError):
    """A service call refused before any device is touched (unknown service, bad value)."""


@dataclass
class Floor:
    id: str
    name: str
    level: int | None = None  # 0 = ground; lets "downstairs"/"upstairs" work without aliases
    aliases: list[str] = field(default_factory=list)


@dataclass
class Area:
    id: str
    name: str
    floor: str | None = None
    aliases: list[str] = field(default_factory=list)


@dataclass
class Entity:
    entity_id: str
    name: str
    area: str | None = None
    state: str = "unknown"
    attributes: dict[str, Any] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    provider: str = ""

    @property
    def domain(self) -> str:
        return self.entity_id.split(".", 1)[0]


class Registry(Protocol):
    """What a provider may do to the registry it feeds."""

    def upsert_area(self, area: Area) -> None: ...

    def upsert_entity(self, entity: Entity) -> None: ...

    def remove_entity(self, entity_id: str) -> None: ...

    def update_state(self, entity_id: str, state: str, attributes: dict[str, Any] | None = None) -> None: ...


@runtime_checkable
class Provider(Protocol):
    name: str

    async def start(self, registry: Registry) -> None:
        """Load areas and entities into the registry and start following their changes."""

    async def stop(self) -> None: ...

    async def call_service(self, domain: str, service: str, entity_ids: list[str], data: dict[str, Any]) -> None:
        """Carry out a service call on entities this provider owns; raise HomeError on failure."""

    def health(self) -> dict[str, Any]:
        """``{"ok": bool, "detail": str}`` for /healthz and claw doctor."""
