"""Every secret the process knows (keys, tokens), so logs and everything stored can be scrubbed of them.

Besides the config's values, the environment's keys and tokens count whoever reads them (a skill reading
``HOMEASSISTANT_TOKEN`` declares it nowhere), and so does the web token in ``$CLAW_HOME/web-token``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from claw import plugins
from claw.config import Config
from claw.providers.base import ProviderSettings

SECRET_WORDS = ("token", "key", "secret", "password")
#: Environment variables named like this hold a secret; their values are scrubbed wherever they turn up.
ENV_SECRET_SUFFIXES = ("_TOKEN", "_API_KEY", "_APIKEY", "_SECRET", "_SECRET_KEY", "_ACCESS_KEY", "_PASSWORD")


def env_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of secret-named environment variables; short or all-digit ones are left (they would scrub
    ordinary numbers and words from every message)."""
    env = os.environ if environ is None else environ
    values = (value.strip() for name, value in env.items() if name.upper().endswith(ENV_SECRET_SUFFIXES))
    return [v for v in values if len(v) >= 8 and not v.isdigit()]


def web_token(home: Path) -> str | None:
    try:
        return (home / "web-token").read_text().strip() or None
    except OSError:
        return None


def secret_values(config: Config) -> list[str]:
    found: list[str | None] = [config.memory.embeddings_api_key]
    settings: list[ProviderSettings | None] = [config.llm, config.llm.fallback, config.vision.provider_settings(config.llm)]
    providers, _ = plugins.load_all(plugins.PROVIDERS)
    for s in settings:  # every provider's environment key, whichever is in use: it is a secret either way
        if s is None:
            continue
        found.append(s.api_key)
        for plugin in providers.values():
            found.extend(plugin.secrets(s))
    channels, _ = plugins.load_all(plugins.CHANNELS)
    for name, plugin in channels.items():
        found.extend(os.environ.get(var) for var in plugin.env_secrets)
        if name in config.channels:
            found.extend(plugin.secrets(config.channels[name]))
    found.append(os.environ.get("OPENAI_API_KEY") if config.memory.embeddings == "openai" else None)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str) and any(w in key.lower() for w in SECRET_WORDS):
                    found.append(value)
                else:
                    walk(value)

    walk(config.extra_sections)
    walk(config.skills)
    found.extend(env_secrets())
    found.append(web_token(config.home))
    return [s for s in found if s and len(s) >= 6]
