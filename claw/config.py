"""Configuration: one TOML file parsed into pydantic models, with secrets from the environment.

The file is found by ``--config``, then ``$CLAW_CONFIG``, then
``$CLAW_HOME/config.toml``; no file at all is a valid demo setup. Mistakes stop
start-up with a message naming the key and the file, never a traceback.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from claw import plugins
from claw.providers.base import ProviderSettings


class ConfigError(Exception):
    """A config mistake, phrased for the person who made it."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClawSection(Section):
    timezone: str | None = None  # default: the system's
    database_url: str | None = None  # default: sqlite:///$CLAW_HOME/claw.db
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    owner_name: str = "the owner"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r} (use an IANA name such as 'Europe/London')") from None
        return value


class ServerSection(Section):
    """``[server]``: where the HTTP front door listens and how long and how much a client may take."""

    host: str = "127.0.0.1"
    port: int = Field(8750, ge=0, le=65535)
    #: Every request's body, on every route: larger gets 413.
    max_body_bytes: int = Field(64_000, ge=1024)
    #: How long ``POST /api/messages`` waits for the turn before answering 202.
    reply_timeout: float = Field(120.0, gt=0)
    #: Seconds a client has to send a request's line and headers (from connecting, or from the first byte of
    #: the next request on a kept-alive connection); slower is answered 408 and cut off.
    header_timeout: float = Field(10.0, gt=0)
    #: Seconds a client has to send the whole body once its headers are in; slower is answered 408.
    body_timeout: float = Field(30.0, gt=0)
    #: Seconds an idle kept-alive connection stays open.
    keepalive_timeout: int = Field(5, ge=1)
    #: Open connections at most (each is a file descriptor; keep it well under ``ulimit -n``, often 1024).
    #: Beyond it a new connection is answered 503 and closed at once.
    max_connections: int = Field(256, ge=2)
    #: Bytes of request line and headers at most.
    max_header_bytes: int = Field(16_384, ge=1024)
    #: Host names a request may carry in ``Host`` (and ``Origin``) besides loopback, the bound address and the
    #: channels' public_url hosts: e.g. the LAN name you open the web chat at. Other names get 400.
    allowed_hosts: list[str] = []
    #: The HTTP/1.1 parser: "auto" (httptools when installed, else h11), "httptools" or "h11".
    http: Literal["auto", "httptools", "h11"] = "auto"


class LLMSection(ProviderSettings):
    """``[llm]``: the chat model, and ``[llm.fallback]`` used when it fails."""

    fallback: ProviderSettings | None = None


class AgentSection(Section):
    max_steps: int = Field(8, ge=1, le=50)
    max_parallel_turns: int = Field(4, ge=1, le=64)
    history_messages: int = Field(12, ge=0, le=200)
    tool_result_max_chars: int = Field(4000, ge=200)
    confirm_minutes: int = Field(10, ge=1)
    language: str = "en"
    local_intents: bool = True
    #: Tokens per local day for every model call (turns, tasks, summaries, camera pictures); 0 = no limit.
    daily_token_budget: int = Field(0, ge=0)
    #: Tokens per local day for the owner's turns in one conversation; 0 = no limit.
    conversation_token_budget: int = Field(0, ge=0)


class TasksSection(Section):
    """``[tasks]``: standing tasks (reminders, routines, watchers, goals) and their budgets."""

    enabled: bool = True
    #: A run missed while the daemon was down still runs at start if it is at most this late.
    grace_seconds: float = Field(600.0, ge=0)
    #: Tokens per local day for everything unattended (LLM routines, goals, compiling); 0 = no limit.
    daily_token_budget: int = Field(100_000, ge=0)
    #: Default tokens per day for one task that needs the LLM; 0 = no limit.
    task_tokens_per_day: int = Field(20_000, ge=0)
    #: A watcher fires at most once per cooldown, and once per episode.
    default_cooldown_seconds: float = Field(600.0, ge=0)
    #: How often watchers re-check home state besides reacting to state changes (local, no LLM).
    watch_poll_seconds: float = Field(30.0, gt=0)
    #: Goals: defaults for iterations and tokens over the goal's whole life.
    goal_max_iterations: int = Field(10, ge=1)
    goal_token_budget: int = Field(50_000, ge=1)
    #: Ignored (kept so older config files still load): edits now reach the daemon at once.
    reload_seconds: float = Field(2.0, gt=0)
    #: Shortest allowed interval for ``every``.
    min_interval_seconds: float = Field(1.0, gt=0)


