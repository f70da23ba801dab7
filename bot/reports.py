"""The managers' figures as text: the daily digest and /stats, in the desk's language, plain
text (no markup) split into messages within Telegram's limit. Every word comes from the
catalogues; counts go through plural forms, numbers, dates and percentages through Babel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from bot.i18n import BABEL_LOCALES, fmt_datetime, fmt_duration
from bot.render import Renderer
from bot.services.stats import Breach, Overdue, Person, Stats
from bot.textsplit import TEXT_LIMIT, split_text
from bot.vocabulary import N_, priority_label_id

# At most this many lines of one list in a message; the rest is in /export.
LIST_LIMIT = 30

TARGET_LABELS: Final[Mapping[str, str]] = {
    "first_response": N_("stats.target.first_response"),
    "resolution": N_("stats.target.resolution"),
}


@dataclass(frozen=True)
class Words:
    """The catalogues in one language, with Babel's formatting for it."""

    renderer: Renderer
    lang: str

    @property
    def locale(self) -> str:
        return BABEL_LOCALES[self.lang]

    def t(self, message_id: str, **params: object) -> str:
        return self.renderer.t(message_id, self.lang, **params)

    def plural(self, message_id: str, count: int, **params: object) -> str:
        """A text with a count: the catalogue's plural form for `count` ({n} in it)."""
        return self.renderer.tn(message_id, count, self.lang, **params)

    def label(self, message_id: str) -> str:
        return self.renderer.label(message_id, self.lang)

    def moment(self, value: datetime) -> str:
        return fmt_datetime(value, self.lang, self.renderer.tz)

    def day(self, value: date) -> str:
        return format_date(value, "dd.MM.yyyy", locale=self.locale)

    def span(self, value: timedelta) -> str:
        """'25 мин', '1 ч 10 мин', '2 дн. 3 ч' (Babel's units, as the alerts say it)."""
        return fmt_duration(value, self.lang)

    def percent(self, share: float) -> str:
        return format_percent(share, locale=self.locale)

    def decimal(self, value: float) -> str:
        return format_decimal(value, "#,##0.0", locale=self.locale)

    def person(self, person: Person) -> str:
        if person.id is None:
            return self.label("stats.nobody")
        return person.name or self.t("stats.operator_unknown", id=person.id)

    def priority(self, priority: str) -> str:
        return self.label(priority_label_id(priority))

    def target(self, kind: str) -> str:
        return self.label(TARGET_LABELS.get(kind, kind))


def digest_text(words: Words, stats: Stats, day: date) -> list[str]:
    """The daily digest: what happened since the last one; in messages within the limit."""
    title = words.t(
        "digest.title",
        date=words.day(day),
        start=words.moment(stats.period.start),
        end=words.moment(stats.period.end),
    )
    return split_text("\n\n".join([title, *sections(words, stats)]), TEXT_LIMIT)


def stats_text(words: Words, stats: Stats, first: date, last: date) -> list[str]:
    """/stats: the same figures for the days asked."""
    if first == last:
        title = words.t("stats.title_day", day=words.day(first))
    else:
        title = words.t("stats.title", first=words.day(first), last=words.day(last))
    return split_text("\n\n".join([title, *sections(words, stats)]), TEXT_LIMIT)


def sections(words: Words, stats: Stats) -> list[str]:
    return [
        summary(words, stats),
        breach_list(words, stats.breaches),
        overdue_list(words, stats.overdue),
        per_operator(words, stats),
        per_priority(words, stats),
    ]


def summary(words: Words, stats: Stats) -> str:
    lines = [
        words.plural("stats.opened", stats.opened),
        words.plural("stats.resolved", stats.resolved),
        words.plural("stats.overdue_now", len({o.ticket_id for o in stats.overdue})),
    ]
    if stats.first_response_median is None or stats.first_response_p90 is None:
        lines.append(words.label("stats.first_response_none"))
    else:
        lines.append(
            words.plural(
                "stats.first_response",
                stats.first_responses,
                median=words.span(stats.first_response_median),
                p90=words.span(stats.first_response_p90),
            )
        )
    share = stats.met_share
    if share is None:
        lines.append(words.label("stats.met_none"))
    else:
        lines.append(
            words.t(
                "stats.met",
                share=words.percent(share),
                met=stats.targets_met,
                total=stats.targets_decided,
            )
        )
    if stats.rating_average is None:
        lines.append(words.label("stats.rating_none"))
    else:
        lines.append(
            words.plural("stats.rating", stats.ratings, average=words.decimal(stats.rating_average))
        )
    return "\n".join(lines)


def _limited(words: Words, lines: list[str]) -> list[str]:
    if len(lines) <= LIST_LIMIT:
        return lines
    return [*lines[:LIST_LIMIT], words.plural("stats.more", len(lines) - LIST_LIMIT)]


def breach_list(words: Words, breaches: Sequence[Breach]) -> str:
    if not breaches:
        return words.label("stats.breaches_none")
    lines = []
    for b in breaches:
        late = (
            words.t("stats.late_met", span=words.span(b.by))
            if b.met_at is not None
            else words.t("stats.late_open", span=words.span(b.by))
        )
        lines.append(
            words.t(
                "stats.breach_line",
                number=b.number,
                company=b.company,
                priority=words.priority(b.priority),
                target=words.target(b.target),
                due=words.moment(b.missed),
                late=late,
                holder=words.person(b.holder),
            )
        )
    title = words.plural("stats.breaches_title", len(breaches))
    return "\n".join([title, *_limited(words, lines)])


def overdue_list(words: Words, overdue: Sequence[Overdue]) -> str:
    if not overdue:
        return words.label("stats.overdue_none")
    lines = [
        words.t(
            "stats.overdue_line",
            number=o.number,
            company=o.company,
            priority=words.priority(o.priority),
            target=words.target(o.target),
            span=words.span(o.by),
            assignee=words.person(o.assignee),
        )
        for o in overdue
    ]
    title = words.plural("stats.overdue_title", len(overdue))
    return "\n".join([title, *_limited(words, lines)])


def per_operator(words: Words, stats: Stats) -> str:
    if not stats.operators:
        return words.label("stats.operators_none")
    lines = [
        words.t(
            "stats.operator_line",
            name=words.person(f.operator),
            resolved=f.resolved,
            open=f.open_now,
            breached=f.breached,
        )
        for f in stats.operators
    ]
    return "\n".join([words.label("stats.operators_title"), *_limited(words, lines)])


def per_priority(words: Words, stats: Stats) -> str:
    lines = [
        words.t(
            "stats.priority_line",
            priority=words.priority(f.priority),
            opened=f.opened,
            resolved=f.resolved,
            breached=f.breached,
        )
        for f in stats.priorities
    ]
    return "\n".join([words.label("stats.priorities_title"), *lines])
