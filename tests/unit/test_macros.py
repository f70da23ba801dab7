"""Saved answers, the pure part (bot.macros): reading /macro and /m, names, placeholders."""

from __future__ import annotations

import pytest

from bot.macros import (
    MacroCommand,
    MacroSyntax,
    MacroVerb,
    fill,
    parse_macro,
    parse_use,
    placeholders_in,
    unknown_placeholders,
    valid_name,
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("add greeting", MacroCommand(MacroVerb.ADD, "greeting", "ru")),
        ("add greeting uz", MacroCommand(MacroVerb.ADD, "greeting", "uz")),
        ("ADD Greeting UZ", MacroCommand(MacroVerb.ADD, "Greeting", "uz")),
        ("add greeting ru", MacroCommand(MacroVerb.ADD, "greeting", "ru")),
        ("  add   драйвер  ", MacroCommand(MacroVerb.ADD, "драйвер", "ru")),
        ("save kod-1", MacroCommand(MacroVerb.ADD, "kod-1", "ru")),
        ("del greeting", MacroCommand(MacroVerb.DELETE, "greeting")),
        ("delete greeting", MacroCommand(MacroVerb.DELETE, "greeting")),
        ("rm greeting", MacroCommand(MacroVerb.DELETE, "greeting")),
    ],
)
def test_macro_commands(args: str, expected: MacroCommand) -> None:
    assert parse_macro(args) == expected


@pytest.mark.parametrize(
    "args",
    [None, "", "add", "list", "show greeting", "add greeting en", "add greeting uz ru", "del a b"],
)
def test_what_is_not_a_macro_command(args: str | None) -> None:
    with pytest.raises(MacroSyntax) as caught:
        parse_macro(args)
    assert not caught.value.bad_name


@pytest.mark.parametrize("name", ["a b", "-x", "_x", "x" * 33, "при{вет}", "x/y", "№1"])
def test_bad_names(name: str) -> None:
    assert not valid_name(name)
    with pytest.raises(MacroSyntax) as caught:
        parse_macro(f"add {name}")
    if " " not in name:
        assert caught.value.bad_name


@pytest.mark.parametrize("name", ["a", "greeting", "Драйвер_2", "kod-1", "oʻrnatish", "x" * 32])
def test_good_names(name: str) -> None:
    assert valid_name(name)
    assert parse_use(name) == name


@pytest.mark.parametrize("args", [None, "", "a b"])
def test_use_needs_one_name(args: str | None) -> None:
    with pytest.raises(MacroSyntax):
        parse_use(args)


VALUES = {
    "name": "Иван",
    "number": "1042",
    "company": "ООО «Asia Trade»",
    "due": "до 10:00 в понедельник, 30 ноября",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Здравствуйте, {name}!", "Здравствуйте, Иван!"),
        (
            "{name}, по обращению №{number} ({company}) ответим {due}.",
            "Иван, по обращению №1042 (ООО «Asia Trade») ответим до 10:00 в понедельник, "
            "30 ноября.",
        ),
        ("{name} {name}", "Иван Иван"),
        ("Без подстановок", "Без подстановок"),
        ('JSON: {"a": 1} и { } и {1}', 'JSON: {"a": 1} и { } и {1}'),
        ("{{name}}", "{Иван}"),
    ],
)
def test_fill(text: str, expected: str) -> None:
    assert fill(text, VALUES) == expected


def test_fill_names_a_placeholder_without_value() -> None:
    with pytest.raises(KeyError, match="due"):
        fill("Ответим {due}", {"name": "Иван"})


def test_placeholders_found_once_in_order() -> None:
    text = "{due} {name} {due} {client} {Name}"
    assert placeholders_in(text) == ["due", "name", "client", "Name"]
    assert unknown_placeholders(text) == ["client", "Name"]
    assert unknown_placeholders("{name}, {number}, {company}, {due}") == []
