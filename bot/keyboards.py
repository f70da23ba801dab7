"""Every keyboard the bot shows, built in this one module with aiogram's builders.

The client's keyboards take their labels from the update's locale (aiogram's gettext); the
desk's and the client's request keyboards, which are queued in the outbox outside any update,
take them from the renderer in an explicit language."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder as _InlineKeyboardBuilder
from aiogram.utils.keyboard import ReplyKeyboardBuilder

from bot.callbacks import (
    ClientTicketCb,
    DraftCb,
    FeedbackCb,
    ForgetCb,
    HeldCb,
    KindCb,
    LangCb,
    ProfileCb,
    TicketCb,
    TopicCb,
)
from bot.render import Renderer
from bot.vocabulary import (
    ClientAction,
    DeskAction,
    Feedback,
    HeldAction,
    Kind,
    Priority,
    Status,
    feedback_label_id,
    kind_label_id,
    priority_label_id,
    topic_label_id,
)
from storage.models import HeldAnswer, Ticket


class InlineKeyboardBuilder(_InlineKeyboardBuilder):
    """aiogram's builder, without a deep copy of every button when the keyboard is made.
    aiogram copies so that a builder can go on being changed after `as_markup`; each builder
    here makes one keyboard and is dropped, and pydantic's deep copy of the buttons was 4 % of
    the bot's CPU per update (a profile of bench/bench_intake.py)."""

    def export(self) -> list[list[InlineKeyboardButton]]:
        return [list(row) for row in self._markup]


# ---- the client's dialogue (labels in the update's locale)


def languages() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("language.button.ru"), callback_data=LangCb(code="ru"))
    kb.button(text=_("language.button.uz"), callback_data=LangCb(code="uz"))
    kb.adjust(2)
    return kb.as_markup()


def menu() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("menu.new"), callback_data=DraftCb(action="new"))
    kb.button(text=_("menu.profile"), callback_data=ProfileCb(field="show"))
    kb.button(text=_("menu.language"), callback_data=ProfileCb(field="language"))
    kb.adjust(1)
    return kb.as_markup()


def kinds() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for kind in Kind:
        kb.button(text=_(kind_label_id(kind)), callback_data=KindCb(kind=kind))
    kb.adjust(1)
    return kb.as_markup()


def topics(names: tuple[str, ...]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for topic in names:
        kb.button(text=_(topic_label_id(topic)), callback_data=TopicCb(topic=topic))
    kb.adjust(1)
    return kb.as_markup()


def description_done() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("button.done"), callback_data=DraftCb(action="done"))
    return kb.as_markup()


def feedback() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for channel in Feedback:
        kb.button(text=_(feedback_label_id(channel)), callback_data=FeedbackCb(channel=channel))
    kb.adjust(1)
    return kb.as_markup()


def share_contact() -> ReplyKeyboardMarkup:
    kb = ReplyKeyboardBuilder()
    kb.button(text=_("button.share_contact"), request_contact=True)
    return kb.as_markup(resize_keyboard=True, one_time_keyboard=True)


def confirm() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("button.confirm"), callback_data=DraftCb(action="confirm"))
    kb.button(text=_("button.edit"), callback_data=DraftCb(action="edit"))
    kb.button(text=_("button.cancel"), callback_data=DraftCb(action="cancel"))
    kb.adjust(1)
    return kb.as_markup()


def forget_confirm() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("privacy.forget_yes"), callback_data=ForgetCb(answer="yes"))
    kb.button(text=_("privacy.forget_no"), callback_data=ForgetCb(answer="no"))
    kb.adjust(1)
    return kb.as_markup()


EDITABLE_FIELDS = ("kind", "topic", "description", "feedback")


def edit_fields() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("edit.kind"), callback_data=DraftCb(action="e_kind"))
    kb.button(text=_("edit.topic"), callback_data=DraftCb(action="e_topic"))
    kb.button(text=_("edit.description"), callback_data=DraftCb(action="e_description"))
    kb.button(text=_("edit.feedback"), callback_data=DraftCb(action="e_feedback"))
    kb.adjust(1)
    return kb.as_markup()


def profile() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("profile.edit_name"), callback_data=ProfileCb(field="name"))
    kb.button(text=_("profile.edit_company"), callback_data=ProfileCb(field="company"))
    kb.button(text=_("profile.edit_tax_id"), callback_data=ProfileCb(field="tax_id"))
    kb.adjust(1)
    return kb.as_markup()


