"""Runs every benchmark in bench/ and writes bench/REPORT.md: each figure, its DESIGN.md target, met or not.

Each benchmark prints its own table; this module runs them as subprocesses (so one crashing does not stop
the rest), keeps the raw output, and reads the figures that have a target out of it. Charts (PNG) are drawn
with matplotlib when it is installed: memory search latency against store size, and latency figures against
their targets.

    python bench/report.py [--quick]     (bench/run is the same)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


@dataclass
class Figure:
    name: str
    value: str
    target: str
    met: bool | None  # None: reported, no target


@dataclass
class Result:
    name: str
    command: list[str]
    output: str = ""
    seconds: float = 0.0
    returncode: int | None = None
    figures: list[Figure] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)


def parse_met_table(out: str) -> list[Figure]:
    """core.py, memory_context.py, camera.py: rows ending in yes/NO (or ok/MISS), target before it."""
    figures = []
    for line in out.splitlines():
        m = re.match(r"^(?P<name>\S.*?)\s{2,}(?P<value>\S.*?)\s{2,}(?P<target>\S.*?)\s+(?P<met>yes|NO)\s*$", line)
        if m:
            figures.append(Figure(m["name"].strip(), m["value"].strip(), m["target"].strip(), m["met"] == "yes"))
        else:
            m = re.match(r"^(?P<name>\S.*?)\s{2,}(?P<value>\S.*?)\s{2,}\((?P<target>report)\)\s*$", line)
            if m:
                figures.append(Figure(m["name"].strip(), m["value"].strip(), "(report)", None))
    return figures


def parse_webhooks(out: str) -> list[Figure]:
    figures = []
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("figure", "") or cells[0].startswith("-"):
            continue
        name, claw, bare, target = cells
        verdict = re.search(r"\((ok|MISS)\)", name)
        met: bool | None = verdict[1] == "ok" if verdict else None
        if name.startswith("non-200"):
            met = claw == "0"
        elif name.startswith("inbox rows stored"):
            met = claw == target
        name = re.sub(r"\s*\((ok|MISS)\)", "", name)
        figures.append(Figure(f"webhooks: {name} (bare starlette {bare})", claw, target or "(report)", met))
    return figures


def parse_fastpath(out: str) -> list[Figure]:
    figures = []
    for line in out.splitlines():
        m = re.match(r"^(?P<name>.+?message to service call p50)\s+(?P<v>[\d.]+) ms", line)
        if m:
            figures.append(Figure(m["name"].strip(), f"{m['v']} ms", "<= 5 ms", float(m["v"]) <= 5))
        m = re.match(r"^(?P<name>acted correctly among local answers)\s+(?P<v>\S+ = [\d.]+%)", line)
        if m:
            figures.append(Figure(m["name"], m["v"], "100%", m["v"].endswith("100.0%")))
        m = re.match(r"^(?P<name>local coverage of expected-local device commands)\s+(?P<v>\S+ = [\d.]+%)", line)
        if m:
            figures.append(Figure(m["name"], m["v"], "(report)", None))
        m = re.match(r"^(?P<name>sentence set size)\s+(?P<v>\d+)", line)
        if m:
            figures.append(Figure(m["name"], m["v"], ">= 300", int(m["v"]) >= 300))
    return figures


def parse_memory_speed(out: str) -> list[Figure]:
    figures = []
    for corpus, size, p50, p99 in re.findall(r"^\s*([a-z]+)\s+(\d+)\s+([\d.]+) ms\s+([\d.]+) ms", out, re.M):
        big = int(size) >= 100_000
        figures.append(Figure(f"memory search, {corpus}, {int(size):,} episodes, p50", f"{p50} ms",
                              "<= 10 ms" if big else "(report)", float(p50) <= 10 if big else None))
        figures.append(Figure(f"memory search, {corpus}, {int(size):,} episodes, p99", f"{p99} ms",
                              "<= 30 ms" if big else "(report)", float(p99) <= 30 if big else None))
    return figures


def parse_memory_eval(out: str) -> list[Figure]:
    """Rows of ``memory_eval.py --seeds``: bank, kind, plain BM25 and claw as "mean% (min%-max%)", target."""
    figures = []
    spread = r"([\d.]+%) \(([\d.]+%)-([\d.]+%)\)"
    for line in out.splitlines():
        m = re.match(rf"^(\w+)\s+(overall|multi-session)\s+{spread}\s+{spread}\s*(.*?)\s*$", line)
        if m:
            bank, kind, target = m[1], m[2], m[9]
            t = re.search(r"[\d.]+", target)
            met = float(m[6].rstrip("%")) >= float(t[0]) if t else None
            figures.append(Figure(f"memory recall@10 {kind}, {bank} bank, mean over seeds (plain BM25 {m[3]})",
                                  f"{m[6]} ({m[7]}-{m[8]})", target or "(report)", met))
    return figures


BENCHES: list[tuple[str, list[str], list[str], object]] = [
    # name, full args, --quick args, parser
    ("core.py", ["--turns", "1000"], ["--turns", "200", "--repeats", "2", "--idle", "3", "--growth-turns", "0"],
     parse_met_table),
    ("webhooks.py", ["--requests", "5000"], ["--requests", "1500", "--repeats", "2"], parse_webhooks),
    ("fastpath.py", ["--rounds", "5"], ["--rounds", "1"], parse_fastpath),
    ("memory_speed.py", ["--sizes", "10000,100000"],
     ["--sizes", "10000,100000", "--household", "100000", "--queries", "100"], parse_memory_speed),
    ("memory_eval.py", ["--split", "all", "--seeds", "1-5"], ["--split", "all", "--seeds", "1-2", "--convs", "4"],
     parse_memory_eval),
    ("memory_context.py", [], ["--episodes", "3000", "--runs", "100"], parse_met_table),
    ("camera.py", [], ["--seconds", "3", "--hours", "0.5"], parse_met_table),
    ("idle.py", ["--seconds", "60"], ["--seconds", "20"], parse_met_table),
]


def run_one(name: str, args: list[str], parser: object, timeout: float) -> Result:
    cmd = [sys.executable, str(BENCH / name), *args]
    result = Result(name, cmd)
    started = time.monotonic()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
        result.output, result.returncode = proc.stdout + (proc.stderr[-3000:] if proc.returncode else ""), proc.returncode
    except subprocess.TimeoutExpired as exc:
        result.output = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        result.output += f"\n(timed out after {timeout:.0f} s)"
    result.seconds = time.monotonic() - started
    result.figures = parser(result.output)  # type: ignore[operator]
    return result


def charts(results: list[Result]) -> tuple[list[str], str]:
    """PNG charts next to the report; returns their file names, or a note saying why there are none."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return [], "(no charts: matplotlib is not installed; `pip install matplotlib` and rerun)"
    made = []
    speed = next((r for r in results if r.name == "memory_speed.py"), None)
    if speed:
        pts = [(int(s), float(a), float(b)) for c, s, a, b in
               re.findall(r"^\s*([a-z]+)\s+(\d+)\s+([\d.]+) ms\s+([\d.]+) ms", speed.output, re.M)
               if c == "household"]
        if pts:
            fig, ax = plt.subplots(figsize=(6, 3.5))
            xs = [p[0] for p in pts]
            ax.plot(xs, [p[1] for p in pts], "o-", label="p50")
            ax.plot(xs, [p[2] for p in pts], "s-", label="p99")
            ax.axhline(10, color="tab:blue", ls=":", label="p50 target 10 ms")
            ax.axhline(30, color="tab:orange", ls=":", label="p99 target 30 ms")
            ax.set_xscale("log")
            ax.set_xlabel("episodes in the store")
            ax.set_ylabel("search latency (ms, wall)")
            ax.set_title("memory search time against store size (household corpus)")
            ax.legend(fontsize=8)
            fig.tight_layout()
            fig.savefig(BENCH / "memory_search.png", dpi=110)
            plt.close(fig)
            made.append("memory_search.png")
    latency = []
    for r in results:
        for f in r.figures:
            in_ms = "ms" in f.name  # e.g. "p99 latency, ms" with a bare number as the value
            v = re.match(r"^([\d.]+) ms$", f.value) or (re.match(r"^([\d.]+)$", f.value) if in_ms else None)
            t = re.match(r"^<= ([\d.]+)(?: ms)?$", f.target)
            if v and t:
                latency.append((f"{r.name.removesuffix('.py')}: {f.name}"[:60], float(v[1]), float(t[1])))
    if latency:
        fig, ax = plt.subplots(figsize=(10, 0.45 * len(latency) + 1.2))
        names = [n for n, _, _ in latency]
        ratios = [v / t for _, v, t in latency]
        ax.barh(names, ratios, color=["tab:green" if x <= 1 else "tab:red" for x in ratios])
        ax.axvline(1, color="black", ls="--")
        ax.set_xlabel("measured / target (left of the line: met)")
        ax.set_title("latency / target")
        fig.tight_layout()
        fig.savefig(BENCH / "latency_vs_targets.png", dpi=110)
        plt.close(fig)
        made.append("latency_vs_targets.png")
    return made, ""


