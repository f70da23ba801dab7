"""Texts the bot composes from data: the operator card and the client's notices.
Every word comes from the catalogues; user content is HTML-escaped."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from html import escape
from typing import Final
from zoneinfo import ZoneInfo

from babel.dates import get_day_names, get_timezone_location

from bot.i18n import BABEL_LOCALES, DeskI18n, fmt_datetime, fmt_day_month, fmt_duration, fmt_time
from bot.sla.alerts import Standing
from bot.sla.calendar import BusinessCalendar
from bot.sla.policy import SlaPolicy
from bot.textsplit import TEXT_LIMIT, shorten, split_text
from bot.validation import PINFL_LENGTH
from bot.vocabulary import (
    N_,
    AlertKind,
    feedback_label_id,
    kind_label_id,
    language_label_id,
    priority_label_id,
    status_label_id,
    topic_label_id,
)
from storage.models import Ticket

# The card keeps room for its header; the rest of a long description follows it.
CARD_DESCRIPTION_LIMIT = 2500
TOPIC_TITLE_LIMIT = 128
MINUTE = timedelta(minutes=1)

# How a target stands (bot.sla.alerts.Standing), on a card and in a topic's title.
Marks = Mapping[str, Standing]

# A day of the week as a deadline names it, by weekday number (Monday 0): the Russian
# catalogue declines it ('во вторник'), the Uzbek one names it ('seshanba').
DAY_LABELS: Final = (
    N_("day.on.mon"),
    N_("day.on.tue"),
    N_("day.on.wed"),
    N_("day.on.thu"),
    N_("day.on.fri"),
    N_("day.on.sat"),
    N_("day.on.sun"),
)
# Zones whose clock is Tashkent's ('по ташкентскому времени' is true of them).
TASHKENT_ZONES: Final = frozenset({"Asia/Tashkent", "Asia/Samarkand"})


def whole_minutes(amount: timedelta) -> int:
    """A policy's amount as the minutes a client is told (a part of a minute counts whole)."""
    return math.ceil(amount.total_seconds() / 60)


def _clock(moment: time, *, end: bool = False) -> str:
    """'08:00'; a span closing at midnight closes at '24:00'."""
    if end and moment == time(0):
        return "24:00"
    return moment.strftime("%H:%M")


def weekday_runs(
    weekly: tuple[tuple[tuple[time, time], ...], ...],
) -> list[tuple[int, int, tuple[tuple[time, time], ...]]]:
    """Consecutive weekdays with the same working hours: (first, last, hours); days off left
    out."""
    runs: list[tuple[int, int, tuple[tuple[time, time], ...]]] = []
    for weekday, spans in enumerate(weekly):
        if not spans:
            continue
        if runs and runs[-1][1] == weekday - 1 and runs[-1][2] == spans:
            runs[-1] = (runs[-1][0], weekday, spans)
        else:
            runs.append((weekday, weekday, spans))
    return runs


def tax_id_label(tax_id: str | None) -> str:
    """The id of the label of a stored tax id: a 14-digit one is a PINFL (JShShIR), any other
    an INN (STIR)."""
    if tax_id is not None and len(tax_id) == PINFL_LENGTH:
        return N_("tax_id.pinfl")
    return N_("tax_id.inn")


@dataclass(frozen=True)
class CardText:
    html: str
    continuation: list[str]


