"""The pacing buckets keep within Telegram's limits, on a clock the test sets."""

from __future__ import annotations

import itertools

import pytest

from scheduler.pacing import Bucket, Limits, Pacer


def sends_in(pacer: Pacer, chat_id: int, seconds: float, step: float = 0.01) -> list[float]:
    """Send as fast as the pacer lets us for `seconds`; returns the send times."""
    times: list[float] = []
    now = 0.0
    while now < seconds:
        if pacer.wait_time(chat_id, now) == 0:
            pacer.take(chat_id, now)
            times.append(now)
        now = round(now + step, 6)
    return times


def test_a_group_gets_at_most_20_a_minute() -> None:
    times = sends_in(Pacer(Limits()), -100123, 60.0)
    assert 19 <= len(times) <= 20


def test_any_minute_window_of_a_group_stays_within_20() -> None:
    times = sends_in(Pacer(Limits()), -100123, 180.0)
    for i, start in enumerate(times):
        assert len([t for t in times[i:] if t < start + 60]) <= 20


def test_a_private_chat_bursts_then_one_a_second() -> None:
    times = sends_in(Pacer(Limits()), 1001, 10.0)
    assert times[2] < 0.05  # a short burst goes at once
    later = times[3:]
    assert all(b - a >= 0.99 for a, b in itertools.pairwise(later))


def test_all_chats_together_stay_within_30_a_second() -> None:
    pacer = Pacer(Limits())
    now, sent = 0.0, 0
    chat = 1
    while now < 1.0:
        if pacer.wait_time(chat, now) == 0:
            pacer.take(chat, now)
            sent += 1
            chat += 1  # a new chat each time: only the global limit applies
        now = round(now + 0.001, 6)
    assert sent <= 30


def test_one_busy_chat_does_not_hold_up_another() -> None:
    pacer = Pacer(Limits())
    for _ in range(3):
        pacer.take(1001, 0.0)
    assert pacer.wait_time(1001, 0.0) > 0
    assert pacer.wait_time(1002, 0.0) == 0


def test_a_debt_is_paid_by_waiting_not_forgiven() -> None:
    """A topic and its card take two tokens on one turn: a bucket driven below zero waits
    until it is refilled; it does not start again full (that let 200 messages a minute into a
    group during a storm of new requests)."""
    bucket = Bucket(capacity=5, rate=15 / 60)
    for _ in range(6):
        bucket.take(0.0)
    assert bucket.tokens == -1
    assert bucket.wait_time(0.0) == pytest.approx(8.0)  # two tokens at one per 4 s
    assert bucket.wait_time(8.0) == 0.0


@pytest.mark.parametrize("processes", [2, 3])
def test_processes_sharing_a_group_stay_within_20_a_minute_together(processes: int) -> None:
    pacers = [Pacer(Limits()) for _ in range(processes)]
    for pacer in pacers:
        pacer.share(processes)
    times = sorted(t for pacer in pacers for t in sends_in(pacer, -100123, 180.0))
    for i, start in enumerate(times):
        assert len([t for t in times[i:] if t < start + 60]) <= 20
    assert len(times) >= 40  # together they still use the group's limit


def test_a_pacer_takes_the_whole_limit_again_when_alone() -> None:
    pacer = Pacer(Limits())
    pacer.share(2)
    halved = sends_in(pacer, -100123, 60.0)
    pacer.share(1)
    assert pacer._chat(-100123).rate == Limits().group_rate
    assert 8 <= len(halved) <= 10
