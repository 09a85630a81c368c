"""The daemon's tables (SQLAlchemy Core), in one metadata. Changing one needs a step in ``migrations``.

The memory library keeps its own ``memory_*`` tables in the same database.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

conversations = Table(
    "conversations",
    metadata,
    Column("id", String, primary_key=True),  # "<channel>:<peer>"
    Column("channel", String, nullable=False),
    Column("peer", String, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String, nullable=False),
    Column("external_id", String, nullable=False),
    Column("conversation_id", String, ForeignKey("conversations.id"), nullable=False),
    Column("sender", String, nullable=False),
    Column("origin", String, nullable=False, default="user"),  # user | scheduler
    Column("text", Text, nullable=False),
    Column("payload", JSON, nullable=False, default=dict),  # media, task id, channel extras
    Column("status", String, nullable=False, default="pending"),  # pending | done
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("result", JSON),  # {"handled_by", "actions", "services"}
    UniqueConstraint("channel", "external_id", name="uq_inbox_channel_external"),
)
Index("ix_inbox_status", inbox.c.status, inbox.c.id)
Index("ix_inbox_pending", inbox.c.status, inbox.c.conversation_id, inbox.c.id)  # the dispatcher's next-row lookup

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("inbox_id", Integer, ForeignKey("inbox.id")),
    Column("conversation_id", String, ForeignKey("conversations.id"), nullable=False),
    Column("channel", String, nullable=False),
    Column("recipient", String, nullable=False),
    Column("text", Text, nullable=False),
    Column("payload", JSON, nullable=False, default=dict),  # media urls, parts, channel extras
    Column("status", String, nullable=False, default="pending"),  # pending | sending | sent | held | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("external_id", String),  # the channel's id for the sent message, for reconciliation
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
)
Index("ix_outbox_status", outbox.c.status, outbox.c.id)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String, ForeignKey("conversations.id"), nullable=False),
    Column("role", String, nullable=False),  # user | assistant | event
    Column("text", Text, nullable=False),
    Column("inbox_id", Integer, ForeignKey("inbox.id")),
    Column("meta", JSON, nullable=False, default=dict),  # actions, handled_by, origin
    Column("at", DateTime(timezone=True), nullable=False),
)
Index("ix_messages_conversation", messages.c.conversation_id, messages.c.id)

turn_steps = Table(
    "turn_steps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("inbox_id", Integer, ForeignKey("inbox.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String, nullable=False),  # llm | tool_start | tool_result
    Column("data", JSON, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("inbox_id", "seq", name="uq_turn_steps_seq"),
)

pending_actions = Table(
    "pending_actions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String, ForeignKey("conversations.id"), nullable=False),
    Column("tool", String, nullable=False),
    Column("args", JSON, nullable=False),
    Column("summary", Text, nullable=False),
    Column("status", String, nullable=False, default="waiting"),  # waiting | done | cancelled | expired
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("origin", Text),  # outside words that came into the turn before it was proposed
)

usage = Table(
    "usage",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("conversation_id", String),
    Column("inbox_id", Integer),
    Column("task_id", Integer),
    Column("purpose", String, nullable=False, default="turn"),  # turn | consolidation | vision | task
    Column("provider", String, nullable=False),
    Column("model", String, nullable=False),
    Column("input_tokens", Integer, nullable=False, default=0),
    Column("output_tokens", Integer, nullable=False, default=0),
    Column("cache_read_tokens", Integer, nullable=False, default=0),
    Column("cache_write_tokens", Integer, nullable=False, default=0),
    Column("cost_usd", Float, nullable=False, default=0.0),
    Column("ok", Boolean, nullable=False, default=True),
    Column("estimated_input", Integer),  # what the budget check counted for the prompt (None: not checked)
)
Index("ix_usage_at", usage.c.at)

# Who may talk to the claw on a channel beyond the configured list (claw.core.pairing).
pairing_codes = Table(
    "pairing_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String, nullable=False),
    Column("address", String, nullable=False),  # e.g. "+15551234567"
    Column("name", String),  # the sender's profile name, as they gave it
    Column("code", String, nullable=False, unique=True),
    Column("status", String, nullable=False, default="pending"),  # pending | approved
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("replied_at", DateTime(timezone=True)),  # the stranger was sent the code (the hourly budget counts these)
    Column("notified_at", DateTime(timezone=True)),  # the owner was told (at most one message an hour)
)
Index("ix_pairing_codes_address", pairing_codes.c.channel, pairing_codes.c.address)

allowed_senders = Table(
    "allowed_senders",
    metadata,
    Column("channel", String, primary_key=True),
    Column("address", String, primary_key=True),
    Column("name", String),
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("via", String, nullable=False),  # the pairing code, or "cli"
)

# Standing tasks (claw.tasks): definitions, runs (unique per run key), goal journals, notes.
tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String, nullable=False),  # reminder | routine | watcher | goal | camera
    Column("title", String, nullable=False),
    Column("instruction", Text, nullable=False),
    Column("trigger", JSON),  # {"type": "at"|"cron"|"every", ...}; None for watchers
    Column("spec", JSON, nullable=False, default=dict),  # actions, watch condition, goal bounds, ...
    Column("status", String, nullable=False, default="active"),  # active | paused | done | missed | expired
    Column("status_reason", Text),
    Column("created_by", String, nullable=False, default="chat"),  # chat | cli | api
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("rev", Integer, nullable=False, default=1),
    Column("next_run_at", DateTime(timezone=True)),
    Column("last_run_at", DateTime(timezone=True)),
    Column("run_count", Integer, nullable=False, default=0),
    Column("max_runs", Integer),
    Column("expires_at", DateTime(timezone=True)),
    Column("tokens_per_day", Integer),
    Column("run_requests", Integer, nullable=False, default=0),  # `claw tasks run` while the daemon was down
    Column("state", JSON, nullable=False, default=dict),  # watcher episode, goal progress
)
Index("ix_tasks_status", tasks.c.status)

task_runs = Table(
    "task_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("task_id", Integer, nullable=False),
    Column("run_key", String, nullable=False),  # scheduled time (UTC ISO), "manual:<n>" or "watch:<episode>"
    Column("scheduled_for", DateTime(timezone=True)),
    Column("status", String, nullable=False),  # running | ok | failed | missed | skipped | queued
    Column("detail", Text),
    Column("inbox_id", Integer),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    UniqueConstraint("task_id", "run_key", name="uq_task_runs_key"),
)

task_journal = Table(
    "task_journal",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("task_id", Integer, nullable=False),
    Column("iteration", Integer, nullable=False),
    Column("inbox_id", Integer),
    Column("text", Text, nullable=False),
    Column("data", JSON, nullable=False, default=dict),
    Column("at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("task_id", "iteration", name="uq_task_journal_iteration"),
)

task_notes = Table(
    "task_notes",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", JSON),
)

skill_state = Table(
    "skill_state",
    metadata,
    Column("skill", String, primary_key=True),
    Column("key", String, primary_key=True),
    Column("value", JSON),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# One row the write probe behind /healthz rewrites (claw.store.db.Database.probe): a real commit, kept tiny.
health_probe = Table(
    "health_probe",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("writes", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
