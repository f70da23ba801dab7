"""Texts the bot composes from data: the operator card and the client's notices.
Every word comes from the catalogues; user content is HTML-escaped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from bot.i18n import DeskI18n, fmt_date, fmt_datetime, fmt_time
from bot.textsplit import TEXT_LIMIT, shorten, split_text
from bot.vocabulary import (
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

    def _deadline(self, ticket: Ticket, kind: str, lang: str) -> str:
        target = ticket.target(kind)
        if target is None:
            return "—"
        if target.met_at is not None:
            return self.t("card.deadline_met", lang, at=fmt_datetime(target.met_at, lang, self.tz))
        if target.due_at is None:
            return self.label("card.deadline_paused", lang)
        return fmt_datetime(target.due_at, lang, self.tz)

    def contact(self, ticket: Ticket, lang: str) -> str:
        channel = self.label(feedback_label_id(ticket.feedback), lang)
        return f"{channel}: {escape(ticket.contact)}" if ticket.contact else channel

    def card(self, ticket: Ticket) -> CardText:
        """The operator card (HTML) and, for a long description, its continuation in plain text
        parts, each within Telegram's limit."""
        lang = self.desk_language
        description = (ticket.description or "").strip()
        limit = CARD_DESCRIPTION_LIMIT
        while True:
            head_description = shorten(description, limit)
            header = self._card_header(ticket, lang, head_description)
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

    def _card_header(self, ticket: Ticket, lang: str, description: str) -> str:
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
            first_response_due=self._deadline(ticket, "first_response", lang),
            resolution_due=self._deadline(ticket, "resolution", lang),
            description=escape(description) if description else self.label("card.no_text", lang),
        )

    def topic_title(self, ticket: Ticket) -> str:
        """The forum topic's name: number, company and status, within Telegram's 128."""
        lang = self.desk_language
        title = self.t(
            "topic.title",
            lang,
            number=ticket.number,
            company=ticket.client_company,
            status=self.label(status_label_id(ticket.status), lang),
        )
        return shorten(title, 128)
