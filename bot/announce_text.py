"""The announcement of new requests: when the operator group's queue backs up (an outage of the
marking system: hundreds write at once), the requests whose cards still wait their turn are
named together, critical first, each with its number, company, topic and the command that opens
its card at once (`/t_1234`). Every word comes from the catalogues."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Final

from bot.render import Renderer
from bot.textsplit import TEXT_LIMIT
from bot.vocabulary import Priority, priority_label_id, topic_label_id

RANK: Final = {Priority.CRITICAL: 0, Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}


@dataclass(frozen=True)
class NewRequest:
    number: int
    company: str
    topic: str
    priority: Priority


def in_order(requests: Sequence[NewRequest]) -> list[NewRequest]:
    """Critical first, then high, medium, low; by number within each."""
    return sorted(requests, key=lambda r: (RANK.get(r.priority, len(RANK)), r.number))


def announcement(renderer: Renderer, lang: str, requests: Sequence[NewRequest]) -> list[str]:
    """The messages (HTML) that name `requests`, each within Telegram's limit."""
    ordered = in_order(requests)
    lines = [
        renderer.t(
            "announce.line",
            lang,
            number=r.number,
            company=escape(r.company),
            topic=renderer.label(topic_label_id(r.topic), lang),
            priority=renderer.label(priority_label_id(r.priority), lang),
        )
        for r in ordered
    ]
    title = renderer.tn("announce.title", len(ordered), lang)
    footer = renderer.t("announce.footer", lang)
    messages: list[str] = []
    current: list[str] = [title]
    for line in lines:
        if len("\n".join([*current, line, footer])) > TEXT_LIMIT - 100:
            messages.append("\n".join(current))
            current = [renderer.t("announce.title_more", lang)]
        current.append(line)
    current.append(footer)
    messages.append("\n".join(current))
    return messages
