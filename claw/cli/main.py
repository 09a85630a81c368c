"""The ``claw`` command line: serve, chat, say, init, doctor, skills, discover, usage.

Commands that talk to a running daemon use its HTTP API with the token in
``$CLAW_HOME/web-token``; the rest work on the files directly.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from functools import partial
from pathlib import Path
from typing import Any

import click

from claw.cli.common import config_of as _load
from claw.cli.common import daemon_auth, daemon_url, unreachable
from claw.config import Config, ConfigError, claw_home

#: Everything claw writes (the database and its -wal/-shm, backups, the token, skills' data) is the owner's alone.
PRIVATE_UMASK = 0o077


#: Options of ``claw`` itself that may also be written after the subcommand (``claw serve --config x.toml``).
ANYWHERE = ("--config", "--url", "--log-level")


def hoist(args: list[str]) -> list[str]:
    """Move ``ANYWHERE`` options (``--opt VALUE`` or ``--opt=VALUE``) to the front, where click reads a group's
    options; nothing after ``--`` is touched."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg.split("=", 1)[0] in ANYWHERE:
            take = 1 if "=" in arg else 2
            front += args[i:i + take]
            i += take
            continue
        rest.append(arg)
        i += 1
    return front + rest


class _Main(click.Group):
    """The ``claw`` group: its options may follow the subcommand; storage failures from any command (a full disk,
    a read-only database, a folder it cannot create) end in one line naming the file, never a traceback."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist(args))

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            from claw.store.db import DatabaseError, describe, storage_problem

            if isinstance(exc, DatabaseError):
                raise click.ClickException(str(exc)) from None
            if storage_problem(exc) is None:
                raise
            raise click.ClickException(describe(_load(ctx).database_url, exc)) from None


def private_home(home: Path) -> None:
    """Create CLAW_HOME 0700, or make an existing one so (it holds the token, the config and the memories)."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        if home.stat().st_mode & 0o077:
            home.chmod(0o700)
    except OSError as exc:  # not ours: `claw security audit` says what to do
        click.echo(f"warning: cannot make {home} private ({exc.strerror}); run `claw security audit`", err=True)


@click.group(cls=_Main)
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="Config file (default: $CLAW_CONFIG, then $CLAW_HOME/config.toml).")
@click.option("--url", default=None, metavar="URL",
              help="The daemon to talk to (default: $CLAW_URL, then where `claw serve` on this home listens).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default=None)
@click.version_option(package_name="claw")
@click.pass_context
def main(ctx: click.Context, config_file: str | None, url: str | None, log_level: str | None) -> None:
    """claw: a personal agent daemon for your home. Its options may also follow the command
    (`claw serve --config x.toml`)."""
    os.umask(PRIVATE_UMASK)  # before any command (and the daemon) creates a file, whatever the shell's umask
    if url:
        os.environ["CLAW_URL"] = url  # what every command that talks to the daemon reads (cli.common.daemon_url)
    ctx.ensure_object(dict)
    ctx.obj["config"] = config_file
    ctx.obj["log_level"] = log_level


# -- serve ------------------------------------------------------------------


@main.command()
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8750; 0 picks a free one).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Run the daemon: web chat, API, channels, skills, scheduler."""
    from claw import logging as claw_logging
    from claw.app import App
    from claw.runfile import AlreadyRunning
    from claw.store.db import DatabaseError
    from claw.web.server import ListenError

    config = _load(ctx)
    claw_logging.setup(ctx.obj.get("log_level") or config.claw.log_level)
    import structlog

    log = structlog.get_logger("claw")
    host = host or config.server.host
    port = config.server.port if port is None else port
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("server.exposed", host=host,
                    detail="the API is reachable from other machines; keep the token secret and prefer a tunnel")
    try:
        private_home(config.home)
        app = App(config)
    except (ConfigError, DatabaseError) as exc:
        raise click.ClickException(str(exc)) from None

    def ready(url: str) -> None:
        if sys.stderr.isatty():
            click.echo(f"claw is running. Web chat: {url}/?token={app.web_token}", err=True)
        else:  # stderr is a log (systemd, Docker): never write the token into it
            click.echo(f"claw is running. Web chat: {url}/?token=<the token in {app.home / 'web-token'}>", err=True)
        log.info("server.listening", url=url)

    try:
        with asyncio.Runner(loop_factory=_fast_loop()) as runner:
            runner.run(app.serve(host, port, on_ready=ready))
    except (ConfigError, DatabaseError, AlreadyRunning, ListenError) as exc:
        raise click.ClickException(str(exc)) from None
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


def _fast_loop() -> Any:
    """uvloop's event loop when installed (about twice the webhook throughput), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


