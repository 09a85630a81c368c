"""When a task runs: parsing what people type ("in 20m", "every 10m", a cron line, a local date) into a
stored trigger, checking it, and computing next runs in local time, correctly across DST changes.

A stored trigger is plain JSON (``{"type": "at"|"cron"|"every", ...}``) so the CLI
can compute and show next runs without the daemon; ``aps_trigger`` turns it into
the APScheduler trigger the daemon schedules.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger


class TriggerError(ValueError):
    """A schedule that cannot be used, phrased for the person who typed it."""


_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")


def parse_duration(text: str) -> float:
    """Seconds in "20m", "1h30m", "90 seconds", "2 hours"; a bare number is minutes."""
    raw = text.strip().lower()
    if not raw:
        raise TriggerError("empty duration: use e.g. 20m, 1h30m or 90s")
    if re.fullmatch(r"\d+(\.\d+)?", raw):
        return float(raw) * 60
    pos, total = 0, 0.0
    for m in _DURATION_PART.finditer(raw):
        if raw[pos:m.start()].strip(" ,and") != "":
            break
        unit = _UNITS.get(m.group(2))
        if unit is None:
            raise TriggerError(f"unknown unit {m.group(2)!r} in {text!r}: use s, m, h, d or w")
        total += float(m.group(1)) * unit
        pos = m.end()
    if pos == 0 or raw[pos:].strip() != "":
        raise TriggerError(f"cannot read {text!r} as a duration: use e.g. 20m, 1h30m or 90s")
    return total


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


def normalize_local(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach ``tz``; a wall time inside a spring-forward gap moves forward, as clocks do."""
    aware = naive.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz)


_AT_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")


