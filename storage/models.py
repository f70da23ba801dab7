"""SQLAlchemy models. Telegram ids are BigInteger; every timestamp is aware UTC."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.vocabulary import (
    ActorKind,
    AlertKind,
    AlertStatus,
    Direction,
    HeldKind,
    HeldStatus,
    InboxStatus,
    OutboxStatus,
    Place,
    Priority,
    Purpose,
    Status,
)
from storage.types import StrEnumType, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


def table_of(model: type[Base]) -> Table:
    """A model's table, for the few statements on the hot path written in plain SQL."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    language: Mapped[str] = mapped_column(String(5), default="ru")
    telegram_name: Mapped[str] = mapped_column(String(300), default="")
    name: Mapped[str | None] = mapped_column(String(100))
    company: Mapped[str | None] = mapped_column(String(200))
    tax_id: Mapped[str | None] = mapped_column(String(14))
    tax_id_kind: Mapped[str | None] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    banned: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    current_ticket_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def identified(self) -> bool:
        return bool(self.name and self.company and self.tax_id)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_queue", "next_due_at", "number"),
        Index("ix_tickets_assignee_queue", "assignee_id", "next_due_at", "number"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),  # /mine's count
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str] = mapped_column(String(40))
    status: Mapped[Status] = mapped_column(StrEnumType(Status), index=True)
    priority: Mapped[Priority] = mapped_column(StrEnumType(Priority, 10))
    channel: Mapped[str] = mapped_column(String(20), default="telegram")
    feedback: Mapped[str] = mapped_column(String(10))
    contact: Mapped[str | None] = mapped_column(String(254))
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5))
    # Snapshot of the client's identity when the request was opened (the profile may change later).
    client_name: Mapped[str] = mapped_column(String(100))
    client_company: Mapped[str] = mapped_column(String(200))
    client_tax_id: Mapped[str] = mapped_column(String(14))
    assignee_id: Mapped[int | None] = mapped_column(BigInteger)
    assignee_name: Mapped[str | None] = mapped_column(String(300))
    # Indexed: statistics read a period by these (bot/services/stats.py).
    registered_at: Mapped[datetime] = mapped_column(index=True)
    first_response_at: Mapped[datetime | None] = mapped_column(index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime]
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # Named in an announcement of new requests while its card waited in a backed-up queue.
    announced_at: Mapped[datetime | None]
    # The nearest deadline of a target not yet met (None while paused or when all are met):
    # kept with the alert plan, so the queue is read nearest first through an index.
    next_due_at: Mapped[datetime | None]
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    topic_title: Mapped[str | None] = mapped_column(String(128))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    client_unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped by every decision on the request: two decisions taken on the same state cannot
    # both be saved (the second is decided again on the state the first left).
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    client: Mapped[Client] = relationship(lazy="joined")
    targets: Mapped[list[SlaTarget]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="SlaTarget.id"
    )
    pauses: Mapped[list[TicketPause]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="TicketPause.id"
    )

    def target(self, kind: str) -> SlaTarget | None:
        return next((t for t in self.targets if t.kind == kind), None)


