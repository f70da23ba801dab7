"""Saved answers in the operator group: /macros lists them, /macro add NAME [uz] (in reply to a
message with the text) saves a version, /macro del NAME removes one, /m NAME sends one to the
client of the request it is written in (its topic, or in reply to its card or messages)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot import keyboards as kb
from bot.lifecycle import Actor
from bot.macros import PLACEHOLDERS, MacroSyntax, MacroVerb, parse_macro, parse_use
from bot.services import guarding
from bot.services import macros as saved
from bot.services.conversation import RequestClosed
from bot.services.drafts import Part
from bot.services.relay import ticket_in_desk
from bot.services.tickets import TicketService
from bot.textsplit import shorten, split_text
from bot.vocabulary import language_label_id
from storage.macros import MacroRepo
from storage.models import Macro

router = Router(name=__name__)

# How much of a sent answer the group is shown again.
SHOWN_LIMIT = 3000


def _actor(message: Message) -> Actor:
    assert message.from_user is not None
    return Actor.operator(message.from_user.id, message.from_user.full_name)


def _replied(message: Message) -> Message | None:
    """The message this one answers; in a forum every message 'replies' to its topic's first
    service message, which is not a real reply."""
    reply = message.reply_to_message
    if reply is None or reply.forum_topic_created is not None:
        return None
    return reply


def _placeholders() -> str:
    return ", ".join("{" + name + "}" for name in PLACEHOLDERS)


def _usage() -> str:
    return _("macro.usage").format(placeholders=_placeholders())


def _languages(macro: Macro) -> str:
    present = [lang for lang in ("ru", "uz") if macro.text_in(lang)]
    return ", ".join(_(language_label_id(lang)) for lang in present)


@router.message(Command("macros"))
async def list_macros(message: Message, tickets: TicketService) -> None:
    found = await MacroRepo(tickets.session).all()
    if not found:
        await message.reply(_("macro.list_empty") + "\n\n" + _usage())
        return
    lines = [_("macro.list_title")]
    lines += [_("macro.list_line").format(name=m.name, languages=_languages(m)) for m in found]
    for chunk in split_text("\n".join(lines)):
        await message.reply(chunk)


@router.message(Command("macro"))
async def macro(message: Message, command: CommandObject, tickets: TicketService) -> None:
    try:
        order = parse_macro(command.args)
    except MacroSyntax as exc:
        await message.reply(_("macro.bad_name") if exc.bad_name else _usage())
        return
    if order.verb is MacroVerb.DELETE:
        removed = await MacroRepo(tickets.session).remove(order.name)
        said = _("macro.deleted") if removed else _("macro.unknown")
        await message.reply(said.format(name=order.name))
        return
    source = _replied(message)
    text = (source.text or source.caption) if source is not None else None
    if not text:
        await message.reply(_("macro.need_text").format(name=order.name))
        return
    outcome = await saved.save(tickets, order.name, order.language, text, _actor(message))
    if isinstance(outcome, saved.BadPlaceholders):
        await message.reply(_bad_placeholders(outcome))
        return
    said = _("macro.saved") if outcome.created else _("macro.updated")
    language = _(language_label_id(outcome.language))
    await message.reply(said.format(name=outcome.macro.name, language=language))


def _bad_placeholders(outcome: saved.BadPlaceholders) -> str:
    bad = ", ".join("{" + name + "}" for name in outcome.names)
    return _("macro.bad_placeholders").format(bad=bad, allowed=_placeholders())


@router.message(Command("m"))
async def use_macro(message: Message, command: CommandObject, tickets: TicketService) -> None:
    try:
        name = parse_use(command.args)
    except MacroSyntax as exc:
        await message.reply(_("macro.bad_name") if exc.bad_name else _usage())
        return
    source = _replied(message)
    reply_id = source.message_id if source is not None else None
    ticket = await ticket_in_desk(
        tickets.session, tickets.desk, message.message_thread_id, reply_id
    )
    if ticket is None:
        await message.reply(_("macro.which_request"))
        return
    part = Part(chat_id=message.chat.id, message_id=message.message_id, content_type="text")
    try:
        outcome = await saved.use(
            tickets, ticket, _actor(message), name, part, reply_to_desk=reply_id
        )
    except RequestClosed:
        await message.reply(_("desk.request_closed").format(number=ticket.number))
        return
    if isinstance(outcome, saved.Held):
        warning = guarding.warning(tickets, ticket, outcome.row)
        await message.reply(warning, reply_markup=kb.held(tickets.desk.renderer, outcome.row))
    elif isinstance(outcome, saved.Sent):
        language = _(language_label_id(outcome.language))
        await message.reply(
            _("macro.sent").format(
                name=outcome.macro.name,
                number=ticket.number,
                language=language,
                text=shorten(outcome.text, SHOWN_LIMIT),
            )
        )
    elif isinstance(outcome, saved.Unknown):
        await message.reply(_("macro.unknown").format(name=outcome.name))
    elif isinstance(outcome, saved.NoVersion):
        language = _(language_label_id(outcome.language))
        await message.reply(
            _("macro.no_version").format(
                name=outcome.macro.name, language=language, code=outcome.language
            )
        )
    elif isinstance(outcome, saved.NoDue):
        await message.reply(_("macro.no_due").format(number=ticket.number, due="{due}"))
    else:
        await message.reply(_bad_placeholders(outcome))
