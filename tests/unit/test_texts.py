"""What a reader sees: every message of both catalogues rendered through the bot's own
Renderer with sample values for its placeholders (read from the catalogue itself), and held to
the editor's rules: nothing left unformatted, the official Uzbek letters (oʻ gʻ with U+02BB,
the tutuq belgisi ʼ U+02BC), a non-breaking space after «№» and between a number and its unit,
plural forms chosen by the CLDR rules of each language and spelled as they should be. Then the
three forms of the first-response promise and a /help true to whatever policy the desk runs."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.i18n import BABEL_LOCALES, LANGUAGES, NBSP, DeskI18n
from bot.render import Renderer, tax_id_label
from bot.sla import SlaPolicy, default_policy, load_policy
from bot.validation import fold_apostrophes

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Tashkent")
I18N = DeskI18n()
RENDERER = Renderer(i18n=I18N, tz=TZ, desk_language="ru")
POLICY = default_policy(TZ)
NB = NBSP

# Sample values by placeholder name; any other name gets a word (a later entry's new
# placeholder is still rendered and checked).
SAMPLES: dict[str, object] = {
    "number": 1042,
    "n": 3,
    "count": 3,
    "part": 1,
    "total": 2,
    "rating": 4,
    "met": 3,
    "resolved": 2,
    "open": 1,
    "breached": 1,
    "opened": 5,
    "id": 9001,
    "minutes": 10,
}
# The counts the issue names, and the form each takes (CLDR: ru one/few/many, uz one/other).
COUNTS = (1, 2, 5, 11, 21, 22, 25)
RU_FORMS = {1: 0, 2: 1, 5: 2, 11: 2, 21: 0, 22: 1, 25: 2}


def read_catalogue(lang: str) -> Catalog:
    with (ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=BABEL_LOCALES[lang])


CATALOGUES = {lang: read_catalogue(lang) for lang in LANGUAGES}


def entries(lang: str) -> Iterator[tuple[str, tuple[str, ...], bool]]:
    """(id, its forms, whether it is a plural entry) for every message of the catalogue."""
    for message in CATALOGUES[lang]:
        if not message.id:
            continue
        plural = isinstance(message.id, tuple)
        message_id = str(message.id[0] if plural else message.id)
        forms = tuple(message.string) if plural else (str(message.string),)
        yield message_id, forms, plural


def placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def rendered(lang: str) -> Iterator[tuple[str, str]]:
    """(id, text) of every message as the bot renders it; a plural one for each count."""
    for message_id, forms, plural in entries(lang):
        names = set().union(*(placeholders(form) for form in forms)) - {"n"}
        params = {name: SAMPLES.get(name, "Текст" if lang == "ru" else "Matn") for name in names}
        if plural:
            for count in COUNTS:
                yield message_id, RENDERER.tn(message_id, count, lang, **params)
        else:
            yield message_id, RENDERER.t(message_id, lang, **params)


ALL = [(lang, message_id, text) for lang in LANGUAGES for message_id, text in rendered(lang)]


def test_every_message_is_rendered() -> None:
    # Guards the tests below: both catalogues, every entry, every plural form.
    for lang in LANGUAGES:
        ids = {message_id for message_id, _f, _p in entries(lang)}
        assert {message_id for lg, message_id, _t in ALL if lg == lang} == ids
        assert len(ids) > 250


def offending(lang: str, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """(id, what matched) for each rendered text of `lang` in which `pattern` is found."""
    return [
        (message_id, match.group())
        for lg, message_id, text in ALL
        if lg == lang
        for match in pattern.finditer(text)
    ]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_nothing_is_left_unformatted(lang: str) -> None:
    assert offending(lang, re.compile(r".{0,20}[{}].{0,20}")) == []
    assert [message_id for lg, message_id, text in ALL if lg == lang and not text.strip()] == []


# An apostrophe that stands for a letter: beside a letter, in any script.
ASCII_APOSTROPHE = re.compile(r"\w*(?:(?<=[^\W\d_])['‘’`]|['‘’`](?=[^\W\d_]))\w*")
# ʻ belongs to oʻ and gʻ only.
STRAY_OKINA = re.compile(r"\w*(?<![oOgG])\u02bb\w*")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_official_uzbek_letters(lang: str) -> None:
    # The Russian catalogue writes Uzbek words too (the language button, a name).
    assert offending(lang, ASCII_APOSTROPHE) == []
    assert offending(lang, STRAY_OKINA) == []
    if lang == "uz":
        changed = [i for lg, i, text in ALL if lg == lang and fold_apostrophes(text) != text]
        assert changed == []


# Units and counters after a number: the space before them does not break.
UNITS = (
    r"мин\.?|минут[аы]?|ч|час(?:а|ов)?|дн\.|день|дня|дней|рабоч\w+|сек|символ\w*|цифр\w*"
    r"|daq\.|daqiqa\w*|soat|kun\w*|ish kuni|ta|ta(?:dan|gacha|si|ga)|ball\w*|belgi\w*"
)
BREAKING_UNIT = re.compile(rf"\d (?:{UNITS})(?!\w)")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_non_breaking_spaces(lang: str) -> None:
    assert offending(lang, re.compile(f"№(?!{NB}).{{0,12}}")) == []
    assert offending(lang, BREAKING_UNIT) == []


# A count in a Russian text is a plural entry: no count right before a word that agrees with
# it, and no hand-made unit ('{hours} ч'). Counts: the placeholders whose sample is a number.
COUNT_NAMES = "|".join([*sorted(k for k, v in SAMPLES.items() if isinstance(v, int)), "hours"])
COUNTED = re.compile(
    rf"\{{(?:{COUNT_NAMES})\}}[ \u00a0]"
    r"(?:мин|минут\w*|ч|час\w*|дн\w*|день|дня|дней|сообщени\w+|обращени\w+"
    r"|файл\w*|вложени\w+|цифр\w*|символ\w*|оцен\w+|ответ\w*|рабоч\w+)(?!\w)"
)


def test_counts_in_russian_go_through_plural_entries() -> None:
    found = [
        message_id
        for message_id, forms, plural in entries("ru")
        if not plural and COUNTED.search(forms[0])
    ]
    assert found == []
    # ... and {n}, the count, appears only in plural entries.
    assert [i for i, forms, plural in entries("ru") if not plural and "{n}" in forms[0]] == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_plural_forms_follow_cldr(lang: str) -> None:
    """The catalogue's Plural-Forms picks, for every count, the form CLDR's category names."""
    categories = {"ru": ("one", "few", "many"), "uz": ("one", "other")}[lang]
    rule = Locale.parse(BABEL_LOCALES[lang]).plural_form
    plurals = [(message_id, forms) for message_id, forms, plural in entries(lang) if plural]
    assert plurals
    assert CATALOGUES[lang].num_plurals == len(categories)
    for message_id, forms in plurals:
        for count in range(230):
            expected = forms[categories.index(rule(count))]
            assert I18N.gettext(message_id, message_id, count, locale=lang) == expected


# The form of each count the issue names, in words: (id, {count: words in the text}).
RU_PLURALS = {
    "request.description_more": ("сообщение", "сообщения", "сообщений"),
    "promise.within_minutes": (f"{NB}минуты.", f"{NB}минут.", f"{NB}минут."),
    "client.auto_closed": (f"{NB}рабочий день", f"{NB}рабочих дня", f"{NB}рабочих дней"),
    "request.files": (f"{NB}файл", f"{NB}файла", f"{NB}файлов"),
    "queue.more": ("обращение", "обращения", "обращений"),
    "stats.opened": ("обращение", "обращения", "обращений"),
    "digest.chart_caption": (f"последний {{n}}{NB}день", f"последние {{n}}{NB}дня", "дней"),
}


@pytest.mark.parametrize("message_id", sorted(RU_PLURALS))
@pytest.mark.parametrize("count", COUNTS)
def test_russian_plural_words(message_id: str, count: int) -> None:
    words = RU_PLURALS[message_id][RU_FORMS[count]].format(n=count)
    text = RENDERER.tn(message_id, count, "ru", number=1042, when="до 10:00")
    assert f"{count}" in text and words in text, text
    # The other forms' words are not there (endings that merely extend them aside).
    others = {w.format(n=count) for w in RU_PLURALS[message_id]} - {words}
    assert not [w for w in others if w in text and not words.startswith(w)], text


def test_russian_plural_in_full() -> None:
    said = {n: RENDERER.tn("promise.within_minutes", n, "ru") for n in COUNTS}
    assert said[1] == f"Оператор ответит Вам в течение 1{NB}минуты."
    assert said[2] == f"Оператор ответит Вам в течение 2{NB}минут."
    assert said[21] == f"Оператор ответит Вам в течение 21{NB}минуты."
    assert said[11] == said[5].replace("5", "11")
    more = {n: RENDERER.tn("request.description_more", n, "ru") for n in COUNTS}
    assert more[1].startswith("Принято 1 сообщение.")
    assert more[22].startswith("Принято 22 сообщения.")
    assert more[25].startswith("Принято 25 сообщений.")
    assert more[11].startswith("Принято 11 сообщений.")


@pytest.mark.parametrize("count", [1, 2])
def test_uzbek_plural_words(count: int) -> None:
    assert RENDERER.tn("promise.within_minutes", count, "uz") == (
        f"Operator Sizga {count}{NB}daqiqa ichida javob beradi."
    )
    assert RENDERER.tn("request.description_more", count, "uz").startswith(
        f"{count}{NB}ta xabar qabul qilindi."
    )
    assert f"{count}{NB}ta fayl" == RENDERER.tn("request.files", count, "uz")


# ---- the first-response promise: three forms


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def promise(moment: str, lang: str, policy: SlaPolicy = POLICY) -> str:
    registered = at(moment)
    due = policy.first_response_due(registered)
    return RENDERER.first_response_promise(lang, registered, due, policy)


def test_in_working_time_within_minutes() -> None:
    assert promise("2026-11-23T10:00", "ru") == f"Оператор ответит Вам в течение 10{NB}минут."
    assert promise("2026-11-23T10:00", "uz") == f"Operator Sizga 10{NB}daqiqa ichida javob beradi."


def test_in_working_time_carried_over_to_the_next_opening() -> None:
    # Friday 19:55, 5 working minutes left: working time, answered by Monday 08:05.
    ru = promise("2026-11-27T19:55", "ru")
    assert ru == (
        f"До конца рабочего времени осталось меньше 10{NB}минут, поэтому оператор ответит Вам "
        "до 08:05 в понедельник, 30 ноября."
    )
    assert "нерабочее" not in ru
    uz = promise("2026-11-27T19:55", "uz")
    assert uz == (
        f"Ish vaqti tugashiga 10{NB}daqiqadan kam qoldi, shuning uchun operator Sizga "
        "dushanba, 30-noyabr kuni soat 08:05 gacha javob beradi."
    )
    assert "ish vaqti emas" not in uz


def test_outside_working_time() -> None:
    assert promise("2026-11-28T14:00", "ru") == (
        "Сейчас нерабочее время. Оператор ответит Вам до 10:00 в понедельник, 30 ноября."
    )
    assert promise("2026-11-28T14:00", "uz") == (
        "Hozir ish vaqti emas. Operator Sizga dushanba, 30-noyabr kuni soat 10:00 gacha javob "
        "beradi."
    )
    # 20:00:00 is closed (half-open spans); the day is declined: «во вторник».
    assert promise("2026-11-30T20:00", "ru") == (
        "Сейчас нерабочее время. Оператор ответит Вам до 10:00 во вторник, 1 декабря."
    )


def test_every_weekday_is_named_as_a_deadline_names_it() -> None:
    days = [RENDERER.on_day(at(f"2026-11-{day}T12:00"), "ru") for day in range(23, 30)]
    assert days == [
        "в понедельник, 23 ноября",
        "во вторник, 24 ноября",
        "в среду, 25 ноября",
        "в четверг, 26 ноября",
        "в пятницу, 27 ноября",
        "в субботу, 28 ноября",
        "в воскресенье, 29 ноября",
    ]
    assert RENDERER.on_day(at("2026-11-29T12:00"), "uz") == "yakshanba, 29-noyabr"


def test_the_promise_counts_the_policy_s_minutes(tmp_path: Path) -> None:
    path = tmp_path / "sla.toml"
    path.write_text("[first_response]\nworking_minutes = 21\n", encoding="utf-8")
    policy = load_policy(path, TZ)
    assert promise("2026-11-23T10:00", "ru", policy).endswith(f"в течение 21{NB}минуты.")
    assert promise("2026-11-27T19:50", "ru", policy).startswith(
        f"До конца рабочего времени осталось меньше 21{NB}минуты"
    )


# ---- /help from the policy


def test_help_with_the_default_policy() -> None:
    ru = RENDERER.help_text("ru", POLICY)
    assert "Часы работы службы поддержки CRPT-Turon (по ташкентскому времени):" in ru
    assert "Понедельник–пятница: 08:00–20:00\nПраздничные дни — выходные." in ru
    assert f"оператор отвечает в течение 10{NB}минут." in ru
    assert "мы ответим до 10:00 следующего рабочего дня." in ru
    uz = RENDERER.help_text("uz", POLICY)
    assert "ish vaqti (Toshkent vaqti bilan):\nDushanbadan jumagacha: 08:00–20:00" in uz
    assert f"operator 10{NB}daqiqa ichida javob beradi" in uz
    assert "keyingi ish kuni soat 10:00 gacha javob beramiz" in uz


ANOTHER_POLICY = """
[calendar]
country = ""
[calendar.hours]
mon = ["09:00-18:00"]
tue = ["09:00-18:00"]
wed = ["09:00-18:00"]
thu = ["09:00-18:00"]
fri = ["09:00-13:00", "14:00-17:00"]
sat = ["09:30-14:00"]
[first_response]
working_minutes = 21
outside_hours_by = "11:30"
"""


def test_help_with_another_policy(tmp_path: Path) -> None:
    path = tmp_path / "sla.toml"
    path.write_text(ANOTHER_POLICY, encoding="utf-8")
    policy = load_policy(path, TZ)
    ru = RENDERER.help_text("ru", policy)
    assert (
        "Понедельник–четверг: 09:00–18:00\nПятница: 09:00–13:00, 14:00–17:00\n"
        "Суббота: 09:30–14:00\n\n"
    ) in ru
    assert f"в течение 21{NB}минуты." in ru
    assert "до 11:30 следующего рабочего дня" in ru
    for default in ("08:00", "20:00", "10:00", f"10{NB}минут", "Праздничные"):
        assert default not in ru
    uz = RENDERER.help_text("uz", policy)
    assert "Dushanbadan payshanbagacha: 09:00–18:00\nJuma: 09:00–13:00, 14:00–17:00" in uz
    assert f"21{NB}daqiqa ichida" in uz and "soat 11:30 gacha" in uz


def test_help_when_the_desk_opens_after_the_promised_hour(tmp_path: Path) -> None:
    path = tmp_path / "sla.toml"
    path.write_text('[calendar.hours]\nmon = ["10:00-19:00"]\n', encoding="utf-8")
    ru = RENDERER.help_text("ru", load_policy(path, TZ))
    assert f"в течение 10{NB}минут после начала следующего рабочего дня" in ru
    path.write_text('[calendar.hours]\nmon = ["10:00-19:00"]\ntue = ["08:00-17:00"]\n')
    ru = RENDERER.help_text("ru", load_policy(path, TZ))
    assert "до 10:00 следующего рабочего дня (если он начинается в 10:00 или позже" in ru


def test_help_in_another_zone() -> None:
    moscow = ZoneInfo("Europe/Moscow")
    renderer = Renderer(i18n=I18N, tz=moscow, desk_language="ru")
    text = renderer.help_text("ru", default_policy(moscow))
    assert "(по времени часового пояса «Москва»)" in text
    assert "ташкентск" not in text


# ---- the editor's corrections, kept


CORRECTIONS = [
    # (lang, id, what it says, what it no longer says)
    ("ru", "button.solved_yes", "Да, решён", "решена"),
    ("ru", "button.solved_no", "Нет, не решён", "решена"),
    ("ru", "button.reopen", "Возобновить", "Переоткр"),
    ("ru", "command.reopen", "Возобновить", "Переоткр"),
    ("ru", "edit.topic", "Тема", "Тему"),
    ("ru", "desk.already_claimed", "уже в работе у {name}", "взял"),
    ("ru", "error.pinfl.checksum", "не соответствует", "не сходится"),
    ("ru", "error.taxid.chars", "ПИНФЛ", "ИНН (СТИР) состоит только"),
    ("ru", "request.description_more", "Вы можете дополнить описание или нажать", "нажмите"),
    ("ru", "help.zone.tashkent", "по ташкентскому времени", "ташкентское"),
    ("ru", "start.hello", "Мы спросим их один раз", "не сможем продолжить"),
    ("ru", "client.registered", "Спасибо", "\u200b"),
    ("ru", "tickets.reopened_by_you", "Приносим извинения", "\u200b"),
    ("ru", "tickets.comment_skipped", "без комментария", "отзыв сохранён"),
    ("ru", "client.rate_ask", "мы всегда рады помочь", "Спасибо"),
    ("ru", "error.unsupported_content", "можно приложить", "не можем"),
    ("ru", "error.pinfl.birth_date", "это дата рождения", "такой даты нет"),
    ("ru", "identify.needed", "давайте познакомимся", "идентифицировать"),
    ("uz", "start.hello", "xush kelibsiz", "qutlaydi"),
    ("uz", "start.hello", "STIRni", "STIR ni"),
    ("uz", "button.claim", "Ijroga olish", "Ishga olish"),
    ("uz", "command.claim", "ijroga olish", "ishga olish"),
    ("uz", "request.summary", "Javob olish usuli", "Qayta aloqa"),
    ("uz", "request.summary", "Tavsifi:", "Tavsif:"),
    ("uz", "cli.no_token", "imitatsiyasi", "qarshi"),
    ("uz", "error.pinfl.checksum", "JShShIRning", "JShShIR ning"),
    ("uz", "profile.edit_tax_id", "JShShIRni", "STIR ni"),
    ("uz", "tickets.open_button", "murojaatni ochish", "} ni"),
    ("uz", "status.in_progress", "koʻrib chiqilmoqda", "ishda"),
    ("uz", "help.text", "yozishingiz mumkin", "yozavering"),
]


@pytest.mark.parametrize(("lang", "message_id", "says", "not_says"), CORRECTIONS)
def test_the_corrections_hold(lang: str, message_id: str, says: str, not_says: str) -> None:
    forms = {i: f for i, f, _p in entries(lang)}[message_id]
    assert all(says in form and not_says not in form for form in forms)


def test_a_pinfl_is_labelled_as_one() -> None:
    assert tax_id_label("31505850120012") == "tax_id.pinfl"
    assert tax_id_label("301234567") == "tax_id.inn"
    assert tax_id_label(None) == "tax_id.inn"
    assert RENDERER.label(tax_id_label("31505850120012"), "ru") == "ПИНФЛ"
    assert RENDERER.label(tax_id_label("31505850120012"), "uz") == "JShShIR"


@pytest.mark.parametrize("typed", ["O'zbekcha", "O‘zbekcha", "O’zbekcha", "O`zbekcha", "Oʼzbekcha"])
def test_every_apostrophe_people_type_is_read_as_the_letter(typed: str) -> None:
    assert fold_apostrophes(typed) == "Oʻzbekcha"
    assert fold_apostrophes(typed.replace("O", "ma").replace("zbekcha", "lumot")) == "maʼlumot"
