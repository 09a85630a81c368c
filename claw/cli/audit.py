"""``claw security audit``: the settings that let someone in, each with how to fix it (channels add their own)."""

from __future__ import annotations

import resource
import stat
from pathlib import Path

from claw import plugins
from claw.checks import Check
from claw.config import Config
from claw.providers.models import is_local_url
from claw.store.db import sqlite_path

LOOPBACK = ("127.0.0.1", "localhost", "::1")


#: What claw keeps in CLAW_HOME besides the database: the token, the config and its secrets, the persona, the
#: running daemon's address and lock, messages spooled while the database was locked.
HOME_FILES = ("web-token", "config.toml", "env", "persona.md", "serve.json", "serve.lock", "spool/inbox.jsonl")
#: File descriptors the daemon needs besides its connections (database, logs, skills' clients).
FD_HEADROOM = 128
#: Backups or restores left in the home (an interrupted one leaves its temporary file).
LEFT_BEHIND = ("*.tar.gz", "*.tgz", "*.partial", ".*.restore-*")


def private_files(config: Config) -> list[Path]:
    """Every file of claw's that must be the owner's alone (0600), those that exist."""
    home = config.home
    found = [home / name for name in HOME_FILES]
    if config.source != "(defaults)":
        found.append(Path(config.source))
    db = sqlite_path(config.database_url)
    if db is not None:
        found += [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    if home.is_dir():
        found += sorted(p for pattern in LEFT_BEHIND for p in home.glob(pattern))
    unique = dict.fromkeys(p.absolute() for p in found)
    return [p for p in unique if p.is_file()]


def audit(config: Config) -> list[Check]:
    findings: list[Check] = []
    home = config.home
    if home.exists():
        mode = stat.S_IMODE(home.stat().st_mode)
        findings.append(Check(not mode & 0o077, f"{home} permissions {oct(mode)}", f"chmod 700 {home}"))
    for path in private_files(config):
        mode = stat.S_IMODE(path.stat().st_mode)
        findings.append(Check(not mode & 0o077, f"{path} permissions {oct(mode)}", f"chmod 600 {path}"))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    most = config.server.max_connections
    findings.append(Check(
        soft == resource.RLIM_INFINITY or most + FD_HEADROOM <= soft,
        f"[server] max_connections {most} within the open-file limit {soft}",
        f"lower [server] max_connections to {max(2, soft - FD_HEADROOM)} or raise the limit (ulimit -n, LimitNOFILE=): "
        "past it, slow clients can take the webhooks and /healthz down"))
    host = config.server.host
    findings.append(Check(
        host in LOOPBACK, f"server binds {host}",
        'set [server] host = "127.0.0.1" and reach it through a tunnel (Tailscale, Cloudflare Tunnel) instead'))
    for name, cfg in config.channels.items():
        findings.extend(plugins.load(plugins.CHANNELS, name).audit(cfg))
    if config.extra_sections.get("camera"):
        settings = config.vision.provider_settings(config.llm)
        cloud = config.vision.allow_cloud_vision and not is_local_url(settings.base_url)
        findings.append(Check(not cloud, "camera images " + ("may go to a cloud model" if cloud else "stay local"),
                              "set [vision] allow_cloud_vision = false and a local base_url (Ollama) to keep them home"))
    if config.llm.api_key:
        findings.append(Check(False, "an API key is written in the config file",
                              "move it to the environment (ANTHROPIC_API_KEY / OPENAI_API_KEY) or $CLAW_HOME/env"))
    return findings
