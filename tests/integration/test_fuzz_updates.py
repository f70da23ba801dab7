"""Fuzzed input through the real dispatcher: thousands of generated updates (text in any
script with zero-width and right-to-left characters, texts past 4096 characters, every kind of
content where text is expected, edits, forged and stale buttons, commands and buttons of
non-members in the group, other groups, channels, the bot blocked and unblocked) leave no
unhandled exception, no corrupted state, and a polite answer in the client's language wherever
one is owed. What the checks are: tests/integration/fuzz_kit.py.

How many stories: the hypothesis profile named by FUZZ_PROFILE (`fuzz-quick`, `fuzz-ci` the
default, `fuzz-deep`); PostgreSQL runs a quarter of them. Each story is up to FUZZ_STEPS steps
(12). The explicit examples are the defects the fuzzer found, kept fixed."""

from __future__ import annotations

import asyncio
import os

from hypothesis import HealthCheck, Phase, example, given, settings

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
    Press,
    Say,
    Step,
    Text,
    watching_logs,
)
from tests.integration.fuzz_steps import LANGUAGE_CODES, stories

_COMMON = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,  # one desk for all stories, emptied between them
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
    "database": None,
    "derandomize": False,
}
settings.register_profile("fuzz-quick", max_examples=30, **_COMMON)
settings.register_profile("fuzz-ci", max_examples=220, **_COMMON)
settings.register_profile("fuzz-deep", max_examples=3000, **_COMMON)

PROFILE = os.environ.get("FUZZ_PROFILE", "fuzz-ci")
STEPS = int(os.environ.get("FUZZ_STEPS", "12"))


def profile(engine_url: str) -> settings:
    chosen = settings.get_profile(PROFILE)
    if engine_url.startswith("sqlite"):
        return chosen
    return settings(chosen, max_examples=max(10, chosen.max_examples // 4))


async def play(desk: FuzzDesk, story: list[Step], newbie_language: str | None) -> None:
    await desk.reset(newbie_language)
    with watching_logs() as problems:
        for step in story:
            mark = await desk.play(step)
            await desk.check(step, mark, problems)
    await desk.check_story()


LONG_NAME = "д" * 326 + ".pdf"


def test_fuzzed_updates_leave_the_desk_sound(engine_url: str) -> None:
    # Synchronous: hypothesis drives the examples, each run to its end in one event loop that
    # the desk lives in for the whole test.
    with asyncio.Runner() as runner:
        running = FuzzDesk.running(engine_url)
        desk = runner.run(running.__aenter__())
        try:
            fuzz(runner, desk, engine_url)
        finally:
            runner.run(running.__aexit__(None, None, None))


def fuzz(runner: asyncio.Runner, desk: FuzzDesk, engine_url: str) -> None:
    @settings(profile(engine_url), phases=[Phase.explicit, Phase.generate, Phase.shrink])
    @given(story=stories(STEPS), newbie_language=LANGUAGE_CODES)
    # /mytickets ² and the operators' /t ², /claim ²: str.isdigit() takes what int() refuses.
    @example(story=[Say(REGULAR, Text("/mytickets ²"))], newbie_language="ru")
    @example(story=[DeskSay(OPERATOR, Text("/t ²"))], newbie_language="ru")
    @example(story=[DeskSay(OPERATOR, Text("/claim ¹²³"))], newbie_language="ru")
    @example(story=[DeskSay(OPERATOR, Text("/priority ١٢ high"))], newbie_language="ru")
    # A forged button with a number past 64 bits (OverflowError, DataError on PostgreSQL).
    @example(story=[Forge(REGULAR, "ct:view:18446744073709551616:")], newbie_language="ru")
    @example(story=[DeskForge(OPERATOR, "tk:claim:99999999999999999999:")], newbie_language="ru")
    @example(story=[DeskForge(OPERATOR, "tk:card:-9223372036854775809:")], newbie_language="ru")
    # Someone else's request, by a forged button.
    @example(story=[Forge(REGULAR, "ct:view:2:")], newbie_language="ru")
    @example(story=[Forge(REGULAR, "ct:solved:2:y")], newbie_language="ru")
    # A document with a 326-character name, a U+0000 in the description: the confirmation
    # failed on PostgreSQL (character varying(300), 0x00) and the client was stuck.
    @example(
        story=[
            Say(UZBEK, Media("document", caption="tavsif\x00", file_name=LONG_NAME)),
            Press(UZBEK, 0),  # done
            Press(UZBEK, 0),  # feedback: this chat
            Press(UZBEK, 0),  # confirm
        ],
        newbie_language="ru",
    )
    # An invisible name (the Hangul filler) was accepted.
    @example(
        story=[Say(NEWBIE, Text("/start")), Say(NEWBIE, Text("\u3164\u3164"))],
        newbie_language="uz",
    )
    @example(
        story=[Say(NEWBIE, Text("/start")), Say(NEWBIE, Text("\u200b\u2060 \u200b"))],
        newbie_language="ru",
    )
    # A client blocks the bot, and unblocks it.
    @example(story=[Block(REGULAR, True), Block(REGULAR, False)], newbie_language="ru")
    # An outsider's button and command in the group change nothing.
    @example(
        story=[DeskPress(OUTSIDER, 1001, 0), DeskSay(OUTSIDER, Text("/claim 1001"))],
        newbie_language="ru",
    )
    @example(story=[Say(NEIGHBOUR, Text("ж" * 4200))], newbie_language="ru")
    def run(story: list[Step], newbie_language: str | None) -> None:
        runner.run(play(desk, story, newbie_language))

    run()
