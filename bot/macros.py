"""Saved answers (macros), the pure part: reading the operators' `/macro` commands, checking
names and placeholders, and filling a text in. No aiogram, no database.

A placeholder is a word in braces: {name} (the client's name), {number} (the request's number),
{company} and {due} (the request's next deadline). Braces around anything else are left as
written, so a text may quote JSON or a formula."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

PLACEHOLDERS = ("name", "number", "company", "due")
LANGUAGES = ("ru", "uz")
NAME_LIMIT = 32
_NAME = re.compile(r"[^\W_][\w\-]*")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")


class MacroVerb(StrEnum):
    ADD = "add"
    DELETE = "del"


# What operators type for each verb.
VERBS: Mapping[str, MacroVerb] = {
    "add": MacroVerb.ADD,
    "save": MacroVerb.ADD,
    "del": MacroVerb.DELETE,
    "delete": MacroVerb.DELETE,
    "rm": MacroVerb.DELETE,
    "remove": MacroVerb.DELETE,
}


@dataclass(frozen=True)
class MacroCommand:
    """`/macro add NAME [ru|uz]` or `/macro del NAME`."""

    verb: MacroVerb
    name: str
    language: str = "ru"


class MacroSyntax(ValueError):
    """A `/macro` command that cannot be read; `bad_name` when it is only the name."""

    def __init__(self, bad_name: bool = False) -> None:
        super().__init__("bad name" if bad_name else "usage")
        self.bad_name = bad_name


def valid_name(name: str) -> bool:
    """Letters, digits, "-" and "_", starting with a letter or a digit, at most 32."""
    return len(name) <= NAME_LIMIT and _NAME.fullmatch(name) is not None


def parse_macro(args: str | None) -> MacroCommand:
    """The arguments of `/macro`; MacroSyntax when they are not a command."""
    words = (args or "").split()
    if len(words) < 2 or words[0].lower() not in VERBS:
        raise MacroSyntax()
    verb, name, rest = VERBS[words[0].lower()], words[1], words[2:]
    if not valid_name(name):
        raise MacroSyntax(bad_name=True)
    if verb is MacroVerb.DELETE:
        if rest:
            raise MacroSyntax()
        return MacroCommand(verb, name)
    if len(rest) > 1 or (rest and rest[0].lower() not in LANGUAGES):
        raise MacroSyntax()
    return MacroCommand(verb, name, rest[0].lower() if rest else "ru")


def parse_use(args: str | None) -> str:
    """The name in `/m NAME`; MacroSyntax when there is none, or more than a name."""
    words = (args or "").split()
    if len(words) != 1:
        raise MacroSyntax()
    if not valid_name(words[0]):
        raise MacroSyntax(bad_name=True)
    return words[0]


def placeholders_in(text: str) -> list[str]:
    """The placeholders of a text, each once, in the order they first appear."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(text)))


def unknown_placeholders(text: str) -> list[str]:
    return [name for name in placeholders_in(text) if name not in PLACEHOLDERS]


def fill(text: str, values: Mapping[str, str]) -> str:
    """The text with each known placeholder replaced; KeyError names one without a value."""
    missing = [name for name in placeholders_in(text) if name not in values]
    if missing:
        raise KeyError(missing[0])
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