def write_report(results: list[Result], quick: bool) -> Path:
    made, note = charts(results)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "# Benchmark report",
        "",
        f"Generated by `bench/run`{' --quick' if quick else ''} on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load:.1f} at the end "
        "(wall-clock figures suffer when the machine is busy).",
        "",
        "| benchmark | figure | measured | target | met |",
        "| --- | --- | --- | --- | --- |",
    ]
    met = missed = 0
    for r in results:
        if not r.figures:
            lines.append(f"| {r.name} | (no figures read: exit {r.returncode}; see the raw output) | | | |")
        for f in r.figures:
            mark = "" if f.met is None else ("yes" if f.met else "**no**")
            met += f.met is True
            missed += f.met is False
            lines.append(f"| {r.name} | {f.name} | {f.value} | {f.target} | {mark} |")
    lines += ["", f"{met} targets met, {missed} not met.", ""]
    if made:
        lines += ["## Charts", ""] + [f"![{m}]({m})" for m in made] + [""]
    elif note:
        lines += [note, ""]
    lines += ["## Raw output", ""]
    for r in results:
        lines += [f"### {r.name} ({r.seconds:.0f} s, exit {r.returncode})", "", "`" + " ".join(
            [Path(r.command[1]).relative_to(ROOT).as_posix(), *r.command[2:]]) + "`", "", "```",
            r.output.rstrip(), "```", ""]
    path = BENCH / "REPORT.md"
    path.write_text("\n".join(lines))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description="Run every benchmark and write bench/REPORT.md")
    ap.add_argument("--quick", action="store_true", help="smaller sizes: about a minute instead of several")
    ap.add_argument("--only", action="append", default=[], help="run only these (e.g. core.py); repeatable")
    ap.add_argument("--timeout", type=float, default=900.0, help="per benchmark, seconds")
    a = ap.parse_args()
    results = []
    for name, full, quick, parser in BENCHES:
        if not (BENCH / name).exists() or (a.only and name not in a.only):
            continue
        print(f"running {name} ...", flush=True)
        r = run_one(name, quick if a.quick else full, parser, a.timeout)
        marks = ", ".join(f"{f.name}: {f.value}" + ("" if f.met is None else (" ok" if f.met else " MISSED"))
                          for f in r.figures)
        print(f"  {r.seconds:.0f} s, exit {r.returncode}; {marks or 'no figures read'}", flush=True)
        results.append(r)
    print(f"wrote {write_report(results, a.quick)}")


if __name__ == "__main__":
    main()
