"""``claw tasks ...``: list, show, add, pause, resume, rm, run — with or without the daemon running.

While the daemon runs, changes go through its API, so they take effect at once;
while it is down they are written to the tasks table, which the daemon schedules
from when it starts (``run`` then leaves a request it honours at start).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from claw.cli.common import config_of, daemon_auth, daemon_running, daemon_url, unreachable
from claw.config import Config, local_timezone


def _setup(ctx: click.Context) -> tuple[Config, Any, Any]:
    from claw.store.db import Database, DatabaseError
    from claw.store.migrations import migrate

    config = config_of(ctx)
    db = Database(config.database_url)
    try:
        migrate(db.engine)
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from None
    return config, local_timezone(config), db


def _daemon(config: Config) -> tuple[str, dict[str, str]] | None:
    """The running daemon's URL and auth headers, or None when no daemon serves this home.

    A daemon that runs but does not answer is an error, never a reason to write the table behind its back
    (it would not see the change until it restarts).
    """
    import httpx

    if not daemon_running(config):
        return None
    url, auth = daemon_url(config), daemon_auth(config) or {}
    try:
        httpx.get(f"{url}/healthz", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        raise click.ClickException(f"the daemon of {config.home} at {url} does not answer ({type(exc).__name__}); "
                                   "try again, or stop it first") from None
    return url, auth


def _call(daemon: tuple[str, dict[str, str]], method: str, path: str, body: Any = None) -> dict[str, Any]:
    """One request to the running daemon's tasks API; its error message as a click error."""
    import httpx

    url, headers = daemon
    try:
        r = httpx.request(method, f"{url}{path}", json=body, headers=headers, timeout=60)
    except httpx.HTTPError as exc:
        raise unreachable(url, exc) from None
    data: dict[str, Any] = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    if r.status_code >= 400:
        raise click.ClickException(data.get("error", f"HTTP {r.status_code}"))
    return data


def _get(db: Any, task_id: int) -> Any:
    from claw.tasks import models as m

    task = db.run_sync(lambda c: m.get_task(c, task_id))
    if task is None:
        raise click.ClickException(f"there is no task #{task_id} (see `claw tasks list`)")
    return task


@click.group("tasks")
def tasks_group() -> None:
    """Standing tasks: reminders, routines, watchers and goals."""


@tasks_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--all", "show_all", is_flag=True, help="Include finished tasks.")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool, show_all: bool) -> None:
    """List tasks with their next run in local time."""
    from claw.tasks import models as m
    from claw.tasks.service import task_view

    _, tz, db = _setup(ctx)
    tasks = db.run_sync(lambda c: m.list_tasks(c, include_finished=show_all or as_json))
    views = [task_view(t, tz) for t in tasks]
    db.close()
    if as_json:
        click.echo(json.dumps({"tasks": views}, indent=2))
        return
    if not views:
        click.echo("No tasks. Add one: claw tasks add --in 20m --remind \"stretch\"")
        return
    for v in views:
        nxt = v["next_run_local"] or "-"
        click.echo(f"#{v['id']:<4} {v['kind']:<9} {v['status']:<8} next {nxt:<21} {v['schedule']:<28} {v['title']}")


