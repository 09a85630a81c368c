"""Homes for the fast-path tests, loaded once per session (analysis never changes device state)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from skills.intents.engine import FastPath
from tests.intents.sentence_set import new_path, start_home


@pytest.fixture(scope="session")
def paths(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, FastPath]]:
    """Fast paths over the demo house, the generated 500-entity home and the family house."""
    folder = tmp_path_factory.mktemp("homes")
    out = {}
    for kind in ("demo", "big", "family"):
        registry, _provider = asyncio.run(start_home(kind, folder))
        out[kind] = new_path(registry)
    yield out


@pytest.fixture
async def fake_ha():
    from tests.fakes.homeassistant import FakeHomeAssistant

    ha = FakeHomeAssistant()
    await ha.start()
    yield ha
    await ha.stop()