class MemorySection(Section):
    """``[memory]``: what each turn recalls, when consolidation runs, optional embeddings."""

    #: Token budget (estimated) for recalled memory in each turn's context.
    context_tokens: int = Field(600, ge=0)
    #: Latest episodes of the conversation treated as "already in the recent window" and not
    #: recalled again; 0 = twice ``[agent] history_messages`` (tool calls are episodes too).
    recent_episodes: int = Field(0, ge=0)
    #: Quiet time before a conversation is consolidated into facts (LLM), in minutes.
    consolidate_after_minutes: float = Field(10.0, ge=0)
    #: Set false to never call the LLM for consolidation (episodes are still stored).
    consolidate: bool = True
    embeddings: Literal["none", "openai", "ollama", "local"] = "none"
    embeddings_model: str | None = None  # default: text-embedding-3-small / nomic-embed-text / BAAI/bge-small-en-v1.5
    embeddings_path: str | None = None  # local: a folder with the model's files instead of a download
    embeddings_query_prefix: str | None = None  # local: put before each question (default: the bge models' own)
    embeddings_base_url: str | None = None  # default: $OPENAI_BASE_URL or api.openai.com / 127.0.0.1:11434
    embeddings_api_key: str | None = None  # default: $OPENAI_API_KEY (openai only)
    embeddings_timeout: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def _model_folder(self) -> MemorySection:
        if self.embeddings_path is None or self.embeddings == "none":
            return self
        if self.embeddings != "local":
            raise ValueError('embeddings_path is for embeddings = "local" (a folder with the model\'s files)')
        if not Path(self.embeddings_path).expanduser().is_dir():
            raise ValueError(f"embeddings_path {self.embeddings_path!r} is not a folder")
        return self


class VisionSection(Section):
    """``[vision]``: the model that looks at camera snapshots. Unset provider: the chat ``[llm]`` is used.

    ``allow_cloud_vision = false`` keeps images in the house: only a provider
    whose ``base_url`` is on this machine or the local network is accepted.
    """

    provider: str | None = None  # "auto", "none" or a provider's name
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    max_tokens: int = Field(300, ge=16)
    timeout: float = Field(30.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10)
    allow_cloud_vision: bool = True

    def provider_settings(self, llm: ProviderSettings) -> ProviderSettings:
        """The settings to build the vision provider from: this table, or the chat model with this table's overrides."""
        if self.provider is None:
            base = llm.model_dump(include=set(ProviderSettings.model_fields))
            for key in ("model", "base_url", "api_key"):
                if getattr(self, key) is not None:
                    base[key] = getattr(self, key)
        else:
            base = {"provider": self.provider, "model": self.model, "base_url": self.base_url, "api_key": self.api_key}
        base.update(max_tokens=self.max_tokens, timeout=self.timeout, max_retries=self.max_retries)
        return ProviderSettings(**base)


class Config(Section):
    """The whole file. Tables claimed by skills (``[skills.NAME]`` or a skill's own section) stay raw here."""

    claw: ClawSection = ClawSection()
    server: ServerSection = ServerSection()
    llm: LLMSection = LLMSection()
    agent: AgentSection = AgentSection()
    tasks: TasksSection = TasksSection()
    memory: MemorySection = MemorySection()
    vision: VisionSection = VisionSection()
    skills: dict[str, dict[str, Any]] = {}
    #: Channel tables (``[whatsapp]``), validated by the channel plugin of that name; present means enabled.
    channels: dict[str, Any] = {}
    #: Other top-level tables; validated by the skill that claims them.
    extra_sections: dict[str, Any] = {}

    source: str = "(defaults)"
    home: Path = Path(".")

    @property
    def database_url(self) -> str:
        return self.claw.database_url or f"sqlite:///{self.home / 'claw.db'}"


