"""Operations: consistent backups while running, restore, and a systemd user unit."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO

from claw import runfile
from claw.config import Config

BACKUP_FILES = ("config.toml", "persona.md", "web-token")


class OpsError(Exception):
    """A backup, restore or install problem, phrased for the owner."""


def _sqlite_path(config: Config) -> Path:
    url = config.database_url
    if not url.startswith("sqlite:///"):
        raise OpsError(f"backup works on the SQLite database only (database_url is {url.split(':')[0]})")
    return Path(url.removeprefix("sqlite:///"))


def _private_file(path: Path) -> IO[bytes]:
    """A new file readable by the owner alone from its first byte (never chmod-ed after the data is in)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    return os.fdopen(fd, "wb")


def backup_name(dest: Path) -> Path:
    """Where a backup to ``dest`` goes: a folder gets claw-backup.tar.gz, a name gets .tar.gz unless it has it."""
    dest = dest.expanduser()
    if dest.is_dir():
        return dest / "claw-backup.tar.gz"
    if not dest.name.endswith((".tar.gz", ".tgz")):
        return dest.with_name(dest.name + ".tar.gz")  # it is one: `b.db` must not pass for a database
    return dest


def backup(config: Config, dest: Path, skipped: list[str] | None = None) -> Path:
    """Write a .tar.gz with a consistent copy of the database (SQLite online backup) and the home's files.

    Everything it writes, the copy in the temporary folder and the ``.partial`` archive included, is 0600 from
    the start: it holds the web token and the owner's memories. Returns the archive's final path; links under
    skills/ are left out (restore refuses them), their names appended to ``skipped``.
    """
    left_out = [] if skipped is None else skipped

    def plain(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if member.isfile() or member.isdir():
            return member
        left_out.append(member.name)
        return None

    db_path = _sqlite_path(config)
    if not db_path.exists():
        raise OpsError(f"no database at {db_path}: nothing to back up yet")
    dest = backup_name(dest)
    tmp_dest = dest.with_name(dest.name + ".partial")
    with tempfile.TemporaryDirectory() as tmp:  # 0700
        copy = Path(tmp) / "claw.db"
        _private_file(copy).close()
        src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)  # consistent even while the daemon writes
        finally:
            dst.close()
            src.close()
        tmp_dest.unlink(missing_ok=True)  # left by an interrupted backup
        try:
            with _private_file(tmp_dest) as out, tarfile.open(fileobj=out, mode="w:gz") as tar:
                tar.add(copy, arcname="claw.db")
                for name in BACKUP_FILES:
                    if (config.home / name).is_file():
                        tar.add(config.home / name, arcname=name)
                if (config.home / "skills").is_dir():
                    tar.add(config.home / "skills", arcname="skills", filter=plain)
            tmp_dest.replace(dest)
        except OSError as exc:
            tmp_dest.unlink(missing_ok=True)
            raise OpsError(f"cannot write {dest}: {exc.strerror or exc}") from None
    return dest


def _home_lock(home: Path) -> IO[str]:
    """Hold the home's daemon lock: refuse while claw runs on it, and keep it from starting until released."""
    try:
        return runfile.claim(home)
    except runfile.AlreadyRunning:
        other = runfile.find(home)
        where = f" at {other.url} (pid {other.pid})" if other else f" on {home}"
        raise OpsError(f"claw is running{where}; stop it first") from None


def _target(home: Path, db_path: Path, member: tarfile.TarInfo) -> Path | None:
    """Where a member goes, None for a name that is not claw's (skipped); OpsError for one that could write
    outside CLAW_HOME or is not a plain file or folder."""
    name = member.name
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts or not parts:
        raise OpsError(f"refusing {name!r}: it points outside CLAW_HOME")
    if member.issym() or member.islnk():
        raise OpsError(f"refusing {name!r}: links are never restored (it points at {member.linkname!r})")
    if not (member.isfile() or member.isdir()):
        raise OpsError(f"refusing {name!r}: not a plain file or folder")
    if name == "claw.db":
        return db_path if member.isfile() else None
    if not (name in BACKUP_FILES or parts[0] == "skills"):
        return None
    target = home.joinpath(*parts)
    # a symlink already in the home (skills -> /elsewhere) must not carry a write out of it
    if not target.parent.resolve().is_relative_to(home.resolve()) or target.is_symlink():
        raise OpsError(f"refusing {name!r}: {target} leads outside CLAW_HOME")
    return target


def restore(config: Config, source: Path, force: bool = False) -> list[str]:
    """Unpack a backup into CLAW_HOME. Refuses to overwrite an existing database unless ``force``.

    Refused, with nothing written: a running daemon on the home (its lock is held here until the end, so none
    starts half-way), members that are links or whose names lead outside the home. The database is written
    beside its place and renamed over it, after the old -wal/-shm are removed: an old WAL replayed over the
    restored file would bring back rows the backup does not have.
    """
    source = source.expanduser()
    if not source.is_file():
        raise OpsError(f"no backup file at {source}")
    db_path = _sqlite_path(config)
    home = config.home
    with _home_lock(home):
        if db_path.exists() and not force:
            raise OpsError(f"{db_path} exists; stop the daemon and pass --force to replace it")
        try:
            with tarfile.open(source, "r:gz") as tar:
                members = tar.getmembers()
                if not any(m.name == "claw.db" and m.isfile() for m in members):
                    raise OpsError(f"{source} is not a claw backup (no claw.db inside)")
                plan = [(m, target) for m in members if (target := _target(home, db_path, m)) is not None]
                restored = [_unpack(tar, member, target, db_path) for member, target in plan]
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            raise OpsError(f"cannot read {source}: {exc}") from None
        except OSError as exc:
            raise OpsError(f"cannot restore {source}: {exc.strerror or exc}"
                           + (f" ({exc.filename})" if exc.filename else "")) from None
    return [name for name in restored if name]


def _unpack(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, db_path: Path) -> str:
    """Write one checked member (0600 files, 0700 folders) by temp file and rename; its name, or "" for a folder."""
    if member.isdir():
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        return ""
    extracted = tar.extractfile(member)
    assert extracted is not None
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.restore-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    try:
        with _private_file(tmp) as f:
            shutil.copyfileobj(extracted, f)
            f.flush()
            os.fsync(f.fileno())
        if target == db_path:
            for suffix in ("-wal", "-shm"):
                target.with_name(target.name + suffix).unlink(missing_ok=True)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return member.name


UNIT = """[Unit]
Description=claw personal agent daemon
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
Environment=CLAW_HOME={home}
{env_file}ExecStart={exe} -m claw serve
Restart=on-failure
RestartSec=5
TimeoutStopSec=15
NoNewPrivileges=true
PrivateTmp=true

[Install]
WantedBy=default.target
"""


def install_service(config: Config, unit_dir: Path | None = None) -> Path:
    """Write a systemd user unit that restarts claw on failure; returns its path."""
    unit_dir = unit_dir or Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "systemd" / "user"
    unit_dir.mkdir(parents=True, exist_ok=True)
    env_file = config.home / "env"
    env_line = f"EnvironmentFile=-{env_file}\n"
    path = unit_dir / "claw.service"
    path.write_text(UNIT.format(home=config.home, exe=sys.executable, env_file=env_line))
    return path
