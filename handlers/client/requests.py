"""Writing a request: type, topic, description (several messages, finished with a button),
preferred feedback, a summary to confirm or edit."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import keyboards as kb
from bot.callbacks import DraftCb, FeedbackCb, KindCb, TopicCb
from bot.services.desk import Desk
from bot.services.drafts import RequestDraft
from bot.services.registration import DraftIncomplete, register_request
from bot.services.tickets import TicketService
from bot.validation import ValidationError, error_label_id, parse_email, parse_phone
from bot.vocabulary import Feedback, Kind
from handlers.client.parts import snapshot
from handlers.client.prompts import description_more, no_keyboard, reask
from handlers.client.states import NewRequest, first_missing
from storage.models import Client

router = Router(name=__name__)


async def load(state: FSMContext) -> RequestDraft:
    return RequestDraft.from_data((await state.get_data()).get("draft"))


async def save(state: FSMContext, draft: RequestDraft) -> None:
    await state.update_data(draft=draft.to_data())


def next_question(draft: RequestDraft) -> State:
    """The first question of the request that the draft has no answer to; the summary when it
    has them all."""
    if draft.kind is None:
        return NewRequest.kind
    if draft.topic is None:
        return NewRequest.topic
    if not draft.parts or draft.feedback is None:
        return NewRequest.description
    if draft.feedback == Feedback.PHONE and not draft.contact:
        return NewRequest.phone
    if draft.feedback == Feedback.EMAIL and not draft.contact:
        return NewRequest.email
    return NewRequest.confirm


async def begin_request(chat_id: int, state: FSMContext, bot: Bot, desk: Desk) -> None:
    """Go to the first unanswered question of a request, keeping what the client already
    wrote (a new draft: its type)."""
    await state.set_state(next_question(await load(state)))
    await reask(bot, chat_id, state, desk)


async def identify_first(
    chat_id: int, client: Client, state: FSMContext, bot: Bot, desk: Desk
) -> None:
    """No request before identification: ask the first unanswered question (the draft stays)."""
    await bot.send_message(chat_id, _("identify.needed"))
    await state.set_state(first_missing(client))
    await reask(bot, chat_id, state, desk)


async def start_new(chat_id: int, client: Client, state: FSMContext, bot: Bot, desk: Desk) -> None:
    await state.set_data({"draft": RequestDraft().to_data()})
    if not client.identified:
        await identify_first(chat_id, client, state, bot, desk)
        return
    await begin_request(chat_id, state, bot, desk)


@router.message(Command("new"))
async def new_command(
    message: Message, client: Client, state: FSMContext, bot: Bot, desk: Desk
) -> None:
    await start_new(message.chat.id, client, state, bot, desk)


@router.callback_query(DraftCb.filter(F.action == "new"))
async def new_button(
    callback: CallbackQuery, client: Client, state: FSMContext, bot: Bot, desk: Desk
) -> None:
    await callback.answer()
    await start_new(client.telegram_id, client, state, bot, desk)


async def _next(state: FSMContext, draft: RequestDraft, following: State) -> None:
    """After an answer: back to the summary when editing, else on to the next question."""
    await save(state, draft)
    editing = (await state.get_data()).get("editing")
    await state.set_state(NewRequest.confirm if editing else following)


@router.callback_query(NewRequest.kind, KindCb.filter(F.kind.in_(list(Kind))))
async def chose_kind(
    callback: CallbackQuery, callback_data: KindCb, state: FSMContext, bot: Bot, desk: Desk
) -> None:
    await callback.answer()
    draft = await load(state)
    draft.kind = callback_data.kind
    await _next(state, draft, NewRequest.topic)
    await reask(bot, callback.from_user.id, state, desk)


@router.callback_query(NewRequest.topic, TopicCb.filter())
async def chose_topic(
    callback: CallbackQuery, callback_data: TopicCb, state: FSMContext, bot: Bot, desk: Desk
) -> None:
    if callback_data.topic not in desk.topics:
        await callback.answer(_("error.button_outdated"), show_alert=True)
        return
    await callback.answer()
    draft = await load(state)
    draft.topic = callback_data.topic
    # A client who already wrote their question is shown what was kept and may add to it.
    await _next(state, draft, NewRequest.description)
    await reask(bot, callback.from_user.id, state, desk)


@router.message(NewRequest.description)
async def description_part(message: Message, state: FSMContext) -> None:
    part = snapshot(message)
    if part is None:
        await message.answer(_("error.unsupported_content"))
        return
    draft = await load(state)
    album_seen = part.media_group_id is not None and any(
        p.media_group_id == part.media_group_id for p in draft.parts
    )
    draft.parts.append(part)
    await save(state, draft)
    if not album_seen:
        await message.answer(description_more(len(draft.parts)), reply_markup=kb.description_done())


@router.callback_query(NewRequest.description, DraftCb.filter(F.action == "done"))
async def description_done(
    callback: CallbackQuery, state: FSMContext, bot: Bot, desk: Desk
) -> None:
    draft = await load(state)
    if not draft.parts:
        await callback.answer(_("request.description_empty"), show_alert=True)
        return
    await callback.answer()
    await _next(state, draft, NewRequest.feedback)
    await reask(bot, callback.from_user.id, state, desk)


@router.callback_query(NewRequest.feedback, FeedbackCb.filter(F.channel.in_(list(Feedback))))
async def chose_feedback(
    callback: CallbackQuery, callback_data: FeedbackCb, state: FSMContext, bot: Bot, desk: Desk
) -> None:
    await callback.answer()
    draft = await load(state)
    draft.feedback = callback_data.channel
    draft.contact = None
    await save(state, draft)
    following = {
        Feedback.TELEGRAM: NewRequest.confirm,
        Feedback.PHONE: NewRequest.phone,
        Feedback.EMAIL: NewRequest.email,
    }[Feedback(callback_data.channel)]
    await state.set_state(following)
    await reask(bot, callback.from_user.id, state, desk)


async def _contact_given(
    contact: str, state: FSMContext, bot: Bot, chat_id: int, desk: Desk
) -> None:
    draft = await load(state)
    draft.contact = contact
    await save(state, draft)
    await state.set_state(NewRequest.confirm)
    await reask(bot, chat_id, state, desk)


@router.message(NewRequest.phone, F.contact | F.text)
async def phone(
    message: Message, state: FSMContext, client: Client, bot: Bot, desk: Desk, now: datetime
) -> None:
    raw = message.contact.phone_number if message.contact else (message.text or "")
    try:
        number = parse_phone(raw)
    except ValidationError as exc:
        await message.answer(_(error_label_id(exc.code)))
        return
    client.phone, client.updated_at = number, now
    await message.answer(_("request.contact_saved"), reply_markup=no_keyboard())
    await _contact_given(number, state, bot, message.chat.id, desk)


@router.message(NewRequest.email, F.text)
async def email(
    message: Message, state: FSMContext, client: Client, bot: Bot, desk: Desk, now: datetime
) -> None:
    try:
        address = parse_email(message.text or "")
    except ValidationError as exc:
        await message.answer(_(error_label_id(exc.code)))
        return
    client.email, client.updated_at = address, now
    await _contact_given(address, state, bot, message.chat.id, desk)


@router.callback_query(NewRequest.confirm, DraftCb.filter(F.action == "confirm"))
async def confirm(
    callback: CallbackQuery,
    state: FSMContext,
    client: Client,
    tickets: TicketService,
    bot: Bot,
    desk: Desk,
) -> None:
    draft = await load(state)
    try:
        ticket = await register_request(tickets, client, draft)
    except DraftIncomplete as missing:
        # The dialogue is ahead of what is stored (its store outside the database kept a step
        # that the database lost): ask for what is missing again, keeping the rest.
        await callback.answer()
        if missing.args[0] == "profile":
            await identify_first(client.telegram_id, client, state, bot, desk)
        else:
            await begin_request(client.telegram_id, state, bot, desk)
        return
    # The request, the client's acknowledgement and the end of the dialogue are committed
    # together: a crash leaves either a draft to confirm again or a registered request.
    await state.clear()
    await callback.answer(_("request.registered_short").format(number=ticket.number))
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)


@router.callback_query(NewRequest.confirm, DraftCb.filter(F.action == "edit"))
async def edit(callback: CallbackQuery) -> None:
    await callback.answer()
    if callback.message is not None:
        await callback.message.answer(_("request.edit_which"), reply_markup=kb.edit_fields())


EDIT_TARGETS = {
    "e_kind": NewRequest.kind,
    "e_topic": NewRequest.topic,
    "e_description": NewRequest.description,
    "e_feedback": NewRequest.feedback,
}


@router.callback_query(NewRequest.confirm, DraftCb.filter(F.action.in_(list(EDIT_TARGETS))))
async def edit_field(
    callback: CallbackQuery, callback_data: DraftCb, state: FSMContext, bot: Bot, desk: Desk
) -> None:
    await callback.answer()
    target = EDIT_TARGETS[callback_data.action]
    draft = await load(state)
    if target == NewRequest.description:
        draft.parts = []
    await save(state, draft)
    # The description and the feedback ask more than one thing; they go on step by step
    # and come back to the summary at the end as they do the first time.
    await state.update_data(editing=target in (NewRequest.kind, NewRequest.topic))
    await state.set_state(target)
    await reask(bot, callback.from_user.id, state, desk)


@router.callback_query(DraftCb.filter(F.action == "cancel"))
async def cancel_button(callback: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await callback.answer()
    if callback.message is not None:
        await callback.message.answer(_("cancel.done"), reply_markup=kb.menu())


@router.message(
    StateFilter(
        NewRequest.kind,
        NewRequest.topic,
        NewRequest.feedback,
        NewRequest.confirm,
        NewRequest.phone,
        NewRequest.email,
    )
)
async def button_expected(message: Message, state: FSMContext, bot: Bot, desk: Desk) -> None:
    """Text (or anything else) where the question expects a button: keep it if it can describe
    the request, and ask again."""
    current = await state.get_state()
    if current in (NewRequest.phone.state, NewRequest.email.state):
        await message.answer(_("error.text_expected"))
    else:
        part = snapshot(message)
        if part is not None:
            draft = await load(state)
            draft.parts.append(part)
            await save(state, draft)
            await message.answer(_("request.kept_use_buttons"))
        else:
            await message.answer(_("error.use_buttons"))
    await reask(bot, message.chat.id, state, desk)
