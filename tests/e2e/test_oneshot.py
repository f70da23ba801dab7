"""The scheduler's work from the command line: `python -m bot alerts --now ISO` and
`python -m bot digest --now ISO` run one pass as if the clock said ISO, with the bot's settings,
deliver what they queued and exit; a second run at the same moment sends nothing again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.oneshot import run_once
from bot.settings import load_settings
from standin import StandIn
from tests.e2e.harness import OPERATORS, WORKING_MOMENT, Harness, Person, identify, open_request

MANAGER = 7001


async def test_alerts_and_digest_once_from_the_command_line(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.add_user(MANAGER, "Malika", last_name="Manager")
    h = Harness(standin, tmp_path, WORKING_MOMENT, manager_ids=str(MANAGER))
    await h.start()
    try:
        client = Person(h, 1001, "Иван")
        await identify(client)
        await open_request(client)
    finally:
        await h.stop()  # the bot is down: the command line does the scheduler's work
    settings = load_settings(
        _env_file=None,
        bot_token=standin.token,
        telegram_api_url=standin.url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}",
        operator_chat_id=OPERATORS,
        manager_ids=str(MANAGER),
    )
    before = len(standin.sent(OPERATORS))
    late = WORKING_MOMENT + timedelta(minutes=11)  # past the 10 working minutes
    # The warning and the breach were both due: the warning, overtaken, is not sent.
    assert await run_once(settings, "alerts", late) == 1
    said = standin.sent(OPERATORS)[before:]
    assert any("🔴 Срок пропущен: первый ответ" in (m.get("text") or "") for m in said)
    assert any("№\u00a01001" in (m.get("text") or "") for m in said)
    assert await run_once(settings, "alerts", late) == 0  # once only
    assert len(standin.sent(OPERATORS)) == before + len(said)

    morning = (WORKING_MOMENT + timedelta(days=1)).replace(hour=9, minute=0)  # Tuesday 09:00
    assert await run_once(settings, "digest", morning) == 1
    to_manager = standin.sent(MANAGER)
    assert any("photo" in m for m in to_manager)  # the chart
    assert await run_once(settings, "digest", morning) == 0
    assert len(standin.sent(MANAGER)) == len(to_manager)


def test_the_moment_needs_its_offset(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["alerts", "--now", "2026-11-23T10:00:00"])
    assert "offset" in capsys.readouterr().err


async def test_the_running_bot_sends_the_digest_at_its_moment_once(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.add_user(MANAGER, "Malika", last_name="Manager")
    h = Harness(standin, tmp_path, WORKING_MOMENT, manager_ids=str(MANAGER))
    await h.start()
    try:
        client = Person(h, 1001, "Иван")
        await identify(client)
        await open_request(client)

        def charts() -> int:
            return len([m for m in standin.sent(MANAGER) if "photo" in m])

        # Started on Monday at 11:00 with no digest sent today: Monday's goes at once.
        assert charts() == 1
        # Tuesday 08:59: not yet; 09:00: Tuesday's, once, even over a restart.
        h.clock.advance(timedelta(hours=21, minutes=59))
        await h.settle()
        assert charts() == 1
        h.clock.advance(timedelta(minutes=1))
        await h.settle(limit=15)
        assert charts() == 2
        await h.restart()
        await h.settle()
        assert charts() == 2
    finally:
        await h.stop()
