"""Operations: backup while running and restore into a fresh home, the systemd unit, the security audit."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import httpx

from tests.conftest import anthropic_config
from tests.fakes.llm import Reply
from tests.harness import Daemon

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]


def claw(home: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("CLAW_", "ANTHROPIC_", "OPENAI_"))}
    env["CLAW_HOME"] = str(home)
    proc = subprocess.run([sys.executable, "-m", "claw", *args], env=env, capture_output=True, text=True, timeout=120)
    if ok:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def rows(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_backup_of_a_running_daemon_restores_into_a_fresh_home(fake_llm, daemon_factory, tmp_path):
    fake_llm.responder = lambda req: Reply(text=f"re: {req.last_user_text()}")
    d = daemon_factory(anthropic_config(fake_llm))
    d.say("remember that the spare key is under the blue pot")
    r = httpx.post(f"{d.url}/api/tasks", json={"kind": "reminder", "text": "water the plants", "delay": "2h"},
                   headers=d.auth(), timeout=30)
    assert r.status_code == 201, r.text
    gate = fake_llm.hold()  # a turn is in flight while the backup runs
    try:
        d.post("in flight", id="busy", timeout=1)
    except httpx.ReadTimeout:
        pass
    assert fake_llm.wait_for_requests(2, timeout=20)
    out = claw(d.home, "backup", str(tmp_path / "b.tar.gz"))
    gate.set()
    assert "backup written" in out.stdout
    archive = tmp_path / "b.tar.gz"
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(archive) as tar:
        assert {"claw.db", "config.toml", "web-token"} <= set(tar.getnames())

    fresh = tmp_path / "fresh"
    out = claw(fresh, "restore", str(archive))
    assert "restored" in out.stdout
    episodes = rows(fresh / "claw.db", "select text from memory_episodes")
    assert [t for (t,) in episodes if "blue pot" in t] == ["remember that the spare key is under the blue pot",
                                                          "re: remember that the spare key is under the blue pot"]
    assert claw(fresh, "restore", str(archive), ok=False).returncode != 0  # never over a database by accident
    d.stop()
    restored = Daemon(fresh, (fresh / "config.toml").read_text())
    try:
        restored.start()
        texts = [m["text"] for m in restored.messages()]
        assert texts[:2] == ["remember that the spare key is under the blue pot",
                             "re: remember that the spare key is under the blue pot"]
        tasks = httpx.get(f"{restored.url}/api/tasks", headers=restored.auth(), timeout=30).json()["tasks"]
        assert len(tasks) == 1 and "water the plants" in json.dumps(tasks[0]), tasks
        assert restored.token == d.token
        # the turn that was in flight during the backup is pending in the copy, and is answered once now
        restored.wait_for_replies(2)
        after = rows(fresh / "claw.db", "select text from memory_episodes")
        assert after[:len(episodes)] == episodes  # memory came across whole, nothing doubled
    finally:
        restored.stop()


def test_restore_ignores_foreign_members_and_refuses_non_backups(tmp_path):
    """Names that are not part of a backup are skipped (paths out of the home are refused: tests/security)."""
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        for name, data in (("claw.db", b""), ("notes.txt", b"x"), ("skills/ok.py", b"")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    home = tmp_path / "home"
    out = claw(home, "restore", str(foreign))
    assert "claw.db" in out.stdout
    assert not (home / "notes.txt").exists()
    assert (home / "skills" / "ok.py").exists()
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tarball")
    bad = claw(tmp_path / "other", "restore", str(junk), ok=False)
    assert bad.returncode != 0 and "cannot read" in bad.stderr and "Traceback" not in bad.stderr


def test_service_install_writes_a_restarting_user_unit(tmp_path):
    home = tmp_path / "home"
    out = claw(home, "service", "install", "--dir", str(tmp_path / "units"))
    unit = (tmp_path / "units" / "claw.service").read_text()
    assert "Restart=on-failure" in unit and f"Environment=CLAW_HOME={home}" in unit
    assert f"ExecStart={sys.executable} -m claw serve" in unit and "WantedBy=default.target" in unit
    assert "systemctl --user enable --now claw.service" in out.stdout


def test_dockerfile_has_a_healthcheck_on_healthz():
    dockerfile = (REPO / "Dockerfile").read_text()
    healthcheck = dockerfile[dockerfile.index("HEALTHCHECK"):]
    assert "/healthz" in healthcheck.split("\n\n")[0]


def test_security_audit_flags_each_problem_with_a_fix(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    (home / "web-token").write_text("t")
    (home / "web-token").chmod(0o644)
    (home / "config.toml").write_text("""
[server]
host = "0.0.0.0"

[llm]
api_key = "sk-ant-in-the-file"

[whatsapp]
from_number = "+14155238886"

[camera.driveway]
url = "http://192.168.1.20/snap.jpg"
""")
    (home / "config.toml").chmod(0o600)
    out = claw(home, "security", "audit", ok=False)
    assert out.returncode == 1
    text = out.stdout
    for problem, fix in [(f"{home} permissions 0o755", f"chmod 700 {home}"),
                         ("web-token permissions 0o644", "chmod 600"),
                         ("server binds 0.0.0.0", 'host = "127.0.0.1"'),
                         ("WhatsApp allowlist is empty", "allowed = "),
                         ("camera images may go to a cloud model", "allow_cloud_vision = false"),
                         ("API key is written in the config file", "environment")]:
        line = next((entry for entry in text.splitlines() if problem in entry), None)
        assert line is not None and line.startswith("FIX"), (problem, text)
        assert fix in text.split(line, 1)[1].lstrip("\n").splitlines()[0], (fix, text)
    assert "ok   Twilio webhook signature checking on" in text
    assert "sk-ant-in-the-file" not in text

    home.chmod(0o700)
    (home / "web-token").chmod(0o600)
    (home / "config.toml").write_text('[whatsapp]\nfrom_number = "+14155238886"\nallowed = ["+15551234567"]\n'
                                      'public_url = "https://claw.example.net"\n')
    out = claw(home, "security", "audit")
    assert "no problems found" in out.stdout, out.stdout
