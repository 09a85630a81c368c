"""Everything claw writes is the owner's alone: CLAW_HOME 0700, its files 0600, whatever the umask or the mode a
home already had, from the first byte (a backup being written included), and `claw security audit` agrees."""

from __future__ import annotations

import os
import resource
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import Daemon

#: Written by the test harness (the daemon's stdout), not by claw.
HARNESS_FILES = {"serve.log"}


def run_claw(home: Path, *args: str, ok: bool = True, umask: int = 0o022, env: dict[str, str] | None = None,
             timeout: float = 120, open_files: int | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m claw ARGS`` on ``home``, started under a loose umask (as from a default login shell), and
    ``open_files`` as its soft open-file limit if given."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CLAW_", "ANTHROPIC_", "OPENAI_", "TWILIO_"))}
    environ.update({"CLAW_HOME": str(home), "TZ": "UTC"}, **(env or {}))

    def prepare() -> None:
        os.umask(umask)
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    proc = subprocess.run([sys.executable, "-m", "claw", *args], env=environ, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, preexec_fn=prepare)
    if ok:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """Daemons started by the harness inherit this process's umask: make it the usual 022."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_a_fresh_install_over_a_0755_home_is_private_and_passes_its_own_audit(tmp_path: Path, loose_umask: None):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    out = run_claw(home, "init")
    assert f"wrote {home / 'config.toml'}" in out.stdout
    assert mode(home / "config.toml") == 0o600 and mode(home / "persona.md") == 0o600
    assert mode(home) == 0o700

    home.chmod(0o755)  # as an older claw, a restored tarball or the owner's mkdir left it
    d = Daemon(home, (home / "config.toml").read_text())
    try:
        d.start()
        d.say("hello")  # a turn, so the database writes and the WAL is in use
        assert (home / "claw.db-wal").exists() and (home / "claw.db-shm").exists()
        assert mode(home) == 0o700
        loose = {str(p.relative_to(home)): oct(mode(p)) for p in home.rglob("*")
                 if p.name not in HARNESS_FILES and mode(p) & 0o077}
        assert loose == {}, loose  # the database, -wal, -shm, web-token, serve.json/lock, skills/, data/...
        audit = run_claw(home, "security", "audit")
        for name in ("claw.db", "claw.db-wal", "claw.db-shm", "web-token", "config.toml"):
            assert f"ok   {home / name} permissions 0o600" in audit.stdout, audit.stdout
        assert f"ok   {home} permissions 0o700" in audit.stdout and "no problems found" in audit.stdout
    finally:
        d.stop()


def test_database_files_an_older_claw_left_readable_are_made_private(tmp_path: Path, loose_umask: None):
    """A database and WAL made 0644 before this release (kept by a crash, so the -wal is on disk) come up 0600."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    subprocess.run([sys.executable, "-c", "import os, sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                    "c.execute('pragma journal_mode=wal'); c.execute('create table old (x)'); c.commit(); os._exit(0)",
                    str(home / "claw.db")], check=True, preexec_fn=lambda: os.umask(0o022))
    assert mode(home / "claw.db") == 0o644 and mode(home / "claw.db-wal") == 0o644
    audit = run_claw(home, "security", "audit", ok=False)
    assert audit.returncode == 1 and f"FIX  {home / 'claw.db-wal'} permissions 0o644" in audit.stdout
    reader = sqlite3.connect(home / "claw.db")  # another reader keeps the -wal and -shm after claw exits
    try:
        assert reader.execute("select count(*) from old").fetchone() == (0,)
        run_claw(home, "usage")  # any command that opens the database
        assert {name: mode(home / name) for name in ("claw.db", "claw.db-wal", "claw.db-shm")} == {
            "claw.db": 0o600, "claw.db-wal": 0o600, "claw.db-shm": 0o600}
    finally:
        reader.close()


def test_init_force_replaces_a_readable_config_with_a_private_one(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text('[llm]\napi_key = "sk-old"\n')
    (home / "config.toml").chmod(0o644)
    run_claw(home, "init", "--force")
    assert mode(home / "config.toml") == 0o600 and "sk-old" not in (home / "config.toml").read_text()


def test_audit_flags_readable_wal_and_backups_left_in_the_home(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    for name in ("claw.db", "claw.db-wal", "claw.db-shm", "old.tar.gz", "b.tar.gz.partial"):
        (home / name).write_bytes(b"")
        (home / name).chmod(0o644)
    out = run_claw(home, "security", "audit", ok=False)
    for name in ("claw.db-wal", "claw.db-shm", "old.tar.gz", "b.tar.gz.partial"):
        line = f"FIX  {home / name} permissions 0o644"
        assert line in out.stdout and f"chmod 600 {home / name}" in out.stdout.split(line, 1)[1], out.stdout


def test_audit_flags_more_connections_than_the_open_file_limit_allows(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text("[server]\nmax_connections = 1000\n")
    (home / "config.toml").chmod(0o600)
    out = run_claw(home, "security", "audit", ok=False, open_files=512).stdout
    assert "FIX  [server] max_connections 1000 within the open-file limit 512" in out, out
    assert "lower [server] max_connections to 384" in out
    out = run_claw(home, "security", "audit", ok=False, open_files=4096).stdout
    assert "ok   [server] max_connections 1000 within the open-file limit 4096" in out, out


def test_a_backup_is_never_readable_by_others_not_even_while_it_is_written(tmp_path: Path, loose_umask: None,
                                                                          monkeypatch: pytest.MonkeyPatch):
    """The ``.partial`` archive holds the token and the memories from its first byte: it is created 0600, not
    chmod-ed once complete. Its mode is read while the archive is being compressed (a database of noise)."""
    from claw.cli import ops
    from claw.config import load_config

    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    con = sqlite3.connect(home / "claw.db")
    con.execute("create table noise (b blob)")
    con.executemany("insert into noise values (?)", [(os.urandom(1 << 20),) for _ in range(12)])
    con.commit()
    con.close()
    (home / "web-token").write_text("token\n")
    monkeypatch.setenv("CLAW_HOME", str(home))
    monkeypatch.delenv("CLAW_CONFIG", raising=False)
    config = load_config(None)
    dest = tmp_path / "out" / "b.tar.gz"
    dest.parent.mkdir()
    partial = dest.with_name("b.tar.gz.partial")
    seen: set[int] = set()
    result: list[Path] = []
    worker = threading.Thread(target=lambda: result.append(ops.backup(config, dest)))
    worker.start()
    while worker.is_alive():
        try:
            seen.add(mode(partial))
        except FileNotFoundError:
            time.sleep(0.0005)
    worker.join()
    assert result == [dest] and not partial.exists()
    assert seen == {0o600}, [oct(m) for m in seen]  # empty: the archive was written too fast to be seen
    assert mode(dest) == 0o600
