"""Restoring a backup writes only inside CLAW_HOME, never under a running daemon, never with an old WAL; a backup
is named for what it is."""

from __future__ import annotations

import fcntl
import io
import os
import signal
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.harness import Daemon
from tests.security.test_files import mode, run_claw


def archive(path: Path, *members: tuple[str, bytes | None, str]) -> Path:
    """A .tar.gz of (name, data, kind) members; kind "file", "dir", "symlink" or "hardlink" (data: the link)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(data or b"")
                tar.addfile(info, io.BytesIO(data or b""))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}[kind]
            info.linkname = (data or b"").decode()
            tar.addfile(info)
    return path


def sqlite_file(path: Path, *texts: str) -> bytes:
    """A one-table SQLite database holding ``texts``, as bytes."""
    con = sqlite3.connect(path)
    con.execute("create table notes (text)")
    con.executemany("insert into notes values (?)", [(t,) for t in texts])
    con.commit()
    con.close()
    return path.read_bytes()


def notes(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return [t for (t,) in con.execute("select text from notes order by rowid")]
    finally:
        con.close()


def everything_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("attack", ["dotdot", "absolute", "symlink", "hardlink", "symlink then file"])
def test_a_member_that_leads_outside_the_home_refuses_the_whole_restore(tmp_path: Path, attack: str):
    home, outside = tmp_path / "home", tmp_path / "outside"
    outside.mkdir()
    db = ("claw.db", sqlite_file(tmp_path / "src.db", "from the archive"), "file")
    evil = {
        "dotdot": [("skills/../../outside/X", b"owned", "file")],
        "absolute": [(str(outside / "X"), b"owned", "file")],
        "symlink": [("skills/x.py", str(outside / "X").encode(), "symlink")],
        "hardlink": [("skills/x.py", str(outside / "X").encode(), "hardlink")],
        # the classic: a link into the outside world, then a file written "through" it
        "symlink then file": [("skills/lib", str(outside).encode(), "symlink"), ("skills/lib/X", b"owned", "file")],
    }[attack]
    bad = archive(tmp_path / "bad.tar.gz", db, ("skills/ok.py", b"", "file"), *evil)
    out = run_claw(home, "restore", str(bad), ok=False)
    assert out.returncode == 1 and "refusing" in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert ("links are never restored" if "link" in attack else "points outside CLAW_HOME") in out.stderr
    assert everything_under(outside) == set()
    assert not (home / "claw.db").exists() and not (home / "skills").exists()  # nothing at all: checked first


def test_a_symlink_already_in_the_home_carries_no_write_out_of_it(tmp_path: Path):
    home, outside = tmp_path / "home", tmp_path / "outside"
    home.mkdir(mode=0o700)
    outside.mkdir()
    (home / "skills").symlink_to(outside)
    good = archive(tmp_path / "b.tar.gz", ("claw.db", sqlite_file(tmp_path / "src.db", "x"), "file"),
                   ("skills/x.py", b"print('hi')", "file"))
    out = run_claw(home, "restore", str(good), ok=False)
    assert out.returncode == 1 and "leads outside CLAW_HOME" in out.stderr
    assert everything_under(outside) == set() and not (home / "claw.db").exists()


def test_an_old_wal_left_beside_the_database_does_not_come_back(tmp_path: Path):
    """The home's database kept a WAL (a crash, or the daemon killed): rows in it must not reappear over the
    restored database, which SQLite would read through a WAL left beside it."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    backed_up = sqlite_file(tmp_path / "backup.db", "in the backup")
    (home / "claw.db").write_bytes(backed_up)
    subprocess.run([sys.executable, "-c", "import os, sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                    "c.execute('pragma journal_mode=wal'); c.execute('pragma wal_autocheckpoint=0'); "
                    "c.execute(\"insert into notes values ('written after the backup')\"); c.commit(); os._exit(0)",
                    str(home / "claw.db")], check=True)
    assert (home / "claw.db-wal").stat().st_size > 0
    restored = archive(tmp_path / "b.tar.gz", ("claw.db", backed_up, "file"))
    run_claw(home, "restore", "--force", str(restored))
    assert notes(home / "claw.db") == ["in the backup"]
    assert mode(home / "claw.db") == 0o600


