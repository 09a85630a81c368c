"""Storage that refuses writes is said so: at start-up in one line naming the file (no traceback), while running
in /healthz (a real write, not "the file opened"), and nothing acknowledged is lost.

Read-only and full file systems are made in a user + mount namespace (``unshare -rm``), where even root cannot
write them; without user namespaces these tests are skipped.
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness import Daemon, wait_until
from tests.security.test_files import run_claw

#: The commands that open the database, each with what it needs to get that far.
DB_COMMANDS = [["serve", "--port", "0"], ["tasks", "list"], ["usage"], ["pairing", "list"], ["memory", "facts"]]


@pytest.fixture(scope="module")
def namespaces(tmp_path_factory: pytest.TempPathFactory) -> None:
    where = tmp_path_factory.mktemp("ns-check")
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=1m tmpfs {where}"], capture_output=True).returncode:
        pytest.skip("user and mount namespaces are not available here")


def in_namespace(home: Path, setup: str, commands: list[list[str]]) -> list[tuple[int, str]]:
    """Run ``setup`` (mounts) then each claw command in one namespace; each command's exit code and stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAW_", "ANTHROPIC_", "OPENAI_", "TWILIO_"))}
    env["CLAW_HOME"] = str(home)
    out = home.parent / "ns-out"
    out.mkdir(exist_ok=True)
    script = ["set -e", setup, "set +e"]
    for i, args in enumerate(commands):  # a ceiling against a daemon that starts when it should not
        script.append(f"timeout -s KILL 30 {shlex.quote(sys.executable)} -m claw {shlex.join(args)} "
                      f">/dev/null 2>{out}/{i}.err </dev/null; echo $? > {out}/{i}.rc")
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", "\n".join(script)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return [(int((out / f"{i}.rc").read_text()), (out / f"{i}.err").read_text()) for i in range(len(commands))]


