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


class Status(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = frozenset({Status.NEW, Status.IN_PROGRESS, Status.WAITING})

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
