"""Texts the bot composes from data: the operator card and the client's notices.
Every word comes from the catalogues; user content is HTML-escaped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from bot.i18n import DeskI18n, fmt_date, fmt_datetime, fmt_duration, fmt_time
from bot.sla.alerts import Standing
from bot.textsplit import TEXT_LIMIT, shorten, split_text
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

    def first_response_promise(
        self, lang: str, registered_at: datetime, due: datetime, working_minutes: int
    ) -> str:
        """'within 10 minutes' inside working time, else 'by 10:00, Monday, 23 March'."""
        if (due - registered_at).total_seconds() <= working_minutes * 60:
            return self.t("promise.within_minutes", lang, minutes=working_minutes)
        return self.t(
            "promise.by",
            lang,
            time=fmt_time(due, lang, self.tz),
            date=fmt_date(due, lang, self.tz),
        )

    def registered(self, ticket: Ticket, working_minutes: int) -> str:
        lang = ticket.language
        due = ticket.target("first_response")
        assert due is not None
        assert due.due_at is not None
        promise = self.first_response_promise(
            lang, ticket.registered_at, due.due_at, working_minutes
        )
        return self.t("client.registered", lang, number=ticket.number, promise=promise)

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
