"""The digest's chart: opened, resolved and breached per day, drawn off-screen (matplotlib's
Agg backend, no display, nothing global: one Figure per call) into PNG bytes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.services.stats import DayFigures

COLOURS = {"opened": "#4C78A8", "resolved": "#54A24B", "breached": "#E45756"}
WIDTH = 0.27


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words, in the desk's language."""

    title: str
    opened: str
    resolved: str
    breached: str


def daily_chart(days: Sequence[DayFigures], labels: ChartLabels, dpi: int = 110) -> bytes:
    """A grouped bar chart of the days, as PNG."""
    figure = Figure(figsize=(9, 4.2), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = range(len(days))
    series = (
        ("opened", labels.opened, [d.opened for d in days]),
        ("resolved", labels.resolved, [d.resolved for d in days]),
        ("breached", labels.breached, [d.breached for d in days]),
    )
    for offset, (key, label, values) in zip((-WIDTH, 0.0, WIDTH), series, strict=True):
        axes.bar([p + offset for p in positions], values, WIDTH, label=label, color=COLOURS[key])
    axes.set_xticks(list(positions), [d.day.strftime("%d.%m") for d in days])
    axes.tick_params(axis="x", labelrotation=45, labelsize=8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    highest = max((max(d.opened, d.resolved, d.breached) for d in days), default=0)
    axes.set_ylim(0, max(highest, 1) * 1.3)  # room for the legend above the bars
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    axes.set_title(labels.title)
    axes.legend(loc="upper left", ncols=3, fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