@dataclass(frozen=True)
class Renderer:
    i18n: DeskI18n
    tz: ZoneInfo
    desk_language: str

    def t(self, message_id: str, lang: str, **params: object) -> str:
        return self.i18n.t(message_id, lang, **params)

    def label(self, message_id: str, lang: str) -> str:
        return self.i18n.gettext(message_id, locale=lang)

    def tn(self, message_id: str, count: int, lang: str, **params: object) -> str:
        """A text with a count: the catalogue's plural form for `count` (its {n})."""
        text = self.i18n.gettext(message_id, message_id, count, locale=lang)
        return text.format(n=count, **params)

    # ---- the client's side

    def on_day(self, moment: datetime, lang: str) -> str:
        """'в понедельник, 30 ноября' / 'dushanba, 30-noyabr' (the catalogue declines the day)."""
        weekday = DAY_LABELS[moment.astimezone(self.tz).weekday()]
        return self.t(weekday, lang, date=fmt_day_month(moment, lang, self.tz))

    def by(self, moment: datetime, lang: str) -> str:
        """'до 10:00 в понедельник, 30 ноября' / 'dushanba, 30-noyabr kuni soat 10:00 gacha'."""
        return self.t(
            "when.by", lang, time=fmt_time(moment, lang, self.tz), day=self.on_day(moment, lang)
        )

    def first_response_promise(
        self, lang: str, registered_at: datetime, due: datetime, policy: SlaPolicy
    ) -> str:
        """In working time, 'within N minutes', or, when the working time left before the
        closing is shorter, 'by 08:05 on Monday' with the reason; outside working time 'it is
        outside working hours now; by 10:00 on Monday'."""
        minutes = whole_minutes(policy.first_response_working)
        if not policy.calendar.is_working_time(registered_at):
            return self.t("promise.outside_hours", lang, when=self.by(due, lang))
        if due - registered_at <= policy.first_response_working:
            return self.tn("promise.within_minutes", minutes, lang)
        return self.tn("promise.carried_over", minutes, lang, when=self.by(due, lang))

    def registered(self, ticket: Ticket, policy: SlaPolicy) -> str:
        lang = ticket.language
        due = ticket.target("first_response")
        assert due is not None
        assert due.due_at is not None
        promise = self.first_response_promise(lang, ticket.registered_at, due.due_at, policy)
        return self.t("client.registered", lang, number=ticket.number, promise=promise)

    def help_text(self, lang: str, policy: SlaPolicy) -> str:
        """/help: the hours and the first-response rules as the policy has them."""
        return self.t(
            "help.text",
            lang,
            zone=self._zone(lang),
            schedule=self._schedule(lang, policy.calendar),
            first_response=self.tn(
                "help.first_response", whole_minutes(policy.first_response_working), lang
            ),
            outside=self._outside(lang, policy),
        )

    def _zone(self, lang: str) -> str:
        if getattr(self.tz, "key", None) in TASHKENT_ZONES:
            return self.label("help.zone.tashkent", lang)
        name = get_timezone_location(self.tz, locale=BABEL_LOCALES[lang], return_city=True)
        return self.t("help.zone.other", lang, zone=name)

    def _schedule(self, lang: str, calendar: BusinessCalendar) -> str:
        """One line per run of weekdays with the same hours; then the holidays, if any."""
        names = get_day_names("wide", locale=BABEL_LOCALES[lang])
        lines = []
        for first, last, spans in weekday_runs(calendar.weekly):
            days = names[first]
            if last != first:
                days = self.t("help.days_range", lang, first=names[first], last=names[last])
            hours = ", ".join(f"{_clock(a)}–{_clock(b, end=True)}" for a, b in spans)
            lines.append(
                self.t("help.schedule_line", lang, days=days[:1].upper() + days[1:], hours=hours)
            )
        if calendar.country is not None or calendar.extra_days_off:
            lines.append(self.label("help.holidays", lang))
        return "\n".join(lines)

    def _outside(self, lang: str, policy: SlaPolicy) -> str:
        """Outside working time the answer is due at `first_response_outside_by` of the next
        working day, or the first-response time after the opening on a day opening later."""
        by = policy.first_response_outside_by
        minutes = whole_minutes(policy.first_response_working)
        openings = {spans[0][0] for spans in policy.calendar.weekly if spans}
        time_text = _clock(by)
        if all(opens < by for opens in openings):
            return self.t("help.outside.by", lang, time=time_text)
        if all(opens >= by for opens in openings):
            return self.tn("help.outside.after_opening", minutes, lang)
        return self.tn("help.outside.mixed", minutes, lang, time=time_text)

    # ---- the desk's side

    def _deadline(self, ticket: Ticket, kind: str, lang: str, marks: Marks) -> str:
        target = ticket.target(kind)
        if target is None:
            return "—"
        if target.met_at is not None:
            return self.t("card.deadline_met", lang, at=fmt_datetime(target.met_at, lang, self.tz))
        if target.due_at is None:
            return self.label("card.deadline_paused", lang)
        due = fmt_datetime(target.due_at, lang, self.tz)
        mark = marks.get(kind)
        return f"{due} · {self.mark(mark, lang)}" if mark is not None else due

    def mark(self, standing: Standing, lang: str) -> str:
        """'⚠️ 2 ч до срока', '🔴 просрочено на 1 ч 10 мин'."""
        if standing.kind is AlertKind.WARNING:
            span = fmt_duration(standing.amount, lang, round_up=True)
            return self.t("card.sla_warning", lang, span=span)
        if standing.amount < MINUTE:
            return self.label("card.sla_due_now", lang)
        return self.t("card.sla_overdue", lang, span=fmt_duration(standing.amount, lang))

    def contact(self, ticket: Ticket, lang: str) -> str:
        channel = self.label(feedback_label_id(ticket.feedback), lang)
        return f"{channel}: {escape(ticket.contact)}" if ticket.contact else channel

    def card(self, ticket: Ticket, marks: Marks | None = None) -> CardText:
        """The operator card (HTML) and, for a long description, its continuation in plain text
        parts, each within Telegram's limit. `marks`: targets close to or past their deadline,
        shown beside it."""
        lang = self.desk_language
        description = (ticket.description or "").strip()
        limit = CARD_DESCRIPTION_LIMIT
        while True:
            head_description = shorten(description, limit)
            header = self._card_header(ticket, lang, head_description, marks or {})
            # Escaping can lengthen a text full of & and <; cut more until the card fits.
            if len(header) <= TEXT_LIMIT or limit < 100:
                break
            limit //= 2
        continuation: list[str] = []
        if head_description != description:
            chunks = split_text(description, TEXT_LIMIT - 200)
            continuation = [
                self.t(
                    "card.description_part",
                    lang,
                    number=ticket.number,
                    part=index,
                    total=len(chunks),
                    text=chunk,
                )
                for index, chunk in enumerate(chunks, start=1)
            ]
        return CardText(header, continuation)

    def _card_header(self, ticket: Ticket, lang: str, description: str, marks: Marks) -> str:
        assignee = (
            escape(ticket.assignee_name or str(ticket.assignee_id))
            if ticket.assignee_id
            else self.label("card.unassigned", lang)
        )
        return self.t(
            "card.body",
            lang,
            number=ticket.number,
            status=self.label(status_label_id(ticket.status), lang),
            kind=self.label(kind_label_id(ticket.kind), lang),
            topic=self.label(topic_label_id(ticket.topic), lang),
            priority=self.label(priority_label_id(ticket.priority), lang),
            assignee=assignee,
            name=escape(ticket.client_name),
            company=escape(ticket.client_company),
            tax_id_label=self.label(tax_id_label(ticket.client_tax_id), lang),
            tax_id=escape(ticket.client_tax_id),
            contact=self.contact(ticket, lang),
            language=self.label(language_label_id(ticket.language), lang),
            registered=fmt_datetime(ticket.registered_at, lang, self.tz),
            first_response_due=self._deadline(ticket, "first_response", lang, marks),
            resolution_due=self._deadline(ticket, "resolution", lang, marks),
            description=escape(description) if description else self.label("card.no_text", lang),
        )

    def topic_title(self, ticket: Ticket, mark: Standing | None = None) -> str:
        """The forum topic's name: number, company, status and how its nearest deadline
        stands, within Telegram's 128 (the company is shortened, the mark kept)."""
        lang = self.desk_language
        params: dict[str, object] = {
            "number": ticket.number,
            "status": self.label(status_label_id(ticket.status), lang),
        }
        message_id = N_("topic.title")
        if mark is not None:
            message_id = N_("topic.title_marked")
            params["mark"] = self.mark(mark, lang)
        room = TOPIC_TITLE_LIMIT - len(self.t(message_id, lang, company="", **params))
        company = shorten(ticket.client_company, max(room, 8))
        return shorten(self.t(message_id, lang, company=company, **params), TOPIC_TITLE_LIMIT)
