"""The client's keyboards, each built in one place."""

from __future__ import annotations

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import gettext as _

from bot.callbacks import DraftCb, FeedbackCb, KindCb, LangCb, ProfileCb, TopicCb
from bot.vocabulary import Feedback, Kind, feedback_label_id, kind_label_id, topic_label_id


def _rows(buttons: list[InlineKeyboardButton], width: int = 1) -> InlineKeyboardMarkup:
    rows = [buttons[i : i + width] for i in range(0, len(buttons), width)]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def languages() -> InlineKeyboardMarkup:
    return _rows(
        [
            InlineKeyboardButton(
                text=_("language.button.ru"), callback_data=LangCb(code="ru").pack()
            ),
            InlineKeyboardButton(
                text=_("language.button.uz"), callback_data=LangCb(code="uz").pack()
            ),
        ],
        width=2,
    )


def menu() -> InlineKeyboardMarkup:
    return _rows(
        [
            InlineKeyboardButton(text=_("menu.new"), callback_data=DraftCb(action="new").pack()),
            InlineKeyboardButton(
                text=_("menu.profile"), callback_data=ProfileCb(field="show").pack()
            ),
            InlineKeyboardButton(
                text=_("menu.language"), callback_data=ProfileCb(field="language").pack()
            ),
        ]
    )


def kinds() -> InlineKeyboardMarkup:
    return _rows(
        [
            InlineKeyboardButton(text=_(kind_label_id(k)), callback_data=KindCb(kind=k).pack())
            for k in Kind
        ]
    )


def topics(names: tuple[str, ...]) -> InlineKeyboardMarkup:
    return _rows(
        [
            InlineKeyboardButton(text=_(topic_label_id(t)), callback_data=TopicCb(topic=t).pack())
            for t in names
        ]
    )


def description_done() -> InlineKeyboardMarkup:
    return _rows(
        [InlineKeyboardButton(text=_("button.done"), callback_data=DraftCb(action="done").pack())]
    )


def feedback() -> InlineKeyboardMarkup:
    return _rows(
        [
            InlineKeyboardButton(
                text=_(feedback_label_id(f)), callback_data=FeedbackCb(channel=f).pack()
            )
            for f in Feedback
        ]
    )


def share_contact() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_("button.share_contact"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def confirm() -> InlineKeyboardMarkup:
    return _rows(
        [
            InlineKeyboardButton(
                text=_("button.confirm"), callback_data=DraftCb(action="confirm").pack()
            ),
            InlineKeyboardButton(
                text=_("button.edit"), callback_data=DraftCb(action="edit").pack()
            ),
            InlineKeyboardButton(
                text=_("button.cancel"), callback_data=DraftCb(action="cancel").pack()
            ),
        ]
    )


def edit_fields() -> InlineKeyboardMarkup:
    return _rows(
        [
            InlineKeyboardButton(
                text=_(f"edit.{name}"), callback_data=DraftCb(action=f"e_{name}").pack()
            )
            for name in ("kind", "topic", "description", "feedback")
        ]
    )


def profile() -> InlineKeyboardMarkup:
    return _rows(
        [
            InlineKeyboardButton(
                text=_(f"profile.edit_{name}"), callback_data=ProfileCb(field=name).pack()
            )
            for name in ("name", "company", "tax_id")
        ]
    )
