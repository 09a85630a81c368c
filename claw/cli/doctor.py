"""``claw doctor``: check every part and say exactly what to fix."""

from __future__ import annotations

from pathlib import Path

import click

from claw.config import ConfigError, load_config, resolve_provider
from claw.store.db import Database, DatabaseError


def _line(ok: bool | None, what: str, detail: str = "") -> None:
    mark = {True: click.style("ok  ", fg="green"), False: click.style("FIX ", fg="red"), None: click.style("--  ", fg="yellow")}[ok]
    click.echo(f"{mark} {what}" + (f": {detail}" if detail else ""))


async def run_doctor(config_file: str | Path | None) -> bool:
    from claw import logging as claw_logging
    from claw.providers.llm import build_provider
    from claw.providers.base import LLMError
    from claw.config import local_timezone
    from claw.skillset import SkillSet, discover

    claw_logging.setup("error")
    healthy = True
    try:
        config = load_config(config_file)
    except ConfigError as exc:
        _line(False, "config", str(exc))
        return False
    claw_logging.add_secrets([])
    _line(True, "config", config.source)
    _line(True, "CLAW_HOME", str(config.home))

    try:
        db = Database(config.database_url)
        db.migrate()
        db.close()
        _line(True, "database", config.database_url)
    except DatabaseError as exc:
        _line(False, "database", str(exc))
        healthy = False

    for label, settings in (("llm", config.llm), ("llm.fallback", config.llm.fallback)):
        if settings is None:
            continue
        resolved = resolve_provider(settings)
        provider = build_provider(settings)
        if provider is None:
            _line(None, label, "not configured: device commands work locally; for everything else set ANTHROPIC_API_KEY "
                               "or OPENAI_API_KEY, or [llm] base_url for a local server")
            continue
        try:
            status = await provider.check()
            _line(True, label, f"{resolved.provider} {resolved.model}: {status}")
        except LLMError as exc:
            _line(False, label, f"{resolved.provider} {resolved.model}: {exc.reason}")
            healthy = False
        finally:
            await provider.close()

    if config.whatsapp is not None:
        from claw.channels.whatsapp.doctor import check_whatsapp

        healthy &= await check_whatsapp(config.whatsapp, _line)

    found = discover(config.home)

    async def no_notify(*_a: object, **_k: object) -> None:
        return None

    try:
        skills = await SkillSet.load(config, local_timezone(config), no_notify, found)
    except ConfigError as exc:
        _line(False, "skills config", str(exc))
        return False
    for name, state in skills.health().items():
        ok = bool(state.get("ok", True))
        healthy &= ok
        _line(ok, f"skill {name}", state.get("detail", ""))
    await skills.close()
    return healthy
