"""The one delivery path: every message the bot sends on its own initiative is an aiogram method
object (SendMessage, CopyMessage, EditMessageText, ...) written to the outbox, serialised by
aiogram, in the same transaction as the change that causes it; the delivery worker sends it.

Where a message belongs is the item's `place`, resolved when it is sent: CHAT as addressed;
DESK the request's place in the operator group (its forum topic, or a reply to its card); CARD
the request's card (an edit; a card not posted or gone is posted anew); TOPIC the request's forum
topic (a rename; skipped without topics). What is unknown when queued is a placeholder (0).

A file uploaded with its call (a chart as a photo, an export as a document: an aiogram
BufferedInputFile) cannot live in the JSON payload: its bytes, its name and the field it fills go
in the item's attachment columns, a placeholder in the payload, and the file is put back when the
call is rebuilt for sending."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from aiogram import methods
from aiogram.client.default import Default
from aiogram.methods import (
    CopyMessage,
    CopyMessages,
    EditForumTopic,
    EditMessageText,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, InputFile
from pydantic_core import to_jsonable_python

from bot.vocabulary import Place, Purpose
from storage.models import OutboxItem, Ticket, TicketMessage
from storage.outbox import OutboxRepo

# A value filled in when the item is sent (the request's forum topic).
UNKNOWN_YET = 0
# Stands in the payload for the file kept in the item's attachment columns.
ATTACHED = "outbox:attachment"


@cache
def method_classes() -> dict[str, type[TelegramMethod[Any]]]:
    """aiogram's method classes by their Bot API name ("sendMessage" -> SendMessage)."""
    found: dict[str, type[TelegramMethod[Any]]] = {}
    for name in methods.__all__:
        cls = getattr(methods, name)
        if isinstance(cls, type) and issubclass(cls, TelegramMethod) and cls is not TelegramMethod:
            found[cls.__api_method__] = cls
    return found


def load_method(name: str, payload: dict[str, Any]) -> TelegramMethod[Any]:
    """The method object a stored item describes; ValueError if it cannot be built."""
    cls = method_classes().get(name)
    if cls is None:
        raise ValueError(f"unknown Bot API method {name!r}")
    return cls.model_validate(payload)


def dump_method(method: TelegramMethod[Any]) -> dict[str, Any]:
    """aiogram's serialisation of a method object, checked to come back equal: what cannot be
    stored and rebuilt fails here, when it is queued, not when it is sent.

    Fields left to the bot's defaults (aiogram's `Default(...)` sentinels: parse_mode,
    link_preview_options, protect_content, also inside nested objects) are not stored, so they
    are resolved when sent; an explicit None for such a field means "none" and is kept."""
    if method.model_extra:
        raise ValueError(f"{type(method).__name__} has no fields {sorted(method.model_extra)}")
    explicit = {
        name for name in method.model_fields_set if not isinstance(getattr(method, name), Default)
    }
    payload = to_jsonable_python(
        _without_defaults(method.model_dump(include=explicit, exclude_none=True))
    )
    fields = type(method).model_fields
    for name in explicit:
        if getattr(method, name) is None and isinstance(fields[name].default, Default):
            payload[name] = None
    # Field by field: a method made by a shortcut (message.answer) also carries its bot.
    if load_method(method.__api_method__, payload).__dict__ != method.__dict__:
        raise ValueError(f"{type(method).__name__} does not survive its serialisation")
    return payload


def _without_defaults(value: Any) -> Any:
    """Nested objects carry sentinels too (ReplyParameters.quote_parse_mode, ...)."""
    if isinstance(value, dict):
        return {k: _without_defaults(v) for k, v in value.items() if not isinstance(v, Default)}
    if isinstance(value, list):
        return [_without_defaults(v) for v in value]
    return value


@dataclass(frozen=True)
class Attachment:
    """The file of a queued call: the method's field it fills, its name and its bytes."""

    field: str
    name: str
    data: bytes


def detach(method: TelegramMethod[Any]) -> tuple[TelegramMethod[Any], Attachment | None]:
    """The method with its uploaded file replaced by a placeholder, and the file. Only one
    in-memory file (BufferedInputFile) per call can be queued; anything else is a ValueError."""
    files = {
        name: value
        for name in type(method).model_fields
        if isinstance(value := getattr(method, name), InputFile)
    }
    if not files:
        return method, None
    if len(files) > 1:
        raise ValueError(f"{type(method).__name__} uploads several files: {sorted(files)}")
    ((name, file),) = files.items()
    if not isinstance(file, BufferedInputFile):
        raise ValueError(f"{type(file).__name__} cannot be queued (only a BufferedInputFile)")
    attachment = Attachment(name, file.filename or name, file.data)
    return method.model_copy(update={name: ATTACHED}), attachment


def method_of(item: OutboxItem) -> TelegramMethod[Any]:
    """The call a stored item describes, its file (if any) put back as a BufferedInputFile."""
    method = load_method(item.method, item.payload)
    if item.attachment_field is None:
        return method
    if item.attachment is None or item.attachment_field not in type(method).model_fields:
        raise ValueError(f"the attachment of outbox item {item.id} cannot be put back")
    file = BufferedInputFile(item.attachment, filename=item.attachment_name or "file")
    return method.model_copy(update={item.attachment_field: file})


def rewrite(item: OutboxItem, method: TelegramMethod[Any]) -> None:
    """Replace a still pending item's call (an album gathering its messages)."""
    item.method = method.__api_method__
    item.payload = dump_method(method)


