"""``claw doctor``: check every part and say exactly what to fix (channels bring their own checks)."""

from __future__ import annotations

import re
from pathlib import Path

import click

from claw.checks import Check
from claw.config import ConfigError, load_config
from claw.store.db import Database, DatabaseError
from claw.store.migrations import migrate


def _line(check: Check) -> None:
    mark = {True: click.style("ok  ", fg="green"), False: click.style("FIX ", fg="red"),
            None: click.style("--  ", fg="yellow")}[check.ok]
    click.echo(f"{mark} {check.what}" + (f": {check.detail}" if check.detail else ""))


async def run_doctor(config_file: str | Path | None) -> bool:
    from claw import logging as claw_logging
    from claw import plugins
    from claw.providers.base import LLMError
    from claw.providers.llm import ProviderError, resolve, what_is_missing
    from claw.skillset import SkillSet, discover, standalone_context

    claw_logging.setup("error")
    checks: list[Check] = []

    def report(check: Check) -> None:
        checks.append(check)
        _line(check)

    try:
        config = load_config(config_file)
    except ConfigError as exc:
        report(Check(False, "config", str(exc)))
        return False
    report(Check(True, "config", config.source))
    report(Check(True, "CLAW_HOME", str(config.home)))

    try:
        db = Database(config.database_url)
        migrate(db.engine)
        db.close()
        report(Check(True, "database", config.database_url))
    except DatabaseError as exc:
        report(Check(False, "database", str(exc)))

    for label, settings in (("llm", config.llm), ("llm.fallback", config.llm.fallback)):
        if settings is None:
            continue
        try:
            plugin, resolved = resolve(settings)
        except ProviderError as exc:
            report(Check(False, label, str(exc)))
            continue
        if plugin is None or not plugin.usable(resolved):
            chosen = settings.provider not in ("auto", "none")  # a provider named without its key is a mistake
            report(Check(False if chosen else None, label, what_is_missing(settings)
                         + ("" if chosen else "; device commands work locally without it")))
            continue
        provider = plugin.create(resolved)
        try:
            report(Check(True, label, f"{plugin.name} {resolved.model}: {await provider.check()}"))
        except LLMError as exc:
            report(Check(False, label, f"{plugin.name} {resolved.model}: {exc.reason}"))
        finally:
            await provider.close()

    for name, cfg in config.channels.items():
        for check in await plugins.load(plugins.CHANNELS, name).doctor(cfg):
            report(check)

    skills = SkillSet()
    try:
        await skills.load(config, standalone_context(config), discover(config.home))
    except ConfigError as exc:  # an unknown or wrong section: label it by the section the message names
        section = re.search(r"\[([^\]]+)\]", str(exc))
        report(Check(False, f"config [{section.group(1)}]" if section else "config", str(exc)))
        return False
    for name, state in skills.health().items():
        report(Check(bool(state.get("ok", True)), f"skill {name}", state.get("detail", "")))
    await skills.close()
    return all(c.ok is not False for c in checks)
