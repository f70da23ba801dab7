"""Validation and normalisation of what a caller types into the support bot.

Pure functions without I/O. Every ``parse_*`` function takes the raw text as it came from
Telegram and either returns the normalised value or raises :class:`ValidationError`, whose
``code`` selects the localised message. Nothing else is ever raised, whatever the input: very
long text, emoji, control characters, lone surrogates, or ``None`` from a non-text message.

Over-long input is rejected by a plain ``len()`` check before any scanning or library call.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

import phonenumbers
from email_validator import validate_email

from bot.vocabulary import N_

__all__ = [
    "COMPANY_MAX",
    "COMPANY_MIN",
    "EMAIL_MAX",
    "ERROR_CODES",
    "ERROR_LABELS",
    "INN_LENGTH",
    "NAME_MAX",
    "NAME_MIN",
    "PINFL_LENGTH",
    "TaxId",
    "TaxIdKind",
    "ValidationError",
    "error_label_id",
    "fold_apostrophes",
    "parse_company",
    "parse_email",
    "parse_name",
    "parse_phone",
    "parse_tax_id",
    "pinfl_check_digit",
]

NAME_MIN: Final = 2
NAME_MAX: Final = 100
COMPANY_MIN: Final = 2
COMPANY_MAX: Final = 200
EMAIL_MAX: Final = 254

ERROR_CODES: Final = frozenset(
    {
        "name.length",
        "name.chars",
        "company.length",
        "company.chars",
        "taxid.chars",
        "taxid.length",
        "inn.first_digit",
        "pinfl.first_digit",
        "pinfl.birth_date",
        "pinfl.checksum",
        "phone.invalid",
        "email.invalid",
    }
)

# The message a code selects, a literal id for extraction (every code has one; a test checks).
ERROR_LABELS: Final[Mapping[str, str]] = {
    "name.length": N_("error.name.length"),
    "name.chars": N_("error.name.chars"),
    "company.length": N_("error.company.length"),
    "company.chars": N_("error.company.chars"),
    "taxid.chars": N_("error.taxid.chars"),
    "taxid.length": N_("error.taxid.length"),
    "inn.first_digit": N_("error.inn.first_digit"),
    "pinfl.first_digit": N_("error.pinfl.first_digit"),
    "pinfl.birth_date": N_("error.pinfl.birth_date"),
    "pinfl.checksum": N_("error.pinfl.checksum"),
    "phone.invalid": N_("error.phone.invalid"),
    "email.invalid": N_("error.email.invalid"),
}

# Raw-length caps, checked before any other work. Telegram itself refuses text messages longer
# than 4096 characters, so the text-field cap never rejects anything a user could really send.
_TEXT_RAW_MAX: Final = 4096
# A 14-digit PINFL typed with a separator between every digit is 27 characters.
_TAX_ID_RAW_MAX: Final = 64
_PHONE_RAW_MAX: Final = 64

# Control characters (category Cc) other than the whitespace ones, which are collapsed.
# str.split() would treat U+001C..U+001F and U+0085 as whitespace, so they are rejected first.
_BAD_CONTROL: Final = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_WHITESPACE_CONTROLS: Final = frozenset("\t\n\r\v\f")

# ' ’ ʼ ʻ ` ‘  (ʼ U+02BC and ʻ U+02BB are Unicode letters, category Lm, so they are excluded
# explicitly when letters are counted).
_APOSTROPHES: Final = frozenset("'\u2019\u02bc\u02bb`\u2018")
# The official Uzbek Latin letters: the turned comma of oʻ and gʻ (U+02BB) and the tutuq
# belgisi (U+02BC); people type either as any of the apostrophes above.
OKINA: Final = "\u02bb"
TUTUQ: Final = "\u02bc"
_OG_MARK: Final = re.compile(r"(?<=[oOgG])['\u2019\u02bc\u02bb`\u2018]")
_TUTUQ_MARK: Final = re.compile(r"(?<![oOgG])(?<=[^\W\d_])['\u2019\u02bb`\u2018](?=[^\W\d_])")
# Letters (category Lo) that show nothing: the Hangul fillers, used for names that look empty.
_BLANK_LETTERS: Final = frozenset("\u3164\u115f\u1160\uffa0")
# - ‐ ‑  (hyphen-minus, hyphen, non-breaking hyphen)
_NAME_HYPHENS: Final = frozenset("-\u2010\u2011")

_ASCII_DIGITS: Final = re.compile(r"[0-9]*")
_MINUS_SIGN: Final = "\u2212"

INN_LENGTH: Final = 9
PINFL_LENGTH: Final = 14
_PINFL_CENTURY_BY_FIRST_DIGIT: Final = {
    "1": 1800,
    "2": 1800,
    "3": 1900,
    "4": 1900,
    "5": 2000,
    "6": 2000,
}
_PINFL_WEIGHTS: Final = (7, 3, 1) * 4 + (7,)

# Optional leading "+", then 3..17 ASCII digits (17 = "00" exit code + 15-digit E.164 number).
_PHONE_COMPACT: Final = re.compile(r"\+?[0-9]{3,17}")
_PHONE_BRACKETS: Final = frozenset("()")


class ValidationError(ValueError):
    """Invalid input; ``code`` is a stable key from :data:`ERROR_CODES`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def error_label_id(code: str) -> str:
    """The message id of a :class:`ValidationError`'s code."""
    return ERROR_LABELS[code]