@tasks_group.command("show")
@click.argument("task_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show_cmd(ctx: click.Context, task_id: int, as_json: bool) -> None:
    """One task: definition, recent runs, and a goal's journal."""
    from claw.tasks import models as m
    from claw.tasks.service import task_view

    _, tz, db = _setup(ctx)
    task = _get(db, task_id)
    view = task_view(task, tz, detail=True)
    runs = db.run_sync(lambda c: m.recent_runs(c, task_id))
    journal = db.run_sync(lambda c: m.journal_entries(c, task_id))
    db.close()
    if as_json:
        click.echo(json.dumps({"task": view, "runs": runs, "journal": journal}, indent=2, default=str))
        return
    click.echo(f"#{task.id} {task.kind} [{task.status}] {task.title}")
    if task.status_reason:
        click.echo(f"  status: {task.status_reason}")
    click.echo(f"  text: {task.instruction}")
    click.echo(f"  when: {view['schedule']}")
    click.echo(f"  does: {view['does']}")
    if view["next_runs_local"]:
        click.echo(f"  next runs: {'; '.join(view['next_runs_local'])}")
    click.echo(f"  runs so far: {task.run_count}")
    for r in runs:
        click.echo(f"    {r['at'][:19]} {r['status']:<8} {(r['detail'] or '')[:100]}")
    if journal:
        click.echo("  journal:")
        for j in journal:
            click.echo(f"    {j['iteration']}. {j['text']}")


@tasks_group.command("add")
@click.option("--at", "at", default=None, help='Once, at a local time: "2026-12-01 18:00".')
@click.option("--in", "delay", default=None, help="Once, after a while: 20m, 1h30m.")
@click.option("--cron", default=None, help='Cron in local time: "0 7 * * 1-5".')
@click.option("--every", default=None, help="Repeat: 10m, 2h.")
@click.option("--remind", is_flag=True, help="A plain reminder: the text is sent verbatim, no LLM.")
@click.option("--title", default=None)
@click.option("--max-runs", type=int, default=None)
@click.option("--expires", default=None, help="Stop after this local time or duration.")
@click.option("--allow-opening", is_flag=True,
              help="It may open garage doors, gates and entry doors on its own (otherwise that waits for your yes).")
@click.argument("text", nargs=-1, required=True)
@click.pass_context
def add_cmd(ctx: click.Context, at: str | None, delay: str | None, cron: str | None, every: str | None,
            remind: bool, title: str | None, max_runs: int | None, expires: str | None, allow_opening: bool,
            text: tuple[str, ...]) -> None:
    """Add a task: exactly one of --at, --in, --cron, --every, then the instruction text."""
    from pydantic import ValidationError

    from claw.providers.llm import build_model
    from claw.tasks import models as m
    from claw.tasks.service import NO_MODEL, needs_model, task_view
    from claw.tasks.spec import TaskRequest, TaskSpecError, prepare
    from claw.tasks.triggers import first_run, fmt_local

    given = [o for o, v in (("--at", at), ("--in", delay), ("--cron", cron), ("--every", every)) if v]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --at, --in, --cron, --every"
                               + (f" (got {' '.join(given)})" if given else ""))
    config, tz, db = _setup(ctx)
    now = datetime.now(UTC)
    try:
        req = TaskRequest(kind="reminder" if remind else "routine", text=" ".join(text), title=title, at=at,
                          delay=delay, cron=cron, every=every, max_runs=max_runs, expires=expires,
                          allow_opening=allow_opening or None)
    except ValidationError as exc:
        raise click.ClickException(str(exc)) from None
    daemon = _daemon(config)
    if daemon is not None:
        db.close()
        added = _call(daemon, "POST", "/api/tasks?by=cli", req.model_dump(exclude_none=True))
        view = added["task"]
        click.echo(f"Added task #{view['id']} ({view['kind']}): {view['title']}")
        click.echo(f"When: {view['schedule']}")
        click.echo(f"Next run: {view['next_run_local'] or '-'} ({tz.key})")
        click.echo(f"Does: {view['does']}")
        click.echo(f"Cost: {added['cost']}")
        for note in added["notes"]:
            click.echo(note)
        return
    try:
        prepared = prepare(req, tz=tz, now=now, settings=config.tasks, created_by="cli")
    except TaskSpecError as exc:
        raise click.ClickException(str(exc)) from None
    values = prepared.values
    no_model = build_model(config.llm) is None
    later = values["spec"].get("compile") == "pending"  # the daemon's fast path may compile it without a model
    if needs_model(values["kind"], values["spec"]) and no_model and not later:
        raise click.ClickException(NO_MODEL)
    values["next_run_at"] = first_run(values["trigger"], tz, now)
    task_id = db.run_sync(lambda c: m.insert_task(c, values))
    task = _get(db, task_id)
    db.close()
    view = task_view(task, tz)
    click.echo(f"Added task #{task.id} ({task.kind}): {task.title}")
    click.echo(f"When: {view['schedule']}")
    click.echo(f"Next run: {fmt_local(task.next_run_at, tz)} ({tz.key})")
    click.echo("The daemon is not running: the task will be scheduled when `claw serve` starts.")
    if later and no_model:
        click.echo("With no language model, the daemon compiles it with the fast path when it starts; if that "
                   "cannot, it pauses the task and tells you.")


def _set_status(ctx: click.Context, task_id: int, status: str, word: str) -> None:
    from claw.tasks import models as m

    config, _, db = _setup(ctx)
    _get(db, task_id)
    daemon = _daemon(config)
    if daemon is not None:
        _call(daemon, "POST", f"/api/tasks/{task_id}/{'pause' if status == 'paused' else 'resume'}")
    else:
        db.run_sync(lambda c: m.edit_task(c, task_id, status=status, next_run_at=None,
                                          status_reason="paused by the owner" if status == "paused" else None))
    db.close()
    click.echo(f"Task #{task_id} {word}.")


@tasks_group.command("pause")
@click.argument("task_id", type=int)
@click.pass_context
def pause_cmd(ctx: click.Context, task_id: int) -> None:
    """Stop a task from running until it is resumed."""
    _set_status(ctx, task_id, "paused", "paused")


@tasks_group.command("resume")
@click.argument("task_id", type=int)
@click.pass_context
def resume_cmd(ctx: click.Context, task_id: int) -> None:
    """Resume a paused task (runs missed while paused are not made up)."""
    _set_status(ctx, task_id, "active", "resumed")


@tasks_group.command("rm")
@click.argument("task_id", type=int)
@click.pass_context
def rm_cmd(ctx: click.Context, task_id: int) -> None:
    """Delete a task."""
    from claw.tasks import models as m

    config, _, db = _setup(ctx)
    task = _get(db, task_id)
    daemon = _daemon(config)
    if daemon is not None:
        _call(daemon, "DELETE", f"/api/tasks/{task_id}")
    else:
        db.run_sync(lambda c: m.delete_task(c, task_id))
    db.close()
    click.echo(f"Deleted task #{task_id} ({task.title}).")


@tasks_group.command("run")
@click.argument("task_id", type=int)
@click.pass_context
def run_cmd(ctx: click.Context, task_id: int) -> None:
    """Run a task once now (when the daemon is down: as soon as it starts)."""
    from sqlalchemy import update

    from claw.tasks import models as m

    config, _, db = _setup(ctx)
    _get(db, task_id)
    daemon = _daemon(config)
    if daemon is not None:
        db.close()
        data = _call(daemon, "POST", f"/api/tasks/{task_id}/run")
        click.echo(f"Ran task #{task_id}: {data['status']}" + (f" ({data['detail']})" if data.get("detail") else ""))
        return
    db.run_sync(lambda c: c.execute(update(m.tasks).where(m.tasks.c.id == task_id)
                                    .values(run_requests=m.tasks.c.run_requests + 1)))
    db.close()
    click.echo(f"The daemon is not running: task #{task_id} will run when `claw serve` starts.")
