"""Discovering, configuring and setting up skills; the tools they offer.

Skills come from the ``claw.skills`` entry-point group (the built-in ones are
registered there too) and from ``$CLAW_HOME/skills/*.py``. A skill that fails to
import or set up is reported and skipped; the daemon still starts.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import structlog
from pydantic import ValidationError
from starlette.routing import BaseRoute

from claw import plugins
from claw.config import Config, ConfigError, describe_errors, local_timezone
from claw.providers.base import ToolSpec
from claw.skill import Shared, Skill, SkillConfig, SkillContext, State, Tool

log = structlog.get_logger("claw.skills")

SETUP_TIMEOUT = 20.0


@dataclass
class SkillProblem:
    name: str
    stage: str  # import | config | setup
    error: str


@dataclass
class Discovered:
    classes: list[tuple[type[Skill], str]] = field(default_factory=list)  # (class, origin)
    problems: list[SkillProblem] = field(default_factory=list)


def _skill_classes(module: ModuleType) -> list[type[Skill]]:
    prefix = module.__name__
    return [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, Skill) and obj is not Skill and obj.__module__.startswith(prefix)
        and obj.name
    ]


def discover(home: Path) -> Discovered:
    found = Discovered()
    seen: set[str] = set()

    def add(cls: type[Skill], origin: str) -> None:
        if cls.name in seen:
            found.problems.append(SkillProblem(cls.name, "import", f"a skill named {cls.name!r} is already loaded; {origin} skipped"))
            return
        seen.add(cls.name)
        found.classes.append((cls, origin))

    for name in plugins.names(plugins.SKILLS):
        try:
            obj = plugins.load(plugins.SKILLS, name)
        except Exception as exc:  # a broken skill must not stop the daemon
            found.problems.append(SkillProblem(name, "import", f"{type(exc).__name__}: {exc}"))
            continue
        classes = _skill_classes(obj) if isinstance(obj, ModuleType) else [obj] if inspect.isclass(obj) and issubclass(obj, Skill) else []
        for cls in classes:
            add(cls, getattr(obj, "__name__", name))

    user_dir = home / "skills"
    for path in sorted(user_dir.glob("*.py")) if user_dir.is_dir() else []:
        mod_name = f"claw_user_skills.{path.stem}"
        try:
            spec = importlib.util.spec_from_file_location(mod_name, path)
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = module
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(mod_name, None)
            found.problems.append(SkillProblem(path.stem, "import", f"{path}: {type(exc).__name__}: {exc}"))
            continue
        for cls in _skill_classes(module):
            add(cls, str(path))
    return found


def skill_config(cls: type[Skill], config: Config) -> SkillConfig:
    """Validate the skill's table; a mistake is a config error naming the key and the file."""
    table = dict(config.extra_sections.get(cls.section, {})) if cls.section else {}
    table.update(config.skills.get(cls.name, {}))
    prefix = cls.section or f"skills.{cls.name}"
    try:
        return cls.Config(**table)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, config.source, prefix)) from None