class TaxIdKind(StrEnum):
    LEGAL_ENTITY = "legal_entity"
    INDIVIDUAL = "individual"
    PINFL = "pinfl"


@dataclass(frozen=True)
class TaxId:
    value: str  # digits only
    kind: TaxIdKind


_INN_KIND_BY_FIRST_DIGIT: Final = {
    "2": TaxIdKind.LEGAL_ENTITY,
    "3": TaxIdKind.LEGAL_ENTITY,
    "4": TaxIdKind.INDIVIDUAL,
    "5": TaxIdKind.INDIVIDUAL,
    "6": TaxIdKind.INDIVIDUAL,
    "7": TaxIdKind.INDIVIDUAL,
}


def fold_apostrophes(text: str) -> str:
    """Uzbek text in the official letters, whatever apostrophes it was typed with: after o or g
    an apostrophe is the ʻ of oʻ and gʻ, between other letters the tutuq belgisi ʼ. Words the
    bot matches (its own labels, commands' words, phrase lists) are compared in this form, so
    O'zbek, O‘zbek, O’zbek, O`zbek and Oʻzbek are one word."""
    return _TUTUQ_MARK.sub(TUTUQ, _OG_MARK.sub(OKINA, text))


def _is_letter(ch: str) -> bool:
    return ch.isalpha() and ch not in _APOSTROPHES and ch not in _BLANK_LETTERS


def _clean_text(raw: object, min_len: int, max_len: int, field: str) -> str:
    """Shared first steps for free text: length cap, control characters, whitespace, NFC."""
    if not isinstance(raw, str) or len(raw) > _TEXT_RAW_MAX:
        raise ValidationError(f"{field}.length")
    if _BAD_CONTROL.search(raw):
        raise ValidationError(f"{field}.chars")
    text = unicodedata.normalize("NFC", " ".join(raw.split()))
    if not min_len <= len(text) <= max_len:
        raise ValidationError(f"{field}.length")
    return text


def parse_name(raw: str) -> str:
    """Caller's name: letters of any script, spaces, hyphens, apostrophes; >= 2 letters.

    Returns the NFC-normalised name with whitespace trimmed and collapsed; apostrophes and
    hyphens are kept exactly as typed.
    """
    text = _clean_text(raw, NAME_MIN, NAME_MAX, "name")
    letters = 0
    after_letter = False  # combining marks are allowed only on a letter (e.g. Devanagari)
    for ch in text:
        if _is_letter(ch):
            letters += 1
            after_letter = True
        elif after_letter and unicodedata.category(ch).startswith("M"):
            continue
        elif ch == " " or ch in _APOSTROPHES or ch in _NAME_HYPHENS:
            after_letter = False
        else:
            raise ValidationError("name.chars")
    if letters < 2:
        raise ValidationError("name.chars")
    return text


def parse_company(raw: str) -> str:
    """Company name: printable text with at least one letter, whitespace trimmed and collapsed."""
    text = _clean_text(raw, COMPANY_MIN, COMPANY_MAX, "company")
    # isprintable() is False for format characters (zero-width, bidi overrides), surrogates,
    # private-use and unassigned code points.
    if not text.isprintable() or not any(_is_letter(ch) for ch in text):
        raise ValidationError("company.chars")
    return text


