"""A pairing flood, attacked from outside the running daemon: 30 strangers write at once.

Each gets at most one code (and within the hour's reply budget only), the owner gets one message, a real
person who writes after the flood is still recorded and paired by the owner, and "approve CODE" counts only
from the owner's address on WhatsApp itself: not from a paired friend, not from another channel whose sender
looks like the owner (the loopback channel of tests/plugins, its owner configured with the same number), not
from the web API. The digest that follows the owner's first notice is checked in-process, with a short window.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from claw.core import pairing
from claw.core.gate import Allowlist, SenderGate
from claw.core.inbox import Inbound, Inbox
from claw.core.outbox import Outbox
from claw.store.db import Database
from claw.store.migrations import migrate
from tests.fakes.llm import FakeLLM, Reply
from tests.fakes.twilio import FakeTwilio
from tests.harness import Daemon, wait_until
from tests.whatsapp.conftest import OWNER, TWILIO_ENV, query, say, wa_config

SITE = Path(__file__).parents[1] / "plugins" / "site"
LOOP_SECRET = "loop-secret-flood-1"
FRIEND = "+15557654321"
FLOOD = [f"+1555900{i:04d}" for i in range(30)]
NOTICES = "select text from outbox where recipient = ? and (text like '%wants to talk to me%' or text like '%asked to talk to me%')"


@dataclass
class Flooded:
    d: Daemon
    llm: FakeLLM
    twilio: FakeTwilio
    codes: dict[str, str]  # address -> code, after the flood
    sent_to: dict[str, int] = field(default_factory=dict)  # recipient -> messages Twilio was asked to send


def claw(d: Daemon, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "claw", *args], env=d.env, capture_output=True, text=True, timeout=60)


def codes(d: Daemon) -> dict[str, str]:
    return dict(query(d, "select address, code from pairing_codes"))  # type: ignore[arg-type]


def outbox_to(d: Daemon, recipient: str) -> list[str]:
    return [r[0] for r in query(d, "select text from outbox where recipient = ? order by id", recipient)]


@pytest.fixture(scope="module")
def flooded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flooded]:
    with FakeLLM() as llm, FakeTwilio() as twilio:
        home = tmp_path_factory.mktemp("flood") / "home"
        extra = f'[loopback]\nsent_file = "{home / "loop.jsonl"}"\nsecret = "{LOOP_SECRET}"\nallowed = ["{OWNER}"]\n'
        d = Daemon(home, wa_config(llm, twilio, extra=extra, allowed=[OWNER, FRIEND]),
                   {**TWILIO_ENV, "PYTHONPATH": str(SITE)})
        d.start()
        try:
            for i, number in enumerate(FLOOD):
                say(d, "hi", sender=number, profile=f"Spammer {i}")
            for number in FLOOD:  # everyone writes again: no second code, no second reply
                say(d, "hello??", sender=number)
            wait_until(lambda: query(d, "select count(*) from outbox where status != 'sent'") == [(0,)],
                       "the flood's replies delivered", d)
            sent: dict[str, int] = {}
            for m in twilio.sent():
                sent[m.to.removeprefix("whatsapp:")] = sent.get(m.to.removeprefix("whatsapp:"), 0) + 1
            yield Flooded(d, llm, twilio, codes(d), sent)
        finally:
            d.stop()


def test_a_flood_gets_each_stranger_one_code_at_most_and_the_owner_one_message(flooded):
    f = flooded
    assert sorted(f.codes) == sorted(FLOOD) and len(set(f.codes.values())) == len(FLOOD)
    replied = [n for n in FLOOD if f.sent_to.get(n)]
    assert all(f.sent_to.get(n, 0) <= 1 for n in FLOOD)
    assert len(replied) == pairing.REPLIES_PER_HOUR  # the hour's budget; the rest keep their code, unsent
    assert f.sent_to.get(OWNER) == 1
    [notice] = [r[0] for r in query(f.d, NOTICES, OWNER)]
    assert FLOOD[0] in notice and f.codes[FLOOD[0]] in notice and "together" in notice
    assert query(f.d, "select count(*) from inbox") == [(0,)]
    assert f.llm.requests == []
    listed = claw(f.d, "pairing", "list")
    assert listed.returncode == 0, listed.stderr
    assert all(code in listed.stdout for code in f.codes.values())  # everyone waits where the owner can see


def test_a_stranger_writing_again_gets_no_new_code_and_no_new_reply(flooded):
    d = flooded.d
    replied, unreplied = FLOOD[1], FLOOD[-1]
    before = {n: outbox_to(d, n) for n in (replied, unreplied)}
    assert len(before[replied]) == 1 and before[unreplied] == []
    for n in (replied, unreplied):
        for text in ("please", "let me in", "hi again"):
            say(d, text, sender=n)
    after = codes(d)
    assert after[replied] == flooded.codes[replied] and after[unreplied] == flooded.codes[unreplied]
    assert {n: outbox_to(d, n) for n in (replied, unreplied)} == before
    assert query(d, "select count(*) from pairing_codes where address in (?, ?)", replied, unreplied) == [(2,)]


def test_a_real_person_after_the_flood_is_recorded_and_the_owner_pairs_them(flooded):
    f = flooded
    d, alice = f.d, "+15558880001"
    f.llm.responder = lambda req: Reply(text="Hi Alice, welcome.")
    say(d, "hi, it's Alice from next door", sender=alice, profile="Alice")
    assert outbox_to(d, alice) == []  # the reply budget is spent this hour; the code is kept for the owner
    assert len(query(d, NOTICES, OWNER)) == 1  # she is in the window's digest, not a notice of her own
    listed = claw(d, "pairing", "list").stdout
    [line] = [ln for ln in listed.splitlines() if alice in ln]
    code = line.split()[0]
    say(d, f"approve {code}")  # the owner, on WhatsApp
    wait_until(lambda: any("Approved Alice" in t for t in outbox_to(d, OWNER)), "the owner's confirmation", d)
    wait_until(lambda: any("approved" in t.lower() for t in outbox_to(d, alice)), "Alice's welcome", d)
    say(d, "thanks!", sender=alice)
    wait_until(lambda: "Hi Alice, welcome." in outbox_to(d, alice), "Alice's first answer", d)


def test_approve_counts_only_from_the_owner_on_the_codes_own_channel(flooded):
    f = flooded
    d, target = f.d, FLOOD[2]
    code = f.codes[target]
    f.llm.responder = lambda req: Reply(text="I can't approve anything.")

    def still_pending() -> bool:
        return query(d, "select status from pairing_codes where code = ?", code) == [("pending",)] and \
            query(d, "select count(*) from allowed_senders where address = ?", target) == [(0,)]

    # a paired friend on WhatsApp: an ordinary message (a turn), not an approval
    say(d, f"approve {code}", sender=FRIEND)
    wait_until(lambda: outbox_to(d, FRIEND), "the friend's answer", d)
    assert still_pending()
    # another channel's sender with the owner's number (that channel's own owner)
    r = httpx.post(f"{d.url}/webhooks/loopback", json={"id": "m1", "from": OWNER, "text": f"approve {code}"},
                   headers={"X-Loopback-Secret": LOOP_SECRET}, timeout=10)
    assert r.status_code == 200 and r.json()["admitted"] == "owner", r.text
    assert still_pending()
    loop_replies = [t for t in outbox_to(d, OWNER) if "Could not approve" in t]
    assert len(loop_replies) == 1
    # the web API's token holder: a message to the model, never an approval
    d.say(f"approve {code}")
    assert still_pending()
    say(d, "still me", sender=target)  # and the stranger is still a stranger
    assert query(d, "select count(*) from inbox where sender = ?", target) == [(0,)]


def test_each_layer_of_the_approval_check_holds_on_its_own(tmp_path: Path):
    """The gate refuses anyone but the channel's owner, and a code is found only on its own channel."""
    db = Database(f"sqlite:///{tmp_path / 'claw.db'}")
    migrate(db.engine)
    gate = SenderGate({"whatsapp": Allowlist([OWNER, FRIEND]), "loopback": Allowlist([OWNER])})
    try:
        issued = db.run_sync(lambda c: pairing.issue(c, "whatsapp", FLOOD[0], None))
        assert issued is not None
        refused = [db.run_sync(lambda c, ch=ch, who=who: gate.approve(c, issued.code, ch, who))
                   for ch, who in (("whatsapp", FRIEND), ("loopback", OWNER), ("web", OWNER))]
        assert all(r.startswith("Could not approve") for r in refused), refused
        with pytest.raises(pairing.PairingError):
            db.run_sync(lambda c: pairing.approve(c, issued.code, channel="loopback"))
        assert db.run_sync(lambda c: pairing.is_allowed(c, "whatsapp", FLOOD[0])) is False
        assert db.run_sync(lambda c: gate.approve(c, issued.code, "whatsapp", OWNER)).startswith("Approved")
        assert db.run_sync(lambda c: pairing.is_allowed(c, "whatsapp", FLOOD[0])) is True
    finally:
        db.close()