def test_backup_is_named_for_what_it_is_and_restores(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    sqlite_file(home / "claw.db", "kept")
    (home / "web-token").write_text("secret-token\n")
    (home / "skills").mkdir()
    (home / "skills" / "mine.py").write_text("# a skill\n")
    (home / "skills" / "linked.py").symlink_to(tmp_path / "elsewhere.py")  # never archived: restore refuses links
    out = run_claw(home, "backup", str(tmp_path / "b.db"))
    written = tmp_path / "b.db.tar.gz"
    assert out.stdout.strip() == f"backup written to {written}" and not (tmp_path / "b.db").exists()
    assert "left out skills/linked.py" in out.stderr
    assert mode(written) == 0o600
    with tarfile.open(written) as tar:
        assert set(tar.getnames()) == {"claw.db", "web-token", "skills", "skills/mine.py"}
    assert run_claw(home, "backup", str(tmp_path / "c.tgz")).stdout.strip() == f"backup written to {tmp_path / 'c.tgz'}"

    fresh = tmp_path / "fresh"
    run_claw(fresh, "restore", str(written))
    assert notes(fresh / "claw.db") == ["kept"] and (fresh / "skills" / "mine.py").read_text() == "# a skill\n"
    assert mode(fresh) == 0o700 and mode(fresh / "claw.db") == 0o600 and mode(fresh / "web-token") == 0o600
    assert not list(fresh.glob(".*restore*"))  # no temporary files left


def test_restore_is_refused_while_the_daemon_runs_on_the_home(tmp_path: Path):
    d = Daemon(tmp_path / "home")
    d.start()
    try:
        backup = run_claw(d.home, "backup", str(tmp_path / "b.tar.gz"))
        assert "backup written" in backup.stdout
        before = (d.home / "claw.db").stat().st_ino
        out = run_claw(d.home, "restore", "--force", str(tmp_path / "b.tar.gz"), ok=False)
        assert out.returncode == 1 and "Traceback" not in out.stderr
        assert f"claw is running at {d.url} (pid {d.proc.pid}); stop it first" in out.stderr, out.stderr
        assert (d.home / "claw.db").stat().st_ino == before
        d.say("still here")
    finally:
        d.stop()
    run_claw(d.home, "restore", "--force", str(tmp_path / "b.tar.gz"))  # stopped: now it may


def test_a_daemon_cannot_start_while_a_restore_holds_the_home(tmp_path: Path):
    """The restore takes the daemon's own lock for its whole run: caught holding it (and frozen there), a daemon
    started meanwhile stops at once."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    big = archive(tmp_path / "big.tar.gz", ("claw.db", sqlite_file(tmp_path / "src.db", "x"), "file"),
                  *[(f"skills/blob{i}.bin", os.urandom(1 << 20), "file") for i in range(16)])
    restore = subprocess.Popen([sys.executable, "-m", "claw", "restore", str(big)],
                               env={**os.environ, "CLAW_HOME": str(home)}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        while restore.poll() is None and not held(home / "serve.lock"):
            pass
        restore.send_signal(signal.SIGSTOP)
        assert restore.poll() is None, "the restore ended before it was caught holding the lock"
        serve = run_claw(home, "serve", "--port", "0", ok=False, timeout=30)
        assert serve.returncode == 1 and "already running" in serve.stderr, serve.stderr
    finally:
        restore.send_signal(signal.SIGCONT)
        _, err = restore.communicate(timeout=60)
    assert restore.returncode == 0, err


def held(lock: Path) -> bool:
    """Someone holds the daemon lock on this home (the check ``claw.runfile.find`` makes)."""
    try:
        with open(lock) as f:
            try:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            return False
    except FileNotFoundError:
        return False
