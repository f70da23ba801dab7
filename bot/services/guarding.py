"""The quality guard in the conversation: an operator's answer (a text, a caption, a saved
answer, a new text of an answer the client has) is checked before it leaves the group
(bot.guard). One that breaks the regulation is not sent: it is kept in the database as held
and the operator group is told what was found; an operator then sends it as it is or cancels
it, or its author edits it until it passes. Every step is in the request's audit log.

The held answer is a row of its own (`held_answers`), so a restart loses nothing and the
warning's buttons work whenever they are pressed; a decision is taken once (a second press,
two operators at once)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.guard import Finding
from bot.lifecycle import Actor, EventKind
from bot.services.conversation import RequestClosed, operator_message
from bot.services.drafts import Part
from bot.services.relay import apply_edit, stored_message
from bot.services.tickets import TicketService
from bot.textsplit import shorten
from bot.vocabulary import (
    Direction,
    GuardRule,
    HeldAction,
    HeldKind,
    HeldStatus,
    Status,
    guard_rule_label_id,
    held_kind_hint_id,
)
from storage.held import HeldRepo
from storage.models import HeldAnswer, Ticket, TicketMessage

log = logging.getLogger(__name__)

# A fragment longer than this is cut in the warning (a whole sentence in capitals).
FRAGMENT_LIMIT = 200


def check(tickets: TicketService, text: str | None) -> list[Finding]:
    """What the desk's guard finds in a text; nothing when the guard is off."""
    guard = tickets.desk.guard
    return guard.check(text) if guard is not None else []


def _findings_data(found: list[Finding]) -> list[dict[str, Any]]:
    return [{"rule": f.rule.value, "fragment": f.fragment} for f in found]


async def hold(
    tickets: TicketService,
    ticket: Ticket,
    kind: HeldKind,
    author: Actor,
    part: Part,
    found: list[Finding],
    *,
    reply_to: int | None = None,
    edited: TicketMessage | None = None,
    macro: str | None = None,
) -> HeldAnswer:
    """Keep an answer back, with what was found, and log it."""
    assert author.id is not None
    row = await HeldRepo(tickets.session).add(
        HeldAnswer(
            ticket_id=ticket.id,
            kind=kind,
            status=HeldStatus.HELD,
            author_id=author.id,
            author_name=author.name,
            chat_id=part.chat_id,
            message_id=part.message_id,
            reply_to=reply_to,
            content_type=part.content_type,
            text=part.text,
            file_id=part.file_id,
            file_name=part.file_name,
            media_group_id=part.media_group_id,
            edited_message_id=edited.id if edited is not None else None,
            macro=macro,
            findings=_findings_data(found),
            created_at=tickets.now,
        )
    )
    _log_held(tickets, ticket, row, author)
    return row


def _log_held(tickets: TicketService, ticket: Ticket, row: HeldAnswer, author: Actor) -> None:
    tickets.note(
        ticket,
        EventKind.GUARD_HELD,
        author,
        held=row.id,
        answer=row.kind.value,
        message=row.message_id,
        findings=row.findings,
    )
    rules = ",".join(sorted({f["rule"] for f in row.findings}))
    log.info("answer held on request %s (held %s: %s)", ticket.number, row.id, rules)


async def answer(
    tickets: TicketService,
    ticket: Ticket,
    author: Actor,
    part: Part,
    *,
    reply_to_desk: int | None = None,
) -> HeldAnswer | None:
    """An operator's message to the client: sent, or held when the guard finds something
    (then the held answer is returned). RequestClosed for a closed request either way."""
    if ticket.status == Status.CLOSED:
        raise RequestClosed()
    found = check(tickets, part.text)
    if found:
        return await hold(
            tickets, ticket, HeldKind.ANSWER, author, part, found, reply_to=reply_to_desk
        )
    await operator_message(tickets, ticket, author, part, reply_to_desk=reply_to_desk)
    return None


# ---- the operator edits a message


@dataclass(frozen=True)
class EditOutcome:
    """What an operator's edit led to: a new warning (`held`), or an answer held before that
    now passed and went to the client (`fixed`); neither when it was simply mirrored."""

    ticket: Ticket | None = None
    held: HeldAnswer | None = None
    fixed: HeldAnswer | None = None


async def edited(
    tickets: TicketService, editor: Actor, chat_id: int, message_id: int, text: str | None
) -> EditOutcome:
    """An edited message in the group: a held answer is checked again (and sent once it
    passes); a new text of an answer the client has is checked before it is mirrored."""
    session, repo = tickets.session, HeldRepo(tickets.session)
    waiting = await repo.waiting(chat_id, message_id, [HeldKind.ANSWER])
    if waiting:
        return await _recheck_held(tickets, editor, waiting[-1], text)
    row = await stored_message(session, chat_id, message_id)
    if row is None:
        return EditOutcome()
    ticket = await tickets.repo.get(row.ticket_id)
    assert ticket is not None
    if row.direction != Direction.OPERATOR:
        await apply_edit(session, row, text, tickets.now)
        return EditOutcome(ticket)
    if row.content_type == "text" and (text or "").startswith("/"):
        return EditOutcome(ticket)  # the /m command of a saved answer: not the answer itself
    for earlier in await repo.waiting(chat_id, message_id, [HeldKind.EDIT]):
        await repo.decide(
            earlier, HeldStatus.REPLACED, by=editor.id, by_name=editor.name, at=tickets.now
        )
    found = check(tickets, text)
    if not found:
        await apply_edit(session, row, text, tickets.now)
        return EditOutcome(ticket)
    part = Part(chat_id=chat_id, message_id=message_id, content_type=row.content_type, text=text)
    held = await hold(tickets, ticket, HeldKind.EDIT, editor, part, found, edited=row)
    return EditOutcome(ticket, held=held)


