"""The quality guard (bot.guard): each rule in both languages, a table of texts that must be
stopped and of look-alikes that must not, the word lists' format, and a corpus of ordinary
answers in each language that passes untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.guard import Guard, GuardListError, WordLists, normalise
from bot.settings import SettingsError, load_settings
from bot.vocabulary import GuardRule

DATA = Path(__file__).resolve().parents[1] / "data"
GUARD = Guard.load()

PHRASE, FAMILIAR, OBSCENE, CAPS = (
    GuardRule.PHRASE,
    GuardRule.FAMILIAR,
    GuardRule.OBSCENE,
    GuardRule.CAPS,
)

# (text, rule, the fragment the guard reports)
HITS = [
    # forbidden phrases, Russian
    ("Я не знаю, когда придут коды.", PHRASE, "Я не знаю"),
    ("Пока не знаю, уточните позже.", PHRASE, "не знаю"),
    ("Ничем не могу помочь.", PHRASE, "Ничем не могу помочь"),
    ("К сожалению, ничем помочь не можем", PHRASE, "ничем помочь не можем"),
    ("Это Ваши проблемы", PHRASE, "Это Ваши проблемы"),
    ("это, ваша проблема!", PHRASE, "это, ваша проблема"),
    ("Перезвоните позже.", PHRASE, "Перезвоните позже"),
    ("ПЕРЕЗВОНИТЕ ПОЗЖЕ", PHRASE, "ПЕРЕЗВОНИТЕ ПОЗЖЕ"),
    ("Как я уже говорила, нужен ключ.", PHRASE, "Как я уже говорила"),
    ("Я не обязана это проверять", PHRASE, "Я не обязана"),
    # forbidden phrases, Uzbek (every apostrophe people type)
    ("Men bilmayman.", PHRASE, "bilmayman"),
    ("Afsuski, yordam bera olmaymiz.", PHRASE, "yordam bera olmaymiz"),
    ("Bu sizning muammongiz.", PHRASE, "Bu sizning muammongiz"),
    ("Keyinroq qo'ng'iroq qiling", PHRASE, "Keyinroq qo'ng'iroq qiling"),
    ("Keyinroq qo‘ng‘iroq qiling", PHRASE, "Keyinroq qo‘ng‘iroq qiling"),
    ("Keyinroq qoʻngʻiroq qiling", PHRASE, "Keyinroq qoʻngʻiroq qiling"),
    ("Keyinroq qo`ng`iroq qiling", PHRASE, "Keyinroq qo`ng`iroq qiling"),
    ("Aytdim-ku, kod xato.", PHRASE, "Aytdim-ku"),
    ("Bu mening ishim emas", PHRASE, "Bu mening ishim emas"),
    # familiar address, Russian
    ("Ты проверил ИНН?", FAMILIAR, "Ты"),
    ("Отправь мне, что тебе пришло", FAMILIAR, "тебе"),
    ("Твой заказ готов", FAMILIAR, "Твой"),
    ("Скачай твоё приложение", FAMILIAR, "твоё"),
    ("Проверим «ТЫ» в тексте", FAMILIAR, "ТЫ"),
    # familiar address, Uzbek
    ("Sen kodni tekshir", FAMILIAR, "Sen"),
    ("Seni kutyapmiz", FAMILIAR, "Seni"),
    ("Sening buyurtmang tayyor", FAMILIAR, "Sening"),
    ("Senga yozdim", FAMILIAR, "Senga"),
    ("O'zing tekshir", FAMILIAR, "O'zing"),
    ("o’zingga qara", FAMILIAR, "o’zingga"),
    ("Сенга ёздим", FAMILIAR, "Сенга"),
    # obscene words, both languages
    ("Да бля, опять", OBSCENE, "бля"),
    ("Это пиздец какой-то", OBSCENE, "пиздец"),
    ("Заебали уже", OBSCENE, "Заебали"),
    ("Что за хуйня", OBSCENE, "хуйня"),
    ("Вы идиот?", OBSCENE, "идиот"),
    ("Yana ahmoqlik qildingiz", OBSCENE, "ahmoqlik"),
    ("Jalab", OBSCENE, "Jalab"),
    ("Qanjiq", OBSCENE, "Qanjiq"),
    # capitals only
    ("ПРОВЕРЬТЕ ИНН СРОЧНО", CAPS, "ПРОВЕРЬТЕ ИНН СРОЧНО"),
    ("Код готов. СКАЧАЙТЕ ЕГО НЕМЕДЛЕННО!", CAPS, "СКАЧАЙТЕ ЕГО НЕМЕДЛЕННО"),
    ("KODLARNI QAYTA YUKLANG", CAPS, "KODLARNI QAYTA YUKLANG"),
    ("OʻZINGIZ TEKSHIRING, ILTIMOS", CAPS, "OʻZINGIZ TEKSHIRING, ILTIMOS"),
]

# Look-alikes: a neighbouring word, another form, an abbreviation, a code.
PASSES = [
    "Если Вы не знаете, где найти GTIN, откройте карточку.",
    "Мы решим ваши проблемы с кодами сегодня.",
    "Мы перезвоним Вам позже.",
    "Вы можете застраховать груз.",
    "Застрахуйте груз заранее.",
    "Оскорбления в чате недопустимы.",
    "Цена — 1000 рублей.",
    "Корабля с грузом нет в списке.",
    "Небо над Ташкентом, себе на заметку.",
    "Sizning muammoingizni hal qilamiz.",
    "Keyinroq sizga qo'ng'iroq qilamiz.",
    "Sentabr oyida, senator emas.",
    "O'zingizga qulay vaqtda yozing.",
    "Yukni koʻtarib oling.",
    "Printer boshi ifloslangan.",
    "Siklni qayta boshlang.",
    "Проверьте, пожалуйста, STIR",
    "tekshirib koʻring",
    "ИНН",
    "OK",
    "STIR",
    "GTIN, ИНН, ПИНФЛ, STIR",
    "ООО ИНН ЭЦП ЭДО ОФД",
    "Код 0104600439931256215ABCDEFGHIJKLM",
    "ВНИМАНИЕ",
    "Отгрузка по УПД №15, ИНН 301234567.",
    "",
]


@pytest.mark.parametrize(("text", "rule", "fragment"), HITS)
def test_each_rule_stops_its_text(text: str, rule: GuardRule, fragment: str) -> None:
    found = [(f.rule, f.fragment) for f in GUARD.check(text)]
    assert (rule, fragment) in found
    finding = next(f for f in GUARD.check(text) if f.rule == rule)
    assert text[finding.start : finding.end] == finding.fragment


@pytest.mark.parametrize("text", PASSES)
def test_look_alikes_pass(text: str) -> None:
    assert GUARD.check(text) == []


def test_every_rule_is_covered_in_both_languages() -> None:
    cyrillic = {r for t, r, _f in HITS if any("а" <= c.lower() <= "я" for c in t)}
    latin = {r for t, r, _f in HITS if not any("а" <= c.lower() <= "я" for c in t)}
    assert cyrillic == latin == set(GuardRule)


def test_findings_in_the_order_written_and_each_stretch_once() -> None:
    found = GUARD.check("Я не знаю. Ты сам виноват, бля.")
    assert [(f.rule, f.fragment) for f in found] == [
        (PHRASE, "Я не знаю"),  # «не знаю» inside it is not a second finding
        (FAMILIAR, "Ты"),
        (OBSCENE, "бля"),
    ]


def test_none_and_media_without_caption() -> None:
    assert GUARD.check(None) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("O'zbek", "oʼzbek"),
        ("Oʻzbek", "oʼzbek"),
        ("O‘zbek", "oʼzbek"),
        ("O`zbek", "oʼzbek"),
        ("'ты'", " ты "),  # quotes, not a letter of the word
        ("Ёлка", "елка"),
    ],
)
def test_normalise_keeps_offsets(raw: str, expected: str) -> None:
    assert normalise(raw) == expected
    assert len(normalise(raw)) == len(raw)


@pytest.mark.parametrize("name", ["guard_corpus.ru.txt", "guard_corpus.uz.txt"])
def test_ordinary_answers_pass_untouched(name: str) -> None:
    lines = [
        line.strip()
        for line in (DATA / name).read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(lines) >= 50
    stopped = {line: GUARD.check(line) for line in lines if GUARD.check(line)}
    assert stopped == {}


def test_lists_are_read_from_their_files() -> None:
    guard = Guard.from_text("[phrase]\nсами виноваты\n[familiar]\nты*\n[allowed]\nтыква\n")
    assert [f.fragment for f in guard.check("Сами, виноваты!")] == ["Сами, виноваты"]
    assert [f.rule for f in guard.check("тыкать")] == [FAMILIAR]
    # [allowed] only spares obscene words.
    assert [f.rule for f in guard.check("тыква")] == [FAMILIAR]


@pytest.mark.parametrize(
    "text",
    ["ты\n", "[phrase]\n[unknown]\nслово\n", "[phrase]\n***\n"],
)
def test_a_malformed_list_is_refused(text: str) -> None:
    with pytest.raises(GuardListError):
        WordLists.parse(text)


def test_the_shipped_lists_have_every_section() -> None:
    lists = GUARD.lists
    assert all(len(lists.entries[rule]) >= 10 for rule in (PHRASE, FAMILIAR, OBSCENE))
    assert {"инн", "stir", "gtin"} <= lists.abbreviations


@pytest.mark.parametrize(
    ("value", "on"), [(None, True), ("on", True), ("off", False), ("0", False)]
)
def test_quality_guard_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str | None, on: bool
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.delenv("QUALITY_GUARD", raising=False)
    if value is not None:
        monkeypatch.setenv("QUALITY_GUARD", value)
    assert load_settings().quality_guard is on


def test_a_wrong_quality_guard_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUALITY_GUARD", "sometimes")
    with pytest.raises(SettingsError, match="QUALITY_GUARD"):
        load_settings()
