"""``claw security audit``: the settings that let someone in, each with how to fix it."""

from __future__ import annotations

import stat
from dataclasses import dataclass

from claw.config import Config


@dataclass
class Finding:
    ok: bool
    what: str
    fix: str = ""


def audit(config: Config) -> list[Finding]:
    findings: list[Finding] = []
    home = config.home
    if home.exists():
        mode = stat.S_IMODE(home.stat().st_mode)
        findings.append(Finding(
            not mode & 0o077, f"{home} permissions {oct(mode)}", f"chmod 700 {home}"))
        for name in ("web-token", "claw.db", "config.toml", "env"):
            path = home / name
            if path.exists():
                mode = stat.S_IMODE(path.stat().st_mode)
                findings.append(Finding(not mode & 0o077, f"{path} permissions {oct(mode)}", f"chmod 600 {path}"))
    host = config.server.host
    findings.append(Finding(
        host in ("127.0.0.1", "localhost", "::1"), f"server binds {host}",
        'set [server] host = "127.0.0.1" and reach it through a tunnel (Tailscale, Cloudflare Tunnel) instead'))
    whatsapp = config.extra_sections.get("whatsapp") or getattr(config, "whatsapp", None)
    if whatsapp:
        allowed = whatsapp.get("allowed") if isinstance(whatsapp, dict) else getattr(whatsapp, "allowed", None)
        findings.append(Finding(bool(allowed), "WhatsApp allowlist " + ("set" if allowed else "is empty"),
                                'add [whatsapp] allowed = ["+<your number>"] (the owner first)'))
        validate = whatsapp.get("validate_signature", True) if isinstance(whatsapp, dict) else getattr(
            whatsapp, "validate_signature", True)
        findings.append(Finding(bool(validate), "Twilio webhook signature checking " + ("on" if validate else "OFF"),
                                "remove validate_signature = false from [whatsapp]"))
    vision = config.extra_sections.get("vision") or getattr(config, "vision", None)
    if vision is not None:
        allow_cloud = vision.get("allow_cloud_vision", True) if isinstance(vision, dict) else getattr(
            vision, "allow_cloud_vision", True)
        findings.append(Finding(not allow_cloud, "camera images " + ("may go to a cloud model" if allow_cloud else "stay local"),
                                "set [vision] allow_cloud_vision = false and a local base_url (Ollama) to keep them home"))
    if config.llm.api_key:
        findings.append(Finding(False, "an API key is written in the config file",
                                "move it to the environment (ANTHROPIC_API_KEY / OPENAI_API_KEY) or $CLAW_HOME/env"))
    return findings
