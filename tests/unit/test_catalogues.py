"""Every message id the code uses is translated in both catalogues, with the same
placeholders, and no catalogue carries an empty or fuzzy translation."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.commands import CLIENT_COMMANDS, OPERATOR_COMMANDS
from bot.validation import ERROR_CODES
from bot.vocabulary import DEFAULT_TOPICS, Feedback, Kind, Priority, Status

ROOT = Path(__file__).resolve().parents[2]
LANGS = ("ru", "uz")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "t": (1,),
    "label": (1,),
    "_desk_button": (3,),
    "tell_client": (2,),
    "tell_desk": (2,),
}


def catalogue(lang: str) -> dict[str, str]:
    with (ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        cat = read_po(fh)
    assert not [m.id for m in cat if m.id and m.fuzzy], f"fuzzy entries in {lang}"
    return {str(m.id): str(m.string) for m in cat if m.id}


def used_ids() -> set[str]:
    found: set[str] = set()
    for folder in ("bot", "handlers", "scheduler"):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / folder, keywords=KEYWORDS, comment_tags=()
        ):
            if isinstance(message, str) and "." in message and " " not in message:
                found.add(message)
    # Ids built from the vocabulary at run time.
    found |= {f"kind.{k}" for k in Kind} | {f"status.{s}" for s in Status}
    found |= {f"feedback.{f}" for f in Feedback} | {f"priority.{p}" for p in Priority}
    found |= {f"topic.{t}" for t in DEFAULT_TOPICS} | {f"error.{c}" for c in ERROR_CODES}
    found |= {f"command.{c}" for c in (*CLIENT_COMMANDS, *OPERATOR_COMMANDS)}
    found |= {f"language.{lang}" for lang in LANGS}
    found |= {f"edit.{f}" for f in ("kind", "topic", "description", "feedback")}
    found |= {f"profile.edit_{f}" for f in ("name", "company", "tax_id")}
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


def test_catalogues_have_the_same_ids() -> None:
    assert set(catalogue("ru")) == set(catalogue("uz"))


def test_no_unused_ids() -> None:
    assert set(catalogue("ru")) - used_ids() == set()


@pytest.mark.parametrize("message_id", sorted(catalogue("ru")))
def test_placeholders_match(message_id: str) -> None:
    ru, uz = catalogue("ru")[message_id], catalogue("uz")[message_id]
    assert placeholders(ru) == placeholders(uz)


FORBIDDEN = ("я не знаю", "ничем не могу помочь", "это ваши проблемы", "bilmayman")


@pytest.mark.parametrize("lang", LANGS)
def test_no_forbidden_phrases(lang: str) -> None:
    texts = " ".join(catalogue(lang).values()).lower()
    assert not [p for p in FORBIDDEN if p in texts]
