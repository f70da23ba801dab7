"""Numbers from what people type and from button data: ASCII digits only, bounded at parse
time (found by tests/integration/test_fuzz_updates.py: str.isdigit() took "²", which int()
refuses, and a forged button's number past 64 bits reached the database)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.callbacks import ClientTicketCb, TicketCb
from bot.numbers import ID_MAX, request_number, whole_number
from bot.vocabulary import ClientAction, DeskAction


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("1042", 1042),
        (" 1042 ", 1042),
        ("0", 0),
        (str(ID_MAX), ID_MAX),
        ("0001042", 1042),
    ],
)
def test_ascii_digits_are_a_number(raw: str, number: int) -> None:
    assert whole_number(raw) == number


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        " ",
        "²",
        "¹²³",
        "١٢",  # Arabic-Indic: int() reads it, people do not mean a request number by it
        "𝟏𝟎𝟎𝟏",
        "①",
        "-1",
        "+1",
        "1_000",
        "1e3",
        "0x3e9",
        "10.5",
        "1 000",
        str(ID_MAX + 1),
        "18446744073709551616",
        "9" * 5000,  # past int()'s 4300 digits, which it refuses with ValueError
    ],
)
def test_anything_else_is_no_number(raw: str | None) -> None:
    assert whole_number(raw) is None


def test_a_limit_bounds_the_number() -> None:
    assert whole_number("5", limit=5) == 5
    assert whole_number("6", limit=5) is None


@pytest.mark.parametrize(
    ("raw", "number"),
    [("1042", 1042), ("#1042", 1042), ("№1042", 1042), ("№ 1042", 1042), (" #1042 ", 1042)],
)
def test_a_request_number_as_people_write_it(raw: str, number: int) -> None:
    assert request_number(raw) == number


@pytest.mark.parametrize("raw", ["²", "#²", "№١٢", "##", "№", "1042a", None])
def test_no_request_number(raw: str | None) -> None:
    assert request_number(raw) is None


@pytest.mark.parametrize(
    "data",
    [
        "tk:claim:18446744073709551616:",
        "tk:claim:-1:",
        f"tk:card:{ID_MAX + 1}:",
        "ct:view:99999999999999999999999999:",
        "ct:rate:²:5",
    ],
)
def test_button_data_out_of_bounds_does_not_unpack(data: str) -> None:
    model = TicketCb if data.startswith("tk") else ClientTicketCb
    with pytest.raises(ValidationError):
        model.unpack(data)


def test_button_data_in_bounds_unpacks() -> None:
    assert TicketCb.unpack(f"tk:claim:{ID_MAX}:").ticket == ID_MAX
    assert ClientTicketCb.unpack("ct:view:7:").action == ClientAction.VIEW
    assert TicketCb(action=DeskAction.CLAIM, ticket=7).pack() == "tk:claim:7:"
