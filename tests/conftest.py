"""Shared fixtures: the fake LLM server and ``claw serve`` subprocesses on temporary homes."""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fakes.llm import FakeLLM
from tests.harness import Daemon


@pytest.fixture
def fixed_loopback_ports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Held by tests whose fakes must listen on fixed addresses (Sonos speakers answer only on port 1400):
    a lock file shared by all test workers, so one such test runs at a time across them."""
    lock = tmp_path_factory.getbasetemp().parent / "fixed-loopback-ports.lock"
    with open(lock, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def toml_value(v: object) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)


def anthropic_config(fake: FakeLLM, extra: str = "", **llm: object) -> str:
    """An [llm] table pointing the real anthropic SDK at the fake; keyword arguments override its keys."""
    settings: dict[str, object] = {
        "provider": "anthropic", "model": "claude-sonnet-4-6", "api_key": "sk-ant-test-secret-key",
        "base_url": fake.url, "max_retries": 2,
    }
    settings.update(llm)
    lines = "\n".join(f"{k} = {toml_value(v)}" for k, v in settings.items())
    return f"[llm]\n{lines}\n{extra}\n"


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def make(config: str = "", env: dict[str, str] | None = None, name: str = "home", start: bool = True) -> Daemon:
        d = Daemon(tmp_path / name, config, env)
        started.append(d)
        return d.start() if start else d

    yield make
    for d in started:
        try:
            d.stop()
        except Exception:
            pass
