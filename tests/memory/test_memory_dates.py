from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from memory.dates import parse_date_window

NOW = datetime(2024, 2, 14, 12, 0)  # Wednesday


@pytest.mark.parametrize("q,start,end", [
    ("what did we do last Tuesday?", date(2024, 2, 13), date(2024, 2, 14)),
    ("yesterday", date(2024, 2, 13), date(2024, 2, 14)),
    ("in March", date(2023, 3, 1), date(2023, 4, 1)),
    ("in May 2023", date(2023, 5, 1), date(2023, 6, 1)),
    ("on 5 March", date(2023, 3, 5), date(2023, 3, 6)),
    ("March 3rd, 2023", date(2023, 3, 3), date(2023, 3, 4)),
    ("last month", date(2024, 1, 1), date(2024, 2, 1)),
    ("last week", date(2024, 2, 5), date(2024, 2, 12)),
    ("2023-05-01", date(2023, 5, 1), date(2023, 5, 2)),
    ("in 2022", date(2022, 1, 1), date(2023, 1, 1)),
])
def test_windows(q: str, start: date, end: date) -> None:
    w = parse_date_window(q, NOW)
    assert w is not None and (w.start.date(), w.end.date()) == (start, end)


def test_no_date_and_may_as_verb() -> None:
    assert parse_date_window("may I ask where the keys are", NOW) is None
    assert parse_date_window("Did Jo march in the protest?", NOW) is None
    w = parse_date_window("did they march to the capitol in June?", NOW)  # the verb gives way to the month
    assert w is not None and (w.start.date(), w.end.date()) == (date(2023, 6, 1), date(2023, 7, 1))
    assert parse_date_window("where are my keys", NOW) is None


def test_a_date_beyond_the_calendar_is_no_window() -> None:
    assert parse_date_window("what did we buy 5000 years ago?", NOW) is None  # before year 1


def test_day_boundaries_follow_now_timezone() -> None:
    tz = timezone(timedelta(hours=2))
    w = parse_date_window("yesterday", datetime(2024, 2, 14, 1, 0, tzinfo=tz))
    assert w is not None and w.start == datetime(2024, 2, 12, 22, 0, tzinfo=UTC)
