"""The web chat page in a real headless Chromium: type a message, see the reply and the tool that ran."""

from __future__ import annotations

import shutil

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from tests.conftest import anthropic_config
from tests.fakes.llm import Reply, ToolUse
from tests.harness import install_counter_skill

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_chat_shows_reply_and_tool(fake_llm, daemon_factory, browser):
    fake_llm.script(Reply(tool_calls=[ToolUse("bump", {"label": "from-browser"})]), Reply(text="Bumped it for you."))
    d = daemon_factory(anthropic_config(fake_llm), start=False)
    install_counter_skill(d.home)
    d.start()
    page = browser.new_page()
    page.goto(f"{d.url}/?token={d.token}")
    assert "token=" not in page.url  # the token leaves the address bar at once
    page.fill("#text", "please bump")
    page.click("#send")
    reply = page.locator(".msg.assistant", has_text="Bumped it for you.")
    expect(reply).to_be_visible(timeout=15_000)
    expect(reply.locator(".tool")).to_have_text("bump ✓")
    expect(page.locator(".msg.user", has_text="please bump")).to_have_count(1)
    page.reload()  # the token is remembered for the tab; history comes back
    expect(page.locator(".msg.assistant", has_text="Bumped it for you.")).to_be_visible(timeout=10_000)


def test_page_without_token_asks_for_the_link(daemon_factory, browser):
    d = daemon_factory("")
    page = browser.new_page()
    page.goto(f"{d.url}/")
    expect(page.locator("#auth")).to_contain_text("claw serve")


def test_on_a_phone_the_home_panel_opens_and_follows_the_house(daemon_factory, browser):
    d = daemon_factory("[tasks]\ngrace_seconds = 60\n")  # no LLM: the fast path turns the light off
    page = browser.new_page(viewport={"width": 390, "height": 844}, has_touch=True)
    page.goto(f"{d.url}/?token={d.token}")
    panel = page.locator("#side")
    expect(page.locator("#status")).to_have_text("online", timeout=10_000)
    expect(panel).to_be_hidden()
    page.tap("#panel")
    expect(panel).to_be_visible()
    kitchen = panel.locator(".ent", has_text="Kitchen Light").locator(".state")
    expect(kitchen).to_have_text("on, 80%")  # brightness, set-points and units, not a bare state
    expect(panel.locator(".ent", has_text="Thermostat").locator(".state")).to_have_text("heat, set 20 °C, now 19.5 °C")
    expect(panel.locator(".ent", has_text="Spa Temperature").locator(".state")).to_contain_text("°C")
    assert d.say("turn off the kitchen light")["handled_by"] == "local"  # another client: the page is not reloaded
    expect(kitchen).to_have_text("off", timeout=10_000)
    page.tap("#panel")
    expect(panel).to_be_hidden()
    r = httpx.post(f"{d.url}/api/tasks", json={"kind": "reminder", "text": "call mom", "delay": "1s"},
                   headers=d.auth(), timeout=10)
    assert r.status_code == 201
    expect(page.locator(".msg.notice", has_text="Reminder: call mom")).to_be_visible(timeout=15_000)
