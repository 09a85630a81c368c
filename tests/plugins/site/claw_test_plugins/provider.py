"""The ``parrot`` provider: answers "Parrot says: <the last thing the user said>", calls the tool the user names
after "call", and prices its tokens, through claw's public provider API only."""

from __future__ import annotations

from claw.providers.base import (
    LLMProvider,
    LLMResponse,
    Price,
    Prompt,
    ProviderPlugin,
    ProviderSettings,
    ToolCall,
    Usage,
)


class ParrotSettings(ProviderSettings):
    accent: str = "Parrot"  # a key of this provider's own, checked by its settings model


class ParrotClient:
    name = "parrot"

    def __init__(self, settings: ParrotSettings):
        self.model = settings.model or "parrot-1"
        self.accent = settings.accent
        self.calls = 0

    async def complete(self, prompt: Prompt) -> LLMResponse:
        last = prompt.messages[-1]
        usage = Usage(input_tokens=1000, output_tokens=100)
        if last.role == "tool":
            text = f"{self.accent} did it: " + "; ".join(r.content for r in last.tool_results)
            return LLMResponse(text, [], usage, self.name, self.model, "end_turn")
        said = last.text
        if said.startswith("call "):
            self.calls += 1
            return LLMResponse("", [ToolCall(f"p{self.calls}", said.split()[1], {})], usage, self.name, self.model,
                               "tool_use")
        return LLMResponse(f"{self.accent} says: {said}", [], usage, self.name, self.model, "end_turn")

    async def check(self) -> str:
        return "squawk"

    async def close(self) -> None:
        return None


PRICES: list[tuple[str, Price]] = [("parrot-", (1.0, 10.0, 0.0, 0.0))]


class Parrot(ProviderPlugin):
    name = "parrot"
    env_key = "PARROT_API_KEY"
    default_model = "parrot-1"
    auto_order = 500
    prices = PRICES
    Settings = ParrotSettings

    def create(self, settings: ProviderSettings) -> LLMProvider:
        assert isinstance(settings, ParrotSettings)
        return ParrotClient(settings)


plugin = Parrot()
