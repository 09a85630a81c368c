"""The models skills may call (``claw.skill.Models``): the chat model, and the vision model of ``[vision]``.

``allow_cloud_vision = false`` keeps camera images in the house: only a vision
provider whose ``base_url`` is on this machine or the local network is used;
anything else is refused with a message that says how to fix it. Every call's
usage is recorded, against the task that made it when there is one.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import structlog

from claw.providers import usage
from claw.providers.base import LLMError, LLMResponse, Prompt, ProviderSettings
from claw.providers.budget import Budgets, Scope
from claw.providers.llm import LLM, build_llm, resolve
from claw.store.db import Database

log = structlog.get_logger("claw.models")


def is_local_url(url: str | None) -> bool:
    """True for loopback, private and link-local addresses, single-label names and .local/.lan/.home.arpa hosts."""
    if not url:
        return False
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        return False
    if host == "localhost" or "." not in host or host.endswith((".local", ".lan", ".home.arpa", ".internal")):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local


def cloud_refusal(settings: ProviderSettings, allow_cloud: bool) -> str | None:
    """Why this provider may not see camera images, or None when it may."""
    if allow_cloud:
        return None
    plugin, s = resolve(settings)
    if plugin is None or is_local_url(s.base_url):
        return None
    where = s.base_url or plugin.cloud_host or "its cloud API"
    return (f"camera images are not sent to {plugin.name} at {where}: [vision] allow_cloud_vision = false. "
            "Set [vision] provider = \"openai\" with base_url pointing at a local server "
            "(e.g. Ollama: \"http://127.0.0.1:11434/v1\") and a vision model such as \"llava\", "
            "or set allow_cloud_vision = true")


class SkillModels:
    def __init__(self, db: Database | None, chat: LLM | None, vision: ProviderSettings, allow_cloud_vision: bool = True,
                 budgets: Budgets | None = None):
        self.db = db
        self.budgets = budgets
        self.chat = chat
        self.vision_settings = vision
        self._refusal = cloud_refusal(vision, allow_cloud_vision)
        self._vision: LLM | None = None

    @property
    def vision_label(self) -> str:
        plugin, s = resolve(self.vision_settings)
        if plugin is None:
            return "no vision model"
        return f"{plugin.name}:{s.model}" + (f" at {s.base_url}" if s.base_url else "")

    @property
    def vision_refusal(self) -> str | None:
        return self._refusal

    def _vision_llm(self) -> LLM:
        if self._refusal:
            raise LLMError(self._refusal)
        if self._vision is None:
            self._vision = build_llm(self.vision_settings, budgets=self.budgets)
            if self._vision is None:
                raise LLMError("no vision model is configured: set [vision] (or [llm]) with a provider and key")
        return self._vision

    async def complete(self, prompt: Prompt, *, vision: bool = False, purpose: str = "skill",
                       task_id: int | None = None) -> LLMResponse:
        llm = self._vision_llm() if vision else self.chat
        if llm is None:
            raise LLMError("no language model is configured")
        resp = await llm.complete(prompt, Scope(purpose, task_id=task_id))
        if self.db is not None:
            try:
                await self.db.tx(lambda c: usage.record(c, resp, conversation_id=None, inbox_id=None, purpose=purpose,
                                                         task_id=task_id))
            except Exception as exc:  # accounting must not break an alert
                log.warning("models.usage_failed", error=str(exc))
        return resp

    async def close(self) -> None:
        if self._vision is not None:
            await self._vision.close()
