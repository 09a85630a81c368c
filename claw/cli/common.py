"""What every command group shares: the config named on the command line, and the running daemon's API."""

from __future__ import annotations

import os

import click

from claw import runfile
from claw.config import Config, ConfigError, load_config


def config_of(ctx: click.Context) -> Config:
    """The config file given to ``claw --config`` (or the default one), as a click error if it is wrong."""
    try:
        return load_config(ctx.find_root().obj.get("config"))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def daemon_url(config: Config) -> str:
    """$CLAW_URL, else where the daemon on this home says it listens, else the configured address."""
    if os.environ.get("CLAW_URL"):
        return os.environ["CLAW_URL"].rstrip("/")
    running = runfile.find(config.home)
    if running is not None:
        return running.url
    host = config.server.host if config.server.host not in ("0.0.0.0", "::") else "127.0.0.1"
    return f"http://{host}:{config.server.port}"


def unreachable(url: str, exc: Exception) -> click.ClickException:
    return click.ClickException(f"cannot reach the daemon at {url} ({type(exc).__name__}): is `claw serve` running? "
                                "A daemon elsewhere: --url URL or CLAW_URL")


def daemon_running(config: Config) -> bool:
    """A daemon holds this home's lock: changes to the home must go through it ($CLAW_URL only says where)."""
    return runfile.find(config.home) is not None


def daemon_auth(config: Config) -> dict[str, str] | None:
    """The bearer header for the daemon's API, or None before its first start (no token yet)."""
    token_path = config.home / "web-token"
    if not token_path.exists():
        return None
    return {"Authorization": f"Bearer {token_path.read_text().strip()}"}
