"""The request vocabulary: kinds, topics, feedback channels, statuses. Labels live in the
catalogues under the message ids listed here, each one a literal marked with ``N_`` so that
extraction (Babel, and tests/unit/test_catalogues.py) finds it."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final


def N_(message_id: str) -> str:
    """Marks a literal message id for extraction without translating it (gettext_noop): the
    id is looked up later, in the reader's language."""
    return message_id


class Kind(StrEnum):
    CONSULTATION = "consultation"
    ACTION = "action"
    COMPLAINT = "complaint"
    FEEDBACK = "feedback"


class Feedback(StrEnum):
    TELEGRAM = "telegram"
    PHONE = "phone"
    EMAIL = "email"


class Priority(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Status(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = frozenset({Status.NEW, Status.IN_PROGRESS, Status.WAITING})


class DeskAction(StrEnum):
    """What an operator's button or command asks for (callback data carries the value)."""

    CLAIM = "claim"
    RELEASE = "release"
    ASSIGN = "assign"
    WAIT = "wait"
    RESUME = "unwait"
    PRIORITY_MENU = "prio"
    SET_PRIORITY = "setprio"
    CARD = "card"  # back from the priority menu to the card's buttons
    RESOLVE = "resolve"
    REOPEN = "reopen"
    BAN = "ban"
    UNBAN = "unban"


class ClientAction(StrEnum):
    """What a client's button on one of their requests asks for."""

    VIEW = "view"
    SOLVED = "solved"
    RATE = "rate"
    NO_COMMENT = "nocomment"


class HeldAction(StrEnum):
    """An operator's button on the guard's warning about a held answer."""

    SEND = "send"  # send it to the client as it is
    CANCEL = "cancel"  # drop it


class GuardRule(StrEnum):
    """What the quality guard found in an operator's answer (bot.guard)."""

    PHRASE = "phrase"  # a phrase the regulation forbids
    FAMILIAR = "familiar"  # familiar address («ты», «sen»)
    OBSCENE = "obscene"  # obscene or coarse words
    CAPS = "caps"  # a sentence in capital letters only


class HeldKind(StrEnum):
    """What the guard holds back."""

    ANSWER = "answer"  # an operator's message to the client (a text, a caption)
    EDIT = "edit"  # a new text of an answer the client already has
    MACRO = "macro"  # a saved answer sent with /m


class HeldStatus(StrEnum):
    HELD = "held"  # waiting for an operator's decision
    SENT = "sent"  # sent as it is, by an operator's decision
    CANCELLED = "cancelled"  # dropped by an operator's decision
    FIXED = "fixed"  # the operator edited it until it passed, and it went
    REPLACED = "replaced"  # a later edit of the same message took its place


class Direction(StrEnum):
    """Who wrote a stored message: the client, an operator to the client, or a note."""

    CLIENT = "client"
    OPERATOR = "operator"
    NOTE = "note"


class ActorKind(StrEnum):
    CLIENT = "client"
    OPERATOR = "operator"
    SYSTEM = "system"


class Place(StrEnum):
    """Where an outgoing message goes, resolved when it is sent."""

    CHAT = "chat"  # the chat it is addressed to, as it stands
    DESK = "desk"  # the request's place in the operator group: its topic, or a reply to its card
    CARD = "card"  # the request's card itself (an edit; a card that is gone is posted anew)
    TOPIC = "topic"  # the request's forum topic itself (a rename; skipped without topics)


class Purpose(StrEnum):
    """Why the bot sends an outgoing message (what delivery records when it was sent)."""

    REGISTERED = "registered"  # the client's acknowledgement
    CARD = "card"
    CARD_MORE = "card_more"  # the rest of a long description after the card
    CARD_EDIT = "card_edit"
    TOPIC_TITLE = "topic_title"
    RELAY_TO_DESK = "relay_to_desk"
    RELAY_TO_CLIENT = "relay_to_client"
    EDIT = "edit"  # a mirrored edit of a relayed message
    NOTICE = "notice"
    REPLY = "reply"  # an answer to a command or button that could not be given at once
    DEAD_LETTER = "dead_letter"  # the report of a message that could not be delivered
    ALERT = "alert"  # SLA warnings and breaches, to the operator group and the managers
    DIGEST = "digest"  # the managers' daily digest (its text and its chart)


class AlertKind(StrEnum):
    """What an SLA alert says of a target: it is close, it was missed, it is still missed."""

    WARNING = "warning"
    BREACH = "breach"
    REPEAT = "repeat"


class AlertStatus(StrEnum):
    PENDING = "pending"  # planned; sent when its moment comes unless re-planned first
    SENT = "sent"  # claimed by a due-work pass and queued in the outbox, once
    CANCELLED = "cancelled"  # no longer valid (answered, resolved, paused, deadline moved)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # gave up: could never succeed, or reached the cap of attempts


class InboxStatus(StrEnum):
    PENDING = "pending"  # stored, Telegram told it was received, not handled yet
    HANDLED = "handled"  # handled: marked in the transaction of its effects
    FAILED = "failed"  # its handler failed every attempt; kept for a look


DEFAULT_TOPICS = ("marking_codes", "catalog", "access", "equipment", "other")

# ---- labels: one table of literal message ids per vocabulary

KIND_LABELS: Final[Mapping[str, str]] = {
    Kind.CONSULTATION: N_("kind.consultation"),
    Kind.ACTION: N_("kind.action"),
    Kind.COMPLAINT: N_("kind.complaint"),
    Kind.FEEDBACK: N_("kind.feedback"),
}

# The default topics. A desk may configure others (DESK_TOPICS); their labels are not in this
# table, so topic_label_id builds their id, and bot.factory.check_topic_labels refuses to start
# unless both catalogues carry it.
TOPIC_LABELS: Final[Mapping[str, str]] = {
    "marking_codes": N_("topic.marking_codes"),
    "catalog": N_("topic.catalog"),
    "access": N_("topic.access"),
    "equipment": N_("topic.equipment"),
    "other": N_("topic.other"),
}

STATUS_LABELS: Final[Mapping[str, str]] = {
    Status.NEW: N_("status.new"),
    Status.IN_PROGRESS: N_("status.in_progress"),
    Status.WAITING: N_("status.waiting"),
    Status.RESOLVED: N_("status.resolved"),
    Status.CLOSED: N_("status.closed"),
}

PRIORITY_LABELS: Final[Mapping[str, str]] = {
    Priority.CRITICAL: N_("priority.critical"),
    Priority.HIGH: N_("priority.high"),
    Priority.MEDIUM: N_("priority.medium"),
    Priority.LOW: N_("priority.low"),
}

FEEDBACK_LABELS: Final[Mapping[str, str]] = {
    Feedback.TELEGRAM: N_("feedback.telegram"),
    Feedback.PHONE: N_("feedback.phone"),
    Feedback.EMAIL: N_("feedback.email"),
}

# The name of a client's language, as the card shows it (keys: bot.i18n.LANGUAGES).
LANGUAGE_LABELS: Final[Mapping[str, str]] = {
    "ru": N_("language.ru"),
    "uz": N_("language.uz"),
}


def _label_id(table: Mapping[str, str], family: str, value: str) -> str:
    """The message id of ``value`` from its table. A value the table lacks gets the id built
    from its family: for a topic the desk configured (checked at start, see TOPIC_LABELS) that
    is its real id; for anything else it is an id no catalogue has, which gettext shows as it
    is, as it did before the tables (a draft not yet given a kind, say)."""
    found = table.get(value)
    return found if found is not None else f"{family}.{value}"


def kind_label_id(kind: str) -> str:
    return _label_id(KIND_LABELS, "kind", kind)


def topic_label_id(topic: str) -> str:
    return _label_id(TOPIC_LABELS, "topic", topic)


def status_label_id(status: str) -> str:
    return _label_id(STATUS_LABELS, "status", status)


def priority_label_id(priority: str) -> str:
    return _label_id(PRIORITY_LABELS, "priority", priority)


def feedback_label_id(feedback: str) -> str:
    return _label_id(FEEDBACK_LABELS, "feedback", feedback)


def language_label_id(language: str) -> str:
    return _label_id(LANGUAGE_LABELS, "language", language)


# Why the guard stopped an answer: one line per finding, with the fragment it found.
GUARD_RULE_LABELS: Final[Mapping[str, str]] = {
    GuardRule.PHRASE: N_("guard.rule.phrase"),
    GuardRule.FAMILIAR: N_("guard.rule.familiar"),
    GuardRule.OBSCENE: N_("guard.rule.obscene"),
    GuardRule.CAPS: N_("guard.rule.caps"),
}

# What the operator can do about a held answer, by what it is.
HELD_KIND_HINTS: Final[Mapping[str, str]] = {
    HeldKind.ANSWER: N_("guard.hint.answer"),
    HeldKind.EDIT: N_("guard.hint.edit"),
    HeldKind.MACRO: N_("guard.hint.macro"),
}


def guard_rule_label_id(rule: str) -> str:
    return _label_id(GUARD_RULE_LABELS, "guard.rule", rule)


def held_kind_hint_id(kind: str) -> str:
    return _label_id(HELD_KIND_HINTS, "guard.hint", kind)
