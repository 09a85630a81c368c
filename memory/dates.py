"""Date expressions in questions ("last Tuesday", "in March", "3 weeks ago") to time windows.

Memory questions look back, so ambiguous expressions resolve to the past: "in March" in
February means last year's March, "on Tuesday" the most recent Tuesday. Day boundaries
are taken in the timezone of `now` (UTC when `now` is naive). The parser is deliberately
small and rule-based: no dependency, predictable, and easy to extend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
         ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
         ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
         ("december", "dec")]
    )
    for m in names
}
WEEKDAYS = {d: i for i, d in enumerate(
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])}
NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
           "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
           "couple": 2, "a couple": 2, "a couple of": 2, "few": 3, "a few": 3, "several": 4}


@dataclass
class DateWindow:
    """A half-open UTC interval [start, end) plus the query text it was read from."""

    start: datetime
    end: datetime
    phrase: str


_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_WD_RE = "|".join(WEEKDAYS)
_NUM_RE = r"\d+|a couple of|a couple|a few|an|a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|couple|few|several"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")),
    ("md", re.compile(rf"\b(?:on\s+)?({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.I)),
    ("dm", re.compile(rf"\b(?:on\s+)?(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\.?(?:,?\s+(\d{{4}}))?\b", re.I)),
    ("month", re.compile(rf"\b(?:(?:in|during|last|this|early|late|mid|around)\s+)?(?:the\s+)?({_MONTH_RE})\.?(?:\s+(?:of\s+)?(\d{{4}}))?\b", re.I)),
    ("ago", re.compile(rf"\b({_NUM_RE})\s+(day|week|month|year)s?\s+ago\b", re.I)),
    ("past", re.compile(rf"\b(?:in\s+)?(?:the\s+)?(?:past|last)\s+({_NUM_RE})\s+(day|week|month|year)s?\b", re.I)),
    ("daybefore", re.compile(r"\b(?:the\s+)?day\s+before\s+yesterday\b", re.I)),
    ("yesterday", re.compile(r"\byesterday\b|\blast\s+night\b", re.I)),
    ("today", re.compile(r"\b(?:earlier\s+)?today\b|\btonight\b|\bthis\s+(?:morning|afternoon|evening)\b", re.I)),
    ("weekday", re.compile(rf"\b(last|this|on|past)?\s*({_WD_RE})\b", re.I)),
    ("weekend", re.compile(r"\b(last|this|past)\s+weekend\b", re.I)),
    ("unit", re.compile(r"\b(last|this|past|previous)\s+(week|month|year)\b", re.I)),
    ("year", re.compile(r"\b(?:in|during|since)\s+((?:19|20)\d{2})\b", re.I)),
    ("recent", re.compile(r"\b(?:recently|lately|the\s+other\s+day)\b", re.I)),
]


def _num(s: str) -> int:
    s = s.lower()
    return int(s) if s.isdigit() else NUMBERS.get(s, 1)


def _month_start(y: int, m: int) -> date:
    return date(y + (m - 1) // 12, (m - 1) % 12 + 1, 1)


def parse_date_window(query: str, now: datetime) -> DateWindow | None:
    """First date expression in `query` as a UTC window relative to `now`, or None."""
    tz: tzinfo = now.tzinfo or UTC
    local_now = now if now.tzinfo else now.replace(tzinfo=UTC)
    today = local_now.date()

    def window(d0: date, d1: date, phrase: str) -> DateWindow:
        s = datetime.combine(d0, time(), tz).astimezone(UTC)
        e = datetime.combine(d1, time(), tz).astimezone(UTC)
        return DateWindow(s, e, phrase)

    for kind, rx in _PATTERNS:
        for m in rx.finditer(query):  # a word that is not a date here ("may I") gives way to the next
            ph = m.group(0)
            try:
                if kind == "iso":
                    d = date(int(m[1]), int(m[2]), int(m[3]))
                    return window(d, d + timedelta(days=1), ph)
                if kind in ("md", "dm"):
                    mon, day = (m[1], m[2]) if kind == "md" else (m[2], m[1])
                    mo, dy = MONTHS[mon.lower()], int(day)
                    y = int(m[3]) if m[3] else today.year
                    d = date(y, mo, dy)
                    if not m[3] and d > today:
                        d = date(y - 1, mo, dy)
                    return window(d, d + timedelta(days=1), ph)
                if kind == "month":
                    word = m[1].lower()
                    if word in ("may", "march", "mar", "jun", "jan", "dec", "sep", "aug", "oct", "nov", "feb", "apr", "jul") \
                            and not m[2] and not re.match(r"(?i)(in|during|last|this|early|late|mid|around)\b", ph):
                        # "may" / "march" / "jun" alone are usually ordinary words ("did they march"), not months.
                        continue
                    mo = MONTHS[word]
                    y = int(m[2]) if m[2] else today.year
                    if not m[2] and (mo > today.month or (ph.lower().startswith("last") and mo == today.month)):
                        y -= 1
                    return window(_month_start(y, mo), _month_start(y, mo + 1), ph)
                if kind == "ago":
                    n, unit = _num(m[1]), m[2].lower()
                    span = {"day": 1, "week": 7, "month": 30, "year": 365}[unit] * n
                    slack = {"day": 1, "week": 4, "month": 15, "year": 120}[unit]
                    c = today - timedelta(days=span)
                    return window(c - timedelta(days=slack), c + timedelta(days=slack + 1), ph)
                if kind == "past":
                    n, unit = _num(m[1]), m[2].lower()
                    span = {"day": 1, "week": 7, "month": 30, "year": 365}[unit] * n
                    return window(today - timedelta(days=span), today + timedelta(days=1), ph)
                if kind == "daybefore":
                    d = today - timedelta(days=2)
                    return window(d, d + timedelta(days=1), ph)
                if kind == "yesterday":
                    d = today - timedelta(days=1)
                    return window(d, d + timedelta(days=1), ph)
                if kind == "today":
                    return window(today, today + timedelta(days=1), ph)
                if kind == "weekday":
                    which = (m[1] or "").lower()
                    wd = WEEKDAYS[m[2].lower()]
                    back = (today.weekday() - wd) % 7
                    if which in ("last", "past") and back == 0:
                        back = 7
                    d = today - timedelta(days=back)
                    return window(d, d + timedelta(days=1), ph)
                if kind == "weekend":
                    back = (today.weekday() - 5) % 7
                    sat = today - timedelta(days=back)
                    if m[1].lower() in ("last", "past") and back < 2:
                        sat -= timedelta(days=7)
                    return window(sat, sat + timedelta(days=2), ph)
                if kind == "unit":
                    which, unit = m[1].lower(), m[2].lower()
                    if unit == "week":
                        start = today - timedelta(days=today.weekday())
                        if which != "this":
                            start -= timedelta(days=7)
                        return window(start, start + timedelta(days=7), ph)
                    if unit == "month":
                        start = _month_start(today.year, today.month)
                        if which != "this":
                            start = _month_start(today.year, today.month - 1)
                        return window(start, _month_start(start.year, start.month + 1), ph)
                    y = today.year if which == "this" else today.year - 1
                    return window(date(y, 1, 1), date(y + 1, 1, 1), ph)
                if kind == "year":
                    y = int(m[1])
                    if ph.lower().startswith("since"):
                        return window(date(y, 1, 1), today + timedelta(days=1), ph)
                    return window(date(y, 1, 1), date(y + 1, 1, 1), ph)
                if kind == "recent":
                    return window(today - timedelta(days=14), today + timedelta(days=1), ph)
            except (ValueError, OverflowError):  # no such date ("February 30th", "5000 years ago")
                continue
    return None