def _is_separator(ch: str) -> bool:
    """Spaces, dashes and dots that people type inside tax ids and phone numbers."""
    if ch == "." or ch == _MINUS_SIGN or ch in _WHITESPACE_CONTROLS:
        return True
    # Zs/Zl/Zp: every kind of space; Pd: every kind of dash.
    return unicodedata.category(ch) in ("Zs", "Zl", "Zp", "Pd")


def pinfl_check_digit(first13: str) -> int:
    """Check digit of a PINFL: the first 13 digits weighted 7,3,1,7,3,1,... modulo 10."""
    if not isinstance(first13, str) or not _ASCII_DIGITS.fullmatch(first13):
        raise ValidationError("taxid.chars")
    if len(first13) != len(_PINFL_WEIGHTS):
        raise ValidationError("taxid.length")
    return sum(int(d) * w for d, w in zip(first13, _PINFL_WEIGHTS, strict=True)) % 10


def _check_pinfl(digits: str) -> None:
    century = _PINFL_CENTURY_BY_FIRST_DIGIT.get(digits[0])
    if century is None:
        raise ValidationError("pinfl.first_digit")
    day, month, year = int(digits[1:3]), int(digits[3:5]), century + int(digits[5:7])
    try:
        date(year, month, day)
    except ValueError:
        raise ValidationError("pinfl.birth_date") from None
    if int(digits[13]) != pinfl_check_digit(digits[:13]):
        raise ValidationError("pinfl.checksum")


def parse_tax_id(raw: str) -> TaxId:
    """INN/STIR (9 digits) or PINFL/JShShIR (14 digits); spaces, dashes and dots are dropped."""
    if not isinstance(raw, str) or len(raw) > _TAX_ID_RAW_MAX:
        raise ValidationError("taxid.length")
    digits = "".join(ch for ch in raw if not _is_separator(ch))
    if not _ASCII_DIGITS.fullmatch(digits):
        raise ValidationError("taxid.chars")
    if len(digits) == INN_LENGTH:
        kind = _INN_KIND_BY_FIRST_DIGIT.get(digits[0])
        if kind is None:
            raise ValidationError("inn.first_digit")
        return TaxId(digits, kind)
    if len(digits) == PINFL_LENGTH:
        _check_pinfl(digits)
        return TaxId(digits, TaxIdKind.PINFL)
    raise ValidationError("taxid.length")


def _parse_valid_number(number: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def parse_phone(raw: str, default_region: str = "UZ") -> str:
    """Phone number in E.164 form ("+998901234567").

    Accepts national numbers of ``default_region`` in the usual spellings, international
    numbers with "+" (or the "00" exit code), and the ``phone_number`` of a shared Telegram
    contact, which comes as bare international digits without "+" ("998901234567").
    Only digits, one leading "+", spaces, dashes, dots and parentheses are allowed: letters
    (phonenumbers would read "90 ADG 45 67" as a vanity number) and extensions are rejected.
    """
    if not isinstance(raw, str) or len(raw) > _PHONE_RAW_MAX:
        raise ValidationError("phone.invalid")
    compact = "".join(ch for ch in raw if ch not in _PHONE_BRACKETS and not _is_separator(ch))
    if not _PHONE_COMPACT.fullmatch(compact):
        raise ValidationError("phone.invalid")
    number = _parse_valid_number(compact, default_region)
    if number is None and not compact.startswith("+"):
        # Shared contact: international digits without the "+".
        number = _parse_valid_number("+" + compact, None)
    if number is None:
        raise ValidationError("phone.invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_email(raw: str) -> str:
    """E-mail address, syntax only (no DNS), in email_validator's normalised form."""
    if not isinstance(raw, str) or len(raw) > _TEXT_RAW_MAX:
        raise ValidationError("email.invalid")
    text = raw.strip()
    if not text or len(text) > EMAIL_MAX:
        raise ValidationError("email.invalid")
    try:
        normalized = validate_email(text, check_deliverability=False).normalized
    except ValueError:  # EmailNotValidError, and UnicodeError from IDNA, are ValueErrors
        raise ValidationError("email.invalid") from None
    if len(normalized) > EMAIL_MAX:
        raise ValidationError("email.invalid")
    return normalized
