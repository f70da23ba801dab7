"""The operator card's buttons, as Bot API dicts (the outbox stores plain JSON)."""

from __future__ import annotations

from typing import Any

from bot.callbacks import ClientTicketCb, TicketCb
from bot.services.desk import Desk
from bot.sla import Priority
from bot.vocabulary import Status
from storage.models import Ticket


def _button(
    desk: Desk, label_id: str, action: str, ticket: Ticket, arg: str = ""
) -> dict[str, Any]:
    text = desk.renderer.label(label_id, desk.renderer.desk_language)
    data = TicketCb(action=action, ticket=ticket.id, arg=arg).pack()
    return {"text": text, "callback_data": data}


def card_keyboard(desk: Desk, ticket: Ticket) -> dict[str, Any]:
    """Buttons for the request's current status."""
    rows: list[list[dict[str, Any]]] = []
    if ticket.status == Status.NEW:
        rows.append([_button(desk, "button.claim", "claim", ticket)])
    elif ticket.status in (Status.IN_PROGRESS, Status.WAITING):
        rows.append(
            [
                _button(desk, "button.release", "release", ticket),
                _button(desk, "button.wait", "wait", ticket)
                if ticket.status == Status.IN_PROGRESS
                else _button(desk, "button.unwait", "unwait", ticket),
            ]
        )
    if ticket.status in (Status.NEW, Status.IN_PROGRESS, Status.WAITING):
        rows.append([_button(desk, "button.priority", "prio", ticket)])
        rows.append([_button(desk, "button.resolve", "resolve", ticket)])
    elif ticket.status == Status.RESOLVED:
        rows.append([_button(desk, "button.reopen", "reopen", ticket)])
    return {"inline_keyboard": rows}


def priority_keyboard(desk: Desk, ticket: Ticket) -> dict[str, Any]:
    row = [
        _button(desk, f"priority.{p.value}", "setprio", ticket, p.value)
        for p in Priority
        if p.value != ticket.priority
    ]
    return {"inline_keyboard": [row, [_button(desk, "button.back", "card", ticket)]]}


def _client_button(
    desk: Desk, ticket: Ticket, label_id: str, action: str, arg: str = ""
) -> dict[str, Any]:
    text = desk.renderer.label(label_id, ticket.language)
    return {
        "text": text,
        "callback_data": ClientTicketCb(action=action, ticket=ticket.id, arg=arg).pack(),
    }


def solved_keyboard(desk: Desk, ticket: Ticket) -> dict[str, Any]:
    return {
        "inline_keyboard": [
            [
                _client_button(desk, ticket, "button.solved_yes", "solved", "y"),
                _client_button(desk, ticket, "button.solved_no", "solved", "n"),
            ]
        ]
    }


def rating_keyboard(desk: Desk, ticket: Ticket) -> dict[str, Any]:
    stars = [
        {
            "text": "⭐" * n,
            "callback_data": ClientTicketCb(action="rate", ticket=ticket.id, arg=str(n)).pack(),
        }
        for n in range(1, 6)
    ]
    return {"inline_keyboard": [[s] for s in reversed(stars)]}
