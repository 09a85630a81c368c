"""``claw security audit``: the settings that let someone in, each with how to fix it (channels add their own)."""

from __future__ import annotations

import stat

from claw import plugins
from claw.checks import Check
from claw.config import Config
from claw.providers.models import is_local_url

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def audit(config: Config) -> list[Check]:
    findings: list[Check] = []
    home = config.home
    if home.exists():
        mode = stat.S_IMODE(home.stat().st_mode)
        findings.append(Check(not mode & 0o077, f"{home} permissions {oct(mode)}", f"chmod 700 {home}"))
        for name in ("web-token", "claw.db", "config.toml", "env"):
            path = home / name
            if path.exists():
                mode = stat.S_IMODE(path.stat().st_mode)
                findings.append(Check(not mode & 0o077, f"{path} permissions {oct(mode)}", f"chmod 600 {path}"))
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