class SlaTarget(Base):
    """One SLA target of a request: when it is due, when it was met, whether it was breached."""

    __tablename__ = "sla_targets"
    __table_args__ = (UniqueConstraint("ticket_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # first_response | resolution
    due_at: Mapped[datetime | None] = mapped_column(index=True)  # None while paused
    met_at: Mapped[datetime | None] = mapped_column(index=True)
    breached_at: Mapped[datetime | None] = mapped_column(index=True)


class TicketPause(Base):
    """A stretch during which the resolution clock stood still (waiting for the client)."""

    __tablename__ = "ticket_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class TicketMessage(Base):
    """A message of a request in either direction, stored whole as the sender sent it."""

    __tablename__ = "ticket_messages"
    __table_args__ = (
        Index("ix_ticket_messages_source", "chat_id", "message_id"),
        Index("ix_ticket_messages_relay", "relay_chat_id", "relay_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    direction: Mapped[Direction] = mapped_column(StrEnumType(Direction, 10))
    author_id: Mapped[int] = mapped_column(BigInteger)
    author_name: Mapped[str] = mapped_column(String(300), default="")
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(30))
    text: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[str | None] = mapped_column(String(300))
    file_name: Mapped[str | None] = mapped_column(String(300))
    media_group_id: Mapped[str | None] = mapped_column(String(100))
    # Where the bot relayed it (the client's chat or the desk), known after delivery.
    relay_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    relay_message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    edited_at: Mapped[datetime | None]


class TicketEvent(Base):
    """The audit log: every status change and operator action, with who and when."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_kind: Mapped[ActorKind] = mapped_column(StrEnumType(ActorKind, 10))
    kind: Mapped[str] = mapped_column(String(30))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime]


class OutboxItem(Base):
    """One Bot API call the bot owes someone; written in the transaction that causes it. The
    payload is an aiogram method object serialised by aiogram; where in the operator group it
    belongs (the request's topic, its card) is the `place`, resolved when it is sent."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "chat_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(40))  # the Bot API method, e.g. "sendMessage"
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    purpose: Mapped[Purpose] = mapped_column(StrEnumType(Purpose, 30), default=Purpose.NOTICE)
    place: Mapped[Place] = mapped_column(
        StrEnumType(Place, 10), default=Place.CHAT, server_default=Place.CHAT.value
    )
    ref_id: Mapped[int | None] = mapped_column(Integer)  # e.g. the ticket_messages row relayed
    # Messages of one album join the pending item with the same key, to travel together.
    group_key: Mapped[str | None] = mapped_column(String(120), index=True)
    status: Mapped[OutboxStatus] = mapped_column(
        StrEnumType(OutboxStatus, 10), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # A file uploaded with the call (a photo, a document): its bytes, its name and the method's
    # field it fills; the payload holds a placeholder there (bot.services.outgoing).
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    attachment_name: Mapped[str | None] = mapped_column(String(255))
    attachment_field: Mapped[str | None] = mapped_column(String(20))


class DeskMessage(Base):
    """A message the bot posted in the operator group for a request (card, relay, notice), so
    that an operator's reply to it finds the request."""

    __tablename__ = "desk_messages"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)


class FsmRecord(Base):
    """aiogram FSM state and data of one chat/user, so a dialogue survives a restart."""

    __tablename__ = "fsm_states"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Counter(Base):
    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class MetaValue(Base):
    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))


class Digest(Base):
    """The managers' daily digest of one day in the desk's zone: the unique day is claimed in
    the transaction that queues the digest, so it goes once however many processes try."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    created_at: Mapped[datetime]


class SlaAlert(Base):
    """One SLA alert of a request's target, planned ahead: a warning, the breach, or the n-th
    repeat. The unique key (request, target, kind, round) makes each go once: a due-work pass
    claims the row (pending -> sent) in the transaction that queues the message. `due_at` is
    the deadline it was planned for, so a plan made for a moved deadline is recognised."""

    __tablename__ = "sla_alerts"
    __table_args__ = (
        UniqueConstraint("ticket_id", "target", "kind", "round"),
        # The due-work query: status = pending AND fire_at <= now.
        Index("ix_sla_alerts_due", "status", "fire_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(String(20))  # first_response | resolution
    kind: Mapped[AlertKind] = mapped_column(StrEnumType(AlertKind, 10))
    round: Mapped[int] = mapped_column(Integer, default=0)  # 0; 1.. for repeats
    fire_at: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[AlertStatus] = mapped_column(
        StrEnumType(AlertStatus, 10), default=AlertStatus.PENDING
    )
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class InboxUpdate(Base):
    """An update Telegram handed over, stored (in a short transaction of its own) before
    Telegram is told it was received; marked handled in the transaction of its effects."""

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_pending", "status", "update_id"),
        Index("ix_inbox_chat_pending", "chat_key", "status", "update_id"),
    )

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # Updates of one chat are handled in order: the chat (or, lacking one, the user) is the key.
    chat_key: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[InboxStatus] = mapped_column(
        StrEnumType(InboxStatus, 10), default=InboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


class DeskProcess(Base):
    """A running bot process and its heartbeat: the leases of a process that stopped beating
    (killed) are freed for the living at once, not when they run out."""

    __tablename__ = "desk_processes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime]


class HeldAnswer(Base):
    """An operator's answer the quality guard stopped (bot.guard): what it would have sent and
    why, kept until an operator sends it as it is or cancels it, so a restart loses nothing.
    `chat_id`/`message_id` are the operator's message in the group (the /m command for a saved
    answer); an edit that was stopped names the stored message it would have changed."""

    __tablename__ = "held_answers"
    __table_args__ = (Index("ix_held_answers_source", "chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[HeldKind] = mapped_column(StrEnumType(HeldKind, 10))
    status: Mapped[HeldStatus] = mapped_column(StrEnumType(HeldStatus, 10), default=HeldStatus.HELD)
    author_id: Mapped[int] = mapped_column(BigInteger)
    author_name: Mapped[str] = mapped_column(String(300), default="")
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    reply_to: Mapped[int | None] = mapped_column(BigInteger)  # the group message it answered
    content_type: Mapped[str] = mapped_column(String(30))
    text: Mapped[str | None] = mapped_column(Text)
    file_id: Mapped[str | None] = mapped_column(String(300))
    file_name: Mapped[str | None] = mapped_column(String(300))
    media_group_id: Mapped[str | None] = mapped_column(String(100))
    edited_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket_messages.id", ondelete="CASCADE")
    )
    macro: Mapped[str | None] = mapped_column(String(64))
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    decided_by_name: Mapped[str | None] = mapped_column(String(300))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Macro(Base):
    """A saved answer: a name (unique whatever its case: `key` is its case-folded form) and a
    Russian and an Uzbek text, either of which may be missing."""

    __tablename__ = "macros"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64), unique=True)
    text_ru: Mapped[str | None] = mapped_column(Text)
    text_uz: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_by_name: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    def text_in(self, language: str) -> str | None:
        return self.text_uz if language == "uz" else self.text_ru


class Lease(Base):
    """A named lease: of several bot processes, the holder runs the job (or handles the chat)
    until the lease runs out or is given back."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime]