def _chat_id_of(method: TelegramMethod[Any]) -> int:
    chat_id = getattr(method, "chat_id", None)
    if not isinstance(chat_id, int) or isinstance(chat_id, bool):
        raise ValueError(f"{type(method).__name__} needs a numeric chat_id to be queued")
    return chat_id


def _html(html: bool) -> dict[str, Any]:
    return {"parse_mode": "HTML"} if html else {}


@dataclass
class Outgoing:
    outbox: OutboxRepo
    operator_chat_id: int | None
    now: datetime

    def queue(
        self,
        method: TelegramMethod[Any],
        *,
        purpose: Purpose | str,
        place: Place = Place.CHAT,
        ticket_id: int | None = None,
        ref_id: int | None = None,
        group_key: str | None = None,
        delay: timedelta | None = None,
    ) -> OutboxItem:
        """Queue one Bot API call; it is sent after the transaction commits. A file it uploads
        (a BufferedInputFile) is kept beside the payload."""
        values = self.row(
            method,
            purpose=purpose,
            place=place,
            ticket_id=ticket_id,
            ref_id=ref_id,
            group_key=group_key,
            delay=delay,
        )
        return self.outbox.add_row(values)

    def row(
        self,
        method: TelegramMethod[Any],
        *,
        purpose: Purpose | str,
        place: Place = Place.CHAT,
        ticket_id: int | None = None,
        ref_id: int | None = None,
        group_key: str | None = None,
        delay: timedelta | None = None,
    ) -> dict[str, Any]:
        """The outbox row's columns for one Bot API call (what `queue` adds; the update's
        own replies are written from these in plain SQL: OutboxRepo.insert_leased)."""
        place = Place(place)
        if place != Place.CHAT and ticket_id is None:
            raise ValueError(f"a message placed at the request's {place} needs the request")
        method, attachment = detach(method)
        values = OutboxRepo.values(
            _chat_id_of(method),
            method.__api_method__,
            dump_method(method),
            now=self.now,
            purpose=Purpose(purpose),
            place=place,
            ticket_id=ticket_id,
            ref_id=ref_id,
            group_key=group_key,
            not_before=self.now + delay if delay else None,
        )
        if attachment is not None:
            values["attachment_field"] = attachment.field
            values["attachment_name"] = attachment.name
            values["attachment"] = attachment.data
        return values

    def to_chat(
        self,
        chat_id: int,
        text: str,
        *,
        purpose: Purpose | str,
        ticket_id: int | None = None,
        reply_markup: InlineKeyboardMarkup | None = None,
        html: bool = False,
        ref_id: int | None = None,
    ) -> OutboxItem:
        return self.queue(
            SendMessage(chat_id=chat_id, text=text, reply_markup=reply_markup, **_html(html)),
            purpose=purpose,
            ticket_id=ticket_id,
            ref_id=ref_id,
        )

    def to_desk(
        self,
        ticket: Ticket,
        text: str,
        *,
        purpose: Purpose | str,
        reply_markup: InlineKeyboardMarkup | None = None,
        html: bool = False,
        ref_id: int | None = None,
    ) -> OutboxItem | None:
        """Into the request's place in the operator group."""
        if self.operator_chat_id is None:
            return None
        return self.queue(
            SendMessage(
                chat_id=self.operator_chat_id, text=text, reply_markup=reply_markup, **_html(html)
            ),
            purpose=purpose,
            place=Place.DESK,
            ticket_id=ticket.id,
            ref_id=ref_id,
        )

    def refresh_card(
        self, ticket: Ticket, text: str, reply_markup: InlineKeyboardMarkup
    ) -> OutboxItem | None:
        if self.operator_chat_id is None:
            return None
        return self.queue(
            EditMessageText(
                chat_id=self.operator_chat_id,
                text=text,
                parse_mode="HTML",
                reply_markup=reply_markup,
            ),
            purpose=Purpose.CARD_EDIT,
            place=Place.CARD,
            ticket_id=ticket.id,
        )

    def retitle_topic(self, ticket: Ticket, title: str) -> OutboxItem | None:
        if self.operator_chat_id is None:
            return None
        return self.queue(
            EditForumTopic(
                chat_id=self.operator_chat_id, message_thread_id=UNKNOWN_YET, name=title
            ),
            purpose=Purpose.TOPIC_TITLE,
            place=Place.TOPIC,
            ticket_id=ticket.id,
        )

    def copy_to_desk(self, ticket: Ticket, messages: Sequence[TicketMessage]) -> None:
        """Copy the client's own messages (media keeps its quality); an album travels together."""
        if self.operator_chat_id is None:
            return
        for group in group_albums(messages):
            first = group[0]
            method: CopyMessage | CopyMessages
            if len(group) == 1:
                method = CopyMessage(
                    chat_id=self.operator_chat_id,
                    from_chat_id=first.chat_id,
                    message_id=first.message_id,
                )
            else:
                method = CopyMessages(
                    chat_id=self.operator_chat_id,
                    from_chat_id=first.chat_id,
                    message_ids=[m.message_id for m in group],
                )
            self.queue(
                method,
                purpose=Purpose.RELAY_TO_DESK,
                place=Place.DESK,
                ticket_id=ticket.id,
                ref_id=first.id,
            )


def group_albums(messages: Sequence[TicketMessage]) -> list[list[TicketMessage]]:
    """Consecutive messages with one media_group_id form an album; others stand alone."""
    groups: list[list[TicketMessage]] = []
    for message in messages:
        if (
            groups
            and message.media_group_id
            and groups[-1][-1].media_group_id == message.media_group_id
        ):
            groups[-1].append(message)
        else:
            groups.append([message])
    return groups