def parse_at(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """A moment in local time ("2026-12-01 18:00", "18:00" = the next one) or ISO with an offset; UTC result."""
    raw = text.strip()
    when: datetime | None = None
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    if m:
        hour, minute = int(m.group(1)), int(m.group(2))
        if hour > 23 or minute > 59:
            raise TriggerError(f"{text!r} is not a time of day")
        local_now = now.astimezone(tz)
        when = normalize_local(local_now.replace(tzinfo=None, hour=hour, minute=minute, second=0, microsecond=0), tz)
        if when <= local_now:
            when = normalize_local((local_now + timedelta(days=1)).replace(tzinfo=None, hour=hour, minute=minute,
                                                                           second=0, microsecond=0), tz)
        return when.astimezone(UTC)
    for fmt in _AT_FORMATS:
        try:
            when = normalize_local(datetime.strptime(raw, fmt), tz)
            break
        except ValueError:
            continue
    if when is None:
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            raise TriggerError(f"cannot read {text!r} as a date and time: use e.g. \"2026-12-01 18:00\" (local time)") from None
        when = normalize_local(parsed, tz) if parsed.tzinfo is None else parsed
    if when <= now:
        raise TriggerError(f"{fmt_local(when, tz)} is in the past (it is now {fmt_local(now, tz)})")
    return when.astimezone(UTC)


# -- cron ---------------------------------------------------------------------

_DOW_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def _cron_dow(field: str) -> str:
    """Crontab numbers weekdays from Sunday = 0 (or 7); APScheduler 3 from Monday = 0. Translate to names."""
    if field == "*" or re.fullmatch(r"[a-z,\-]+", field.lower()):
        return field.lower()
    days: list[int] = []
    for part in field.split(","):
        m = re.fullmatch(r"(\*|\d)(?:-(\d))?(?:/(\d+))?", part)
        if not m:
            raise TriggerError(f"day of week {field!r}: use 0-7 (0 and 7 are Sunday) or mon-fri")
        lo, hi, step = m.group(1), m.group(2), int(m.group(3) or 1)
        first, last = (0, 6) if lo == "*" else (int(lo), int(hi) if hi else int(lo) if not m.group(3) else 7)
        if first > 7 or last > 7 or first > last or step == 0:
            raise TriggerError(f"day of week {part!r} is not a valid range")
        days.extend(d % 7 for d in range(first, last + 1, step))
    return ",".join(_DOW_NAMES[d] for d in sorted(set(days)))


class LocalCronTrigger(CronTrigger):
    """A cron trigger on local wall time that runs a fixed-hour job once when clocks fall back.

    APScheduler already moves a time that does not exist (02:30 on a spring-forward
    day) to the same instant an hour later; on a fall-back day it would fire both
    01:30s. Like cron, a job at a named hour runs only at the first of them; jobs
    on every hour keep both.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fixed_hour = str(self.fields[5]) != "*"

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        nxt = super().get_next_fire_time(previous_fire_time, now)
        if nxt is None:
            return None
        if previous_fire_time is not None and nxt.astimezone(UTC) <= previous_fire_time.astimezone(UTC):
            # APScheduler loses the fold inside a repeated hour and steps back to the first one.
            prev_utc = previous_fire_time.astimezone(UTC)
            later = nxt.replace(fold=1)
            if later.astimezone(UTC) > prev_utc:
                nxt = later
            else:
                cursor = prev_utc
                for _ in range(180):
                    cursor += timedelta(minutes=1)
                    found = super().get_next_fire_time(None, cursor.astimezone(self.timezone))
                    if found is None or found.astimezone(UTC) > prev_utc:
                        nxt = found
                        break
                if nxt is None:
                    return None
        if self.fixed_hour and _second_of_repeated_hour(nxt):
            cursor = nxt
            while _second_of_repeated_hour(cursor):  # walk to the end of the repeated hour (<= 60 steps)
                cursor = (cursor.astimezone(UTC) + timedelta(minutes=1)).astimezone(self.timezone)
            nxt = super().get_next_fire_time(None, cursor.replace(second=0, microsecond=0))
        return nxt

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.fixed_hour = str(self.fields[5]) != "*"


def _second_of_repeated_hour(dt: datetime) -> bool:
    """True for a wall time that already happened an hour earlier (the second 01:30 when clocks fall back)."""
    tz = dt.tzinfo
    naive = dt.replace(tzinfo=None)
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    return first.utcoffset() != second.utcoffset() and dt.utcoffset() == second.utcoffset()


def parse_cron(expr: str, tz: ZoneInfo) -> LocalCronTrigger:
    fields = expr.split()
    if len(fields) != 5:
        raise TriggerError(f"cron {expr!r} needs 5 fields (minute hour day month weekday), e.g. \"0 7 * * 1-5\"")
    minute, hour, day, month, dow = fields
    try:
        return LocalCronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_cron_dow(dow), timezone=tz)
    except TriggerError:
        raise
    except (ValueError, TypeError) as exc:
        raise TriggerError(f"invalid cron {expr!r}: {exc}") from None


# -- stored triggers ------------------------------------------------------------


def make_trigger(*, at: str | None = None, in_: str | None = None, cron: str | None = None, every: str | None = None,
                 tz: ZoneInfo, now: datetime, min_interval: float = 1.0) -> dict[str, Any]:
    """Exactly one of the four ways to say when, checked and stored as JSON."""
    given = [name for name, v in (("at", at), ("in", in_), ("cron", cron), ("every", every)) if v not in (None, "")]
    if len(given) != 1:
        raise TriggerError("give exactly one of: at (local date and time), in (e.g. 20m), cron, every (e.g. 10m)"
                           + (f"; got {', '.join(given)}" if given else ""))
    if at:
        return {"type": "at", "at": parse_at(at, tz, now).isoformat()}
    if in_:
        seconds = parse_duration(in_)
        if seconds <= 0:
            raise TriggerError(f"'in {in_}' is not in the future")
        return {"type": "at", "at": (now + timedelta(seconds=seconds)).astimezone(UTC).isoformat()}
    if cron:
        trigger = parse_cron(cron, tz)
        if trigger.get_next_fire_time(None, now) is None:
            raise TriggerError(f"cron {cron!r} never fires")
        return {"type": "cron", "cron": " ".join(cron.split())}
    seconds = parse_duration(every or "")
    if seconds <= 0:
        raise TriggerError(f"'every {every}' is not a repeating interval: it must be longer than zero")
    if seconds < min_interval:
        raise TriggerError(f"'every {every}' is too often: the shortest interval is {format_duration(min_interval)}")
    start = now + timedelta(seconds=seconds)
    return {"type": "every", "seconds": seconds, "start": start.astimezone(UTC).isoformat()}


def aps_trigger(spec: dict[str, Any], tz: ZoneInfo) -> BaseTrigger:
    kind = spec.get("type")
    if kind == "at":
        return DateTrigger(run_date=datetime.fromisoformat(spec["at"]), timezone=tz)
    if kind == "cron":
        return parse_cron(spec["cron"], tz)
    if kind == "every":
        return IntervalTrigger(seconds=spec["seconds"], start_date=datetime.fromisoformat(spec["start"]), timezone=tz)
    raise TriggerError(f"unknown trigger type {kind!r}")


def next_runs(spec: dict[str, Any] | None, tz: ZoneInfo, now: datetime, count: int = 3,
              after: datetime | None = None) -> list[datetime]:
    """The next ``count`` run times (in ``tz``) strictly after ``now`` (or from ``after``, if given)."""
    if not spec:
        return []
    trigger = aps_trigger(spec, tz)
    out: list[datetime] = []
    prev: datetime | None = None
    start = after or now
    if spec["type"] == "at":
        when = datetime.fromisoformat(spec["at"])
        return [when.astimezone(UTC).astimezone(tz)] if when >= start else []
    cursor = start
    while len(out) < count:
        nxt = trigger.get_next_fire_time(prev, cursor)
        if nxt is None:
            break
        if nxt >= start:
            out.append(nxt.astimezone(UTC).astimezone(tz))  # via UTC: a gap time becomes the real wall time
        prev, cursor = nxt, nxt + timedelta(microseconds=1)
    return out


def first_run(spec: dict[str, Any] | None, tz: ZoneInfo, now: datetime) -> datetime | None:
    if spec and spec.get("type") == "at":
        return datetime.fromisoformat(spec["at"]).astimezone(UTC)
    runs = next_runs(spec, tz, now, 1)
    return runs[0].astimezone(UTC) if runs else None


def fmt_local(dt: datetime | None, tz: tzinfo) -> str:
    if dt is None:
        return "-"
    return dt.astimezone(UTC).astimezone(tz).strftime("%a %Y-%m-%d %H:%M")


def describe(spec: dict[str, Any] | None, tz: ZoneInfo) -> str:
    """Short words for a trigger, for lists and for telling the owner what was understood."""
    if not spec:
        return "on home state changes"
    if spec["type"] == "at":
        return f"once at {fmt_local(datetime.fromisoformat(spec['at']), tz)}"
    if spec["type"] == "every":
        return f"every {format_duration(spec['seconds'])}"
    return f"cron \"{spec['cron']}\" ({tz.key})"