class SkillSet:
    """The skills that are set up and running, and the tools they offer the model."""

    def __init__(self) -> None:
        self.skills: list[Skill] = []
        self.tools: dict[str, Tool] = {}
        self.problems: list[SkillProblem] = []

    async def load(self, config: Config, context: Callable[[str], SkillContext], found: Discovered | None = None) -> None:
        """Validate each skill's table, make it with the context ``context(name)`` gives, and set it up."""
        found = found or discover(config.home)
        self.problems.extend(found.problems)
        check_sections(config, found)
        for skill_cls, origin in found.classes:
            cfg = skill_config(skill_cls, config)
            if not cfg.enabled:
                continue
            try:
                skill = skill_cls(cfg, context(skill_cls.name))
                await asyncio.wait_for(skill.setup(), SETUP_TIMEOUT)
            except Exception as exc:
                self.problems.append(SkillProblem(skill_cls.name, "setup", f"{type(exc).__name__}: {exc}"))
                log.error("skill.setup_failed", skill=skill_cls.name, origin=origin, error=str(exc))
                continue
            self.skills.append(skill)
            for tool in skill.tools():
                if tool.name in self.tools:
                    self.problems.append(SkillProblem(skill_cls.name, "setup", f"tool {tool.name!r} already defined; skipped"))
                    continue
                self.tools[tool.name] = tool
        for p in self.problems:
            log.warning("skill.problem", skill=p.name, stage=p.stage, error=p.error)

    def routes(self) -> list[BaseRoute]:
        out: list[BaseRoute] = []
        for s in self.skills:
            out.extend(s.routes())
        return out

    def specs(self) -> list[ToolSpec]:
        notes: dict[str, str] = {}
        for skill in self.skills:
            try:
                notes.update(skill.tool_notes())
            except Exception as exc:  # a note is a nicety: the tools still go out
                log.warning("skill.tool_notes_failed", skill=skill.name, error=str(exc))
        return [ToolSpec(t.name, f"{t.description} {notes[t.name]}" if t.name in notes else t.description, t.parameters)
                for t in self.tools.values()]

    def interceptors(self) -> list[Skill]:
        return sorted(
            (s for s in self.skills if type(s).intercept is not Skill.intercept), key=lambda s: s.intercept_priority
        )

    async def compile_locally(self, text: str) -> list[dict[str, Any]] | None:
        """The first skill's calls for ``text`` (``Skill.compile``), or None."""
        for skill in sorted((s for s in self.skills if type(s).compile is not Skill.compile),
                            key=lambda s: s.intercept_priority):
            try:
                calls = await skill.compile(text)
            except Exception as exc:
                log.warning("skill.compile_failed", skill=skill.name, error=str(exc))
                continue
            if calls:
                return calls
        return None

    def health(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for s in self.skills:
            try:
                out[s.name] = s.health()
            except Exception as exc:
                out[s.name] = {"ok": False, "detail": str(exc)}
        for p in self.problems:
            out.setdefault(p.name, {"ok": False, "detail": f"{p.stage}: {p.error}"})
        return out

    async def ready(self) -> None:
        for s in self.skills:
            try:
                await s.ready()
            except Exception as exc:
                log.warning("skill.ready_failed", skill=s.name, error=str(exc))

    async def close(self) -> None:
        for s in reversed(self.skills):
            try:
                await asyncio.wait_for(s.close(), 5)
            except Exception as exc:
                log.warning("skill.close_failed", skill=s.name, error=str(exc))


def standalone_context(config: Config, state: Callable[[str], State] | None = None) -> Callable[[str], SkillContext]:
    """Contexts for skills set up outside the daemon (``claw doctor``, ``claw intents test``): no owner to
    notify, no standing tasks, no memory; what they share stays among them."""
    shared = Shared()
    tz = local_timezone(config)

    async def nobody(*_a: Any, **_k: Any) -> None:
        return None

    def context(name: str) -> SkillContext:
        return SkillContext(name=name, timezone=tz, data_dir=config.home / "data" / name,
                            log=structlog.get_logger(f"skills.{name}"), notify_owner=nobody, shared=shared,
                            state=state(name) if state else None,
                            language=config.agent.language, local_intents=config.agent.local_intents)

    return context


def check_sections(config: Config, found: Discovered) -> None:
    """A top-level table no skill claims is a typo, unless a skill that might claim it failed to import."""
    claimed = {cls.section for cls, _ in found.classes if cls.section}
    names = {cls.name for cls, _ in found.classes}
    for section in config.extra_sections:
        if section in claimed:
            continue
        if found.problems:
            log.warning("config.unclaimed_section", section=section, file=config.source)
            continue
        raise ConfigError(f"{config.source}: [{section}]: unknown section")
    for name in config.skills:
        if name not in names and not found.problems:
            raise ConfigError(f"{config.source}: [skills.{name}]: no skill named {name!r} is installed")
