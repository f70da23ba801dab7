"""Hypothesis strategies for the fuzzer's stories (tests/integration/fuzz_kit.py): what clients,
operators, outsiders and other chats may send, weighted towards what moves a dialogue on (real
buttons, valid answers) so that stories reach the deep steps, and towards the inputs that broke
the desk before (digits int() refuses, numbers past 64 bits, invisible letters, long names)."""

from __future__ import annotations

from hypothesis import strategies as st

from bot.vocabulary import ClientAction, DeskAction
from standin import TIMEOUT
from tests.integration.fuzz_kit import (
    CLIENTS,
    COLLEAGUE,
    OPERATOR,
    OUTSIDER,
    Block,
    Content,
    DeskForge,
    DeskPress,
    DeskSay,
    Edit,
    Elsewhere,
    Forge,
    Media,
    Outage,
    Press,
    Say,
    Step,
    Text,
    Thing,
)

# Characters that break naive code: invisible, joining, bidirectional, blank letters, NUL and
# other controls, combining marks, a lone BOM.
TRICKY = (
    "\u200b\u200c\u200d\u2060\ufeff"  # zero-width space, non-joiner, joiner, word joiner, BOM
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"  # bidi
    "\u3164\u115f\u1160\uffa0\u2800\u00ad\u180e\u034f"  # blank letters and fillers
    "\x00\x01\x1f\x7f\x85\u2028\u2029\t\n\r"
    "\u0301\u0308\u20dd"  # combining marks
)
SCRIPTS = (
    "Иван Петров",
    "Oʻgʻil Gʻulomov",  # Uzbek with the official letters
    "Xoʼjayev",
    "محمد علي",  # Arabic
    "שלום עליכם",  # Hebrew
    "李小龙",
    "देवनागरी",
    "Ἀθῆναι",
    "👩‍💻🇺🇿🏳️‍🌈",
    "ООО «Asia Trade»",
    "ՀայաստանՀ",
)
NUMBERS = (
    "²",
    "¹²³",
    "١٢",
    "١٠٠١",
    "𝟏𝟎𝟎𝟏",
    "①",
    "1001",
    "1002",
    "#1001",
    "№1002",
    "0",
    "-1",
    "1e3",
    "0x3e9",
    " 1001 ",
    "1_001",
    "+1001",
    "1001.0",
    "٣",
    "18446744073709551616",
    "9223372036854775808",
    "99999999999999999999999999999999999",
)


def tricky_text(max_size: int = 40) -> st.SearchStrategy[str]:
    pieces = st.one_of(
        st.sampled_from(SCRIPTS),
        st.sampled_from(tuple(TRICKY)),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=8),
        st.text(st.sampled_from(TRICKY), min_size=1, max_size=4),
    )
    return st.lists(pieces, max_size=6).map("".join).map(lambda s: s[:max_size])


def long_text() -> st.SearchStrategy[str]:
    """Past Telegram's 4096 characters (the fuzzer sends what a forged client could)."""
    return st.builds(
        lambda seed, n: ((seed or "ж") * n)[:n],
        tricky_text(12),
        st.integers(4000, 4400),
    )


def numbers() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NUMBERS),
        st.integers(-(2**70), 2**70).map(str),
        st.integers(1000, 1003).map(str),
        st.integers(2**63 - 2, 2**64 + 2).map(str),
    )


# Answers that move a dialogue on.
VALID_ANSWERS = (
    "Иван Петров",
    "Aziza Karimova",
    "ООО «Asia Trade»",
    "OʻzMarka MChJ",
    "301234567",
    "+998901234567",
    "client@example.uz",
    "Коды маркировки не печатаются",
)
# Answers that were accepted though they should not be, or broke something.
BAD_ANSWERS = (
    "\u3164\u3164",
    "\u3164 \u3164",
    "\u115f\u1160",
    "\u200b\u200b\u200b",
    "\u2800\u2800",
    "\u00ad\u00ad",
    "A\u200bB",
    "\u202eИван",
)
CLIENT_COMMANDS = (
    "/start",
    "/new",
    "/mytickets",
    "/profile",
    "/language",
    "/cancel",
    "/help",
    "/stats",
    "/export",
    "/queue",
    "/unknown",
    "/start@CRPT_Turon_Bot",
    "/start@SomeOtherBot",
)


def client_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(VALID_ANSWERS),
        st.sampled_from(BAD_ANSWERS),
        st.sampled_from(CLIENT_COMMANDS),
        st.builds(lambda n: f"/mytickets {n}", numbers()),
        st.builds(lambda c, t: f"{c} {t}", st.sampled_from(CLIENT_COMMANDS), tricky_text(20)),
        tricky_text(),
        long_text(),
    )


FILE_NAMES = st.one_of(
    st.none(),
    st.just("scan.pdf"),
    st.integers(250, 400).map(lambda n: "д" * n + ".pdf"),
    tricky_text(30).map(lambda s: s + ".docx"),
    st.just("nul\x00name.txt"),
)


def media() -> st.SearchStrategy[Media]:
    return st.builds(
        Media,
        kind=st.sampled_from(
            ("photo", "document", "voice", "video", "audio", "animation", "video_note", "sticker")
        ),
        caption=st.one_of(st.none(), tricky_text(), st.just("описание\x00с нулём"), long_text()),
        file_name=FILE_NAMES,
        album=st.one_of(st.none(), st.none(), st.sampled_from(("album-1", "album-2"))),
    )


