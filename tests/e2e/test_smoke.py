from __future__ import annotations

from tests.e2e.harness import OPERATORS, Harness, Person


async def test_client_opens_a_request_in_russian(harness: Harness) -> None:
    client = Person(harness, 1001, "Иван")
    out = await client.say("/start")
    assert any("CRPT-Turon" in (m.get("text") or "") for m in out)
    await client.say("Иван Петров")
    await client.say("ООО «Asia Trade»")
    await client.say("301 234 567")
    await client.press("Консультация")
    await client.press("Коды маркировки")
    await client.say("Не печатаются коды маркировки")
    await client.press("Готово")
    await client.press("В этом чате")
    out = await client.press("Отправить")
    text = "\n".join(m.get("text") or "" for m in out)
    assert "№1001" in text
    assert "в течение 10 минут" in text
    card = harness.standin.sent(OPERATORS)[0]
    assert "Обращение №1001" in card["text"]
    assert "301234567" in card["text"]