def assert_one_line(results: list[tuple[int, str]], *words: str) -> None:
    for args, (rc, err) in zip(DB_COMMANDS, results, strict=True):
        assert rc == 1 and "Traceback" not in err, (args, rc, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and all(w in lines[0] for w in words), (args, err)


def configured(tmp_path: Path, db: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir(mode=0o700, parents=True)
    (home / "config.toml").write_text(f'[claw]\ndatabase_url = "sqlite:///{db}"\n')
    return home


def test_a_database_folder_that_cannot_be_created_is_one_line(tmp_path: Path, namespaces: None):
    locked = tmp_path / "locked"
    locked.mkdir()
    db = locked / "sub" / "claw.db"
    results = in_namespace(configured(tmp_path, db), f"mount -t tmpfs -o ro,size=1m tmpfs {locked}", DB_COMMANDS)
    assert_one_line(results, str(db), "Read-only file system")


def test_a_read_only_database_file_is_one_line(tmp_path: Path, namespaces: None):
    db = tmp_path / "data" / "claw.db"
    home = configured(tmp_path, db)
    run_claw(home, "usage")  # made and migrated while it could be
    results = in_namespace(home, f"mount --bind -o ro {db} {db}", DB_COMMANDS[:1] + [["tasks", "add", "--in", "1h",
                                                                                       "--remind", "stretch"]])
    for rc, err in results:
        lines = err.strip().splitlines()
        assert rc == 1 and len(lines) == 1 and str(db) in lines[0] and "read-only" in lines[0], err


def test_a_full_disk_at_start_up_is_one_line(tmp_path: Path, namespaces: None):
    disk = tmp_path / "disk"
    disk.mkdir()
    seed = tmp_path / "seed" / "claw.db"
    run_claw(configured(tmp_path / "seed", seed), "usage")
    db = disk / "claw.db"
    home = configured(tmp_path, db)
    fill = f"dd if=/dev/zero of={disk}/fill bs=64k 2>/dev/null || true"
    results = in_namespace(home, f"mount -t tmpfs -o size=2m tmpfs {disk}\ncp {seed} {db}\n{fill}", DB_COMMANDS[:1])
    rc, err = results[0]
    lines = err.strip().splitlines()
    assert rc == 1 and len(lines) == 1 and str(db) in lines[0] and "disk is full" in lines[0], err


def health(d: Daemon) -> dict[str, Any]:
    return httpx.get(f"{d.url}/healthz", headers=d.auth(), timeout=10).json()


def test_healthz_says_when_the_disk_fills_and_nothing_acknowledged_is_lost(tmp_path: Path, namespaces: None,
                                                                            monkeypatch: pytest.MonkeyPatch):
    disk = tmp_path / "disk"
    disk.mkdir()
    home = tmp_path / "home"
    inner = tmp_path / "on-a-small-disk"  # mounts the disk in the daemon's namespace, then becomes the daemon
    inner.write_text(f"#!/bin/sh\nmount -t tmpfs -o size=8m tmpfs {disk} || exit 1\n"
                     f'exec {shlex.quote(sys.executable)} "$@"\n')
    inner.chmod(0o755)
    d = Daemon(home, f'[claw]\ndatabase_url = "sqlite:///{disk / "claw.db"}"\n')
    with monkeypatch.context() as m:  # the harness starts `sys.executable -m claw serve`: run that in there
        wrapper = tmp_path / "unshare-python"
        wrapper.write_text(f'#!/bin/sh\nexec unshare -rm {inner} "$@"\n')
        wrapper.chmod(0o755)
        m.setattr(sys, "executable", str(wrapper))
        d.start()
    try:
        assert d.proc is not None
        seen_disk = Path(f"/proc/{d.proc.pid}/root") / disk.relative_to("/")  # the daemon's view of its disk
        assert (seen_disk / "claw.db").exists()
        d.say("before the disk filled")
        assert health(d)["components"]["database"] == {"ok": True, "detail": "claw.db: writable"}

        filler = seen_disk / "filler"
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        full = wait_until(lambda: (h := health(d))["status"] == "degraded" and h, "degraded storage", d, timeout=20)
        assert "database" in full["degraded"] and "disk is full" in full["components"]["database"]["detail"], full
        acknowledged = d.post("while the disk is full").status_code == 200

        filler.unlink()
        wait_until(lambda: health(d)["components"]["database"]["ok"], "storage back", d, timeout=20)
        d.say("after the disk was freed")
        texts = [m["text"] for m in d.messages() if m["role"] == "user"]
        assert texts == ["before the disk filled"] + ["while the disk is full"] * acknowledged + [
            "after the disk was freed"], json.dumps(texts)
    finally:
        d.stop()


PROBE_ON_A_FULL_DISK = """
import subprocess, sys
from sqlalchemy import text
from claw.store.db import Database
from claw.store.migrations import migrate

disk = sys.argv[1]
db = Database(f"sqlite:///{disk}/claw.db")
migrate(db.engine)
assert db.probe() is None
with db.engine.connect() as conn:  # the next commit rewrites the WAL from its start: no new disk blocks
    conn.execute(text("PRAGMA wal_checkpoint(RESTART)"))
subprocess.run(["dd", "if=/dev/zero", f"of={disk}/fill", "bs=64k"], capture_output=True)
print(db.probe())
db.close()
"""


def test_the_probe_says_full_even_when_its_small_write_still_fits(tmp_path: Path, namespaces: None):
    """After a checkpoint SQLite reuses its WAL's blocks, so a small commit can succeed on a full disk while
    anything bigger fails: the probe looks at the free space too."""
    disk = tmp_path / "disk"
    disk.mkdir()
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", f'mount -t tmpfs -o size=4m tmpfs {disk} && '
                           f'exec {shlex.quote(sys.executable)} -c "$0" {disk}', PROBE_ON_A_FULL_DISK],
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[2])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "the disk is full (0 KiB free)", proc.stdout + proc.stderr
