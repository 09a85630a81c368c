"""Finding plugins: skills, model providers and channels are entry points, the built-in ones included.

Like simonw/llm's plugins: a package adds one by declaring an entry point in
its ``pyproject.toml`` (``[project.entry-points."claw.channels"]``); nothing in
claw is edited. An entry point that fails to load is reported, never fatal.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import structlog

log = structlog.get_logger("claw.plugins")

SKILLS = "claw.skills"
PROVIDERS = "claw.providers"
CHANNELS = "claw.channels"


@dataclass
class PluginProblem:
    group: str
    name: str
    error: str


@cache
def _points(group: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=group)}


def names(group: str) -> list[str]:
    """Names registered in ``group``, without importing anything."""
    return sorted(_points(group))


@cache
def _load(group: str, name: str) -> Any:
    return _points(group)[name].load()


def load(group: str, name: str) -> Any:
    """The object the entry point names (imported once); KeyError when none is registered."""
    return _load(group, name)


def load_all(group: str) -> tuple[dict[str, Any], list[PluginProblem]]:
    """Every plugin of ``group`` that loads, and what went wrong with the others."""
    found: dict[str, Any] = {}
    problems: list[PluginProblem] = []
    for name in names(group):
        try:
            found[name] = load(group, name)
        except Exception as exc:  # a broken plugin must not stop the daemon
            problems.append(PluginProblem(group, name, f"{type(exc).__name__}: {exc}"))
            log.warning("plugin.load_failed", group=group, name=name, error=str(exc))
    return found, problems
