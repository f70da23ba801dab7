"""`python -m bot demo` plays its story to the end against the stand-in."""

from __future__ import annotations

import pytest

from bot.demo import run_demo


async def test_demo_plays_the_whole_story(capsys: pytest.CaptureFixture[str]) -> None:
    code = await run_demo()
    out, err = capsys.readouterr()
    assert code == 0, f"the demo failed:\n{err}\n--- transcript ---\n{out}"
    lines = out.splitlines()
    # The Russian client, in working time: №1001 and a first response within 10 minutes.
    ru = [line for line in lines if line.startswith("[bot → Иван]") and "№\u00a01001" in line]
    assert any("в течение 10\u00a0минут" in line for line in ru), ru
    # The Uzbek client, after hours: №1002 and an answer by 10:00 on the next working day.
    uz = [line for line in lines if line.startswith("[bot → Aziz]") and "№\u00a01002" in line]
    assert any("10:00" in line for line in uz), uz
    # The operator card in the group.
    assert "[bot → operators group] Обращение №\u00a01001" in out
    # The operator's answer reaches the client.
    assert "[bot → Иван] Иван, здравствуйте! Обновите, пожалуйста, драйвер принтера" in out
    # After the resolve and the client's "yes", the rating question.
    assert "[Иван presses] «👍 Да, решён»" in out
    assert any(line.startswith("[bot → Иван]") and "закрыто" in line for line in lines)
    assert "Пожалуйста, оцените ответ" in out
    assert "[Иван presses] «⭐⭐⭐⭐⭐»" in out
    # A saved answer: kept in both languages, listed, sent to the Uzbek client in Uzbek with
    # the placeholders filled.
    assert "[bot → operators group] Сохранённые ответы (отправить клиенту: /m ИМЯ):" in out
    assert "   • codes — русский, узбекский" in out
    saved = [line for line in lines if line.startswith("[bot → Aziz] Aziz Karimov, assalomu")]
    assert len(saved) == 1, saved
    assert "№\u00a01002 murojaat («Samarqand Non» MChJ)" in saved[0]
    assert "{" not in saved[0]