async def _recheck_held(
    tickets: TicketService, editor: Actor, row: HeldAnswer, text: str | None
) -> EditOutcome:
    ticket = await tickets.repo.get(row.ticket_id)
    assert ticket is not None
    row.text = text
    found = check(tickets, text)
    if ticket.status == Status.CLOSED:
        return EditOutcome(ticket)  # nothing goes to the client of a closed request
    if found:
        row.findings = _findings_data(found)
        _log_held(tickets, ticket, row, editor)
        return EditOutcome(ticket, held=row)
    if not await HeldRepo(tickets.session).decide(
        row, HeldStatus.FIXED, by=editor.id, by_name=editor.name, at=tickets.now
    ):
        return EditOutcome(ticket)  # an operator decided on it in the meantime
    tickets.note(ticket, EventKind.GUARD_FIXED, editor, held=row.id)
    await _send(tickets, ticket, row)
    return EditOutcome(ticket, fixed=row)


# ---- the buttons under the warning


@dataclass(frozen=True)
class Verdict:
    """The answer to a press: a pop-up, and the warning's new text once decided."""

    popup: str
    warning: str | None = None
    refused: bool = False


async def decide(
    tickets: TicketService, held_id: int, action: HeldAction, operator: Actor
) -> Verdict:
    """«Send as it is» or «Cancel» on a held answer, once."""
    renderer = tickets.desk.renderer
    lang = renderer.desk_language
    repo = HeldRepo(tickets.session)
    row = await repo.get(held_id)
    if row is None:
        return Verdict(renderer.label("error.button_outdated", lang), refused=True)
    ticket = await tickets.repo.get(row.ticket_id)
    assert ticket is not None
    if row.status != HeldStatus.HELD:
        return Verdict(renderer.t("guard.already_decided", lang, number=ticket.number))
    if action == HeldAction.SEND and ticket.status == Status.CLOSED:
        text = renderer.t("desk.request_closed", lang, number=ticket.number)
        return Verdict(text, refused=True)
    status = HeldStatus.SENT if action == HeldAction.SEND else HeldStatus.CANCELLED
    if not await repo.decide(row, status, by=operator.id, by_name=operator.name, at=tickets.now):
        return Verdict(renderer.t("guard.already_decided", lang, number=ticket.number))
    if status == HeldStatus.SENT:
        tickets.note(ticket, EventKind.GUARD_SENT, operator, held=row.id, author=row.author_id)
        await _send(tickets, ticket, row)
        text = renderer.t("guard.sent", lang, number=ticket.number, name=operator.name)
    else:
        tickets.note(ticket, EventKind.GUARD_CANCELLED, operator, held=row.id)
        text = renderer.t("guard.cancelled", lang, number=ticket.number, name=operator.name)
    log.info("held answer %s of request %s: %s", row.id, ticket.number, status.value)
    return Verdict(text, warning=text)


async def _send(tickets: TicketService, ticket: Ticket, row: HeldAnswer) -> None:
    """What the held answer would have done: relay the answer, or mirror the edit."""
    if row.kind == HeldKind.EDIT:
        message = (
            await tickets.session.get(TicketMessage, row.edited_message_id)
            if row.edited_message_id is not None
            else None
        )
        if message is not None:
            await apply_edit(tickets.session, message, row.text, tickets.now)
        return
    author = Actor.operator(row.author_id, row.author_name)
    part = Part(
        chat_id=row.chat_id,
        message_id=row.message_id,
        content_type=row.content_type,
        text=row.text,
        file_id=row.file_id,
        file_name=row.file_name,
        media_group_id=row.media_group_id,
    )
    await operator_message(
        tickets,
        ticket,
        author,
        part,
        reply_to_desk=row.reply_to,
        as_text=row.kind == HeldKind.MACRO,
    )
    if row.kind == HeldKind.MACRO:
        tickets.note(
            ticket,
            EventKind.MACRO_USED,
            author,
            macro=row.macro,
            language=ticket.language,
            held=row.id,
        )


# ---- the warning


def warning(tickets: TicketService, ticket: Ticket, row: HeldAnswer) -> str:
    """What the group is told of a held answer: what was found, why, and what to do."""
    renderer = tickets.desk.renderer
    lang = renderer.desk_language
    lines = [
        renderer.t(
            guard_rule_label_id(GuardRule(f["rule"])),
            lang,
            fragment=shorten(f["fragment"], FRAGMENT_LIMIT),
        )
        for f in row.findings
    ]
    return renderer.t(
        "guard.warning",
        lang,
        number=ticket.number,
        findings="\n".join(lines),
        hint=renderer.label(held_kind_hint_id(row.kind), lang),
    )
