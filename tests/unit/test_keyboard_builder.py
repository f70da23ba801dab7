"""bot.keyboards.InlineKeyboardBuilder: the keyboard aiogram's builder makes, without its deep
copy of every button."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils.keyboard import InlineKeyboardBuilder as AiogramBuilder

from bot.keyboards import InlineKeyboardBuilder


def test_the_same_keyboard_as_aiograms_builder_makes() -> None:
    ours, theirs = InlineKeyboardBuilder(), AiogramBuilder()
    for builder in (ours, theirs):
        for n in range(5):
            builder.button(text=f"№ {n}", callback_data=f"tk:{n}")
        builder.row(InlineKeyboardButton(text="✅", callback_data="done"))
        builder.adjust(2, 1)
    assert ours.as_markup() == theirs.as_markup()
    assert ours.as_markup().model_dump() == theirs.as_markup().model_dump()


def test_the_rows_given_out_are_not_the_builders_own() -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text="a", callback_data="a")
    rows = builder.export()
    rows[0].append(InlineKeyboardButton(text="b", callback_data="b"))
    rows.append([])
    assert builder.export() == [[InlineKeyboardButton(text="a", callback_data="a")]]
