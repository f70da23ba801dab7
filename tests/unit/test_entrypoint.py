"""The command line: settings validation, the message without a token, the sla command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "BOT_TOKEN",
        "OPERATOR_CHAT_ID",
        "MANAGER_CHAT_ID",
        "MANAGER_IDS",
        "DATABASE_URL",
        "REDIS_URL",
        "TELEGRAM_API_URL",
        "DESK_TIMEZONE",
        "SLA_POLICY_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env is read


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///crpt_desk.db"
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert str(settings.tz) == "Asia/Tashkent"
    assert settings.bot_token is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OPERATOR_CHAT_ID", "operators"),
        ("MANAGER_IDS", "1, two"),
        ("DESK_TIMEZONE", "Mars/Olympus"),
        ("DATABASE_URL", "mysql://x"),
        ("SLA_POLICY_FILE", "/nonexistent/policy.toml"),
    ],
)
def test_a_wrong_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OPERATOR_CHAT_ID=-100500\nMANAGER_IDS=7,8\n")
    settings = load_settings()
    assert settings.operator_chat_id == -100500
    assert settings.manager_ids == frozenset({7, 8})


def test_the_token_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123:secret-value")
    assert "secret-value" not in repr(load_settings())


def test_no_token_gives_one_paragraph_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 1
    err = capsys.readouterr().err
    assert "@BotFather" in err
    assert "demo" in err
    assert "Traceback" not in err
    assert "\n\n" not in err.strip()


def test_a_configuration_error_exits_with_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DESK_TIMEZONE", "Nowhere/Never")
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "DESK_TIMEZONE" in capsys.readouterr().err


def test_sla_command_through_python_m_bot() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "sla",
            "--at",
            "2026-03-19T19:55:00+05:00",
            "--priority",
            "high",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    answer = json.loads(result.stdout)
    # Friday 20 and Monday 23 March 2026 are holidays (Eid al-Fitr, Nowruz observed).
    assert answer["first_response_due"] == "2026-03-24T08:05:00+05:00"
    assert answer["resolution_due"] == "2026-03-24T15:55:00+05:00"


def test_desk_topics_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESK_TOPICS", "catalog, other")
    assert load_settings().desk_topics == ("catalog", "other")
    monkeypatch.setenv("DESK_TOPICS", " , ")
    with pytest.raises(SettingsError, match="DESK_TOPICS"):
        load_settings()


def test_a_topic_without_labels_is_refused_at_start() -> None:
    from bot.factory import check_topic_labels
    from bot.i18n import DeskI18n

    i18n = DeskI18n()
    check_topic_labels(i18n, ("catalog", "other"))
    with pytest.raises(SettingsError, match=r"topic\.tobacco"):
        check_topic_labels(i18n, ("catalog", "tobacco"))
