"""The request vocabulary: kinds, topics, feedback channels, statuses. Labels live in the
catalogues under the message ids built here."""

from __future__ import annotations

from enum import StrEnum


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


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # gave up: could never succeed, or reached the cap of attempts


DEFAULT_TOPICS = ("marking_codes", "catalog", "access", "equipment", "other")


def kind_label_id(kind: str) -> str:
    return f"kind.{kind}"


def topic_label_id(topic: str) -> str:
    return f"topic.{topic}"


def status_label_id(status: str) -> str:
    return f"status.{status}"


def priority_label_id(priority: str) -> str:
    return f"priority.{priority}"


def feedback_label_id(feedback: str) -> str:
    return f"feedback.{feedback}"
