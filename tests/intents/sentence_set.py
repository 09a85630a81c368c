"""The fast-path sentence set (``sentences.yaml``) and how one case is judged; shared by the tests and bench/fastpath.py."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
import yaml

from skills.home.demo import DemoProvider
from skills.home.registry import HomeRegistry
from skills.intents.engine import Decision, FastPath
from skills.intents.matcher import Matcher
from tests.intents.homes import apartment_home, family_home, generated_home, write_home

SENTENCES = Path(__file__).with_name("sentences.yaml")
HOMES = {"big": generated_home, "family": family_home, "apartment": apartment_home}


@dataclass
class Case:
    home: str  # demo | big | family | apartment
    text: str
    #: "not_local" | {"service", "entity_ids", "data"?} | {"status": [entity ids]} | {"confirm": [entity ids]}
    expect: Any
    before: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        prefix = " > ".join(self.before) + " > " if self.before else ""
        return f"{self.home}: {prefix}{self.text}"

    @property
    def local(self) -> bool:
        return self.expect != "not_local"


def load_cases(path: Path = SENTENCES) -> list[Case]:
    return [Case(**row) for row in yaml.safe_load(path.read_text())]


async def start_home(kind: str, folder: Path | None = None) -> tuple[HomeRegistry, DemoProvider]:
    """The demo house or one of HOMES, on the simulated backend (no ticking)."""
    file = None
    if kind in HOMES:
        folder = folder or Path(tempfile.mkdtemp(prefix=f"claw-{kind}-home-"))
        file = write_home(folder / f"{kind}_home.yaml", HOMES[kind]())
    registry = HomeRegistry(structlog.get_logger())
    provider = DemoProvider(file, tick_seconds=None)
    registry.add_provider(provider)
    await provider.start(registry)
    return registry, provider


def decide(path: FastPath, case: Case, conversation: str) -> Decision:
    """Analyse ``case`` after its earlier messages (remembered as the conversation's last devices)."""
    for earlier in case.before:
        d = path.analyse(earlier, conversation)
        assert d.plan is not None, f"context message {earlier!r} was not handled locally: {d.describe()}"
        path.remember(conversation, d.plan.entity_ids)
    return path.analyse(case.text, conversation)


def judge(case: Case, decision: Decision) -> str:
    """``correct`` | ``wrong`` (acted, but not as expected: the figure that must stay 0) | ``missed`` | ``deferred``."""
    plan = decision.plan
    if plan is None:
        return "missed" if case.local else "deferred"
    if not case.local:
        return "wrong"
    expect = case.expect
    if "confirm" in expect:  # an action that waits for the owner's yes
        ok = plan.kind == "confirm" and sorted(plan.entity_ids) == sorted(expect["confirm"])
        return "correct" if ok else "wrong"
    if "status" in expect:
        return "correct" if plan.kind == "status" and sorted(plan.entity_ids) == sorted(expect["status"]) else "wrong"
    if len(plan.calls) != 1:
        return "wrong"
    call = plan.calls[0]
    data = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in call.data.items()}
    want = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in (expect.get("data") or {}).items()}
    ok = call.service == expect["service"] and sorted(call.entity_ids) == sorted(expect["entity_ids"]) and data == want
    return "correct" if ok else "wrong"


def new_path(registry: HomeRegistry, language: str = "en") -> FastPath:
    matcher = Matcher(language)
    matcher.refresh(registry)
    return FastPath(matcher, registry)
