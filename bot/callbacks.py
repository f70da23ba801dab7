"""Callback data of every button. Telegram allows 64 bytes: the data carries short codes and
ids only, and every field is checked again on receipt (never trusted): an id out of bounds does
not unpack, so a forged button falls to the "outdated button" answer."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.numbers import BoundedId
from bot.vocabulary import ClientAction, DeskAction, HeldAction


class LangCb(CallbackData, prefix="lg"):
    code: str


class KindCb(CallbackData, prefix="kd"):
    kind: str


class TopicCb(CallbackData, prefix="tp"):
    topic: str


class FeedbackCb(CallbackData, prefix="fb"):
    channel: str


class DraftCb(CallbackData, prefix="dr"):
    """done (description finished), confirm, edit, edit_<field>, cancel."""

    action: str


class ForgetCb(CallbackData, prefix="fg"):
    """/forget's confirmation: yes (erase) or no."""

    answer: str


class ProfileCb(CallbackData, prefix="pf"):
    field: str


class TicketCb(CallbackData, prefix="tk"):
    """An operator's action on a request card."""

    action: DeskAction
    ticket: BoundedId
    arg: str = ""


class ClientTicketCb(CallbackData, prefix="ct"):
    """A client's action on one of their requests (view, solved yes/no, rating)."""

    action: ClientAction
    ticket: BoundedId
    arg: str = ""


class HeldCb(CallbackData, prefix="hd"):
    """An operator's decision on an answer the quality guard held (the id is looked up and
    checked on receipt)."""

    action: HeldAction
    held: BoundedId
