"""Unit tests for bot.validation (pure functions, no I/O)."""

from __future__ import annotations

import dataclasses
import pickle
import random
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from bot.validation import (
    COMPANY_MAX,
    ERROR_CODES,
    NAME_MAX,
    TaxId,
    TaxIdKind,
    ValidationError,
    parse_company,
    parse_email,
    parse_name,
    parse_phone,
    parse_tax_id,
    pinfl_check_digit,
)

LONG = 10_000
APOSTROPHES = {
    "ascii-0027": "'",
    "right-quote-2019": "\u2019",
    "modifier-apostrophe-02BC": "\u02bc",
    "turned-comma-02BB": "\u02bb",
    "grave-0060": "`",
    "left-quote-2018": "\u2018",
}


# --------------------------------------------------------------------------- PINFL helpers


def make_pinfl(first_digit: int, ddmmyy: str, tail: str = "123456") -> str:
    """A PINFL with a correct check digit; the date is not validated, so bad dates are possible.

    Independent of bot.validation: weights 7,3,1,7,3,1,... over the first 13 digits, mod 10.
    """
    head = f"{first_digit}{ddmmyy}{tail}"
    assert len(head) == 13
    assert head.isascii()
    assert head.isdigit()
    check = sum(int(d) * (7, 3, 1)[i % 3] for i, d in enumerate(head)) % 10
    return head + str(check)


def pinfl_for(first_digit: int, born: date, tail: str = "123456") -> str:
    return make_pinfl(first_digit, born.strftime("%d%m%y"), tail)


def with_wrong_check_digit(pinfl: str, delta: int = 1) -> str:
    return pinfl[:-1] + str((int(pinfl[-1]) + delta) % 10)


def random_valid_pinfls(count: int, seed: int = 20240601) -> list[str]:
    rng = random.Random(seed)
    first_century = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}
    result = []
    for _ in range(count):
        first = rng.randint(1, 6)
        born = date(first_century[first], 1, 1) + timedelta(days=rng.randrange(36_524))
        tail = f"{rng.randrange(10**6):06d}"
        result.append(pinfl_for(first, born, tail))
    return result


def test_pinfl_helper_builds_distinct_valid_numbers() -> None:
    pinfls = random_valid_pinfls(200)
    assert len(set(pinfls)) == 200
    assert {p[-1] for p in pinfls} == set("0123456789")  # every check digit value occurs


# --------------------------------------------------------------------------- ValidationError


def test_validation_error_carries_code() -> None:
    err = ValidationError("name.length")
    assert isinstance(err, ValueError)
    assert err.code == "name.length"
    assert str(err) == "name.length"
    copy = pickle.loads(pickle.dumps(err))
    assert isinstance(copy, ValidationError)
    assert copy.code == "name.length"


# --------------------------------------------------------------------------- names

NAME_VALID = [
    pytest.param("Ali Valiyev", "Ali Valiyev", id="latin"),
    pytest.param("Al", "Al", id="latin-two-letters-minimum"),
    pytest.param("  Ali \t  Valiyev\n ", "Ali Valiyev", id="trim-and-collapse-whitespace"),
    pytest.param("Ali\u00a0Valiyev", "Ali Valiyev", id="nbsp-collapsed"),
    pytest.param("Ali\u2003\u3000Valiyev", "Ali Valiyev", id="unicode-spaces-collapsed"),
    pytest.param(" " * 3000 + "Ali", "Ali", id="heavy-padding-within-raw-cap"),
    pytest.param("Anna-Maria O'Neil", "Anna-Maria O'Neil", id="latin-hyphen-apostrophe"),
    pytest.param("Jean\u2010Luc", "Jean\u2010Luc", id="unicode-hyphen-2010"),
    pytest.param("Jose\u0301 Ali", "Jos\u00e9 Ali", id="decomposed-accent-nfc"),
    pytest.param("Ғулом Қодиров", "Ғулом Қодиров", id="cyrillic-uzbek-gh-q"),
    pytest.param("Ўктам Ҳасанов", "Ўктам Ҳасанов", id="cyrillic-uzbek-u-h"),
    pytest.param("ғайрат қўчқоров", "ғайрат қўчқоров", id="cyrillic-uzbek-lowercase"),
    pytest.param("Иван Петров-Водкин", "Иван Петров-Водкин", id="cyrillic-russian-hyphen"),
    pytest.param("Маъруф Раънов", "Маъруф Раънов", id="cyrillic-hard-sign"),
    pytest.param("김민준", "김민준", id="korean-hangul"),
    pytest.param("محمد علي", "محمد علي", id="arabic"),
    pytest.param("अनिल", "अनिल", id="devanagari-combining-mark"),
    pytest.param("A" * NAME_MAX, "A" * NAME_MAX, id="exactly-max-length"),
    pytest.param("  " + "Б" * NAME_MAX + "  ", "Б" * NAME_MAX, id="max-length-after-trimming"),
]
for _ap_id, _ap in APOSTROPHES.items():
    NAME_VALID += [
        pytest.param(
            f"O{_ap}ktam G{_ap}ulomov", f"O{_ap}ktam G{_ap}ulomov", id=f"uz-latin-{_ap_id}"
        ),
        pytest.param(f"Ғ{_ap}улом", f"Ғ{_ap}улом", id=f"cyrillic-{_ap_id}"),
    ]

