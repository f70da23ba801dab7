"""Saved answers (macros): kept by the operators, each with a Russian and an Uzbek text, and
sent to a client in the client's language with the placeholders filled (bot.macros), through
the quality guard and the same answer path as an operator's own message."""

from __future__ import annotations

from dataclasses import dataclass

from bot.lifecycle import Actor, EventKind
from bot.macros import fill, unknown_placeholders
from bot.services import guarding
from bot.services.conversation import RequestClosed, operator_message
from bot.services.drafts import Part
from bot.services.queries import nearest_due
from bot.services.tickets import TicketService
from bot.vocabulary import HeldKind, Status
from storage.macros import MacroRepo, macro_key
from storage.models import HeldAnswer, Macro, Ticket


@dataclass(frozen=True)
class Saved:
    macro: Macro
    language: str
    created: bool


@dataclass(frozen=True)
class BadPlaceholders:
    names: list[str]


async def save(
    tickets: TicketService, name: str, language: str, text: str, actor: Actor
) -> Saved | BadPlaceholders:
    """The text as the macro's version in `language`, replacing the one it had."""
    bad = unknown_placeholders(text)
    if bad:
        return BadPlaceholders(bad)
    assert actor.id is not None
    repo, now = MacroRepo(tickets.session), tickets.now
    macro = await repo.get(name)
    created = macro is None
    if macro is None:
        macro = Macro(
            name=name,
            key=macro_key(name),
            created_by=actor.id,
            created_by_name=actor.name,
            created_at=now,
            updated_at=now,
        )
        repo.add(macro)
    if language == "uz":
        macro.text_uz = text
    else:
        macro.text_ru = text
    macro.updated_at = now
    await tickets.session.flush()
    return Saved(macro, language, created)


# ---- sending one


@dataclass(frozen=True)
class Unknown:
    name: str


@dataclass(frozen=True)
class NoVersion:
    macro: Macro
    language: str


@dataclass(frozen=True)
class NoDue:
    macro: Macro


@dataclass(frozen=True)
class Sent:
    macro: Macro
    language: str
    text: str


@dataclass(frozen=True)
class Held:
    row: HeldAnswer


Use = Unknown | NoVersion | NoDue | BadPlaceholders | Sent | Held


def values(tickets: TicketService, ticket: Ticket) -> dict[str, str]:
    """What the placeholders stand for on this request, in the client's language; {due} (by
    when the next deadline falls) only while one runs."""
    found = {
        "name": ticket.client_name,
        "number": str(ticket.number),
        "company": ticket.client_company,
    }
    due = nearest_due(ticket)
    if due is not None:
        # As the client's promise words it: 'до 10:00 в понедельник, 30 ноября' /
        # 'dushanba, 30-noyabr kuni soat 10:00 gacha'.
        found["due"] = tickets.desk.renderer.by(due, ticket.language)
    return found


async def use(
    tickets: TicketService,
    ticket: Ticket,
    author: Actor,
    name: str,
    command: Part,
    *,
    reply_to_desk: int | None = None,
) -> Use:
    """`/m NAME`: the macro's version in the client's language, filled in, to the client as
    the operator's answer (or held by the guard). `command` is the /m message itself: the
    answer is stored under it. RequestClosed for a closed request."""
    macro = await MacroRepo(tickets.session).get(name)
    if macro is None:
        return Unknown(name)
    language = ticket.language
    text = macro.text_in(language)
    if not text:
        return NoVersion(macro, language)
    bad = unknown_placeholders(text)
    if bad:
        return BadPlaceholders(bad)
    try:
        filled = fill(text, values(tickets, ticket))
    except KeyError:
        return NoDue(macro)  # every other placeholder always has its value
    if ticket.status == Status.CLOSED:
        raise RequestClosed()
    part = Part(
        chat_id=command.chat_id,
        message_id=command.message_id,
        content_type="text",
        text=filled,
    )
    found = guarding.check(tickets, filled)
    if found:
        row = await guarding.hold(
            tickets,
            ticket,
            HeldKind.MACRO,
            author,
            part,
            found,
            reply_to=reply_to_desk,
            macro=macro.name,
        )
        return Held(row)
    await operator_message(tickets, ticket, author, part, reply_to_desk=reply_to_desk, as_text=True)
    tickets.note(ticket, EventKind.MACRO_USED, author, macro=macro.name, language=language)
    return Sent(macro, language, filled)