CORE_SECTIONS = {"claw", "server", "llm", "agent", "skills", "tasks", "memory", "vision"}


def local_timezone(config: Config) -> ZoneInfo:
    """``[claw] timezone``, else the system's, else UTC."""
    if config.claw.timezone:
        return ZoneInfo(config.claw.timezone)
    try:
        import tzlocal

        return ZoneInfo(tzlocal.get_localzone_name() or "UTC")
    except Exception:
        return ZoneInfo("UTC")


def claw_home() -> Path:
    return Path(os.environ.get("CLAW_HOME") or Path.home() / ".claw").expanduser()


def config_path(explicit: str | Path | None = None) -> Path | None:
    """The config file to read, or None when there is none (demo defaults)."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("CLAW_CONFIG"):
        return Path(os.environ["CLAW_CONFIG"]).expanduser()
    default = claw_home() / "config.toml"
    return default if default.exists() else None


def field_errors(exc: ValidationError) -> str:
    """A request's validation errors on one line, ``field: what is wrong``, for the person who sent it."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())


def describe_errors(exc: ValidationError, source: str, prefix: str = "") -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        if err["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key")
        else:
            lines.append(f"  {key}: {err['msg']}")
    return f"{source}: invalid configuration\n" + "\n".join(lines)


def load_config(explicit: str | Path | None = None) -> Config:
    path = config_path(explicit)
    raw: dict[str, Any] = {}
    source = "(defaults)"
    if path is not None:
        source = str(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{source}: config file not found") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{source}: not a UTF-8 text file") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    channel_names = set(plugins.names(plugins.CHANNELS))
    core = {k: v for k, v in raw.items() if k in CORE_SECTIONS}
    channels = {k: v for k, v in raw.items() if k in channel_names and k not in CORE_SECTIONS}
    extra = {k: v for k, v in raw.items() if k not in CORE_SECTIONS and k not in channels}
    try:
        config = Config(**core, extra_sections=extra, source=source, home=claw_home())
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, source)) from None
    for name, table in config.skills.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: skills.{name}: expected a table like [skills.{name}]")
    for name, table in channels.items():
        config.channels[name] = _channel_config(name, table, source)
    for key, settings in (("llm", config.llm), ("llm.fallback", config.llm.fallback), ("vision", config.vision)):
        if settings is not None and settings.provider is not None:
            _check_provider(key, settings, source)
    return config


def _channel_config(name: str, table: Any, source: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: {name}: expected a table like [{name}]")
    try:
        plugin = plugins.load(plugins.CHANNELS, name)
    except Exception as exc:
        raise ConfigError(f"{source}: [{name}]: the {name} channel cannot be loaded ({type(exc).__name__}: {exc})") from None
    try:
        return plugin.Config(**table)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, source, name)) from None


def _check_provider(key: str, settings: Any, source: str) -> None:
    """The provider is installed, and keys beyond the common ones are ones it reads."""
    from claw.providers.llm import RESERVED, ProviderError, provider_plugin

    name = settings.provider
    model: type[BaseModel] = ProviderSettings
    if name not in RESERVED:
        try:
            model = provider_plugin(name).Settings
        except ProviderError as exc:
            raise ConfigError(f"{source}: {key}.provider: {exc}") from None
    extras = set(settings.model_extra or {}) - set(model.model_fields)
    if extras:
        raise ConfigError(f"{source}: invalid configuration\n" + "\n".join(
            f"  {key}.{k}: unknown key" for k in sorted(extras)))
