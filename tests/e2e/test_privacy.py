"""Personal data (names, INN/STIR, PINFL, phone, e-mail) never reaches the logs at INFO or above."""

from __future__ import annotations

import logging

import pytest

from tests.e2e.harness import RU, Harness, Operator, Person


async def test_no_personal_data_in_logs(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    client = Person(harness, 1001, "Иван")
    secrets = [
        "Зарина Усманова",
        "ООО Секретная Компания",
        "301234567",
        "+998901234567",
        "zarina@example.uz",
    ]
    await client.say("/start")
    await client.say(secrets[0])
    await client.say(secrets[1])
    await client.say("3 0 1 2 3 4 5 6 7")
    await client.press(RU["kind"])
    await client.press(RU["topic"])
    await client.say("Описание")
    await client.press(RU["done"])
    await client.press("По телефону")
    await client.say(contact={"phone_number": "998901234567"})
    await client.press(RU["confirm"])
    operator = Operator(harness, 9001)
    harness.standin.block_bot(client.id)  # the error path logs too
    await operator.write("Ответ", reply_to=operator.card(1001)["message_id"])
    logged = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert logged  # the test sees the logs at all
    for secret in secrets:
        assert secret not in logged
