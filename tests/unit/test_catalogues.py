"""Every message id the code uses is translated in both catalogues, with the same
placeholders, and no catalogue carries an empty or fuzzy translation. Every id is a literal the
extraction finds (ids chosen at run time come from tables of literals marked with ``N_``)."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.commands import CLIENT_COMMANDS, COMMAND_LABELS, OPERATOR_COMMANDS
from bot.i18n import LANGUAGES
from bot.validation import ERROR_CODES, ERROR_LABELS, error_label_id
from bot.vocabulary import (
    DEFAULT_TOPICS,
    FEEDBACK_LABELS,
    KIND_LABELS,
    LANGUAGE_LABELS,
    PRIORITY_LABELS,
    STATUS_LABELS,
    TOPIC_LABELS,
    Feedback,
    Kind,
    Priority,
    Status,
    feedback_label_id,
    kind_label_id,
    language_label_id,
    priority_label_id,
    status_label_id,
    topic_label_id,
)

ROOT = Path(__file__).resolve().parents[2]
LANGS = ("ru", "uz")
KEYWORDS = {
    "_": None,
    "N_": None,
    "gettext": None,
    "t": (1,),
    "label": (1,),
    "_desk_button": (3,),
    "plural": (1,),  # bot.reports.Words.plural: the id of a plural entry
    "tn": (1,),  # bot.render.Renderer.tn: the same
    "tell_client": (2,),
    "tell_desk": (2,),
}


def read_catalogue(lang: str) -> Catalog:
    with (ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh)


def catalogue(lang: str) -> dict[str, str]:
    """Message id -> translation; a plural entry by its singular id, its forms joined (empty
    if any form is)."""
    cat = read_catalogue(lang)
    assert not [m.id for m in cat if m.id and m.fuzzy], f"fuzzy entries in {lang}"
    return {_singular(m.id): _joined(m.string) for m in cat if m.id}


def plurals(lang: str) -> dict[str, tuple[str, ...]]:
    return {
        _singular(m.id): tuple(m.string)
        for m in read_catalogue(lang)
        if m.id and isinstance(m.id, tuple)
    }


def _singular(message_id: str | tuple[str, ...]) -> str:
    return str(message_id[0] if isinstance(message_id, tuple) else message_id)


def _joined(string: str | tuple[str, ...]) -> str:
    forms = string if isinstance(string, tuple) else (string,)
    return "\n".join(forms) if all(str(f).strip() for f in forms) else ""


def used_ids() -> set[str]:
    found: set[str] = set()
    for folder in ("bot", "handlers", "scheduler"):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / folder, keywords=KEYWORDS, comment_tags=()
        ):
            if isinstance(message, str) and "." in message and " " not in message:
                found.add(message)
    # Nothing is added by hand: every id, the run-time ones included, is a literal in the code.
    # (Topics a desk configures beyond the defaults are checked at start, against the
    # catalogues themselves, by bot.factory.check_topic_labels.)
    return found


def placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", LANGS)
def test_every_used_id_is_translated(lang: str) -> None:
    cat = catalogue(lang)
    missing = sorted(i for i in used_ids() if not cat.get(i, "").strip())
    assert missing == []


def test_extraction_finds_the_code_ids() -> None:
    # Guards the test itself: if extraction silently found nothing, the test above would pass.
    assert {"client.registered", "card.body", "identify.ask_name"} <= used_ids()
    # ... and it reads the tables marked with N_.
    assert {"status.in_progress", "error.pinfl.checksum", "command.mytickets"} <= used_ids()


# Each table of labels: its family, what it must cover, and the lookup the code calls.
TABLES = {
    "kind": (KIND_LABELS, set(Kind), kind_label_id),
    "status": (STATUS_LABELS, set(Status), status_label_id),
    "priority": (PRIORITY_LABELS, set(Priority), priority_label_id),
    "feedback": (FEEDBACK_LABELS, set(Feedback), feedback_label_id),
    "topic": (TOPIC_LABELS, set(DEFAULT_TOPICS), topic_label_id),
    "language": (LANGUAGE_LABELS, set(LANGUAGES), language_label_id),
    "error": (ERROR_LABELS, set(ERROR_CODES), error_label_id),
    "command": (COMMAND_LABELS, {*CLIENT_COMMANDS, *OPERATOR_COMMANDS}, COMMAND_LABELS.get),
}


@pytest.mark.parametrize("family", sorted(TABLES))
def test_every_member_has_its_literal_id(family: str) -> None:
    table, members, lookup = TABLES[family]
    assert set(table) == members
    # Each member's id is its own (no pair swapped by a copy and paste) ...
    assert {key: table[key] for key in members} == {key: f"{family}.{key}" for key in members}
    # ... and the lookup the code calls takes it from the table.
    assert all(lookup(key) is table[key] for key in members)


def test_a_configured_topic_falls_back_to_its_built_id() -> None:
    # A topic the desk added through DESK_TOPICS; bot.factory.check_topic_labels checks it.
    assert topic_label_id("returns") == "topic.returns"


def test_catalogues_have_the_same_ids() -> None:
    assert set(catalogue("ru")) == set(catalogue("uz"))


def test_no_unused_ids() -> None:
    assert set(catalogue("ru")) - used_ids() == set()


@pytest.mark.parametrize("message_id", sorted(catalogue("ru")))
def test_placeholders_match(message_id: str) -> None:
    ru, uz = catalogue("ru")[message_id], catalogue("uz")[message_id]
    assert placeholders(ru) == placeholders(uz)


@pytest.mark.parametrize("lang", LANGS)
def test_plural_entries_have_every_form_with_the_same_placeholders(lang: str) -> None:
    cat = read_catalogue(lang)
    forms = plurals(lang)
    assert set(forms) == set(plurals("ru"))  # the same ids are plural in both
    for message_id, texts in forms.items():
        assert len(texts) == cat.num_plurals, message_id
        assert all(text.strip() for text in texts), message_id
        assert {frozenset(placeholders(text)) for text in texts} == {
            frozenset(placeholders(forms[message_id][0]))
        }, message_id
        assert "n" in placeholders(texts[0]), message_id


FORBIDDEN = ("я не знаю", "ничем не могу помочь", "это ваши проблемы", "bilmayman")


@pytest.mark.parametrize("lang", LANGS)
def test_no_forbidden_phrases(lang: str) -> None:
    texts = " ".join(catalogue(lang).values()).lower()
    assert not [p for p in FORBIDDEN if p in texts]
