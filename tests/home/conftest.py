"""Shared fixtures for the home tests: a demo registry, a fake clock, a fake Home Assistant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import pytest
import structlog

from claw.skill import SkillContext
from skills.home.demo import DemoProvider
from skills.home.registry import HomeRegistry
from tests.fakes.homeassistant import FakeHomeAssistant
from tests.home.support import FakeClock, noop


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def demo(clock: FakeClock) -> AsyncIterator[tuple[HomeRegistry, DemoProvider]]:
    registry = HomeRegistry(structlog.get_logger())
    provider = DemoProvider(clock=clock, tick_seconds=None)
    registry.add_provider(provider)
    await provider.start(registry)
    yield registry, provider
    await provider.stop()


@pytest.fixture
async def fake_ha() -> AsyncIterator[FakeHomeAssistant]:
    ha = FakeHomeAssistant()
    await ha.start()
    yield ha
    await ha.stop()


@pytest.fixture
def skill_ctx(tmp_path) -> SkillContext:
    return SkillContext(
        name="home", timezone=ZoneInfo("UTC"), data_dir=tmp_path, log=structlog.get_logger(), notify_owner=noop
    )
