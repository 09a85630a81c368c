"""Structured logs with structlog (console when a terminal, JSON otherwise), and the one secret scrubber.

``scrub`` removes every secret the process knows (``add_secrets``: config values, the environment's keys and
tokens, the web token) and every string shaped like a well-known API key, whatever it belongs to. It runs on
each log line and before anything is stored (the inbox, the transcript, the journal, memory), so a key the
owner pastes into the chat never reaches the database, the logs or a backup. It is cheap enough for the
webhook's hot path: substring checks first (about 2 µs for a short message), one precompiled regex only when
one of them hits.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any

import structlog

MARKER = "[secret]"

_K = r"[A-Za-z0-9_-]"  # the characters of a URL-safe token
#: Shapes of well-known keys and tokens, each anchored on a vendor prefix and long enough that no ordinary
#: word, number or phone number matches.
PATTERNS = (
    r"-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----[\s\S]*?-----END [A-Z ]{0,20}PRIVATE KEY-----",  # PEM private keys
    rf"(?<!{_K})sk-(?={_K}*[0-9]){_K}{{20,}}",  # OpenAI and Anthropic (sk-proj-..., sk-ant-api03-...)
    r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})",  # GitHub
    r"(?<![A-Za-z0-9_])xox[abposr]-[0-9]+-[A-Za-z0-9-]{8,}",  # Slack
    r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])",  # AWS access key ids
    rf"(?<!{_K})AIza{_K}{{35}}",  # Google API keys
    r"(?<![A-Za-z0-9_])[rs]k_(?:live|test)_[A-Za-z0-9]{20,}",  # Stripe
    r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}",  # Hugging Face
    rf"(?<!{_K})eyJ{_K}{{8,}}\.eyJ{_K}{{8,}}\.{_K}{{8,}}",  # JWTs (Home Assistant's long-lived tokens are)
)

#: Every pattern above starts with one of these. Substring checks run in C at memchr speed, far faster than a
#: regex alternation tried at each position: ordinary text (nearly all of it) never reaches the regex.
PREFIXES = ("-----BEGIN ", "sk-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xox", "AKIA", "ASIA", "AIza",
            "k_live_", "k_test_", "hf_", "eyJ")

_secrets: set[str] = set()
_needles: tuple[str, ...] = PREFIXES
_pattern: re.Pattern[str] = re.compile("|".join(PATTERNS))


def add_secrets(values: Iterable[str | None]) -> None:
    """Known secret values (6 characters or more) join the scrubber, longest first so none is half-removed."""
    global _pattern, _needles
    _secrets.update(v for v in values if v and len(v) >= 6)
    known = sorted(_secrets, key=len, reverse=True)
    _pattern = re.compile("|".join([*map(re.escape, known), *PATTERNS]))
    _needles = (*known, *PREFIXES)


def scrub_count(text: str) -> tuple[str, int]:
    """``text`` with every known secret and key-shaped string replaced by ``[secret]``, and how many were
    (the caller may tell the owner it kept none)."""
    for needle in _needles:
        if needle in text:
            return _pattern.subn(MARKER, text)
    return text, 0


def scrub(text: str) -> str:
    """``text`` with every known secret and key-shaped string replaced by ``[secret]``."""
    return scrub_count(text)[0]


def scrub_data(value: Any) -> Any:
    """A JSON-like value with every string in it scrubbed (dict keys too); other leaves unchanged."""
    if isinstance(value, str):
        return scrub_count(value)[0]
    if isinstance(value, dict):
        return {scrub_data(k): scrub_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_data(v) for v in value]
    return value


def _scrub_event(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    return {k: scrub_data(v) if isinstance(v, (str, dict, list, tuple)) else v for k, v in event.items()}


class _ScrubFilter(logging.Filter):
    """Libraries' own log lines (an HTTP error with a URL in it) are scrubbed like ours."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage()), None
        return True


def setup(level: str = "info", json_logs: bool | None = None) -> None:
    if json_logs is None:
        json_logs = not sys.stderr.isatty()
    numeric = getattr(logging, level.upper(), logging.INFO)
    renderer: Any = structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer(colors=False)
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _scrub_event,
        renderer,
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,  # a logger resolves its level once, not at every call
    )
    # Libraries log through stdlib logging; route their warnings to the same stream.
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _ScrubFilter) for f in handler.filters):
            handler.addFilter(_ScrubFilter())
    for noisy in ("httpx", "httpx2", "uvicorn.access", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