def my_tickets(tickets: list[Ticket]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for ticket in tickets[:10]:
        kb.button(
            text=_("tickets.open_button").format(number=ticket.number),
            callback_data=ClientTicketCb(action=ClientAction.VIEW, ticket=ticket.id),
        )
    kb.adjust(1)
    return kb.as_markup()


def skip_comment(ticket: Ticket) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("button.skip"),
        callback_data=ClientTicketCb(action=ClientAction.NO_COMMENT, ticket=ticket.id),
    )
    return kb.as_markup()


# ---- queued for the client (labels in the request's language)


def solved(renderer: Renderer, ticket: Ticket) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=renderer.label("button.solved_yes", ticket.language),
        callback_data=ClientTicketCb(action=ClientAction.SOLVED, ticket=ticket.id, arg="y"),
    )
    kb.button(
        text=renderer.label("button.solved_no", ticket.language),
        callback_data=ClientTicketCb(action=ClientAction.SOLVED, ticket=ticket.id, arg="n"),
    )
    kb.adjust(2)
    return kb.as_markup()


def rating(ticket: Ticket) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for stars in range(5, 0, -1):
        kb.button(
            text="⭐" * stars,
            callback_data=ClientTicketCb(
                action=ClientAction.RATE, ticket=ticket.id, arg=str(stars)
            ),
        )
    kb.adjust(1)
    return kb.as_markup()


# ---- the operator card (labels in the desk's language)


def _desk_button(
    kb: InlineKeyboardBuilder,
    renderer: Renderer,
    label_id: str,
    action: DeskAction,
    ticket: Ticket,
    arg: str = "",
) -> None:
    kb.button(
        text=renderer.label(label_id, renderer.desk_language),
        callback_data=TicketCb(action=action, ticket=ticket.id, arg=arg),
    )


def card(renderer: Renderer, ticket: Ticket) -> InlineKeyboardMarkup:
    """The buttons that fit the request's current status."""
    kb = InlineKeyboardBuilder()
    sizes: list[int] = []
    if ticket.status == Status.NEW:
        _desk_button(kb, renderer, "button.claim", DeskAction.CLAIM, ticket)
        sizes.append(1)
    elif ticket.status in (Status.IN_PROGRESS, Status.WAITING):
        _desk_button(kb, renderer, "button.release", DeskAction.RELEASE, ticket)
        if ticket.status == Status.IN_PROGRESS:
            _desk_button(kb, renderer, "button.wait", DeskAction.WAIT, ticket)
        else:
            _desk_button(kb, renderer, "button.unwait", DeskAction.RESUME, ticket)
        sizes.append(2)
    if ticket.status in (Status.NEW, Status.IN_PROGRESS, Status.WAITING):
        _desk_button(kb, renderer, "button.priority", DeskAction.PRIORITY_MENU, ticket)
        _desk_button(kb, renderer, "button.resolve", DeskAction.RESOLVE, ticket)
        sizes += [1, 1]
    elif ticket.status == Status.RESOLVED:
        _desk_button(kb, renderer, "button.reopen", DeskAction.REOPEN, ticket)
        sizes.append(1)
    kb.adjust(*sizes)
    return kb.as_markup()


def priorities(renderer: Renderer, ticket: Ticket) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    others = [p for p in Priority if p != ticket.priority]
    for level in others:
        _desk_button(
            kb, renderer, priority_label_id(level), DeskAction.SET_PRIORITY, ticket, level.value
        )
    _desk_button(kb, renderer, "button.back", DeskAction.CARD, ticket)
    kb.adjust(len(others), 1)
    return kb.as_markup()


def held(renderer: Renderer, row: HeldAnswer) -> InlineKeyboardMarkup:
    """Under the guard's warning: send the held answer as it is, or cancel it."""
    kb = InlineKeyboardBuilder()
    lang = renderer.desk_language
    kb.button(
        text=renderer.label("button.send_anyway", lang),
        callback_data=HeldCb(action=HeldAction.SEND, held=row.id),
    )
    kb.button(
        text=renderer.label("button.cancel_held", lang),
        callback_data=HeldCb(action=HeldAction.CANCEL, held=row.id),
    )
    kb.adjust(2)
    return kb.as_markup()
