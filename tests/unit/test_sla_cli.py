"""`python -m bot sla`: one JSON object with the deadlines of a request."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bot.sla.cli import sla_command

TZ = ZoneInfo("Asia/Tashkent")


def run(capsys: pytest.CaptureFixture[str], *argv: str, policy: Path | None = None) -> object:
    code = sla_command(argv, tz=TZ, policy_file=policy)
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("\n") == 1
    return json.loads(out)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(
            ["--at", "2026-03-19T19:55:00+05:00", "--priority", "high"],
            {
                "registered_at": "2026-03-19T19:55:00+05:00",
                "priority": "high",
                "topic": None,
                "working_time": True,
                "first_response_due": "2026-03-24T08:05:00+05:00",
                "resolution_due": "2026-03-24T15:55:00+05:00",
            },
            id="thursday-19:55-high-over-eid-weekend-and-nowruz",
        ),
        pytest.param(
            ["--at", "2026-03-19T14:55:00Z", "--priority", "high"],
            {
                "registered_at": "2026-03-19T19:55:00+05:00",
                "priority": "high",
                "topic": None,
                "working_time": True,
                "first_response_due": "2026-03-24T08:05:00+05:00",
                "resolution_due": "2026-03-24T15:55:00+05:00",
            },
            id="the-same-moment-given-in-utc",
        ),
        pytest.param(
            ["--at", "2026-04-11T14:00", "--priority", "critical"],
            {
                "registered_at": "2026-04-11T14:00:00+05:00",
                "priority": "critical",
                "topic": None,
                "working_time": False,
                "first_response_due": "2026-04-13T10:00:00+05:00",
                "resolution_due": "2026-04-11T18:00:00+05:00",
            },
            id="saturday-without-offset-read-in-tashkent",
        ),
        pytest.param(
            ["--at", "2026-04-10T18:00:00+05:00", "--priority", "high"],
            {
                "registered_at": "2026-04-10T18:00:00+05:00",
                "priority": "high",
                "topic": None,
                "working_time": True,
                "first_response_due": "2026-04-10T18:10:00+05:00",
                "resolution_due": "2026-04-13T14:00:00+05:00",
            },
            id="friday-18:00-high=monday-14:00",
        ),
        pytest.param(
            ["--at", "2026-04-06T07:30:00+05:00", "--topic", "catalog"],
            {
                "registered_at": "2026-04-06T07:30:00+05:00",
                "priority": "medium",
                "topic": "catalog",
                "working_time": False,
                "first_response_due": "2026-04-06T10:00:00+05:00",
                "resolution_due": "2026-04-11T07:30:00+05:00",
            },
            id="07:30-catalog-default-priority-medium",
        ),
    ],
)
def test_sla_command_prints_the_deadlines(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: dict[str, object]
) -> None:
    assert run(capsys, *argv) == expected


def test_at_defaults_to_now(capsys: pytest.CaptureFixture[str]) -> None:
    with time_machine.travel(datetime(2026, 4, 6, 14, 55, 30, 123456, tzinfo=UTC), tick=False):
        result = run(capsys)
    assert result == {
        "registered_at": "2026-04-06T19:55:30+05:00",
        "priority": "medium",
        "topic": None,
        "working_time": True,
        "first_response_due": "2026-04-07T08:05:30+05:00",
        "resolution_due": "2026-04-08T19:55:30+05:00",
    }


def test_the_policy_file_is_used(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    policy = tmp_path / "sla.toml"
    policy.write_text("[calendar]\ndecreed_working_days = true\n", encoding="utf-8")
    result = run(capsys, "--at", "2026-12-11T19:55:00+05:00", "--priority", "high", policy=policy)
    assert isinstance(result, dict)
    assert result["first_response_due"] == "2026-12-12T08:05:00+05:00"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--priority", "urgent"], "invalid choice", id="unknown-priority"),
        pytest.param(["--at", "yesterday"], "not an ISO 8601", id="bad-moment"),
        pytest.param(["--frobnicate"], "unrecognized arguments", id="unknown-option"),
    ],
)
def test_bad_arguments_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert sla_command(argv, tz=TZ, policy_file=None) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err


def test_a_bad_policy_file_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    policy = tmp_path / "sla.toml"
    policy.write_text("[resolution]\nhigh = { working_hours = -1 }\n", encoding="utf-8")
    assert sla_command([], tz=TZ, policy_file=policy) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "resolution.high.working_hours" in captured.err