# -- talking to a running daemon -----------------------------------------------


def _api(config: Config) -> tuple[str, dict[str, str]]:
    auth = daemon_auth(config)
    if auth is None:
        raise click.ClickException(f"no token at {config.home / 'web-token'}: start the daemon first with `claw serve`")
    return daemon_url(config), auth


def _send(config: Config, text: str, sender: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text}
    if sender:
        body["sender"] = sender
    return _post(config, "/api/messages", body, config.server.reply_timeout + 10)


def _post(config: Config, path: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
    import httpx

    url, headers = _api(config)
    try:
        r = httpx.post(f"{url}{path}", json=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise unreachable(url, exc) from None
    data = r.json() if r.headers.get("content-type", "").startswith("application/json") else {"error": r.text}
    if r.status_code >= 400:
        raise click.ClickException(data.get("error", f"HTTP {r.status_code}"))
    return data


def _print_reply(data: dict[str, Any]) -> None:
    for action in data.get("actions", []):
        mark = ("ok" if action.get("ok") else "waiting" if action.get("pending_confirmation")
                else "not run" if action.get("not_run") else "failed")
        click.secho(f"  [{action['tool']} {mark}]", fg="bright_black", err=True)
    click.echo(data.get("reply") or data.get("detail", ""))


@main.command()
@click.argument("text", nargs=-1, required=True)
@click.option("--sender", default=None, help="Speak as another web sender (a separate conversation).")
@click.option("--json", "as_json", is_flag=True, help="Print the API response as JSON.")
@click.pass_context
def say(ctx: click.Context, text: tuple[str, ...], sender: str | None, as_json: bool) -> None:
    """Send one message to the running daemon and print the reply."""
    data = _send(_load(ctx), " ".join(text), sender)
    click.echo(json.dumps(data, indent=2)) if as_json else _print_reply(data)


@main.command()
@click.option("--sender", default=None, help="Speak as another web sender (a separate conversation).")
@click.pass_context
def chat(ctx: click.Context, sender: str | None) -> None:
    """Interactive chat with the running daemon (Ctrl-D to leave); what claw sends on its own shows up live."""
    import httpx

    from claw.cli.live import Follower, last_id

    config = _load(ctx)
    url, headers = _api(config)
    who = sender or "owner"
    try:
        after = last_id(url, headers, who)
    except httpx.HTTPError as exc:
        raise unreachable(url, exc) from None

    def show(line: dict[str, Any]) -> None:
        click.echo(f"\r{line['text']}\nyou> ", nl=False)

    follower = Follower(url, headers, who, after, show)
    follower.start()
    try:
        while True:
            try:
                text = input("you> ").strip()
            except (EOFError, KeyboardInterrupt):
                click.echo()
                return
            if not text:
                continue
            try:
                data = _send(config, text, sender)
            except click.ClickException as exc:
                click.secho(exc.message, fg="red", err=True)
                continue
            if data.get("status") == "accepted":  # still working: the stream prints the reply when it comes
                follower.mark_late(data["id"])
                click.secho("(still working; the reply will appear here)", fg="bright_black", err=True)
            else:
                _print_reply(data)
    finally:
        follower.stopped.set()


# -- set-up and checks ----------------------------------------------------------


OWNER_LINE = 'owner_name = "the owner"'


@main.command()
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option("--owner", default=None, help="What claw calls you (asked when run at a terminal).")
def init(force: bool, owner: str | None) -> None:
    """Write a commented config.toml and persona.md into CLAW_HOME."""
    from importlib import resources

    from claw.agent.persona import DEFAULT_PERSONA

    home = claw_home()
    private_home(home)
    config_text = resources.files("claw").joinpath("config.example.toml").read_text(encoding="utf-8")
    if owner is None:
        owner = click.prompt("What should claw call you?", default="the owner") if sys.stdin.isatty() else "the owner"
    owner = " ".join(owner.split()) or "the owner"
    assert OWNER_LINE in config_text, "config.example.toml lost its owner_name line"
    config_text = config_text.replace(OWNER_LINE, f"owner_name = {json.dumps(owner, ensure_ascii=False)}", 1)
    for name, content in (("config.toml", config_text), ("persona.md", DEFAULT_PERSONA.format(owner=owner) + "\n")):
        path = home / name
        if path.exists() and not force:
            click.echo(f"kept {path} (exists; --force to overwrite)")
            continue
        _write_private(path, content)
        click.echo(f"wrote {path}")
    (home / "skills").mkdir(mode=0o700, exist_ok=True)
    click.echo("Next: put your API key in the environment (ANTHROPIC_API_KEY=...) and run `claw serve`.")


def _write_private(path: Path, content: str) -> None:
    """Write ``path`` 0600 from its first byte (the config may hold keys), replacing what was there."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(content)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@main.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check config, database, LLM, channels and skills, and say what to fix."""
    from claw.cli.doctor import run_doctor

    ok = asyncio.run(run_doctor(ctx.obj.get("config")))
    sys.exit(0 if ok else 1)


@main.group()
def skills() -> None:
    """Installed skills."""


@skills.command("list")
@click.pass_context
def skills_list(ctx: click.Context) -> None:
    """List discovered skills: enabled or not, configured or not, and the tools each offers the model."""
    from claw import logging as claw_logging
    from claw.skillset import discover, skill_config

    config = _load(ctx)
    claw_logging.setup("error")
    found = discover(config.home)
    offered = asyncio.run(_offered_tools(config, found))
    for cls, origin in found.classes:
        declared = sorted(getattr(m, "__name__", "") for m in vars(cls).values() if hasattr(m, "__claw_tool__"))
        try:
            enabled = skill_config(cls, config).enabled
            state = "enabled" if enabled else "disabled"
        except ConfigError as exc:
            enabled, state = False, f"config error: {exc}"
        tools, detail = offered.get(cls.name, (declared, ""))
        if enabled and declared and not tools:  # set up, but with nothing to offer (no [camera.NAME], say)
            state = "enabled, not configured" + (f": {detail}" if detail else "")
        click.echo(f"{cls.name:<12} {state:<9} {origin}")
        doc = (cls.__doc__ or "").strip().splitlines()
        if doc:
            click.echo(f"    {doc[0]}")
        if tools:
            click.echo(f"    tools: {', '.join(sorted(tools))}")
    for p in found.problems:
        click.secho(f"{p.name:<12} FAILED    {p.stage}: {p.error}", fg="red")


async def _offered_tools(config: Config, found: Any) -> dict[str, tuple[list[str], str]]:
    """Each enabled skill set up as the daemon would: the tools it offers, and its health in words."""
    from claw.skillset import SkillSet, standalone_context

    skills = SkillSet()
    try:
        await skills.load(config, standalone_context(config), found)
    except ConfigError:
        return {}  # the config error is shown per skill above
    try:
        health = skills.health()
        return {s.name: ([t.name for t in s.tools()], str(health.get(s.name, {}).get("detail", "")))
                for s in skills.skills}
    finally:
        await skills.close()


@main.group("intents")
def intents_group() -> None:
    """The local fast path (home commands answered without the LLM)."""


@intents_group.command("test")
@click.argument("text", nargs=-1, required=True)
@click.option("--sender", default="owner", help="Sender whose area applies ([skills.intents] areas).")
@click.option("--llm/--no-llm", "llm", default=None,
              help="Answer as with or without a language model (default: as configured).")
@click.pass_context
def intents_test(ctx: click.Context, text: tuple[str, ...], sender: str, llm: bool | None) -> None:
    """Show what the daemon would answer to a sentence from the owner, acting on nothing: the decision
    (local, confirm, planner or setup), the reply text, and the readings behind it, as JSON (logs on stderr)."""
    from claw import logging as claw_logging
    from claw.agent.confirm import question
    from claw.agent.turn import no_model_reply
    from claw.core.skill_state import SkillState
    from claw.providers.llm import resolve
    from claw.skillset import SkillSet, standalone_context
    from claw.store.db import Database
    from claw.store.migrations import migrate

    config = _load(ctx)
    claw_logging.setup(ctx.obj.get("log_level") or "warning")
    if llm is None:
        plugin, resolved = resolve(config.llm)
        llm = plugin is not None and plugin.usable(resolved)  # as the daemon decides (build_model)
    db = Database(config.database_url)
    migrate(db.engine)

    async def run() -> dict[str, Any]:
        skillset = SkillSet()  # the daemon's skills on its database: adopted devices included
        await skillset.load(config, standalone_context(config, state=lambda name: SkillState(db, name)))
        try:
            skill = next((s for s in skillset.skills if s.name == "intents"), None)
            if skill is None or not hasattr(skill, "explain"):
                return {"error": "the intents skill is not loaded (is hassil installed?)"}
            return await skill.explain(" ".join(text), sender=sender, llm=llm)
        finally:
            await skillset.close()

    try:
        result = asyncio.run(run())
    finally:
        db.close()
    if "error" in result:
        raise click.ClickException(result["error"])
    answer = result.pop("answer")
    out: dict[str, Any]
    if answer and answer["confirm"]:
        out = {"decision": "confirm", "reply": question(answer["confirm"]["summary"], config.agent.confirm_minutes)}
    elif answer:
        out = {"decision": "local", "reply": answer["text"]}
    elif llm:
        out = {"decision": "planner", "reply": None}  # the model answers; nothing is decided here
    else:
        hint = config.source if config.source != "(defaults)" else str(config.home / "config.toml")
        out = {"decision": "setup", "reply": no_model_reply(config.llm, hint)}
    click.echo(json.dumps({**out, **result}, indent=2, ensure_ascii=False, default=str))


@main.group("pairing")
def pairing_group() -> None:
    """Who may talk to the claw besides the numbers in the config (works with the daemon running or not)."""


def _pairing_db(ctx: click.Context) -> Any:
    from claw.store.db import Database
    from claw.store.migrations import migrate

    db = Database(_load(ctx).database_url)
    migrate(db.engine)
    return db


def _allowlists(config: Config) -> dict[str, list[str]]:
    """Each configured channel's own list of who may talk (the owner first)."""
    from claw import plugins

    out = {}
    for name, cfg in config.channels.items():
        lst = plugins.load(plugins.CHANNELS, name).allowlist(cfg)
        if lst is not None:
            out[name] = lst.allowed
    return out


@pairing_group.command("list")
@click.pass_context
def pairing_list(ctx: click.Context) -> None:
    """Configured senders of each channel, paired senders and pending codes."""
    from claw.core import pairing

    config = _load(ctx)
    db = _pairing_db(ctx)
    paired = db.run_sync(pairing.senders)
    waiting = db.run_sync(lambda c: pairing.pending(c))
    db.close()
    lists = _allowlists(config)
    for channel, allowed in lists.items():
        click.echo(f"configured ([{channel}] allowed):")
        for i, address in enumerate(allowed):
            click.echo(f"  {address}{'  (owner)' if i == 0 else ''}")
        if not allowed:
            click.echo("  (none)")
    if not lists:
        click.echo("configured: (no channel with an allowlist is configured)")
    click.echo("paired:")
    for s in paired:
        click.echo(f"  {s.address:<16} {s.channel:<9} {s.name or '':<20} since {s.added_at:%Y-%m-%d %H:%M} UTC via {s.via}")
    if not paired:
        click.echo("  (none)")
    click.echo("waiting for approval:")
    for c in waiting:
        click.echo(f"  {c.code}  {c.address:<16} {c.channel:<9} {c.name or '':<20} expires {c.expires_at:%H:%M} UTC")
    if not waiting:
        click.echo("  (none)")


@pairing_group.command("approve")
@click.argument("code")
@click.pass_context
def pairing_approve(ctx: click.Context, code: str) -> None:
    """Let the sender holding CODE talk to the claw (not as the owner)."""
    from claw.core import pairing

    db = _pairing_db(ctx)

    def approve(conn: Any) -> pairing.Code:
        found = pairing.approve(conn, code)
        pairing.queue_welcome(conn, found.channel, found.address)
        return found

    try:
        found = db.run_sync(approve)
    except pairing.PairingError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.close()
    click.echo(f"approved {found.address}{' (' + found.name + ')' if found.name else ''} on {found.channel}")


@pairing_group.command("revoke")
@click.argument("address")
@click.option("--channel", default=None, help="The channel (default: the only one with pairing).")
@click.pass_context
def pairing_revoke(ctx: click.Context, address: str, channel: str | None) -> None:
    """Stop a paired sender from talking to the claw."""
    from claw.core import pairing

    config = _load(ctx)
    lists = _allowlists(config)
    if channel is None:
        if len(lists) > 1:
            raise click.ClickException(f"say which channel: --channel {' or --channel '.join(sorted(lists))}")
        channel = next(iter(lists), "whatsapp")
    if address in lists.get(channel, []):
        raise click.ClickException(f"{address} is in [{channel}] allowed in {config.source}; remove it there")
    db = _pairing_db(ctx)
    removed = db.run_sync(lambda c: pairing.revoke(c, channel, address))
    db.close()
    if not removed:
        raise click.ClickException(f"{address} is not a paired sender on {channel} (see `claw pairing list`)")
    click.echo(f"revoked {address}")


@main.command("discover")
@click.option("--timeout", type=click.FloatRange(0.1, 60), default=None,
              help="Seconds each search (SSDP, mDNS, port probe) may take; they run at the same time "
                   "(default: [home.discovery] timeout).")
@click.option("--subnet", "subnets", multiple=True, metavar="CIDR",
              help="Network to probe, repeatable (default: [home.discovery] subnets, else this box's own networks, "
                   "each at most a /24). Given subnets turn multicast off unless the config turns it on.")
@click.option("--interface", "interfaces", multiple=True, metavar="ADDR",
              help="IPv4 address to send SSDP/mDNS from, repeatable (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print what was found as JSON.")
@click.option("--adopt", is_flag=True, help="Start using what was found (the running daemon keeps it in claw.db).")
@click.option("--list", "listing", is_flag=True, help="List the devices adopted so far, without searching.")
@click.option("--forget", "forget", multiple=True, metavar="ADDR", help="Stop using an adopted device, repeatable.")
@click.pass_context
def discover_devices(ctx: click.Context, timeout: float | None, subnets: tuple[str, ...], interfaces: tuple[str, ...],
                     as_json: bool, adopt: bool, listing: bool, forget: tuple[str, ...]) -> None:
    """Find home devices on the local network; --adopt starts using them, --list and --forget manage them.

    The search comes from an installed skill whose class offers ``cli_discover`` (and ``cli_devices``, the
    tool call that adopts, lists or forgets), as the home skill does: claw itself knows no device protocol.
    Adopting goes through the running daemon, so the devices come up at once and stay after a restart.
    """
    from claw.skillset import discover as find_skills
    from claw.skillset import skill_config

    config = _load(ctx)
    hooks = [cls for cls, _ in find_skills(config.home).classes if callable(getattr(cls, "cli_discover", None))]
    if not hooks:
        raise click.ClickException("no installed skill offers device discovery (is the home skill installed?)")
    for cls in hooks:
        manage: Any = getattr(cls, "cli_devices", None)
        if manage is None and (listing or forget or adopt):
            raise click.ClickException(f"the {cls.name} skill finds devices but cannot adopt them")
        if listing or forget:
            tool, arguments = manage("forget" if forget else "list", list(forget))
            click.echo(_post(config, f"/api/tools/{tool}", {"arguments": arguments}, 60)["content"])
            continue
        if adopt:
            _api(config)  # say at once when there is no daemon to adopt into
        try:
            text, found = asyncio.run(cls.cli_discover(  # type: ignore[attr-defined]
                skill_config(cls, config), timeout=timeout, subnets=list(subnets), interfaces=list(interfaces),
                as_json=as_json, adopting=adopt))
        except (ValueError, ConfigError) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(text)
        if adopt and found and manage is not None:
            tool, arguments = manage("adopt", found)
            click.echo(_post(config, f"/api/tools/{tool}", {"arguments": arguments}, 120)["content"])


@main.command()
@click.option("--by", type=click.Choice(["day", "conversation", "task"]), default=None, help="Only one grouping.")
@click.pass_context
def usage(ctx: click.Context, by: str | None) -> None:
    """Token usage and estimated cost, by day, by conversation and by task (0 = not a task)."""
    from claw.providers import usage as usage_mod
    from claw.store.db import Database
    from claw.store.migrations import migrate

    config = _load(ctx)
    db = Database(config.database_url)
    migrate(db.engine)
    for group in [by] if by else ["day", "conversation", "task"]:
        rows = db.run_sync(partial(usage_mod.totals, by=group))
        click.echo(f"by {group}:")
        if not rows:
            click.echo("  (no LLM calls recorded)")
        for r in rows:
            click.echo(
                f"  {str(r['key']):<28} calls {r['calls']:>5}  in {r['input']:>9}  out {r['output']:>8}  "
                f"cache r/w {r['cache_read']:>8}/{r['cache_write']:<8} ~${r['cost']:.4f}"
            )
    err = db.run_sync(usage_mod.estimate_error)
    if err["calls"]:
        click.echo(f"budget checks: {err['calls']} calls, prompts counted {err['estimated']} tokens, providers "
                   f"reported {err['actual']} ({(err['actual'] - err['estimated']) / max(1, err['estimated']):+.1%}); "
                   f"the most one call's count fell short: {max(0, err['worst_under'])} tokens (what a budget "
                   "may be overshot by)")
    db.close()


# -- operations and security (claw.cli.ops, claw.cli.audit) ------------------------------


@main.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.pass_context
def backup_cmd(ctx: click.Context, path: Path) -> None:
    """Write a consistent backup of CLAW_HOME, a .tar.gz (appended to PATH when missing); safe while the daemon
    runs. The archive is 0600: it holds the web token and the owner's memories."""
    from claw.cli import ops

    skipped: list[str] = []
    try:
        written = ops.backup(_load(ctx), path, skipped)
    except ops.OpsError as exc:
        raise click.ClickException(str(exc)) from None
    for name in skipped:
        click.echo(f"left out {name}: not a plain file (back up what it points to yourself)", err=True)
    click.echo(f"backup written to {written}")


@main.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing database (stop the daemon first).")
@click.pass_context
def restore_cmd(ctx: click.Context, path: Path, force: bool) -> None:
    """Restore a backup made by `claw backup` into CLAW_HOME (refused while the daemon runs on it)."""
    from claw.cli import ops

    config = _load(ctx)
    private_home(config.home)
    try:
        restored = ops.restore(config, path, force=force)
    except ops.OpsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {', '.join(restored)} into {config.home}; start it with `claw serve`")


@main.group("service")
def service_group() -> None:
    """Run claw as a service."""


@service_group.command("install")
@click.option("--dir", "unit_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write claw.service (default ~/.config/systemd/user).")
@click.pass_context
def service_install(ctx: click.Context, unit_dir: Path | None) -> None:
    """Write a systemd user unit that restarts claw on failure, and say how to enable it."""
    from claw.cli import ops

    try:
        path = ops.install_service(_load(ctx), unit_dir)
    except (ops.OpsError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {path}\nEnable it with:\n  systemctl --user daemon-reload\n"
               "  systemctl --user enable --now claw.service\n"
               "  loginctl enable-linger $USER   # keep it running after you log out")


@main.group("security")
def security_group() -> None:
    """Security checks."""


@security_group.command("audit")
@click.pass_context
def security_audit(ctx: click.Context) -> None:
    """Check permissions, bind address, allowlist, cloud vision and webhook signatures; say how to fix each."""
    from claw.cli.audit import audit

    findings = audit(_load(ctx))
    for f in findings:
        click.echo(f"{'ok  ' if f.ok else 'FIX '} {f.what}" + ("" if f.ok else f"\n     -> {f.detail}"))
    bad = sum(not f.ok for f in findings)
    click.echo(f"{bad} problem(s) found" if bad else "no problems found")
    sys.exit(1 if bad else 0)


def _add_tasks_commands() -> None:
    from claw.tasks.cli import tasks_group

    main.add_command(tasks_group)


_add_tasks_commands()


def _add_memory_commands() -> None:
    from claw.recall.cli import memory_group

    main.add_command(memory_group)


_add_memory_commands()


def run() -> None:
    main(prog_name="claw")


if __name__ == "__main__":
    run()