def test_strangers_after_the_first_reach_the_owner_in_one_digest_at_the_windows_end(tmp_path: Path):
    """The window's end comes from a timer in the inbox; a window of a fraction of a second shows it fire."""

    async def scenario() -> tuple[list[Any], list[Any], list[Any]]:
        db = Database(f"sqlite:///{tmp_path / 'claw.db'}")
        migrate(db.engine)
        gate = SenderGate({"whatsapp": Allowlist([OWNER], label="WhatsApp")}, notice_window=timedelta(seconds=1.5))
        inbox = Inbox(db, gate, lambda conv: None, Outbox(db, {}))

        def notices() -> list[Any]:
            return db.run_sync(lambda c: c.exec_driver_sql(
                "select text from outbox where recipient = ? order by id", (OWNER,)).all())

        for i, number in enumerate(FLOOD[:12]):
            await inbox.publish(Inbound("whatsapp", f"SM{i}", number, "hi", f"Spammer {i}"))
        first = notices()
        await asyncio.sleep(2.0)  # past the window's end: the digest went out then, and a new window began
        second = notices()
        await asyncio.sleep(1.6)  # that window is over too: the next stranger is told at once
        await inbox.publish(Inbound("whatsapp", "SMx", "+15558880002", "hi", "Late"))
        third = notices()
        db.close()
        return first, second, third

    first, second, third = asyncio.run(scenario())
    assert len(first) == 1 and FLOOD[0] in first[0][0]
    assert len(second) == 2
    digest = second[1][0]
    assert digest.startswith("11 people asked to talk to me on WhatsApp:")
    assert FLOOD[11] in digest and "Spammer 11" in digest and "6 more" in digest and FLOOD[1] not in digest
    assert len(third) == 3 and "Late (+15558880002) wants to talk to me" in third[2][0]
