"""Config mistakes and bad HTTP input get clear errors, never a traceback or a 5xx."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from claw.config import ConfigError, load_config
from tests.harness import wait_until


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[agent]\nmax_stepz = 3\n", "agent.max_stepz: unknown key"),
        ("[agent]\nmax_steps = 'many'\n", "agent.max_steps"),
        ("[server]\nport = 99999\n", "server.port"),
        ("[claw]\ntimezone = 'Mars/Olympus'\n", "unknown time zone"),
        ("[llm]\nprovider = 'gemini'\n", "llm.provider"),
        ("[nonsense]\nx = 1\n", "[nonsense]: unknown section"),
        ("[skills.time]\nenabled = 'sometimes'\n", "skills.time.enabled"),
        ("[skills.nosuchskill]\nenabled = true\n", "no skill named 'nosuchskill'"),
        ("this is = not [toml\n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key_and_the_file(tmp_path, text, expected, monkeypatch):
    monkeypatch.setenv("CLAW_HOME", str(tmp_path))
    path = write(tmp_path, text)
    env = {**os.environ, "CLAW_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "claw", "--config", str(path), "serve", "--port", "0"],
                          capture_output=True, text=True, env=env, timeout=30, stdin=subprocess.DEVNULL)
    assert proc.returncode != 0
    assert expected in proc.stderr
    assert str(path) in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_config_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_no_config_file_is_a_valid_demo_setup(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAW_HOME", str(tmp_path))
    monkeypatch.delenv("CLAW_CONFIG", raising=False)
    config = load_config()
    assert config.source == "(defaults)"
    assert config.database_url == f"sqlite:///{tmp_path / 'claw.db'}"


def test_every_example_in_config_example_loads(tmp_path, monkeypatch):
    """The shipped example, with its commented-out options switched on, is valid."""
    monkeypatch.setenv("CLAW_HOME", str(tmp_path))
    example = Path(__file__).parent.parent / "config.example.toml"
    assert load_config(example).source == str(example)
    lines = []
    for line in example.read_text().splitlines():
        stripped = line.lstrip()
        # "# key = value" lines are options; "# [table]" lines are optional tables.
        if stripped.startswith("# ") and ("=" in stripped.split("#")[1] or stripped[2:].startswith("[")):
            candidate = stripped[2:]
            if candidate.startswith("[") or candidate.split("=")[0].strip().replace("_", "").isalnum():
                line = candidate
        lines.append(line)
    uncommented = write(tmp_path, "\n".join(lines))
    load_config(uncommented)


def test_web_token_file_is_private_and_present_before_healthz(daemon_factory):
    d = daemon_factory("")
    mode = (d.home / "web-token").stat().st_mode & 0o777
    assert mode == 0o600
    assert len(d.token) >= 32


@pytest.mark.parametrize(
    "kwargs, status, fragment",
    [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
        ({"content": b"\xff\xfe\x00", "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
        ({"json": {"sender": "me"}}, 422, "text"),
        ({"json": {"text": ""}}, 422, "text"),
        ({"json": {"text": "   "}}, 422, "blank"),
        ({"json": {"text": 5}}, 422, "text"),
        ({"json": ["text"]}, 400, "JSON object"),
        ({"json": {"text": "hi", "surprise": 1}}, 422, "surprise"),
        ({"json": {"text": "hi", "sender": "../../etc"}}, 422, "sender"),
        ({"content": b"text=hi", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 415, "JSON"),
        ({"json": {"text": "x" * 70_000}}, 413, "larger than"),
    ],
)
def test_bad_bodies_get_clear_4xx(daemon_factory, kwargs, status, fragment):
    d = daemon_factory("")
    headers = {**d.auth(), **kwargs.pop("headers", {})}
    r = httpx.post(f"{d.url}/api/messages", headers=headers, timeout=10, **kwargs)
    assert r.status_code == status, r.text
    assert fragment in r.json()["error"]


def test_wrong_or_missing_token_is_401(daemon_factory):
    d = daemon_factory("")
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": d.token}):
        r = httpx.post(f"{d.url}/api/messages", json={"text": "hi"}, headers=headers, timeout=10)
        assert r.status_code == 401
        assert d.token not in r.text
    assert httpx.get(f"{d.url}/api/messages", timeout=10).status_code == 401
    assert httpx.get(f"{d.url}/api/home", timeout=10).status_code == 401
    assert httpx.get(f"{d.url}/?token=wrong", timeout=10).status_code == 401
    assert httpx.get(f"{d.url}/healthz", timeout=10).status_code == 200
    assert httpx.get(f"{d.url}/nope", timeout=10).status_code == 404


def test_cli_say_and_skills_list(daemon_factory):
    d = daemon_factory("")
    env = {**d.env, "CLAW_URL": d.url}
    out = subprocess.run([sys.executable, "-m", "claw", "say", "hello", "there"], capture_output=True, text=True,
                         env=env, timeout=30, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    assert "ANTHROPIC_API_KEY" in out.stdout
    listing = subprocess.run([sys.executable, "-m", "claw", "skills", "list"], capture_output=True, text=True,
                             env=env, timeout=30, stdin=subprocess.DEVNULL)
    assert listing.returncode == 0
    assert "time" in listing.stdout and "current_time" in listing.stdout and "notify_owner" in listing.stdout
    camera = listing.stdout.split("camera", 1)[1].split("\nhome", 1)[0]
    assert "not configured: no [camera.NAME] configured" in camera and "camera_snapshot" not in listing.stdout


def test_cli_init_writes_config_and_persona_without_asking(tmp_path):
    env = {**os.environ, "CLAW_HOME": str(tmp_path / "h")}
    proc = subprocess.run([sys.executable, "-m", "claw", "init"], capture_output=True, text=True, env=env,
                          timeout=30, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "h" / "config.toml").exists() and (tmp_path / "h" / "persona.md").exists()
    assert load_config(tmp_path / "h" / "config.toml").claw.owner_name == "the owner"


def test_cli_init_writes_the_owners_name_into_the_config(tmp_path):
    env = {**os.environ, "CLAW_HOME": str(tmp_path / "h")}
    name = 'Ana "Bee" Núñez\\'
    proc = subprocess.run([sys.executable, "-m", "claw", "init", "--owner", name], capture_output=True, text=True,
                          env=env, timeout=30, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert load_config(tmp_path / "h" / "config.toml").claw.owner_name == name
    assert f"in {name}'s home" in (tmp_path / "h" / "persona.md").read_text()


def test_doctor_reports_llm_and_skills(fake_llm, tmp_path):
    home = tmp_path / "doc"
    home.mkdir()
    (home / "config.toml").write_text(f'[llm]\nprovider = "anthropic"\napi_key = "sk-ant-doctor-secret"\nbase_url = "{fake_llm.url}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC", "OPENAI"))}
    env["CLAW_HOME"] = str(home)
    proc = subprocess.run([sys.executable, "-m", "claw", "doctor"], capture_output=True, text=True, env=env,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert "anthropic" in proc.stdout and "reachable" in proc.stdout, proc.stdout + proc.stderr
    assert "skill time" in proc.stdout
    assert "sk-ant-doctor-secret" not in proc.stdout + proc.stderr
    assert proc.returncode == 0


def test_doctor_names_each_problems_section_and_a_provider_without_its_key(tmp_path):
    home = tmp_path / "doc"
    home.mkdir()
    (home / "config.toml").write_text('[foo]\nx = 1\n[llm]\nprovider = "openai"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC", "OPENAI"))} | {"CLAW_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-m", "claw", "doctor"], capture_output=True, text=True, env=env,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1
    assert 'FIX  llm: [llm] provider = "openai" has no API key: set OPENAI_API_KEY' in proc.stdout, proc.stdout
    assert "FIX  config [foo]:" in proc.stdout and "skills config" not in proc.stdout
    (home / "config.toml").write_text('[llm]\nprovider = "openai"\n')
    said = subprocess.run([sys.executable, "-m", "claw", "intents", "test", "write me a poem about autumn"],
                          capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL)
    out = json.loads(said.stdout)
    assert out["decision"] == "setup", out  # what the daemon would answer: the model is needed and missing
    assert 'provider = "openai" has no API key' in out["reply"] and "add an [llm]" not in out["reply"]


def test_healthz_and_doctor_agree_about_an_unreachable_model(daemon_factory):
    with socket.socket() as closed:  # a port nothing listens on: the model's server is down
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    d = daemon_factory(f'[llm]\nprovider = "anthropic"\napi_key = "sk-ant-x"\nbase_url = "http://127.0.0.1:{port}"\n'
                       "max_retries = 0\n")

    def failing() -> dict | None:
        health = httpx.get(f"{d.url}/healthz", headers=d.auth(), timeout=10).json()["components"]["llm"]
        return None if health["ok"] else health

    health = wait_until(failing, what="the model's probe", d=d)
    assert "could not be reached" in health["detail"], health  # before any message was sent
    doctor = subprocess.run([sys.executable, "-m", "claw", "doctor"], capture_output=True, text=True, env=d.env,
                            timeout=60, stdin=subprocess.DEVNULL)
    assert "FIX  llm: anthropic" in doctor.stdout, doctor.stdout


def test_broken_user_skill_is_reported_and_skipped(daemon_factory):
    d = daemon_factory("", start=False)
    (d.home / "skills").mkdir(parents=True)
    (d.home / "skills" / "broken.py").write_text("import definitely_not_a_module\n")
    d.start()
    health = httpx.get(f"{d.url}/healthz", headers=d.auth(), timeout=10).json()
    assert health["status"] == "degraded"
    assert "skills.broken" in health["degraded"]
    assert health["components"]["skills"]["time"]["ok"] is True


def test_cli_chat_reads_lines_until_end_of_input(daemon_factory):
    d = daemon_factory("")
    env = {**d.env, "CLAW_URL": d.url}
    proc = subprocess.run([sys.executable, "-m", "claw", "chat"], input="is the garage door open?\nhello\n",
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "closed" in proc.stdout.lower()  # answered locally from the demo home
    assert "ANTHROPIC_API_KEY" in proc.stdout  # the LLM-bound line gets the set-up answer
