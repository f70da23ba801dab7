"""The desk's metrics, in the Prometheus text format (prometheus-client), and the workers'
last runs that /healthz judges.

Each App has its own registry (tests build many apps in one process). Counters and histograms
are updated where things happen (the inbox, the delivery worker); what the database knows
(requests open, SLA targets, the inbox's and the outbox's depth) is read once per scrape, by a
few grouped counts on indexed columns, never per update."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.vocabulary import OPEN_STATUSES, InboxStatus, OutboxStatus
from storage.models import InboxUpdate, OutboxItem, SlaTarget, Ticket

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DELIVERY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


@dataclass
class Snapshot:
    """What the database says at one scrape."""

    inbox_pending: int = 0
    open_requests: dict[tuple[str, str], int] = field(default_factory=dict)
    targets: dict[tuple[str, str], int] = field(default_factory=dict)
    outbox_pending: int = 0
    outbox_dead: int = 0
    oldest_unsent_seconds: float = 0.0


async def read_snapshot(sessions: async_sessionmaker[AsyncSession], now: datetime) -> Snapshot:
    snap = Snapshot()
    async with sessions() as session:
        snap.inbox_pending = int(
            await session.scalar(
                select(func.count())
                .select_from(InboxUpdate)
                .where(InboxUpdate.status == InboxStatus.PENDING)
            )
            or 0
        )
        open_rows = await session.execute(
            select(Ticket.status, Ticket.priority, func.count())
            .where(Ticket.status.in_(list(OPEN_STATUSES)))
            .group_by(Ticket.status, Ticket.priority)
        )
        snap.open_requests = {(str(s), str(p)): int(n) for s, p, n in open_rows.all()}
        for state, column in (("met", SlaTarget.met_at), ("breached", SlaTarget.breached_at)):
            target_rows = await session.execute(
                select(SlaTarget.kind, func.count())
                .where(column.is_not(None))
                .group_by(SlaTarget.kind)
            )
            for kind, count in target_rows.all():
                snap.targets[(str(kind), state)] = int(count)
        outbox_rows = await session.execute(
            select(OutboxItem.status, func.count(), func.min(OutboxItem.created_at))
            .where(OutboxItem.status.in_([OutboxStatus.PENDING, OutboxStatus.DEAD]))
            .group_by(OutboxItem.status)
        )
        for status, count, oldest in outbox_rows.all():
            if status == OutboxStatus.PENDING:
                snap.outbox_pending = int(count)
                since: datetime | None = oldest
                if since is not None:
                    snap.oldest_unsent_seconds = max(0.0, (now - since).total_seconds())
            else:
                snap.outbox_dead = int(count)
    return snap


class _SnapshotCollector(Collector):
    def __init__(self) -> None:
        self.snapshot = Snapshot()

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        yield GaugeMetricFamily(
            "desk_inbox_pending", "Updates stored and not yet handled", value=snap.inbox_pending
        )
        requests = GaugeMetricFamily(
            "desk_requests_open",
            "Open requests by status and priority",
            labels=["status", "priority"],
        )
        for (status, priority), count in sorted(snap.open_requests.items()):
            requests.add_metric([status, priority], count)
        yield requests
        targets = GaugeMetricFamily(
            "desk_sla_targets", "SLA targets met and breached, by kind", labels=["kind", "state"]
        )
        for (kind, state), count in sorted(snap.targets.items()):
            targets.add_metric([kind, state], count)
        yield targets
        yield GaugeMetricFamily(
            "desk_outbox_pending", "Outgoing messages not yet sent", value=snap.outbox_pending
        )
        yield GaugeMetricFamily(
            "desk_outbox_oldest_unsent_seconds",
            "Age of the oldest outgoing message not yet sent",
            value=snap.oldest_unsent_seconds,
        )
        yield GaugeMetricFamily(
            "desk_outbox_dead",
            "Outgoing messages given up (dead letters) kept",
            value=snap.outbox_dead,
        )


class DeskMetrics:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.monotonic = monotonic
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter(
            "desk_updates", "Updates handled, by type and outcome", ["type", "outcome"], registry=r
        )
        self.handling = Histogram(
            "desk_update_handling_seconds",
            "Time to handle one update",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.sends = Counter(
            "desk_outbox_sends", "Outbox attempts by outcome", ["outcome"], registry=r
        )
        self.delivery = Histogram(
            "desk_delivery_latency_seconds",
            "From an outgoing message being queued to its being sent",
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.flood = Counter(
            "desk_telegram_429", "Telegram's flood-control answers (429)", registry=r
        )
        self.dead = Counter("desk_dead_letters", "Outgoing messages given up", registry=r)
        self._snapshot = _SnapshotCollector()
        r.register(self._snapshot)
        started = monotonic()
        self.last_run: dict[str, float] = {
            "delivery": started,
            "scheduler": started,
            "heartbeat": started,
        }

    def ran(self, worker: str) -> None:
        """A worker's loop turned (the health check wants each to turn often)."""
        self.last_run[worker] = self.monotonic()

    def silent_for(self) -> dict[str, float]:
        now = self.monotonic()
        return {worker: now - at for worker, at in self.last_run.items()}

    async def refresh(self, sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
        self._snapshot.snapshot = await read_snapshot(sessions, now)
