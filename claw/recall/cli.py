"""``claw memory ...``: search, list, add, forget, export, import and reindex memory, straight on claw.db.

Works with the daemon running or not (SQLite WAL; the memory tables are the daemon's own).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from memory import MemoryStore


@contextmanager
def _store(ctx: click.Context) -> Iterator[MemoryStore]:
    """The memory tables of the configured claw.db (imports kept here: other commands start faster)."""
    from claw.cli.common import config_of
    from claw.logging import add_secrets
    from claw.recall.embeddings import build_embedder, open_store
    from claw.secrets import secret_values
    from claw.store.db import make_engine
    from memory import StoreError

    config = config_of(ctx)
    token = config.home / "web-token"
    add_secrets([*secret_values(config), token.read_text().strip() if token.exists() else None])
    engine = make_engine(config.database_url)
    embedder = build_embedder(config.memory, config.home / "models")
    try:
        store = open_store(engine, embedder)
    except StoreError as exc:
        engine.dispose()
        raise click.ClickException(str(exc)) from None
    try:
        yield store
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
        if embedder is not None:
            embedder.close()
        engine.dispose()


@click.group("memory")
def memory_group() -> None:
    """Long-term memory: episodes, facts, summaries (works with the daemon running or not)."""


@memory_group.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--k", "k", type=click.IntRange(min=1), default=10, show_default=True, help="How many episodes.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def search(ctx: click.Context, query: tuple[str, ...], k: int, as_json: bool) -> None:
    """Episodes (and current facts) most relevant to QUERY, best first."""
    from datetime import datetime

    from claw.cli.common import config_of
    from claw.config import local_timezone

    text = " ".join(query)
    now = datetime.now(local_timezone(config_of(ctx)))  # "yesterday" is the owner's day
    with _store(ctx) as store:
        facts = store.search_facts(text, k=min(k, 5))
        hits = store.search(text, k=k, now=now)
        if store.embed_error:
            click.echo(f"(searched without embeddings: {store.embed_error})", err=True)
    if as_json:
        for f in facts:
            click.echo(json.dumps({"type": "fact", "id": f.id, "statement": f.statement, "pinned": f.pinned,
                                   "valid_from": f.valid_from.isoformat(), "score": round(f.score, 4)},
                                  ensure_ascii=False))
        for h in hits:
            click.echo(json.dumps({"type": "episode", "id": h.id, "conversation": h.conversation,
                                   "speaker": h.speaker, "at": h.at.isoformat(), "text": h.text,
                                   "score": round(h.score, 4)}, ensure_ascii=False))
        return
    for f in facts:
        click.echo(f"fact #{f.id}: {f.statement}")
    for h in hits:
        click.echo(f"#{h.id} {h.at:%Y-%m-%d %H:%M} {h.conversation} {h.speaker}: {' '.join(h.text.split())[:200]}")
    if not facts and not hits:
        click.echo("nothing found", err=True)


@memory_group.command("facts")
@click.option("--pinned", is_flag=True, help="Only pinned (profile) facts.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def facts(ctx: click.Context, pinned: bool, as_json: bool) -> None:
    """Facts valid now, pinned first."""
    with _store(ctx) as store:
        rows = store.facts(pinned_only=pinned)
    for f in rows:
        if as_json:
            click.echo(json.dumps({"id": f.id, "statement": f.statement, "subject": f.subject, "pinned": f.pinned,
                                   "valid_from": f.valid_from.isoformat()}, ensure_ascii=False))
        else:
            click.echo(f"#{f.id}{' [pinned]' if f.pinned else ''} {f.statement} (since {f.valid_from:%Y-%m-%d})")
    if not rows and not as_json:
        click.echo("no facts yet", err=True)


@memory_group.command("remember")
@click.argument("text", nargs=-1, required=True)
@click.option("--pinned", is_flag=True, help="Always in context (a profile fact).")
@click.pass_context
def remember(ctx: click.Context, text: tuple[str, ...], pinned: bool) -> None:
    """Store a fact now."""
    from claw.logging import scrub

    with _store(ctx) as store:
        try:
            fid = store.remember(scrub(" ".join(text)), pinned=pinned)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"remembered as fact #{fid}")


@memory_group.command("forget")
@click.argument("fact_id", required=False)
@click.option("--match", "match", default=None, help="Forget every fact, episode and summary containing TEXT.")
@click.option("--episode", "episode", type=int, default=None, help="Forget one episode (the #ID `search` shows).")
@click.pass_context
def forget(ctx: click.Context, fact_id: str | None, match: str | None, episode: int | None) -> None:
    """Delete for good: a fact by ID, an episode by --episode ID, or everything matching --match TEXT.

    Memory rows go (FTS index included), and so do the daemon's own copies of the words in claw.db:
    inbox, outbox, transcript (the recent window), turn journal, confirmations and task history keep
    their rows (delivery and de-duplication depend on them) with the text replaced by [forgotten].
    The file itself is checked afterwards (WAL truncated, VACUUM if old free space still holds it).
    """
    from claw.recall.service import forget_everywhere

    if sum(x is not None and x != "" for x in (fact_id, match, episode)) != 1:
        raise click.UsageError("give exactly one of: a fact ID, --episode ID, --match TEXT")
    if fact_id and not fact_id.isdigit():
        raise click.UsageError(f"{fact_id!r} is not a fact id; use --match to forget by text")
    if match is not None and not match.strip():
        raise click.UsageError("--match needs some text")
    with _store(ctx) as store:
        report = forget_everywhere(store, match or "", fact=int(fact_id) if fact_id else None, episode=episode)
    if fact_id and not report.facts:
        raise click.ClickException(f"no fact #{fact_id}")
    if episode is not None and not report.episodes:
        raise click.ClickException(f"no episode #{episode}")
    click.echo(report.describe())


@memory_group.command("export")
@click.pass_context
def export(ctx: click.Context) -> None:
    """Write all memory as JSON lines to stdout (claw memory export > memory.jsonl)."""
    with _store(ctx) as store:
        n = store.export_jsonl(sys.stdout)
    click.echo(f"exported {n} records", err=True)


@memory_group.command("import")
@click.argument("path", type=click.File("r", encoding="utf-8"))
@click.pass_context
def import_(ctx: click.Context, path: Any) -> None:
    """Load a file written by `claw memory export` (records already present are skipped)."""
    with _store(ctx) as store:
        try:
            added = store.import_jsonl(path)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(", ".join(f"{v} {k}(s)" for k, v in added.items()) + " added")
        try:
            while store.embed_pending():
                pass
        except Exception as exc:  # the daemon's filler embeds them later
            click.echo(f"embeddings not computed now ({type(exc).__name__}: {exc}); the daemon will retry", err=True)


@memory_group.command("reindex")
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Compute every episode's embedding again with the configured model, after changing it: stop the daemon
    first (it would go on embedding with the old one), then start it. A local model is downloaded if needed."""
    from claw.cli.common import config_of

    if config_of(ctx).memory.embeddings == "none":
        raise click.ClickException('no embeddings are configured: set [memory] embeddings = "local", "openai" or '
                                   '"ollama" in config.toml')
    with _store(ctx) as store:
        try:
            store.check_embedder()
        except Exception as exc:
            raise click.ClickException(f"the embedding model does not answer ({type(exc).__name__}: {exc}); "
                                       "no vector was dropped") from None
        dropped = store.clear_vectors()
        total = store.pending_embeddings()
        click.echo(f"{dropped} old vectors dropped; embedding {total} episodes", err=True)
        embedded = 0
        try:
            with click.progressbar(length=total, label="embedding", file=sys.stderr) as bar:
                while done := store.embed_pending():
                    embedded += done
                    bar.update(done)
        except Exception as exc:
            raise click.ClickException(f"embedding failed ({type(exc).__name__}: {exc}); "
                                       f"{store.pending_embeddings()} episodes wait for the next reindex, or for "
                                       "the daemon with this config") from None
        left = max(total - embedded, 0)
        click.echo(f"{embedded} episodes embedded" + (f"; {left} got no vector from the model (empty or unknown "
                                                      "words) and stay pending" if left else ""), err=True)
