"""One daemon for the whole fuzz package (starting one per example would take hours): web API and WhatsApp on."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.llm import FakeLLM, Reply
from tests.fakes.twilio import FakeTwilio
from tests.harness import Daemon, install_counter_skill
from tests.whatsapp.conftest import TWILIO_ENV, wa_config


class Live:
    def __init__(self, d: Daemon, llm: FakeLLM, twilio: FakeTwilio):
        self.d, self.llm, self.twilio = d, llm, twilio

    def count(self, table: str) -> int:
        con = sqlite3.connect(self.d.home / "claw.db", timeout=30)
        try:
            return con.execute(f"select count(*) from {table}").fetchone()[0]
        finally:
            con.close()

    def alive(self) -> bool:
        import httpx

        return self.d.proc is not None and self.d.proc.poll() is None and httpx.get(
            f"{self.d.url}/healthz", timeout=10).status_code == 200


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with FakeLLM() as llm, FakeTwilio() as twilio:
        llm.responder = lambda req: Reply(text="ok")
        home: Path = tmp_path_factory.mktemp("fuzz") / "home"
        d = Daemon(home, wa_config(llm, twilio, extra="[agent]\nmax_steps = 4\n[server]\nmax_body_bytes = 8192",
                                   rate_limit_per_minute=0), TWILIO_ENV)
        install_counter_skill(home)
        d.start()
        try:
            yield Live(d, llm, twilio)
        finally:
            d.stop()