NAME_ERRORS = [
    pytest.param("", "name.length", id="empty"),
    pytest.param("   \t\n", "name.length", id="whitespace-only"),
    pytest.param("A", "name.length", id="one-letter"),
    pytest.param("  Ж  ", "name.length", id="one-letter-after-trim"),
    pytest.param("A" * (NAME_MAX + 1), "name.length", id="max-plus-one"),
    pytest.param("A" * LONG, "name.length", id="10k-letters"),
    pytest.param(" " * LONG, "name.length", id="10k-spaces"),
    pytest.param("😀" * LONG, "name.length", id="10k-emoji"),
    pytest.param("A'", "name.chars", id="one-letter-plus-apostrophe"),
    pytest.param("''", "name.chars", id="apostrophes-only"),
    pytest.param("\u02bb\u02bc", "name.chars", id="letter-like-apostrophes-only"),
    pytest.param("- -", "name.chars", id="hyphens-only"),
    pytest.param("Ali2", "name.chars", id="digit"),
    pytest.param("Ali ١٢", "name.chars", id="arabic-indic-digits"),
    pytest.param("Ali²", "name.chars", id="superscript-digit"),
    pytest.param("Ali!", "name.chars", id="exclamation"),
    pytest.param("A. Valiyev", "name.chars", id="dot"),
    pytest.param("Ali_Vali", "name.chars", id="underscore"),
    pytest.param("@ali", "name.chars", id="at-sign"),
    pytest.param("Ali \u2013 Vali", "name.chars", id="en-dash"),
    pytest.param("Ali 😀", "name.chars", id="emoji"),
    pytest.param("😀😀", "name.chars", id="emoji-only"),
    pytest.param("Ali\x00", "name.chars", id="nul"),
    pytest.param("Ali\x1fVali", "name.chars", id="unit-separator-control"),
    pytest.param("Ali\x85Vali", "name.chars", id="nel-control"),
    pytest.param("Ali\x7f", "name.chars", id="del-control"),
    pytest.param("Ali\u200bVali", "name.chars", id="zero-width-space"),
    pytest.param("Ali\u202eVali", "name.chars", id="bidi-override"),
    pytest.param("\ufeffAli", "name.chars", id="bom"),
    pytest.param("Ali\ud800", "name.chars", id="lone-surrogate"),
    pytest.param("\u0301Ali", "name.chars", id="leading-combining-mark"),
]


@pytest.mark.parametrize(("raw", "expected"), NAME_VALID)
def test_parse_name_valid(raw: str, expected: str) -> None:
    assert parse_name(raw) == expected


