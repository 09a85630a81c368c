from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memory import MemoryStore


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mem.db'}"


@pytest.fixture
def store(db_url: str) -> Iterator[MemoryStore]:
    s = MemoryStore(db_url)
    yield s
    s.close()
