"""The owner's right to be forgotten, end to end: after `claw memory forget` (or the model's `forget`
tool) the words are in no table, no FTS index and no byte of claw.db or its WAL, and the next
turn's prompt (built from the transcript) does not carry them. `claw serve` subprocesses, the
real anthropic SDK against the fake LLM, the real CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

from tests.conftest import anthropic_config
from tests.fakes.llm import Reply, ToolUse
from tests.harness import Daemon, counter_calls, install_counter_skill

SECRET = "my locker code at the Quokkaville gym is 31-17-42"
#: What must be gone: the place, its stem as the FTS index stores it, and the code.
WORDS = [b"quokkaville", b"quokkavil", b"31-17-42"]


def claw(d: Daemon, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "claw", *args], env=d.env, check=False, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def stored_copies(d: Daemon, words: list[bytes] = WORDS) -> list[str]:
    """``table.column`` of every value in claw.db holding one of ``words`` (case-insensitive): every
    table in sqlite_master, FTS indexes, their shadow tables (raw index blocks) and fts5vocab included."""
    found = set()
    with sqlite3.connect(d.home / "claw.db") as db:
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            try:
                cur = db.execute(f'SELECT * FROM "{name}"')
            except sqlite3.Error:
                continue
            cols = [c[0] for c in cur.description]
            for row in cur:
                for col, value in zip(cols, row, strict=True):
                    data = value.encode() if isinstance(value, str) else value if isinstance(value, bytes) else None
                    if data and any(w in data.lower() for w in words):
                        found.add(f"{name}.{col}")
    return sorted(found)


def file_copies(d: Daemon, words: list[bytes] = WORDS) -> list[str]:
    """Which of claw.db and its WAL still hold the bytes (free pages and old frames included)."""
    out = []
    for name in ("claw.db", "claw.db-wal"):
        path = d.home / name
        if path.exists() and any(w in path.read_bytes().lower() for w in words):
            out.append(name)
    return out


def leftovers(d: Daemon) -> list[str]:
    return stored_copies(d) + file_copies(d)


def wait_gone(d: Daemon, timeout: float = 30.0) -> None:
    """A deadline against hangs (the tool path checks the file once the turn is committed), not a timing claim."""
    deadline = time.monotonic() + timeout
    while leftovers(d) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert leftovers(d) == [], d.logs()[-3000:]


def body_text(req) -> str:
    return json.dumps(req.body, ensure_ascii=False).lower()


def tell_the_secret(fake_llm, d: Daemon) -> None:
    """Put the words everywhere a turn writes: inbox, transcript, outbox, journal (a tool call and a
    pending confirmation), usage, memory episodes and a fact."""
    fake_llm.script(
        Reply(tool_calls=[ToolUse("remember", {"statement": "The owner's locker code at the Quokkaville gym is 31-17-42"})]),
        Reply(text="Noted: your locker at the Quokkaville gym opens with 31-17-42."),
    )
    out = d.say(SECRET, id="secret-1")
    assert "Quokkaville" in out["reply"]
    fake_llm.script(Reply(text="I can open the vault for that.",
                          tool_calls=[ToolUse("open_vault", {"reason": "fetch the Quokkaville gym locker key"})]))
    out = d.say("open the vault, I need my gym key")
    assert "Reply yes to confirm" in out["reply"] and "Quokkaville" in out["reply"]


def test_cli_forget_match_leaves_no_copy_in_any_table_or_byte(fake_llm, daemon_factory):
    d = daemon_factory(anthropic_config(fake_llm), start=False)
    install_counter_skill(d.home)
    d.start()
    tell_the_secret(fake_llm, d)

    before = stored_copies(d)
    # The test can fail: the words really were in all the daemon's tables and memory's index.
    for where in ("inbox.text", "inbox.result", "outbox.text", "messages.text", "messages.meta", "turn_steps.data",
                  "pending_actions.args", "pending_actions.summary", "memory_episodes.text",
                  "memory_facts.statement", "memory_episodes_vocab.term"):
        assert where in before, before

    out = claw(d, "memory", "forget", "--match", "Quokkaville gym").stdout
    assert "1 fact(s)" in out and "cancelled 1 waiting confirmation(s)" in out, out
    assert stored_copies(d) == []
    assert file_copies(d) == []
    assert "quokkaville" not in json.dumps(d.messages()).lower()  # the web transcript
    assert "[forgotten]" in json.dumps(d.messages())  # rows kept, text redacted

    # The inbox row is still there: a retried webhook is still a no-op, and shows no text.
    again = d.post(SECRET, id="secret-1")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert "quokkaville" not in again.text.lower()

    # The next turn's prompt (recent window, memory context) does not carry it; the cancelled
    # confirmation cannot be approved any more.
    fake_llm.script(Reply(text="Yes to what?"))
    d.say("yes")
    req = fake_llm.requests[-1]
    assert req.last_user_text() == "yes"
    assert "[forgotten]" in body_text(req)  # the window was built from the redacted transcript
    for w in WORDS:
        assert w.decode() not in body_text(req)
    assert counter_calls(d.home, "vault.txt") == []
    with sqlite3.connect(d.home / "claw.db") as db:
        assert db.execute("SELECT status FROM pending_actions").fetchall() == [("cancelled",)]
        assert db.execute("SELECT count(*) FROM inbox").fetchone()[0] == 3  # rows kept
    assert leftovers(d) == []


def test_forget_tool_redacts_its_own_turn_too(fake_llm, daemon_factory):
    d = daemon_factory(anthropic_config(fake_llm), start=False)
    install_counter_skill(d.home)
    d.start()
    tell_the_secret(fake_llm, d)
    assert stored_copies(d)

    # Worst case: the model repeats the words in its reply after forgetting them.
    fake_llm.script(Reply(tool_calls=[ToolUse("forget", {"what": "Quokkaville"})]),
                    Reply(text="Done, I no longer know anything about Quokkaville."))
    out = d.say("forget everything about Quokkaville")
    assert out["actions"][0]["tool"] == "forget" and out["actions"][0]["ok"], out
    result = fake_llm.requests[-1].tool_results()[0]
    assert "forgot 1 fact(s)" in result.content and "quokkaville" not in result.content.lower()
    wait_gone(d)  # this turn's message, journal, reply and episodes included

    fake_llm.script(Reply(text="Hello!"))
    d.say("hello again")
    req = fake_llm.requests[-1]
    assert "[forgotten]" in body_text(req)
    for w in WORDS:
        assert w.decode() not in body_text(req)


def test_forget_by_episode_id_redacts_that_message_and_no_other(fake_llm, daemon_factory):
    d = daemon_factory(anthropic_config(fake_llm))
    fake_llm.script(Reply(text="Good to know."))
    d.say("the spare key is under the blue flowerpot")
    fake_llm.script(Reply(text="Then the blue watering can hides the spare key."))
    d.say("and the red flowerpot is empty")

    found = [json.loads(line) for line in claw(d, "memory", "search", "flowerpot", "watering", "--json").stdout.splitlines()]
    episodes = {r["text"]: r["id"] for r in found if r["type"] == "episode"}
    said = episodes["the spare key is under the blue flowerpot"]
    replied = episodes["Then the blue watering can hides the spare key."]
    assert "1 episode(s)" in claw(d, "memory", "forget", "--episode", str(said)).stdout
    assert "1 episode(s)" in claw(d, "memory", "forget", "--episode", str(replied)).stdout

    transcript = [(m["role"], m["text"]) for m in d.messages()]
    assert transcript == [("user", "[forgotten]"), ("assistant", "Good to know."),
                          ("user", "and the red flowerpot is empty"), ("assistant", "[forgotten]")]
    gone = [b"blue flowerpot", b"blue watering can"]
    assert stored_copies(d, gone) == [] and file_copies(d, gone) == []
    assert stored_copies(d, [b"red flowerpot"])  # only those two episodes' copies

    fake_llm.script(Reply(text="ok"))
    d.say("where is the key?")
    body = body_text(fake_llm.requests[-1])
    assert "red flowerpot" in body and "blue flowerpot" not in body and "blue watering can" not in body


def test_forget_fact_by_id_removes_verbatim_copies_of_its_statement(fake_llm, daemon_factory):
    d = daemon_factory(anthropic_config(fake_llm))
    fake_llm.script(Reply(tool_calls=[ToolUse("remember", {"statement": "The garage code is 4711"})]),
                    Reply(text="Stored."))
    d.say("remember that the garage code is 4711")
    fact = json.loads(claw(d, "memory", "facts", "--json").stdout.splitlines()[0])
    assert fact["statement"] == "The garage code is 4711"

    out = claw(d, "memory", "forget", str(fact["id"])).stdout
    assert "1 fact(s)" in out, out
    assert stored_copies(d, [b"garage code is 4711"]) == []  # the remember call, the message, the episodes
    assert file_copies(d, [b"garage code is 4711"]) == []
    assert [m["text"] for m in d.messages()] == ["[forgotten]", "Stored."]


def test_live_standing_tasks_are_listed_not_rewritten(daemon_factory):
    d = daemon_factory("", start=False)  # no daemon: both CLIs work on claw.db directly
    claw(d, "tasks", "add", "--in", "20m", "--remind", "call the Quokkaville gym about the locker")
    out = claw(d, "memory", "forget", "--match", "Quokkaville").stdout
    assert "still in standing task(s) #1" in out and "claw tasks rm 1" in out, out
    assert "call the Quokkaville gym" in claw(d, "tasks", "list", "--json").stdout
    assert stored_copies(d) == ["tasks.instruction", "tasks.title"]

    # Removed by the owner through a connection without secure_delete (SQLite's default on most
    # builds; Debian's zeroes by default, so it is turned off here): the row is gone, its bytes stay
    # in free space, and the next forget finds them in the file and rewrites it.
    db = sqlite3.connect(d.home / "claw.db")
    db.execute("PRAGMA secure_delete = OFF")
    with db:
        db.execute("DELETE FROM tasks WHERE id = 1")
    db.close()
    assert stored_copies(d) == [] and "claw.db" in file_copies(d)
    out = claw(d, "memory", "forget", "--match", "Quokkaville").stdout
    assert "standing task" not in out
    assert leftovers(d) == []


def test_match_digits_are_words_not_a_fact_id(daemon_factory):
    d = daemon_factory("", start=False)
    assert "fact #1" in claw(d, "memory", "remember", "The gate PIN is 4711").stdout
    out = claw(d, "memory", "forget", "--match", "4711").stdout
    assert out.startswith("forgot 1 fact(s)"), out
    assert stored_copies(d, [b"4711"]) == [] and file_copies(d, [b"4711"]) == []
