"""The table the benchmarks print: figure, measured, target, met (``bench/report.py`` reads it back)."""

from __future__ import annotations

import os
import statistics
import sys

Row = tuple[str, str, str, "bool | None"]  # met None: reported, no target ("(report)")


def print_table(rows: list[Row], footer: str) -> None:
    w1, w2, w3 = (max(len(head), *(len(r[i]) for r in rows)) for i, head in enumerate(("figure", "measured", "target")))
    print(f"\n{'figure':<{w1}}  {'measured':<{w2}}  {'target':<{w3}}  met")
    print("-" * (w1 + w2 + w3 + 9))
    for name, value, target, met in rows:
        print(f"{name:<{w1}}  {value:<{w2}}  {target:<{w3}}  {'' if met is None else ('yes' if met else 'NO')}".rstrip())
    print(f"\n({footer}; python {sys.version.split()[0]}, {os.cpu_count()} cores)")


def spread(values: list[float], fmt: str = "{:.1f}", unit: str = "") -> str:
    """Median and range: one run on a shared 2-core box is not a figure."""
    median, low, high = (fmt.format(v) for v in (statistics.median(values), min(values), max(values)))
    return f"{median}{unit} ({low}-{high})"
