"""Unit tests of schedules: parsing, refusing bad ones, next runs in local time across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from claw.config import TasksSection
from claw.tasks.conditions import ConditionError, parse_condition
from claw.tasks.spec import TaskRequest, TaskSpecError, prepare
from claw.tasks.triggers import TriggerError, fmt_local, make_trigger, next_runs, parse_duration

NY = ZoneInfo("America/New_York")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def test_daily_0230_runs_once_across_spring_forward():
    runs = next_runs({"type": "cron", "cron": "30 2 * * *"}, NY, local(2026, 3, 7, 12), 3)
    days = [r.date().isoformat() for r in runs]
    assert days == ["2026-03-08", "2026-03-09", "2026-03-10"]  # once on the day 02:30 does not exist
    assert fmt_local(runs[0], NY) == "Sun 2026-03-08 03:30"  # the same instant, in real local time
    assert runs[0].astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert fmt_local(runs[1], NY) == "Mon 2026-03-09 02:30"


def test_daily_0130_runs_once_when_clocks_fall_back():
    runs = next_runs({"type": "cron", "cron": "30 1 * * *"}, NY, local(2026, 10, 31, 12), 3)
    assert [r.date().isoformat() for r in runs] == ["2026-11-01", "2026-11-02", "2026-11-03"]


def test_every_half_hour_keeps_both_repeated_hours_in_order():
    runs = next_runs({"type": "cron", "cron": "*/30 * * * *"}, NY, local(2026, 11, 1, 0, 40), 6)
    utc = [r.astimezone(UTC) for r in runs]
    assert utc == sorted(utc) and len(set(utc)) == 6
    assert (utc[-1] - utc[0]).total_seconds() == 5 * 1800


def test_weekday_cron_uses_crontab_numbering():
    runs = next_runs({"type": "cron", "cron": "0 7 * * 1-5"}, NY, local(2026, 6, 5, 12), 3)  # a Friday
    assert [fmt_local(r, NY) for r in runs] == ["Mon 2026-06-08 07:00", "Tue 2026-06-09 07:00", "Wed 2026-06-10 07:00"]


@pytest.mark.parametrize("kwargs, message", [
    ({"every": "0 minutes"}, "longer than zero"),
    ({"every": "0m"}, "longer than zero"),
    ({"cron": "61 * * * *"}, "invalid cron"),
    ({"cron": "every day"}, "5 fields"),
    ({"cron": "0 7 * * 9"}, "day of week"),
    ({"at": "2020-01-01 10:00"}, "in the past"),
    ({"at": "next tuesday-ish"}, "cannot read"),
    ({"in_": "soon"}, "cannot read"),
    ({}, "exactly one"),
    ({"every": "10m", "cron": "* * * * *"}, "exactly one"),
])
def test_bad_schedules_are_refused_clearly(kwargs, message):
    with pytest.raises(TriggerError, match=message):
        make_trigger(tz=NY, now=local(2026, 6, 1, 12), **kwargs)


def test_at_is_local_time_and_durations():
    spec = make_trigger(at="2026-12-01 18:00", tz=NY, now=local(2026, 6, 1, 12))
    assert datetime.fromisoformat(spec["at"]) == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    assert parse_duration("1h30m") == 5400 and parse_duration("90s") == 90 and parse_duration("2 hours") == 7200


def test_prepare_refuses_unusable_tasks():
    settings = TasksSection()
    now = datetime.now(UTC)
    with pytest.raises(TaskSpecError, match="longer than zero"):
        prepare(TaskRequest(text="x", every="0 minutes"), tz=NY, now=now, settings=settings, created_by="t")
    with pytest.raises(TaskSpecError, match="no home skill"):
        prepare(TaskRequest(text="x", when="cover.garage_door == open"), tz=NY, now=now, settings=settings,
                created_by="t")
    with pytest.raises(TaskSpecError, match="cadence"):
        prepare(TaskRequest(kind="goal", text="x", delay="10m"), tz=NY, now=now, settings=settings, created_by="t")
    with pytest.raises(TaskSpecError, match="say what"):
        prepare(TaskRequest(every="10m"), tz=NY, now=now, settings=settings, created_by="t")


def test_conditions():
    c = parse_condition("sensor.spa_temperature < 36")
    assert c.holds("35.5", {}) and not c.holds("36", {}) and not c.holds("unavailable", {})
    d = parse_condition("cover.garage_door is open")
    assert d.holds("OPEN", {}) and not d.holds("closed", {})
    e = parse_condition("climate.thermostat.current_temperature >= 20")
    assert e.holds("heat", {"current_temperature": 20.5})
    with pytest.raises(ConditionError):
        parse_condition("the garage is open")
    with pytest.raises(ConditionError, match="number"):
        parse_condition("cover.garage_door < open")
