"""What every command group shares: the config named on the command line, and the running daemon's API."""

from __future__ import annotations

import os

import click

from claw.config import Config, ConfigError, load_config


def config_of(ctx: click.Context) -> Config:
    """The config file given to ``claw --config`` (or the default one), as a click error if it is wrong."""
    try:
        return load_config(ctx.find_root().obj.get("config"))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def daemon_url(config: Config) -> str:
    host = config.server.host if config.server.host not in ("0.0.0.0", "::") else "127.0.0.1"
    return (os.environ.get("CLAW_URL") or f"http://{host}:{config.server.port}").rstrip("/")


def daemon_auth(config: Config) -> dict[str, str] | None:
    """The bearer header for the daemon's API, or None before its first start (no token yet)."""
    token_path = config.home / "web-token"
    if not token_path.exists():
        return None
    return {"Authorization": f"Bearer {token_path.read_text().strip()}"}
