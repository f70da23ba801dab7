"""/healthz and /metrics on the bot's web server (polling mode with WEB_PORT set): healthy when
the database answers and the workers turn, 503 with the reason otherwise; the metrics in the
Prometheus text format, with the figures a dialogue, a 429 and a dead letter leave."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from standin import StandIn
from standin.local import free_port
from tests.e2e.harness import WORKING_MOMENT, Harness, Person, identify, open_request


@pytest.fixture
async def served(standin: StandIn, tmp_path: Path) -> AsyncIterator[Harness]:
    h = Harness(standin, tmp_path, WORKING_MOMENT, web_port=free_port())
    await h.start()
    yield h
    await h.stop()


async def get(h: Harness, path: str) -> tuple[int, str]:
    assert h.app is not None
    host, port = h.app.settings.web_address or ("", 0)
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://{host}:{port}{path}") as response,
    ):
        return response.status, await response.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_healthy_when_the_database_answers_and_the_workers_turn(served: Harness) -> None:
    status, body = await get(served, "/healthz")
    assert status == 200 and '"ok"' in body


async def test_a_silent_worker_makes_it_unhealthy(served: Harness) -> None:
    assert served.app is not None
    served.app.metrics.last_run["scheduler"] -= 600
    status, body = await get(served, "/healthz")
    assert status == 503
    assert "the scheduler has not run for" in body


async def test_a_database_that_does_not_answer_makes_it_unhealthy(served: Harness) -> None:
    assert served.app is not None
    app = served.app
    working = app.sessions

    def broken() -> Any:
        raise OSError("connection refused")

    app.sessions = broken  # type: ignore[assignment]
    try:
        status, body = await get(served, "/healthz")
    finally:
        app.sessions = working
    assert status == 503
    assert "the database does not answer" in body


async def test_the_metrics_tell_what_happened(served: Harness, standin: StandIn) -> None:
    client = Person(served, 1001, "Иван")
    await identify(client)
    await open_request(client)
    standin.fail("copyMessage", status=429, retry_after=1)
    await client.say("Дополнение: коды не печатаются со вчерашнего дня")
    await served.settle(limit=15)

    status, text = await get(served, "/metrics")
    assert status == 200
    found = samples(text)
    assert value(found, "desk_updates_total", type="message", outcome="handled") >= 5
    assert value(found, "desk_updates_total", type="callback_query", outcome="handled") >= 4
    assert value(found, "desk_update_handling_seconds_count") >= 9
    assert value(found, "desk_requests_open", status="new", priority="medium") == 1
    assert value(found, "desk_inbox_pending") == 0
    assert value(found, "desk_outbox_pending") == 0
    assert value(found, "desk_outbox_oldest_unsent_seconds") == 0
    assert value(found, "desk_delivery_latency_seconds_count") >= 1
    floods = [c for c in standin.calls if c.status == 429]
    assert len(floods) == 1, floods
    assert value(found, "desk_telegram_429_total") == 1
    assert value(found, "desk_outbox_sends_total", outcome="sent") >= 1
    for family in ("desk_sla_targets", "desk_dead_letters_total", "desk_outbox_dead"):
        assert f"# TYPE {family} " in text


async def test_a_dead_letter_is_counted(served: Harness, standin: StandIn) -> None:
    client = Person(served, 1001, "Иван")
    await identify(client)
    await open_request(client)
    standin.fail("copyMessage", status=400, description="Bad Request: chat not found")
    await client.say("Дополнение к обращению")
    await served.settle(limit=15)
    found = samples((await get(served, "/metrics"))[1])
    assert value(found, "desk_dead_letters_total") >= 1
    assert value(found, "desk_outbox_dead") >= 1
