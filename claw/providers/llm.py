"""Choosing and calling the model: the provider the settings name (or the environment picks), and a fallback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from claw import plugins
from claw.providers.base import LLMError, LLMProvider, LLMResponse, Prompt, ProviderPlugin, ProviderSettings

if TYPE_CHECKING:
    from claw.providers.budget import Budgets, Scope

log = structlog.get_logger("claw.llm")

RESERVED = ("auto", "none")


class ProviderError(ValueError):
    """Settings that name no installed provider."""


def provider_plugin(name: str) -> ProviderPlugin:
    try:
        found: ProviderPlugin = plugins.load(plugins.PROVIDERS, name)
    except KeyError:
        installed = ", ".join(plugins.names(plugins.PROVIDERS)) or "none"
        raise ProviderError(f"unknown provider {name!r} (installed: {installed}; or \"auto\", \"none\")") from None
    except Exception as exc:  # installed, but broken
        raise ProviderError(f"the provider {name!r} cannot be loaded ({type(exc).__name__}: {exc})") from None
    return found


def resolve(settings: ProviderSettings) -> tuple[ProviderPlugin | None, ProviderSettings]:
    """The plugin and the settings completed from the environment; no plugin for "none" or when nothing is set.

    ``auto`` picks the first provider (by ``auto_order``) whose key is in the environment, or the first
    one when the file gives a key without naming a provider.
    """
    name = settings.provider
    if name == "none":
        return None, settings
    if name == "auto":
        installed, _ = plugins.load_all(plugins.PROVIDERS)  # one that fails to load is logged and passed over
        candidates: list[ProviderPlugin] = sorted(installed.values(), key=lambda p: p.auto_order)
        chosen = next((p for p in candidates if p.detected()), None)
        if chosen is None and settings.api_key and candidates:
            chosen = candidates[0]
        if chosen is None:
            return None, settings
        return chosen, chosen.resolve(settings)
    plugin = provider_plugin(name)
    return plugin, plugin.resolve(settings)


def what_is_missing(settings: ProviderSettings) -> str:
    """Why no model can be used with these settings and what to set, for the owner (doctor, the setup reply)."""
    name = settings.provider
    if name == "none":
        return '[llm] provider = "none" turns the language model off; name a provider to use one'
    if name != "auto":
        try:
            plugin = provider_plugin(name)
        except ProviderError as exc:
            return str(exc)
        where = f"{plugin.env_key} in the environment of `claw serve`, or " if plugin.env_key else ""
        return (f'[llm] provider = "{name}" has no API key: set {where}api_key in [llm] '
                "(or base_url for a local server)")
    return ("no language model is configured: set ANTHROPIC_API_KEY or OPENAI_API_KEY in the environment of "
            "`claw serve`, or [llm] with provider, model and api_key (or base_url for a local server such as Ollama)")


@dataclass
class Model:
    """A client and the plugin that made it (its prices)."""

    plugin: ProviderPlugin
    client: LLMProvider
    settings: ProviderSettings

    @property
    def label(self) -> str:
        return f"{self.plugin.name}:{self.client.model}"


def build_model(settings: ProviderSettings) -> Model | None:
    """A client for the settings, or None when no provider is configured (or it lacks a key)."""
    plugin, resolved = resolve(settings)
    if plugin is None or not plugin.usable(resolved):
        return None
    return Model(plugin, plugin.create(resolved), resolved)


class LLM:
    """The primary model, and the fallback used when the primary fails after its own retries."""

    def __init__(self, primary: Model, fallback: Model | None = None, budgets: Budgets | None = None):
        self.primary = primary
        self.fallback = fallback
        self.budgets = budgets
        #: What is wrong, for /healthz: the last request's failure, or the start-up probe's; None once one answers.
        self.last_error: str | None = None
        self._requests = 0

    @property
    def label(self) -> str:
        return self.primary.label

    async def complete(self, prompt: Prompt, scope: Scope | None = None) -> LLMResponse:
        """Ask the model; with a ``scope``, only within what its budgets have left (else ``OverBudget``)."""
        counted = None
        if self.budgets is not None and scope is not None:  # before the try: a spent budget is not a sick model
            prompt, counted = await self.budgets.fit(scope, prompt, self.primary.settings.max_tokens)
        self._requests += 1
        try:
            response = await self._complete(prompt)
        except LLMError as exc:
            self.last_error = f"last request failed: {exc.reason}"
            raise
        self.last_error = None
        response.estimated_input = counted
        return response

    async def probe(self) -> bool:
        """Ask the primary provider whether it answers, as ``claw doctor`` does (no tokens: it lists models), so
        /healthz knows before the first message. A request made meanwhile is the better witness: it wins.
        True when asking again would not tell more (it answered, or refused for good: a rejected key)."""
        before = self._requests
        try:
            await self.primary.client.check()
            done, problem = True, None
        except LLMError as exc:
            done, problem = not exc.retryable, exc.reason
        if self._requests == before:
            self.last_error = problem
        return done

    async def _complete(self, prompt: Prompt) -> LLMResponse:
        try:
            return await self._ask(self.primary, prompt)
        except LLMError as exc:
            if self.fallback is None:
                raise
            log.warning("llm.fallback", primary=self.primary.plugin.name, reason=exc.reason,
                        fallback=self.fallback.plugin.name)
            try:
                return await self._ask(self.fallback, prompt)
            except LLMError as exc2:
                raise LLMError(f"{exc.reason}; the fallback failed too: {exc2.reason}") from exc2

    @staticmethod
    async def _ask(model: Model, prompt: Prompt) -> LLMResponse:
        response = await model.client.complete(prompt)
        response.cost_usd = model.plugin.cost(response.model, response.usage)
        return response

    async def close(self) -> None:
        await self.primary.client.close()
        if self.fallback:
            await self.fallback.client.close()


def build_llm(settings: ProviderSettings, fallback: ProviderSettings | None = None,
              budgets: Budgets | None = None) -> LLM | None:
    primary = build_model(settings)
    if primary is None:
        return None
    return LLM(primary, build_model(fallback) if fallback else None, budgets)
