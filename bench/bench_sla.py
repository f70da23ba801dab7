"""How the cost of `add_working_time` grows with the target (run: python bench/bench_sla.py).

Targets of 10 working minutes (the baseline), one week, one year and ten years of working hours
of the default CRPT-Turon calendar, each timed warm (the calendar has seen those years before:
the steady state of a running bot) and cold (a fresh calendar each time, so the holiday tables of
every year crossed are built inside the measurement). A naive implementation that steps minute
by minute is timed for the one-week target as a comparison. No assertions: figures only.
"""

from __future__ import annotations

import platform
import sys
import timeit
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

START = "2026-03-02T09:00:00+05:00"  # a Monday morning; a week later comes Women's Day (observed)
WEEK_HOURS = 60  # Monday to Friday, 08:00-20:00
TARGETS = [
    ("10 working minutes", timedelta(minutes=10)),
    ("1 week of working hours", timedelta(hours=WEEK_HOURS)),
    ("1 year of working hours", timedelta(hours=52 * WEEK_HOURS)),
    ("10 years of working hours", timedelta(hours=520 * WEEK_HOURS)),
]


def best_per_call(func: Callable[[], object], budget: float = 0.4) -> float:
    """The best time of one call, in seconds, over a few timeit runs."""
    timer = timeit.Timer(func)
    number, elapsed = timer.autorange()
    number = max(1, int(number * budget / max(elapsed, 1e-9)))
    return min(timer.repeat(repeat=5, number=number)) / number


def naive_add(calendar: Any, start: datetime, amount: timedelta) -> datetime:
    """Minute stepping: what the engine is designed not to do."""
    step = timedelta(minutes=1)
    moment, left = start, amount
    while left > timedelta(0):
        if calendar.is_working_time(moment):
            left -= step
        moment += step
    return moment


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:,.1f} µs"
    return f"{seconds * 1e3:,.2f} ms"


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bot.sla import default_policy

    start = datetime.fromisoformat(START)
    warm = default_policy().calendar
    rows = []
    for name, amount in TARGETS:
        due = warm.add_working_time(start, amount)
        warm_time = best_per_call(lambda a=amount: warm.add_working_time(start, a))
        cold_time = best_per_call(
            lambda a=amount: default_policy().calendar.add_working_time(start, a), budget=0.2
        )
        rows.append((name, due, warm_time, cold_time))

    week = TARGETS[1][1]
    naive_due = naive_add(warm, start, week)
    naive_time = best_per_call(lambda: naive_add(warm, start, week), budget=0.5)

    base_warm, base_cold = rows[0][2], rows[0][3]
    print(f"add_working_time from {START} (Python {platform.python_version()})")
    print()
    header = f"{'target':<27} {'due':<26} {'warm':>10} {'x base':>7} {'cold':>10} {'x base':>7}"
    print(header)
    print("-" * len(header))
    for name, due, warm_time, cold_time in rows:
        print(
            f"{name:<27} {due.isoformat():<26} {fmt(warm_time):>10} "
            f"{warm_time / base_warm:>6.1f}x {fmt(cold_time):>10} {cold_time / base_cold:>6.1f}x"
        )
    print(
        f"{'naive minute steps, 1 week':<27} {naive_due.isoformat():<26} {fmt(naive_time):>10} "
        f"{naive_time / base_warm:>6.0f}x"
    )
    print()
    print("warm: the calendar has seen those years (a running bot); cold: a fresh calendar per")
    print("call, building the holiday table of every year crossed. x base: ratio to 10 minutes.")


if __name__ == "__main__":
    main()
