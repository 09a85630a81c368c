"""Operations: consistent backups while running, restore, and a systemd user unit."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tarfile
import tempfile
from pathlib import Path

from claw.config import Config

BACKUP_FILES = ("config.toml", "persona.md", "web-token")


class OpsError(Exception):
    """A backup, restore or install problem, phrased for the owner."""


def _sqlite_path(config: Config) -> Path:
    url = config.database_url
    if not url.startswith("sqlite:///"):
        raise OpsError(f"backup works on the SQLite database only (database_url is {url.split(':')[0]})")
    return Path(url.removeprefix("sqlite:///"))


def backup(config: Config, dest: Path) -> Path:
    """Write a .tar.gz with a consistent copy of the database (SQLite online backup) and the home's files."""
    db_path = _sqlite_path(config)
    if not db_path.exists():
        raise OpsError(f"no database at {db_path}: nothing to back up yet")
    dest = dest.expanduser()
    if dest.is_dir():
        dest = dest / "claw-backup.tar.gz"
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "claw.db"
        src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)  # consistent even while the daemon writes
        finally:
            dst.close()
            src.close()
        tmp_dest = dest.with_name(dest.name + ".partial")
        with tarfile.open(tmp_dest, "w:gz") as tar:
            tar.add(copy, arcname="claw.db")
            for name in BACKUP_FILES:
                if (config.home / name).exists():
                    tar.add(config.home / name, arcname=name)
            if (config.home / "skills").is_dir():
                tar.add(config.home / "skills", arcname="skills")
        os.chmod(tmp_dest, 0o600)  # it holds the web token and the owner's memories
        tmp_dest.replace(dest)
    return dest


def restore(config: Config, source: Path, force: bool = False) -> list[str]:
    """Unpack a backup into CLAW_HOME. Refuses to overwrite an existing database unless ``force``."""
    source = source.expanduser()
    if not source.is_file():
        raise OpsError(f"no backup file at {source}")
    db_path = _sqlite_path(config)
    if db_path.exists() and not force:
        raise OpsError(f"{db_path} exists; stop the daemon and pass --force to replace it")
    restored = []
    try:
        with tarfile.open(source, "r:gz") as tar:
            members = tar.getmembers()
            names = {m.name for m in members}
            if "claw.db" not in names:
                raise OpsError(f"{source} is not a claw backup (no claw.db inside)")
            config.home.mkdir(parents=True, exist_ok=True)
            for member in members:
                if member.name == "claw.db":
                    target = db_path
                elif member.name in BACKUP_FILES or member.name == "skills" or member.name.startswith("skills/"):
                    target = config.home / member.name
                else:
                    continue
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                if not member.isfile():
                    continue  # no links or devices from an archive
                extracted = tar.extractfile(member)
                assert extracted is not None
                target.parent.mkdir(parents=True, exist_ok=True)
                for suffix in ("-wal", "-shm"):
                    if member.name == "claw.db":
                        Path(str(target) + suffix).unlink(missing_ok=True)
                with open(target, "wb") as f:
                    shutil.copyfileobj(extracted, f)
                if member.name in ("web-token", "claw.db"):
                    os.chmod(target, 0o600)
                restored.append(member.name)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise OpsError(f"cannot read {source}: {exc}") from None
    return restored


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
