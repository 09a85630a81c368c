"""``claw security audit``: the settings that let someone in, each with how to fix it."""

from __future__ import annotations

import stat
from dataclasses import dataclass
from urllib.parse import urlsplit

from claw.config import Config

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Finding:
    ok: bool
    what: str
    fix: str = ""


def _local(url: str | None) -> bool:
    """A vision endpoint on this box or the home network keeps images in the house."""
    if not url:
        return False
    host = urlsplit(url).hostname or ""
    return host in LOOPBACK or host.endswith((".local", ".lan")) or host.startswith(("10.", "192.168.", "172."))


def audit(config: Config) -> list[Finding]:
    findings: list[Finding] = []
    home = config.home
    if home.exists():
        mode = stat.S_IMODE(home.stat().st_mode)
        findings.append(Finding(not mode & 0o077, f"{home} permissions {oct(mode)}", f"chmod 700 {home}"))
        for name in ("web-token", "claw.db", "config.toml", "env"):
            path = home / name
            if path.exists():
                mode = stat.S_IMODE(path.stat().st_mode)
                findings.append(Finding(not mode & 0o077, f"{path} permissions {oct(mode)}", f"chmod 600 {path}"))
    host = config.server.host
    findings.append(Finding(
        host in LOOPBACK, f"server binds {host}",
        'set [server] host = "127.0.0.1" and reach it through a tunnel (Tailscale, Cloudflare Tunnel) instead'))
    whatsapp = config.whatsapp
    if whatsapp is not None:
        findings.append(Finding(bool(whatsapp.allowed), "WhatsApp allowlist " + ("set" if whatsapp.allowed else "is empty"),
                                'add [whatsapp] allowed = ["+<your number>"] (the owner first)'))
        validate = getattr(whatsapp, "validate_signature", True)  # not switchable today; checked if it ever is
        findings.append(Finding(bool(validate), "Twilio webhook signature checking " + ("on" if validate else "OFF"),
                                "remove validate_signature = false from [whatsapp]"))
        findings.append(Finding(bool(whatsapp.public_url), "WhatsApp public_url " + (
            "set" if whatsapp.public_url else "missing: signatures cannot be checked against what Twilio signed"),
            'set [whatsapp] public_url = "https://<your tunnel host>"'))
    cameras = config.extra_sections.get("camera")
    if cameras:
        vision = config.vision
        settings = vision.provider_settings(config.llm)
        cloud = vision.allow_cloud_vision and not _local(settings.base_url)
        findings.append(Finding(not cloud, "camera images " + ("may go to a cloud model" if cloud else "stay local"),
                                "set [vision] allow_cloud_vision = false and a local base_url (Ollama) to keep them home"))
    if config.llm.api_key:
        findings.append(Finding(False, "an API key is written in the config file",
                                "move it to the environment (ANTHROPIC_API_KEY / OPENAI_API_KEY) or $CLAW_HOME/env"))
    return findings
