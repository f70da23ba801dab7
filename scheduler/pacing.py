"""Token buckets that keep the bot within Telegram's limits: about 1 message a second into a
chat, 20 a minute into a group, 30 a second in all."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Bucket:
    capacity: float
    rate: float  # tokens per second
    tokens: float = 0.0
    stamp: float | None = None  # None: never used, full

    def _refill(self, now: float) -> None:
        # Tokens may go below zero (a topic and its card taken on one turn): that is a debt
        # paid by waiting, not a fresh bucket.
        if self.stamp is None:
            self.tokens, self.stamp = self.capacity, now
            return
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 when one is there now)."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1


@dataclass(frozen=True)
class Limits:
    # A burst plus a steady rate; burst + rate * 60 stays within 20 a minute for a group.
    private_burst: float = 3
    private_rate: float = 1.0
    group_burst: float = 5
    group_rate: float = 15 / 60
    global_burst: float = 10
    global_rate: float = 20.0

    @classmethod
    def unlimited(cls) -> Limits:
        """For tests that are not about pacing."""
        return cls(1000, 1000.0, 1000, 1000.0, 1000, 1000.0)


@dataclass
class Pacer:
    """The limits are the bot's, whichever process sends: with several processes alive each
    takes its share of the group and global limits (`share`), so together they stay within
    them. A private chat is paced whole: one process at a time sends its head item."""

    limits: Limits = field(default_factory=Limits)
    _chats: dict[int, Bucket] = field(default_factory=dict)
    _global: Bucket | None = None
    processes: int = 1

    def share(self, processes: int) -> None:
        """`processes` bot processes are alive: take 1/processes of the shared limits."""
        processes = max(1, processes)
        if processes == self.processes:
            return
        self.processes = processes
        for chat_id, bucket in self._chats.items():
            if chat_id < 0:
                self._fit(bucket, self.limits.group_burst, self.limits.group_rate)
        if self._global is not None:
            self._fit(self._global, self.limits.global_burst, self.limits.global_rate)

    def _fit(self, bucket: Bucket, burst: float, rate: float) -> None:
        bucket.capacity = max(1.0, burst / self.processes)
        bucket.rate = rate / self.processes
        bucket.tokens = min(bucket.tokens, bucket.capacity)

    def _chat(self, chat_id: int) -> Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            lim = self.limits
            # Group and channel ids are negative in the Bot API.
            if chat_id < 0:
                bucket = Bucket(lim.group_burst, lim.group_rate)
                self._fit(bucket, lim.group_burst, lim.group_rate)
            else:
                bucket = Bucket(lim.private_burst, lim.private_rate)
            self._chats[chat_id] = bucket
        return bucket

    def wait_time(self, chat_id: int, now: float) -> float:
        if self._global is None:
            self._global = Bucket(self.limits.global_burst, self.limits.global_rate)
            self._fit(self._global, self.limits.global_burst, self.limits.global_rate)
        return max(self._chat(chat_id).wait_time(now), self._global.wait_time(now))

    def take(self, chat_id: int, now: float) -> None:
        self._chat(chat_id).take(now)
        if self._global is not None:
            self._global.take(now)
