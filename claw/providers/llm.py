"""LLM providers behind one small protocol, with an optional fallback."""

from __future__ import annotations

import structlog

from claw.config import LLMSection, ProviderSettings, resolve_provider
from claw.providers.base import LLMError, LLMProvider, LLMResponse, Prompt

log = structlog.get_logger("claw.providers.llm")


def build_provider(settings: ProviderSettings) -> LLMProvider | None:
    """Construct the provider the settings name; the SDK is imported only when used (start-up time, RSS)."""
    s = resolve_provider(settings)
    if s.provider == "anthropic":
        if not s.api_key:
            return None
        from claw.providers.anthropic import AnthropicProvider

        return AnthropicProvider(s)
    if s.provider == "openai":
        if not s.api_key and not s.base_url:
            return None
        from claw.providers.openai import OpenAIProvider

        return OpenAIProvider(s)
    return None


class LLM:
    """The primary provider, and the fallback used when the primary fails after its own retries."""

    def __init__(self, primary: LLMProvider, fallback: LLMProvider | None = None):
        self.primary = primary
        self.fallback = fallback
        #: Why the last request failed, for /healthz; None once a request succeeds again.
        self.last_error: str | None = None

    @property
    def label(self) -> str:
        return f"{self.primary.name}:{self.primary.model}"

    async def complete(self, prompt: Prompt) -> LLMResponse:
        try:
            response = await self._complete(prompt)
        except LLMError as exc:
            self.last_error = exc.reason
            raise
        self.last_error = None
        return response

    async def _complete(self, prompt: Prompt) -> LLMResponse:
        try:
            return await self.primary.complete(prompt)
        except LLMError as exc:
            if self.fallback is None:
                raise
            log.warning("llm.fallback", primary=self.primary.name, reason=exc.reason, fallback=self.fallback.name)
            try:
                return await self.fallback.complete(prompt)
            except LLMError as exc2:
                raise LLMError(f"{exc.reason}; the fallback failed too: {exc2.reason}") from exc2

    async def close(self) -> None:
        await self.primary.close()
        if self.fallback:
            await self.fallback.close()


def build_llm(section: LLMSection) -> LLM | None:
    primary = build_provider(section)
    if primary is None:
        return None
    fallback = build_provider(section.fallback) if section.fallback else None
    return LLM(primary, fallback)


__all__ = ["LLM", "LLMError", "LLMResponse", "Prompt", "build_llm", "build_provider"]