def things() -> st.SearchStrategy[Thing]:
    return st.builds(
        Thing,
        kind=st.sampled_from(("contact", "location", "venue", "poll", "dice")),
        value=st.one_of(st.just(""), st.sampled_from(("+998901234567", "12", "x" * 40))),
    )


def sendable(text: str) -> Text:
    """Telegram delivers no empty (or only blank) text message."""
    return Text(text if text.strip() else text + "?")


def client_content() -> st.SearchStrategy[Content]:
    return st.one_of(
        client_text().map(sendable),
        client_text().map(sendable),
        media(),
        things(),
    )


PREFIXES = ("lg", "kd", "tp", "fb", "dr", "pf", "tk", "ct")
KNOWN_DATA = (
    "lg:uz",
    "lg:ru",
    "lg:en",
    "kd:consultation",
    "kd:nonsense",
    "tp:marking_codes",
    "tp:nope",
    "fb:telegram",
    "fb:email",
    "fb:phone",
    "fb:pigeon",
    "dr:confirm",
    "dr:done",
    "dr:new",
    "dr:cancel",
    "dr:edit",
    "dr:e_description",
    "dr:e_feedback",
    "pf:name",
    "pf:language",
    "pf:show",
    "pf:tax_id",
)


def callback_data() -> st.SearchStrategy[str]:
    actions = st.sampled_from([*DeskAction, "nope", ""])
    client_actions = st.sampled_from([*ClientAction, "nope"])
    args = st.one_of(
        st.sampled_from(("", "y", "n", "1", "5", "6", "0", "²", "high", "critical", "x")),
        tricky_text(6),
    )
    return st.one_of(
        st.sampled_from(KNOWN_DATA),
        tricky_text(70),
        st.builds(lambda p, rest: f"{p}:{rest}", st.sampled_from(PREFIXES), tricky_text(30)),
        st.builds(lambda a, n, arg: f"tk:{a}:{n}:{arg}", actions, numbers(), args),
        st.builds(lambda a, n, arg: f"ct:{a}:{n}:{arg}", client_actions, numbers(), args),
        st.builds(lambda a, n: f"ct:{a}:{n}", client_actions, st.sampled_from(("1", "2"))),
        st.builds(lambda n: f"tk:claim:{n}", numbers()),
    )


def desk_text() -> st.SearchStrategy[str]:
    commands = st.sampled_from(
        (
            "/t",
            "/claim",
            "/release",
            "/wait",
            "/resolve",
            "/reopen",
            "/ban",
            "/unban",
            "/assign",
            "/note",
        )
    )
    return st.one_of(
        st.builds(lambda c, n: f"{c} {n}", commands, numbers()),
        st.sampled_from(("/queue", "/mine", "/t", "/claim", "/queue@CRPT_Turon_Bot")),
        st.builds(
            lambda n, level: f"/priority {n} {level}",
            numbers(),
            st.sampled_from(("high", "critical", "LOW", "urgent", "²")),
        ),
        st.builds(lambda t: "!" + t, tricky_text()),
        tricky_text(),
        long_text(),
    )


def desk_content() -> st.SearchStrategy[Content]:
    return st.one_of(desk_text().map(sendable), desk_text().map(sendable), media())


DESK_PEOPLE = st.sampled_from((OPERATOR, OPERATOR, COLLEAGUE, OUTSIDER))
TICKET_NUMBERS = st.sampled_from((1001, 1001, 1002, 1003))  # 1003: a request a story opens


def steps() -> st.SearchStrategy[Step]:
    who = st.sampled_from(CLIENTS)
    return st.one_of(
        st.builds(Say, who, client_content()),
        st.builds(Say, who, client_content()),
        st.builds(Press, who, st.integers(0, 20)),
        st.builds(Press, who, st.integers(0, 20), st.integers(0, 4)),  # stale keyboards too
        st.builds(Edit, who | DESK_PEOPLE, tricky_text().map(lambda t: sendable(t).text)),
        st.builds(Forge, who, callback_data()),
        st.builds(Block, who, st.booleans()),
        st.builds(
            DeskSay,
            DESK_PEOPLE,
            desk_content(),
            st.one_of(st.none(), TICKET_NUMBERS),
        ),
        st.builds(DeskPress, DESK_PEOPLE, TICKET_NUMBERS, st.integers(0, 20)),
        st.builds(DeskForge, DESK_PEOPLE, callback_data()),
        st.builds(
            Outage,
            st.sampled_from(
                (
                    "sendMessage",
                    "copyMessage",
                    "answerCallbackQuery",
                    "editMessageReplyMarkup",
                    "editMessageText",
                    "getChatMember",
                )
            ),
            st.sampled_from((429, 500, 502, TIMEOUT)),
        ),
        st.builds(
            Elsewhere,
            st.sampled_from(
                (
                    "group_message",
                    "group_command",
                    "channel_post",
                    "edited_channel_post",
                    "bot_added",
                    "bot_removed",
                )
            ),
            tricky_text(),
        ),
    )


def stories(max_steps: int) -> st.SearchStrategy[list[Step]]:
    return st.lists(steps(), min_size=min(4, max_steps), max_size=max_steps)


LANGUAGE_CODES = st.sampled_from(("ru", "uz", "en", None, "uz-UZ", "he", "x" * 12))
