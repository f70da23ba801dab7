"""Setting the desk up in Telegram, checked: `check_setup` against the stand-in for each kind of
setup (right, not an administrator in privacy mode, a forum without the right to manage topics,
an unknown chat, the bot not a member, a wrong token, Telegram unreachable); `python -m bot
check` as a process (its words and exit codes); `/chatid` in a group and in a forum topic; the
bot added to a new group says the group's id; the check at start tells the operator group what
is missing, and says nothing when all is right."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot

from bot.factory import make_bot
from bot.settings import load_settings
from bot.setup_check import check_setup
from standin import StandIn
from standin.server import TIMEOUT
from tests.e2e.harness import OPERATORS, WORKING_MOMENT, Harness

ROOT = Path(__file__).resolve().parents[2]
MANAGERS = -1001000000077


def settings_for(standin: StandIn, **values: Any) -> Any:
    values.setdefault("operator_chat_id", OPERATORS)
    values.setdefault("manager_ids", "9001")
    return load_settings(
        _env_file=None,
        bot_token=values.pop("token", standin.token),
        telegram_api_url=standin.url,
        **values,
    )


@pytest.fixture
async def bot(standin: StandIn) -> AsyncIterator[Bot]:
    made = make_bot(settings_for(standin))
    yield made
    await made.session.close()


async def findings(standin: StandIn, **values: Any) -> list[tuple[str, str]]:
    settings = settings_for(standin, **values)
    made = make_bot(settings)
    try:
        report = await check_setup(made, settings)
    finally:
        await made.session.close()
    return [(f.level, f.message_id) for f in report.findings]


async def test_an_administrator_in_the_group_is_right(standin: StandIn) -> None:
    assert await findings(standin) == [("ok", "check.bot_ok"), ("ok", "check.admin_ok")]


async def test_a_member_in_privacy_mode_is_warned_about(standin: StandIn) -> None:
    standin.add_group(-1001000000050, "Operators 2", members=[9001], bot_status="member")
    found = await findings(standin, operator_chat_id=-1001000000050)
    assert found[-1] == ("warning", "check.privacy_on")


async def test_a_forum_without_the_right_to_manage_topics_cannot_work(standin: StandIn) -> None:
    standin.add_group(-1001000000051, "Forum", forum=True, bot_rights={"can_manage_topics": False})
    found = await findings(standin, operator_chat_id=-1001000000051)
    assert found[-1] == ("fatal", "check.no_topics_right")
    standin.add_group(-1001000000052, "Forum 2", forum=True)
    assert (await findings(standin, operator_chat_id=-1001000000052))[-1] == (
        "ok",
        "check.forum_ok",
    )


async def test_an_unknown_chat_a_stranger_s_group_and_no_group_at_all(standin: StandIn) -> None:
    assert ("fatal", "check.chat_unknown") in await findings(standin, operator_chat_id=-1009)
    standin.add_group(-1001000000053, "Left", bot_status="left")
    assert ("fatal", "check.not_member") in await findings(standin, operator_chat_id=-1001000000053)
    found = await findings(standin, operator_chat_id=None)
    assert ("fatal", "check.no_operator_chat") in found


async def test_managers_chat_and_ids(standin: StandIn) -> None:
    standin.add_group(MANAGERS, "Managers", members=[9001])
    assert ("ok", "check.managers_ok") in await findings(standin, manager_chat_id=MANAGERS)
    assert ("warning", "check.chat_unknown") in await findings(standin, manager_chat_id=-1008)
    assert ("warning", "check.no_managers") in await findings(standin, manager_ids="")


async def test_a_wrong_token_and_telegram_unreachable(standin: StandIn) -> None:
    assert await findings(standin, token="1:wrong") == [("fatal", "check.token_wrong")]
    standin.fail("getMe", status=TIMEOUT)
    found = await findings(standin)
    assert found == [("fatal", "check.unreachable")]


async def run_check(standin: StandIn, **env: str) -> tuple[int, str]:
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check",
        cwd=ROOT,
        env=base
        | {
            "PYTHONPATH": str(ROOT),
            "BOT_TOKEN": standin.token,
            "TELEGRAM_API_URL": standin.url,
            "MANAGER_IDS": "9001",
        }
        | env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode()


async def test_python_m_bot_check_says_what_is_right_and_what_is_missing(
    standin: StandIn, tmp_path: Path
) -> None:
    code, out = await run_check(standin, OPERATOR_CHAT_ID=str(OPERATORS))
    assert code == 0, out
    assert "✅ Бот @CRPT_Turon_Bot доступен" in out
    assert "Служба поддержки может работать." in out
    code, out = await run_check(standin, OPERATOR_CHAT_ID="-1007", DESK_LANGUAGE="uz")
    assert code == 1, out
    assert "❌ OPERATOR_CHAT_ID=-1007: Telegram bunday chatni bilmaydi" in out
    assert "ishlay olmaydi" in out


async def test_chatid_in_a_group_and_in_a_forum_topic(harness: Harness, standin: StandIn) -> None:
    standin.add_group(-1001000000060, "Somewhere", members=[9001])
    standin.send_message(9001, -1001000000060, text="/chatid")
    await harness.settle()
    assert "<code>" not in standin.last(-1001000000060)["text"]
    assert "-1001000000060" in standin.last(-1001000000060)["text"]
    standin.add_group(-1001000000061, "Forum", forum=True, members=[9001])
    topic = standin.add_topic(-1001000000061, "Настройка", by=9001)
    standin.send_message(9001, -1001000000061, text="/chatid", thread_id=topic["message_thread_id"])
    await harness.settle()
    text = standin.last(-1001000000061)["text"]
    assert "-1001000000061" in text and str(topic["message_thread_id"]) in text


async def test_the_bot_added_to_a_group_says_its_id(harness: Harness, standin: StandIn) -> None:
    standin.add_group(-1001000000062, "New", members=[9001], bot_status="left")
    standin.set_member_status(-1001000000062, standin.bot_id, "member")
    await harness.settle()
    assert "-1001000000062" in standin.last(-1001000000062)["text"]
    before = len(standin.sent(OPERATORS))
    standin.set_member_status(OPERATORS, standin.bot_id, "member")
    standin.set_member_status(OPERATORS, standin.bot_id, "administrator")
    await harness.settle()
    assert len(standin.sent(OPERATORS)) == before  # the configured group is not told its id


async def test_the_check_at_start_tells_the_group_what_is_missing(
    standin: StandIn, tmp_path: Path
) -> None:
    h = Harness(standin, tmp_path, WORKING_MOMENT, setup_check=True, manager_ids="9001")
    await h.start()
    await h.settle()
    assert not standin.sent(OPERATORS)  # all is right: nothing said
    await h.stop()
    standin.set_member_status(OPERATORS, standin.bot_id, "member")
    standin.drop_pending_updates()
    await h.start()
    await h.settle()
    try:
        text = standin.last(OPERATORS)["text"]
        assert "не всё готово" in text and "режимом приватности" in text
    finally:
        await h.stop()
