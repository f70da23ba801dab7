"""Fuzzed input through the real dispatcher: thousands of generated updates (text in any
script with zero-width and right-to-left characters, texts past 4096 characters, every kind of
content where text is expected, edits, forged and stale buttons, commands and buttons of
non-members in the group, other groups, channels, the bot blocked and unblocked, Telegram
failing calls) leave no unhandled exception, no corrupted state, and a polite answer in the
client's language wherever one is owed. What the checks are: tests/integration/fuzz_kit.py.

How many stories: the hypothesis profile named by FUZZ_PROFILE (`fuzz-quick`, `fuzz-ci` the
default, `fuzz-deep`); PostgreSQL, and SQLite with the dialogues in Redis, run a fifth of
them. Each story is up to FUZZ_STEPS steps (16). The explicit examples are the defects the
fuzzer found, kept fixed: they run first, on every engine."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings

from standin import TIMEOUT
from tests.conftest import REDIS_URL
from tests.integration.conftest import require_redis
from tests.integration.fuzz_kit import (
    NEIGHBOUR,
    NEWBIE,
    OPERATOR,
    OUTSIDER,
    REGULAR,
    UZBEK,
    Block,
    DeskForge,
    DeskPress,
    DeskSay,
    Forge,
    FuzzDesk,
    Media,
    Outage,
    Press,
    Say,
    Step,
    Text,
    watching_logs,
)
from tests.integration.fuzz_steps import LANGUAGE_CODES, stories

_COMMON: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,  # one desk for all stories, put back between them
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
    "database": None,
    "print_blob": True,  # a failure prints the @reproduce_failure line that replays it
    "phases": [Phase.explicit, Phase.generate, Phase.shrink],
}
settings.register_profile("fuzz-quick", max_examples=30, **_COMMON)
settings.register_profile("fuzz-ci", max_examples=200, **_COMMON)
settings.register_profile("fuzz-deep", max_examples=3000, **_COMMON)

PROFILE = os.environ.get("FUZZ_PROFILE", "fuzz-ci")
STEPS = int(os.environ.get("FUZZ_STEPS", "16"))


def profile(share: int = 1) -> settings:
    chosen = settings.get_profile(PROFILE)
    return settings(chosen, max_examples=max(10, chosen.max_examples // share))


LONG_NAME = "д" * 326 + ".pdf"

# The defects the fuzzer found (and those reported with it), as stories.
FOUND: list[list[Step]] = [
    # /mytickets ² and the operators' /t ², /claim ²: str.isdigit() takes what int() refuses.
    [Say(REGULAR, Text("/mytickets ²"))],
    [DeskSay(OPERATOR, Text("/t ²"))],
    [DeskSay(OPERATOR, Text("/claim ¹²³"))],
    [DeskSay(OPERATOR, Text("/priority ١٢ high"))],
    # A forged button with a number past 64 bits (OverflowError; DataError on PostgreSQL).
    [Forge(REGULAR, "ct:view:18446744073709551616:")],
    [DeskForge(OPERATOR, "tk:claim:99999999999999999999:")],
    [DeskForge(OPERATOR, "tk:card:-9223372036854775809:")],
    [Forge(REGULAR, "ct:rate:1:²")],
    # Someone else's request, by a forged button.
    [Forge(REGULAR, "ct:view:2:")],
    [Forge(REGULAR, "ct:solved:2:y")],
    # A document with a 326-character name, a U+0000 in the description: the confirmation
    # failed on PostgreSQL (character varying(300), 0x00) and the client was stuck.
    [
        Say(UZBEK, Media("document", caption="tavsif\x00", file_name=LONG_NAME)),
        Press(UZBEK, 0),  # done
        Press(UZBEK, 0),  # feedback: this chat
        Press(UZBEK, 0),  # confirm
    ],
    # An invisible name (the Hangul filler) was accepted.
    [Say(NEWBIE, Text("/start")), Say(NEWBIE, Text("\u3164\u3164"))],
    [Say(NEWBIE, Text("/start")), Say(NEWBIE, Text("\u200b\u2060 \u200b"))],
    # A client blocks the bot, and unblocks it: known at once.
    [Block(REGULAR, True), Block(REGULAR, False)],
    # A button pressed in a chat with the bot blocked is no sign of unblocking (it was taken
    # for one, and the client counted reachable while the bot stayed blocked).
    [Block(REGULAR, True), Forge(REGULAR, "tk:unwait:3:0"), Block(REGULAR, True)],
    # An outsider's button and command in the group change nothing.
    [DeskPress(OUTSIDER, 1001, 0), DeskSay(OUTSIDER, Text("/claim 1001"))],
    [Say(NEIGHBOUR, Text("ж" * 4200))],
    # Telegram cannot say who is in the group: the operator is asked to try again, not ignored.
    [Outage("getChatMember", TIMEOUT), DeskSay(OPERATOR, Text("/queue"))],
    # Replies and relays Telegram refused for a moment still arrive.
    [Outage("sendMessage", 502), Say(NEWBIE, Text("/start"))],
    [Outage("copyMessage", 429), Outage("copyMessage", 429), Say(REGULAR, Text("Ещё вопрос"))],
    [Outage("answerCallbackQuery", TIMEOUT), DeskPress(OPERATOR, 1001, 0)],
]


def fuzz(desk_url: str, share: int = 1, **app_settings: Any) -> None:
    """Run the stories against one desk (the production factory's bot on `desk_url`), built
    once in an event loop of this test's own: hypothesis drives the examples synchronously."""
    with asyncio.Runner() as runner:
        running = FuzzDesk.running(desk_url, **app_settings)
        desk = runner.run(running.__aenter__())
        try:
            property_test(runner, desk, share)()
            print(f"fuzzed: {desk.stories} stories, {desk.updates} updates")  # seen with -s
        finally:
            runner.run(running.__aexit__(None, None, None))


def property_test(runner: asyncio.Runner, desk: FuzzDesk, share: int) -> Callable[[], None]:
    @settings(profile(share))
    @given(story=stories(STEPS), newbie_language=LANGUAGE_CODES)
    def run(story: list[Step], newbie_language: str | None) -> None:
        runner.run(play(desk, story, newbie_language))

    for story in reversed(FOUND):
        run = example(story=story, newbie_language="ru")(run)
    return example(story=FOUND[11], newbie_language="uz")(run)  # the invisible name, in Uzbek


async def play(desk: FuzzDesk, story: list[Step], newbie_language: str | None) -> None:
    await desk.reset(newbie_language)
    with watching_logs() as problems:
        for step in story:
            mark = await desk.play(step)
            await desk.check(step, mark, problems)
    await desk.check_story()


def test_fuzzed_updates_leave_the_desk_sound(engine_url: str) -> None:
    fuzz(engine_url, share=1 if engine_url.startswith("sqlite") else 5)


@pytest.mark.redis
def test_fuzzed_updates_with_the_dialogues_in_redis(sqlite_url: str) -> None:
    require_redis()
    fuzz(sqlite_url, share=5, redis_url=REDIS_URL)
