"""The operators' actions: one table from action to command, shared by the card's buttons and
the `/commands`, and one answer for the operator, whichever way they asked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot import lifecycle as lc
from bot.lifecycle import Actor, Reason, Refusal
from bot.services.tickets import TicketService
from bot.vocabulary import DeskAction, Priority, priority_label_id, status_label_id
from storage.models import Ticket


@dataclass(frozen=True)
class Request:
    """What an operator asked: the action, its argument (a priority) and, for an assignment,
    the colleague who takes the request over."""

    action: DeskAction
    actor: Actor
    arg: str = ""
    to: Actor | None = None


def _priority(request: Request) -> lc.Command | None:
    if request.arg not in {p.value for p in Priority}:
        return None
    return lc.SetPriority(request.actor, Priority(request.arg))


def _assign(request: Request) -> lc.Command | None:
    return lc.Assign(request.actor, request.to) if request.to is not None else None


COMMANDS: dict[DeskAction, Callable[[Request], lc.Command | None]] = {
    DeskAction.CLAIM: lambda r: lc.Claim(r.actor),
    DeskAction.RELEASE: lambda r: lc.Release(r.actor),
    DeskAction.ASSIGN: _assign,
    DeskAction.WAIT: lambda r: lc.Wait(r.actor),
    DeskAction.RESUME: lambda r: lc.Resume(r.actor),
    DeskAction.SET_PRIORITY: _priority,
    DeskAction.RESOLVE: lambda r: lc.Resolve(r.actor),
    DeskAction.REOPEN: lambda r: lc.Reopen(r.actor),
    DeskAction.BAN: lambda r: lc.Ban(r.actor, banned=True),
    DeskAction.UNBAN: lambda r: lc.Ban(r.actor, banned=False),
}


@dataclass(frozen=True)
class Answer:
    text: str
    refused: bool


async def perform(tickets: TicketService, ticket: Ticket, request: Request) -> Answer:
    """Run the operator's action through the life cycle and say how it went."""
    build = COMMANDS.get(request.action)
    command = build(request) if build is not None else None
    renderer = tickets.desk.renderer
    lang = renderer.desk_language
    if command is None:
        return Answer(renderer.label("error.button_outdated", lang), refused=True)
    outcome = await tickets.execute(ticket, command)
    if isinstance(outcome, Refusal):
        return Answer(refusal_text(tickets, ticket, outcome), refused=True)
    return Answer(
        renderer.t(
            "desk.action_result",
            lang,
            number=ticket.number,
            status=renderer.label(status_label_id(ticket.status), lang),
            priority=renderer.label(priority_label_id(ticket.priority), lang),
            assignee=ticket.assignee_name or renderer.label("card.unassigned", lang),
        ),
        refused=False,
    )


def refusal_text(tickets: TicketService, ticket: Ticket, refusal: Refusal) -> str:
    renderer = tickets.desk.renderer
    lang = renderer.desk_language
    if refusal.reason == Reason.ALREADY_CLAIMED:
        name = refusal.assignee_name or str(refusal.assignee_id)
        return renderer.t("desk.already_claimed", lang, number=ticket.number, name=name)
    if refusal.reason == Reason.NOT_ASSIGNED:
        return renderer.t("desk.not_assigned", lang, number=ticket.number)
    if refusal.reason == Reason.INVALID:
        return renderer.label("error.button_outdated", lang)
    status = renderer.label(status_label_id(ticket.status), lang)
    return renderer.t("desk.not_allowed", lang, status=status)
