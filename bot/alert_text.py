"""The text of SLA alerts: every alert due at one moment combined into as few messages as
Telegram allows (4096 characters as shown, after the HTML is parsed), grouped by what happened
to which target and by assignee, each request named with its number (a link to its topic or
card), company, topic, priority and the time left or overdue; assignees mentioned so that
Telegram notifies them. Every word comes from the catalogues."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from html import escape, unescape
from itertools import groupby
from typing import Final

from bot.i18n import fmt_duration
from bot.render import MINUTE, Renderer
from bot.textsplit import TEXT_LIMIT
from bot.vocabulary import N_, AlertKind, priority_label_id, topic_label_id

TARGET_LABELS: Final[Mapping[str, str]] = {
    "first_response": N_("sla.target.first_response"),
    "resolution": N_("sla.target.resolution"),
}

TITLES: Final[Mapping[AlertKind, str]] = {
    AlertKind.WARNING: N_("alert.title.warning"),
    AlertKind.BREACH: N_("alert.title.breach"),
    AlertKind.REPEAT: N_("alert.title.repeat"),
}

# Sections in this order: what was just missed, what is about to be, what still is.
ORDER: Final[Mapping[AlertKind, int]] = {
    AlertKind.BREACH: 0,
    AlertKind.WARNING: 1,
    AlertKind.REPEAT: 2,
}

_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class AlertItem:
    """One alert going out, with what its line says of the request."""

    kind: AlertKind
    target: str
    number: int
    company: str
    topic: str
    priority: str
    assignee_id: int | None
    assignee_name: str | None
    link: str | None
    amount: timedelta  # time left (warning) or overdue (breach, repeat)


def request_link(chat_id: int | None, thread_id: int | None, message_id: int | None) -> str | None:
    """A link that opens the request: its forum topic, or its card. Only a supergroup
    (-100XXXXXXXXXX) has such links; XXXXXXXXXX is its id inside t.me/c/."""
    if chat_id is None or not str(chat_id).startswith("-100"):
        return None
    internal = str(chat_id)[4:]
    place = thread_id if thread_id is not None else message_id
    return f"https://t.me/c/{internal}/{place}" if place is not None else None


def mention(user_id: int, name: str | None) -> str:
    """An HTML mention: Telegram notifies the user it names."""
    return f'<a href="tg://user?id={user_id}">{escape(name or str(user_id))}</a>'


def shown_length(html: str) -> int:
    """The length Telegram counts: the text after the HTML is parsed, in UTF-16 code units."""
    return len(unescape(_TAG.sub("", html)).encode("utf-16-le")) // 2


def _state(renderer: Renderer, item: AlertItem, lang: str) -> str:
    if item.kind is AlertKind.WARNING:
        return renderer.t("alert.left", lang, span=fmt_duration(item.amount, lang, round_up=True))
    if item.amount < MINUTE:
        return renderer.label("alert.due_now", lang)
    return renderer.t("alert.overdue", lang, span=fmt_duration(item.amount, lang))


def _line(renderer: Renderer, item: AlertItem, lang: str) -> str:
    number = renderer.t("alert.request", lang, number=item.number)
    request = f'<a href="{escape(item.link)}">{number}</a>' if item.link else number
    return renderer.t(
        "alert.line",
        lang,
        request=request,
        company=escape(item.company),
        topic=escape(renderer.label(topic_label_id(item.topic), lang)),
        priority=renderer.label(priority_label_id(item.priority), lang),
        state=_state(renderer, item, lang),
    )


def _assignee(renderer: Renderer, item: AlertItem, lang: str) -> str:
    if item.assignee_id is None:
        who = renderer.label("card.unassigned", lang)
    else:
        who = mention(item.assignee_id, item.assignee_name)
    return renderer.t("alert.assignee", lang, assignee=who)


def _title(renderer: Renderer, kind: AlertKind, target: str, lang: str) -> str:
    return renderer.t(TITLES[kind], lang, target=renderer.label(TARGET_LABELS[target], lang))


def _sorted(items: Iterable[AlertItem]) -> list[AlertItem]:
    def key(item: AlertItem) -> tuple[int, str, bool, str, int]:
        unassigned = item.assignee_id is None
        return (ORDER[item.kind], item.target, unassigned, item.assignee_name or "", item.number)

    return sorted(items, key=key)


def alert_messages(
    renderer: Renderer, items: Sequence[AlertItem], lang: str, limit: int = TEXT_LIMIT
) -> list[str]:
    """The HTML messages that carry all `items`: sections (what happened to which target),
    an assignee line, then one line per request; cut only where a message would pass
    `limit`, the next one repeating the section and the assignee it continues."""
    messages: list[str] = []
    lines: list[str] = []
    size = 0
    headers = 0  # section and assignee lines at the end, with no request under them yet

    def add(text: str, *, header: bool = False) -> None:
        nonlocal size, headers
        lines.append(text)
        size += shown_length(text) + 1
        headers = headers + 1 if header else 0

    def flush() -> None:
        nonlocal lines, size, headers
        kept = lines[: len(lines) - headers]
        while kept and not kept[-1]:
            kept.pop()
        if kept:
            messages.append("\n".join(kept))
        lines, size, headers = [], 0, 0

    for (kind, target), section in groupby(_sorted(items), key=lambda i: (i.kind, i.target)):
        title = _title(renderer, kind, target, lang)
        if lines:
            add("", header=True)  # a blank line between sections
        add(title, header=True)
        for _who, group in groupby(section, key=lambda i: (i.assignee_id, i.assignee_name)):
            people = list(group)
            assignee = _assignee(renderer, people[0], lang)
            add(assignee, header=True)
            for item in people:
                line = _line(renderer, item, lang)
                if size + shown_length(line) > limit:
                    flush()
                    add(title, header=True)
                    add(assignee, header=True)
                add(line)
    flush()
    return messages