@pytest.mark.parametrize(("raw", "code"), NAME_ERRORS)
def test_parse_name_errors(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as exc_info:
        parse_name(raw)
    assert exc_info.value.code == code


# --------------------------------------------------------------------------- companies

COMPANY_VALID = [
    pytest.param("OOO «Asia Trade»", "OOO «Asia Trade»", id="guillemets"),
    pytest.param('MChJ "Olmos-2000"', 'MChJ "Olmos-2000"', id="quotes-and-digits"),
    pytest.param("ООО «Ромашка»", "ООО «Ромашка»", id="cyrillic"),
    pytest.param(
        "“O‘zbekiston temir yo‘llari” AJ", "“O‘zbekiston temir yo‘llari” AJ", id="uzbek-quotes"
    ),
    pytest.param("  OOO   «Asia\nTrade»  ", "OOO «Asia Trade»", id="trim-and-collapse"),
    pytest.param("IT-Park #1 (Toshkent), 2024!", "IT-Park #1 (Toshkent), 2024!", id="punct"),
    pytest.param("X5", "X5", id="two-chars-one-letter"),
    pytest.param("Olmos 💎", "Olmos 💎", id="emoji-is-printable"),
    pytest.param("A" + "1" * (COMPANY_MAX - 1), "A" + "1" * (COMPANY_MAX - 1), id="max-length"),
]

COMPANY_ERRORS = [
    pytest.param("", "company.length", id="empty"),
    pytest.param("  \n ", "company.length", id="whitespace-only"),
    pytest.param("A", "company.length", id="one-char"),
    pytest.param("A" * (COMPANY_MAX + 1), "company.length", id="max-plus-one"),
    pytest.param("A" * LONG, "company.length", id="10k-chars"),
    pytest.param("«»" * (LONG // 2), "company.length", id="10k-punctuation"),
    pytest.param("2000", "company.chars", id="digits-only"),
    pytest.param("12 345-67", "company.chars", id="digits-and-punctuation"),
    pytest.param("«»", "company.chars", id="punctuation-only"),
    pytest.param("'\u02bb", "company.chars", id="apostrophes-only"),
    pytest.param("💎💎", "company.chars", id="emoji-only"),
    pytest.param("OOO\x00Asia", "company.chars", id="nul"),
    pytest.param("OOO\x07 Asia", "company.chars", id="bell-control"),
    pytest.param("OOO\x1eAsia", "company.chars", id="record-separator-control"),
    pytest.param("OOO\u202eAsia", "company.chars", id="bidi-override"),
    pytest.param("OOO\u200bAsia", "company.chars", id="zero-width-space"),
    pytest.param("\ud800OOO", "company.chars", id="lone-surrogate"),
    pytest.param("OOO \ue000", "company.chars", id="private-use"),
]


@pytest.mark.parametrize(("raw", "expected"), COMPANY_VALID)
def test_parse_company_valid(raw: str, expected: str) -> None:
    assert parse_company(raw) == expected


@pytest.mark.parametrize(("raw", "code"), COMPANY_ERRORS)
def test_parse_company_errors(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as exc_info:
        parse_company(raw)
    assert exc_info.value.code == code


# --------------------------------------------------------------------------- INN / PINFL

LEGAL = TaxIdKind.LEGAL_ENTITY
INDIVIDUAL = TaxIdKind.INDIVIDUAL
PINFL = TaxIdKind.PINFL

TAX_ID_VALID = [
    pytest.param("201234567", "201234567", LEGAL, id="inn-first-2-legal"),
    pytest.param("301234567", "301234567", LEGAL, id="inn-first-3-legal"),
    pytest.param("401234567", "401234567", INDIVIDUAL, id="inn-first-4-individual"),
    pytest.param("512345678", "512345678", INDIVIDUAL, id="inn-first-5-individual"),
    pytest.param("612345678", "612345678", INDIVIDUAL, id="inn-first-6-individual"),
    pytest.param("701234567", "701234567", INDIVIDUAL, id="inn-first-7-individual"),
    pytest.param(" 301 234 567 ", "301234567", LEGAL, id="inn-spaces"),
    pytest.param("301-234-567", "301234567", LEGAL, id="inn-hyphens"),
    pytest.param("301\u2013234\u2013567", "301234567", LEGAL, id="inn-en-dashes"),
    pytest.param("301\u2014234\u2014567", "301234567", LEGAL, id="inn-em-dashes"),
    pytest.param("301\u2011234\u2010567", "301234567", LEGAL, id="inn-unicode-hyphens"),
    pytest.param("301\u2212234\u2212567", "301234567", LEGAL, id="inn-minus-signs"),
    pytest.param("301.234.567", "301234567", LEGAL, id="inn-dots"),
    pytest.param("301\u00a0234\u00a0567", "301234567", LEGAL, id="inn-nbsp"),
    pytest.param("\t30 12-34.567\n", "301234567", LEGAL, id="inn-mixed-separators"),
    pytest.param("31506931234562", "31506931234562", PINFL, id="pinfl-hand-computed"),
    pytest.param("3 150693 123 456 2", "31506931234562", PINFL, id="pinfl-with-spaces"),
    pytest.param("3-150693-123456-2", "31506931234562", PINFL, id="pinfl-with-dashes"),
]
for _first, _born, _tail in [
    (1, date(1899, 12, 31), "000001"),
    (2, date(1850, 7, 4), "262001"),
    (3, date(1993, 6, 15), "123456"),
    (4, date(1985, 1, 1), "271998"),
    (4, date(1904, 2, 29), "303030"),  # leap year in the 1900s
    (5, date(2000, 2, 29), "141414"),  # 2000 is a leap year
    (6, date(2012, 12, 31), "999999"),
]:
    _pinfl = pinfl_for(_first, _born, _tail)
    TAX_ID_VALID.append(
        pytest.param(_pinfl, _pinfl, PINFL, id=f"pinfl-first-{_first}-born-{_born.isoformat()}")
    )

TAX_ID_ERRORS = [
    # INN first digit
    pytest.param("001234567", "inn.first_digit", id="inn-first-0"),
    pytest.param("101234567", "inn.first_digit", id="inn-first-1"),
    pytest.param("801234567", "inn.first_digit", id="inn-first-8"),
    pytest.param("901234567", "inn.first_digit", id="inn-first-9"),
    pytest.param("901-234-567", "inn.first_digit", id="inn-first-9-with-dashes"),
    # non-digits left after removing separators
    pytest.param("30123456a", "taxid.chars", id="latin-letter"),
    pytest.param("ИНН 301234567", "taxid.chars", id="cyrillic-prefix"),
    pytest.param("+301234567", "taxid.chars", id="plus-sign"),
    pytest.param("301/234/567", "taxid.chars", id="slashes"),
    pytest.param("301_234_567", "taxid.chars", id="underscores"),
    pytest.param("301234567😀", "taxid.chars", id="emoji"),
    pytest.param("301234567\x00", "taxid.chars", id="nul"),
    pytest.param("301\x1c234567", "taxid.chars", id="file-separator-control"),
    pytest.param("301\u200b234567", "taxid.chars", id="zero-width-space"),
    pytest.param(
        "\uff13\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17",
        "taxid.chars",
        id="fullwidth-digits",
    ),
    pytest.param("٣٠١٢٣٤٥٦٧", "taxid.chars", id="arabic-indic-digits"),
    pytest.param("3012345\ud800", "taxid.chars", id="lone-surrogate"),
    # neither 9 nor 14 digits
    pytest.param("", "taxid.length", id="empty"),
    pytest.param("  - . -  ", "taxid.length", id="separators-only"),
    pytest.param("30123456", "taxid.length", id="8-digits"),
    pytest.param("3012345678", "taxid.length", id="10-digits"),
    pytest.param("3150693123456", "taxid.length", id="13-digits"),
    pytest.param("315069312345621", "taxid.length", id="15-digits"),
    pytest.param("3" * LONG, "taxid.length", id="10k-digits"),
    pytest.param("a" * LONG, "taxid.length", id="10k-letters"),
    pytest.param("301234567" + " " * LONG, "taxid.length", id="10k-trailing-spaces"),
    # PINFL first digit (date and check digit are valid, so only the first digit is wrong)
    pytest.param(make_pinfl(0, "150693"), "pinfl.first_digit", id="pinfl-first-0"),
    pytest.param(make_pinfl(7, "150693"), "pinfl.first_digit", id="pinfl-first-7"),
    pytest.param(make_pinfl(8, "150693"), "pinfl.first_digit", id="pinfl-first-8"),
    pytest.param(make_pinfl(9, "150693"), "pinfl.first_digit", id="pinfl-first-9"),
    pytest.param(
        make_pinfl(7, "310299"), "pinfl.first_digit", id="pinfl-first-digit-checked-first"
    ),
    # PINFL birth date (check digit is valid)
    pytest.param(make_pinfl(3, "310299"), "pinfl.birth_date", id="pinfl-31-feb-1999"),
    pytest.param(make_pinfl(5, "300200"), "pinfl.birth_date", id="pinfl-30-feb-2000"),
    pytest.param(make_pinfl(3, "290200"), "pinfl.birth_date", id="pinfl-29-feb-1900-not-leap"),
    pytest.param(make_pinfl(1, "290200"), "pinfl.birth_date", id="pinfl-29-feb-1800-not-leap"),
    pytest.param(make_pinfl(6, "310423"), "pinfl.birth_date", id="pinfl-31-apr"),
    pytest.param(make_pinfl(4, "001085"), "pinfl.birth_date", id="pinfl-day-00"),
    pytest.param(make_pinfl(4, "321085"), "pinfl.birth_date", id="pinfl-day-32"),
    pytest.param(make_pinfl(4, "011385"), "pinfl.birth_date", id="pinfl-month-13"),
    pytest.param(make_pinfl(4, "010085"), "pinfl.birth_date", id="pinfl-month-00"),
    # PINFL check digit
    pytest.param("31506931234563", "pinfl.checksum", id="pinfl-hand-computed-off-by-one"),
    pytest.param(
        with_wrong_check_digit(pinfl_for(5, date(2000, 2, 29)), 5),
        "pinfl.checksum",
        id="pinfl-check-digit-off-by-five",
    ),
    pytest.param(
        "3" + "150693" + "123465" + "2", "pinfl.checksum", id="pinfl-transposed-serial-digits"
    ),
]


@pytest.mark.parametrize(("raw", "value", "kind"), TAX_ID_VALID)
def test_parse_tax_id_valid(raw: str, value: str, kind: TaxIdKind) -> None:
    assert parse_tax_id(raw) == TaxId(value=value, kind=kind)


@pytest.mark.parametrize(("raw", "code"), TAX_ID_ERRORS)
def test_parse_tax_id_errors(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as exc_info:
        parse_tax_id(raw)
    assert exc_info.value.code == code


@pytest.mark.parametrize("pinfl", random_valid_pinfls(40))
def test_parse_tax_id_accepts_generated_pinfls(pinfl: str) -> None:
    assert parse_tax_id(pinfl) == TaxId(pinfl, TaxIdKind.PINFL)


@pytest.mark.parametrize("pinfl", random_valid_pinfls(20, seed=7))
@pytest.mark.parametrize("delta", range(1, 10), ids=lambda d: f"plus-{d}")
def test_parse_tax_id_rejects_every_wrong_check_digit(pinfl: str, delta: int) -> None:
    with pytest.raises(ValidationError) as exc_info:
        parse_tax_id(with_wrong_check_digit(pinfl, delta))
    assert exc_info.value.code == "pinfl.checksum"


def test_tax_id_is_frozen_and_kind_is_str() -> None:
    tax_id = parse_tax_id("301 234 567")
    with pytest.raises(dataclasses.FrozenInstanceError):
        tax_id.value = "401234567"  # type: ignore[misc]
    assert tax_id.kind == "legal_entity"
    assert {k.value for k in TaxIdKind} == {"legal_entity", "individual", "pinfl"}


@pytest.mark.parametrize(
    ("first13", "expected"),
    [
        pytest.param("3150693123456", 2, id="hand-computed"),
        pytest.param("0000000000000", 0, id="all-zeros"),
        pytest.param("1111111111111", 1, id="all-ones-weight-sum-51"),
        pytest.param("9999999999999", 9, id="all-nines-459"),
        pytest.param("1000000000000", 7, id="weight-1st-is-7"),
        pytest.param("0100000000000", 3, id="weight-2nd-is-3"),
        pytest.param("0010000000000", 1, id="weight-3rd-is-1"),
        pytest.param("0000000000001", 7, id="weight-13th-is-7"),
    ],
)
def test_pinfl_check_digit_known_values(first13: str, expected: int) -> None:
    assert pinfl_check_digit(first13) == expected


@pytest.mark.parametrize("pinfl", random_valid_pinfls(30, seed=99))
def test_pinfl_check_digit_agrees_with_test_helper(pinfl: str) -> None:
    assert pinfl_check_digit(pinfl[:13]) == int(pinfl[13])


@pytest.mark.parametrize(
    ("first13", "code"),
    [
        pytest.param("", "taxid.length", id="empty"),
        pytest.param("123", "taxid.length", id="too-short"),
        pytest.param("31506931234562", "taxid.length", id="fourteen-digits"),
        pytest.param("315069312345a", "taxid.chars", id="letter"),
        pytest.param("315 693123456", "taxid.chars", id="space"),
    ],
)
def test_pinfl_check_digit_rejects_bad_input(first13: str, code: str) -> None:
    with pytest.raises(ValidationError) as exc_info:
        pinfl_check_digit(first13)
    assert exc_info.value.code == code


# --------------------------------------------------------------------------- phones

PHONE_VALID = [
    pytest.param("90 123 45 67", "+998901234567", id="uz-national-spaces"),
    pytest.param("+998 90 123-45-67", "+998901234567", id="uz-international-formatted"),
    pytest.param("998901234567", "+998901234567", id="uz-without-plus"),
    pytest.param("(90) 1234567", "+998901234567", id="uz-parentheses"),
    pytest.param("901234567", "+998901234567", id="uz-national-compact"),
    pytest.param("+998901234567", "+998901234567", id="uz-e164"),
    pytest.param("+998 (90) 123 45 67", "+998901234567", id="uz-international-parentheses"),
    pytest.param("  +998 90 123 45 67 \n", "+998901234567", id="surrounding-whitespace"),
    pytest.param("90-123-45-67", "+998901234567", id="hyphens"),
    pytest.param("90.123.45.67", "+998901234567", id="dots"),
    pytest.param("90 123\u201345\u201367", "+998901234567", id="en-dashes"),
    pytest.param("+998\u00a090\u00a01234567", "+998901234567", id="nbsp"),
    pytest.param("00998901234567", "+998901234567", id="exit-code-00"),
    pytest.param("71 123 45 67", "+998711234567", id="uz-tashkent-landline"),
    pytest.param("33 123 45 67", "+998331234567", id="uz-operator-33"),
    pytest.param("+7 916 123-45-67", "+79161234567", id="foreign-russia"),
    pytest.param("+44 20 7946 0958", "+442079460958", id="foreign-uk"),
    pytest.param("+44 (0)20 7946 0958", "+442079460958", id="foreign-uk-trunk-zero"),
    pytest.param("+1 650 253 0000", "+16502530000", id="foreign-us"),
    # phone_number of a shared Telegram contact: digits, usually without "+"
    pytest.param("998901234567", "+998901234567", id="contact-uz"),
    pytest.param("+998901234567", "+998901234567", id="contact-uz-with-plus"),
    pytest.param("79161234567", "+79161234567", id="contact-russia-without-plus"),
    pytest.param("442079460958", "+442079460958", id="contact-uk-without-plus"),
]

PHONE_ERRORS = [
    pytest.param("", id="empty"),
    pytest.param("   ", id="whitespace-only"),
    pytest.param("123", id="too-short"),
    pytest.param("90 123 45 6", id="uz-8-digits"),
    pytest.param("90 123 45 678", id="uz-10-digits"),
    pytest.param("+998 12 345 67 89", id="uz-unassigned-prefix"),
    pytest.param("+999 123 456 789", id="unassigned-country-code"),
    pytest.param("8 90 123 45 67", id="old-trunk-prefix-8"),
    pytest.param("abc", id="letters"),
    pytest.param("90 ADG 45 67", id="vanity-letters"),
    pytest.param("+998 90 123 45 67 ext 12", id="extension"),
    pytest.param("+998901234567;ext=12", id="rfc3966-extension"),
    pytest.param("tel:+998901234567", id="tel-uri"),
    pytest.param("++998901234567", id="double-plus"),
    pytest.param("998+901234567", id="plus-in-middle"),
    pytest.param("90 123 45 67 😀", id="emoji"),
    pytest.param("😀", id="emoji-only"),
    pytest.param("90\x00123 45 67", id="nul"),
    pytest.param("90\u200b1234567", id="zero-width-space"),
    pytest.param("\uff19\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17", id="fullwidth-digits"),
    pytest.param("90123456\ud800", id="lone-surrogate"),
    pytest.param("9" * LONG, id="10k-digits"),
    pytest.param("+" + "9" * LONG, id="10k-digits-with-plus"),
    pytest.param("a" * LONG, id="10k-letters"),
    pytest.param("+998901234567" + " " * LONG, id="10k-trailing-spaces"),
]


@pytest.mark.parametrize(("raw", "expected"), PHONE_VALID)
def test_parse_phone_valid(raw: str, expected: str) -> None:
    assert parse_phone(raw) == expected


@pytest.mark.parametrize("raw", PHONE_ERRORS)
def test_parse_phone_errors(raw: str) -> None:
    with pytest.raises(ValidationError) as exc_info:
        parse_phone(raw)
    assert exc_info.value.code == "phone.invalid"


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        pytest.param("916 123-45-67", "RU", "+79161234567", id="ru-national"),
        pytest.param("998901234567", "RU", "+998901234567", id="ru-region-uz-contact"),
        pytest.param("+998 90 123 45 67", "XX", "+998901234567", id="unknown-region-intl"),
    ],
)
def test_parse_phone_default_region(raw: str, region: str, expected: str) -> None:
    assert parse_phone(raw, default_region=region) == expected


def test_parse_phone_unknown_region_national_number_is_invalid() -> None:
    with pytest.raises(ValidationError) as exc_info:
        parse_phone("90 123 45 67", default_region="XX")
    assert exc_info.value.code == "phone.invalid"


# --------------------------------------------------------------------------- e-mail

LOCAL_64 = "a" * 64
DOMAIN_189 = "b" * 62 + "." + "c" * 61 + "." + "d" * 61 + ".uz"
assert len(LOCAL_64 + "@" + DOMAIN_189) == 254

EMAIL_VALID = [
    pytest.param("ali@example.uz", "ali@example.uz", id="plain"),
    pytest.param("Ali.Valiyev@Example.UZ", "Ali.Valiyev@example.uz", id="domain-lowercased"),
    pytest.param("  ali@mail.ru \n", "ali@mail.ru", id="surrounding-whitespace"),
    pytest.param("ali+desk@gmail.com", "ali+desk@gmail.com", id="plus-tag"),
    pytest.param("ali_vali-1@sub.domain.uz", "ali_vali-1@sub.domain.uz", id="subdomain"),
    pytest.param("info@пример.рф", "info@пример.рф", id="idn-domain"),
    pytest.param("info@xn--e1afmkfd.xn--p1ai", "info@пример.рф", id="punycode-domain"),
    pytest.param("алишер@mail.uz", "алишер@mail.uz", id="unicode-local-part"),
    pytest.param(LOCAL_64 + "@" + DOMAIN_189, LOCAL_64 + "@" + DOMAIN_189, id="exactly-254"),
]

EMAIL_ERRORS = [
    pytest.param("", id="empty"),
    pytest.param("   ", id="whitespace-only"),
    pytest.param("ali", id="no-at"),
    pytest.param("ali@", id="no-domain"),
    pytest.param("@mail.uz", id="no-local-part"),
    pytest.param("ali@@mail.uz", id="double-at"),
    pytest.param("ali@mail", id="domain-without-dot"),
    pytest.param("ali@localhost", id="localhost"),
    pytest.param("ali@x.test", id="special-use-domain"),
    pytest.param("ali vali@x.uz", id="space-inside"),
    pytest.param("ali@x..uz", id="double-dot"),
    pytest.param(".ali@x.uz", id="leading-dot"),
    pytest.param("ali.@x.uz", id="dot-before-at"),
    pytest.param("Ali <ali@x.uz>", id="display-name"),
    pytest.param('"ali"@x.uz', id="quoted-local-part"),
    pytest.param("ali@[1.2.3.4]", id="ip-literal"),
    pytest.param("ali@x.uz, vali@x.uz", id="two-addresses"),
    pytest.param("ali@😀.uz", id="emoji-domain"),
    pytest.param("ali\x00@x.uz", id="nul"),
    pytest.param("ali@x.uz\x07", id="bell-control"),
    pytest.param("ali\u202e@x.uz", id="bidi-override"),
    pytest.param("\ud800@x.uz", id="lone-surrogate"),
    pytest.param(LOCAL_64 + "@" + "b" + DOMAIN_189, id="255-chars"),
    pytest.param("a" * LONG + "@x.uz", id="10k-local-part"),
    pytest.param("ali@" + "x." * (LONG // 2) + "uz", id="10k-domain"),
    pytest.param(" " * LONG + "ali@x.uz", id="10k-leading-spaces"),
]


@pytest.mark.parametrize(("raw", "expected"), EMAIL_VALID)
def test_parse_email_valid(raw: str, expected: str) -> None:
    assert parse_email(raw) == expected


@pytest.mark.parametrize("raw", EMAIL_ERRORS)
def test_parse_email_errors(raw: str) -> None:
    with pytest.raises(ValidationError) as exc_info:
        parse_email(raw)
    assert exc_info.value.code == "email.invalid"


# --------------------------------------------------------------------------- robustness

PARSERS: dict[str, Callable[[str], object]] = {
    "name": parse_name,
    "company": parse_company,
    "tax_id": parse_tax_id,
    "phone": parse_phone,
    "email": parse_email,
}
EMPTY_CODE = {
    "name": "name.length",
    "company": "company.length",
    "tax_id": "taxid.length",
    "phone": "phone.invalid",
    "email": "email.invalid",
}


def outcome(parse: Callable[[str], object], raw: str) -> str:
    """Return "ok" or the ValidationError's code; any other exception propagates."""
    try:
        parse(raw)
    except ValidationError as err:
        return err.code
    return "ok"


NASTY = [
    pytest.param("\x00", id="nul"),
    pytest.param("\x00" * LONG, id="10k-nul"),
    pytest.param("😀" * LONG, id="10k-emoji"),
    pytest.param("👨\u200d💻 Ali", id="zwj-emoji"),
    pytest.param("\ud800\udfff", id="surrogates"),
    pytest.param("A\u0301" * 50, id="combining-marks"),
    pytest.param("Z\u0336\u0337\u0338" * 30, id="zalgo"),
    pytest.param("\u202e\u2066Ali\u2069", id="bidi"),
    pytest.param("\r\n\t\v\f\x1c\x1d\x1e\x1f\x85", id="control-whitespace"),
    pytest.param("\U0010ffff\ufffe\uffff", id="noncharacters"),
    pytest.param("ali@x.uz" * 2000, id="repeated-email"),
    pytest.param("+998901234567" * 1000, id="repeated-phone"),
]


@pytest.mark.parametrize("raw", NASTY)
@pytest.mark.parametrize("field", PARSERS)
def test_nasty_input_raises_only_validation_error(field: str, raw: str) -> None:
    assert outcome(PARSERS[field], raw) in ERROR_CODES | {"ok"}


@pytest.mark.parametrize("field", PARSERS)
def test_random_input_raises_only_validation_error(field: str) -> None:
    rng = random.Random(f"fuzz-{field}")
    alphabet = (
        "aZ09 '’ʼʻ`‘-–—.@+()«»\"Ғқўҳ김\u0301\u200b\u200d\u202e\ufeff\x00\x1f\x7f\x85\t\n😀💎"
        "\ud800\udc00\ue000\uffff٣３"
    )
    parse = PARSERS[field]
    for _ in range(300):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert outcome(parse, raw) in ERROR_CODES | {"ok"}, repr(raw)


@pytest.mark.parametrize("field", PARSERS)
def test_non_string_input_is_rejected_as_empty(field: str) -> None:
    not_text: Any = None  # message.text is None for photos, stickers, ...
    with pytest.raises(ValidationError) as exc_info:
        PARSERS[field](not_text)
    assert exc_info.value.code == EMPTY_CODE[field]


@pytest.mark.parametrize("field", PARSERS)
def test_huge_input_is_rejected_fast(field: str) -> None:
    huge = "7" * 2_000_000  # a character-by-character Python scan of this takes over 100 ms
    parse = PARSERS[field]
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        with pytest.raises(ValidationError):
            parse(huge)
        timings.append(time.perf_counter() - start)
    assert min(timings) < 0.01


def test_every_error_code_is_covered_by_the_tables() -> None:
    covered = {p.values[1] for p in NAME_ERRORS + COMPANY_ERRORS + TAX_ID_ERRORS}
    covered |= {"phone.invalid", "email.invalid"}  # the only codes those two tables assert
    assert covered == ERROR_CODES


# Names that show nothing: the Hangul fillers are letters to Unicode (category Lo), so they
# passed as a name (found by tests/integration/test_fuzz_updates.py).
@pytest.mark.parametrize(
    "raw",
    ["\u3164\u3164", "\u3164 \u3164", "\u115f\u1160", "\uffa0\uffa0\uffa0", "\u3164-\u3164"],
)
def test_an_invisible_name_is_refused_with_the_name_error(raw: str) -> None:
    with pytest.raises(ValidationError) as exc_info:
        parse_name(raw)
    assert exc_info.value.code == "name.chars"


@pytest.mark.parametrize("raw", ["\u3164\u3164", "\u3164 \u115f."])
def test_an_invisible_company_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError) as exc_info:
        parse_company(raw)
    assert exc_info.value.code == "company.chars"
