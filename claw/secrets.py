"""Every secret the process knows (keys, tokens), so logs and replies can be scrubbed of them."""

from __future__ import annotations

import os
from typing import Any

from claw import plugins
from claw.config import Config
from claw.providers.base import ProviderSettings

SECRET_WORDS = ("token", "key", "secret", "password")


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
    return [s for s in found if s and len(s) >= 6]
