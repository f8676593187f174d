"""Adaptive concurrency and rate limits: what ``--concurrency auto``,
``--rate-limit`` and ``--token-limit`` put in front of every model call.

Why AIMD: a provider's real limit (or a self-hosted server's capacity) is not
known in advance and moves; a fixed ``--concurrency`` is either too timid or
earns a stream of 429s. Like TCP's congestion window, the limit grows by one
after each window of successes (a window is as many successes as the limit) and
halves on an overload reply: it settles in a saw-tooth just under the point
where the server starts refusing. Until the first overload it grows by one per
success (TCP's slow start: it doubles each round trip), so a server with room for
64 is found in a few round trips rather than sixty: with additive growth only,
2,000 cases against a 64-wide server took twice as long as ``--concurrency 64``. One halving per overload *event*: the
requests already in flight when the limit was cut carry the old epoch, and
their failures do not cut it again (eight 429s arriving together halve once,
not eight times).

Why token buckets: provider limits are requests and tokens per minute. A bucket
refills at the minute rate spread over the seconds and holds one second's worth,
so no burst can exceed a second's share. Tokens are not known before a call: a
call reserves an estimate (its prompt's characters / 4 plus ``max_tokens``) and
the bucket is corrected by the usage the reply reports.

A fixed ``--concurrency N`` with no rate limit uses none of this: the runner's
pool of N workers is the whole mechanism there, and costs nothing extra.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


class AdaptiveLimit:
    """A semaphore whose limit moves (AIMD). ``acquire`` returns the epoch the slot
    was taken in; pass it back to ``overloaded`` so late failures of requests sent
    before the last cut are not counted twice. Unit-testable without a loop
    driving real calls: ``success``/``overloaded`` are plain methods."""

    def __init__(self, start: int = 4, ceiling: int = 256, floor: int = 1):
        if not 1 <= floor <= ceiling:
            raise ValueError(f"need 1 <= floor <= ceiling, got floor={floor}, ceiling={ceiling}")
        self.floor = floor
        self.ceiling = ceiling
        self.limit = max(floor, min(start, ceiling))
        self.inflight = 0
        self.epoch = 0
        #: Highest limit reached and how many times it was cut: for the run's summary.
        self.peak = self.limit
        self.cuts = 0
        #: The last thousand limits it moved to, oldest first (where it settled, for tests and tuning).
        self.history: deque[int] = deque([self.limit], maxlen=1000)
        self._successes = 0
        self._paused_until = 0.0
        self._waiters: asyncio.Condition | None = None

    def _cond(self) -> asyncio.Condition:
        if self._waiters is None:  # made inside the running loop, on first use
            self._waiters = asyncio.Condition()
        return self._waiters

    async def acquire(self) -> int:
        cond = self._cond()
        async with cond:
            while True:
                pause = self._paused_until - time.monotonic()
                if pause > 0:
                    try:
                        await asyncio.wait_for(cond.wait(), pause)
                    except TimeoutError:
                        pass
                    continue
                if self.inflight < self.limit:
                    break
                await cond.wait()
            self.inflight += 1
            return self.epoch

    async def release(self) -> None:
        cond = self._cond()
        async with cond:
            self.inflight -= 1
            cond.notify(max(1, self.limit - self.inflight))  # the limit may have grown since the last release

    def success(self) -> None:
        """One call succeeded: +1 once ``limit`` successes have come in since the last
        change; before the first overload, +1 each (slow start)."""
        if self.cuts == 0:
            if self.limit < self.ceiling:
                self.limit += 1
                self.peak = max(self.peak, self.limit)
                self.history.append(self.limit)
            return
        self._successes += 1
        if self._successes >= self.limit and self.limit < self.ceiling:
            self.limit += 1
            self.peak = max(self.peak, self.limit)
            self._successes = 0
            self.history.append(self.limit)

    def overloaded(self, epoch: int, retry_after: float | None = None) -> None:
        """An overload reply (429, 529, 503, a timeout) to a call taken in ``epoch``:
        halve the limit, once per epoch; a ``retry_after`` also holds every new
        call back that long (capped at a minute), as the server asked."""
        if retry_after is not None and retry_after > 0:
            self._paused_until = max(self._paused_until, time.monotonic() + min(retry_after, 60.0))
        if epoch != self.epoch:
            return
        self.epoch += 1
        self.cuts += 1
        self._successes = 0
        self.limit = max(self.floor, self.limit // 2)
        self.history.append(self.limit)


class TokenBucket:
    """``rate_per_s`` units per second, at most ``capacity`` saved up. ``take(n)``
    waits until the bucket holds ``min(n, capacity)`` (a single call larger than
    the bucket may still go, once it is full) and may leave it in debt, which
    ``give(n)`` (a correction) and time pay back. ``clock`` is injectable for tests."""

    def __init__(self, rate_per_s: float, capacity: float, clock: Callable[[], float] = time.monotonic):
        if not rate_per_s > 0:
            raise ValueError("the rate must be more than 0")
        self.rate = rate_per_s
        self.capacity = max(capacity, 1e-9)
        self.clock = clock
        self.level = self.capacity
        self._at = clock()
        self._lock: asyncio.Lock | None = None

    def _refill(self) -> None:
        now = self.clock()
        self.level = min(self.capacity, self.level + (now - self._at) * self.rate)
        self._at = now

    def wait_s(self, n: float) -> float:
        """Seconds until ``n`` (capped at the capacity) can be taken; 0 if now."""
        self._refill()
        need = min(n, self.capacity) - self.level
        return max(0.0, need / self.rate)

    async def take(self, n: float) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # first come, first served: a big call is not starved by small ones
            while (wait := self.wait_s(n)) > 0:
                await asyncio.sleep(wait)
            self.level -= n

    def give(self, n: float) -> None:
        """Return ``n`` (negative: take more), e.g. the difference between a call's
        reserved estimate and the tokens it used."""
        self._refill()
        self.level = min(self.capacity, self.level + n)


@dataclass(frozen=True)
class RateLimits:
    """Requests and tokens per minute for one model (None: no limit)."""

    rpm: float | None = None
    tpm: float | None = None

    def buckets(self) -> tuple[TokenBucket | None, TokenBucket | None]:
        """Fresh buckets holding one second's worth (a request bucket at least one request)."""
        req = TokenBucket(self.rpm / 60, max(1.0, self.rpm / 60)) if self.rpm else None
        tok = TokenBucket(self.tpm / 60, self.tpm / 60) if self.tpm else None
        return req, tok


class Gate:
    """What one model's calls pass through when the run is adaptive or rate-limited:
    the adaptive limit (or None: the fixed worker pool bounds concurrency), then
    the request and token buckets. ``enter`` before a call, ``leave`` after it."""

    def __init__(self, adaptive: AdaptiveLimit | None, limits: RateLimits = RateLimits()):
        self.adaptive = adaptive
        self.requests, self.tokens = limits.buckets()

    async def enter(self, estimate_tokens: int) -> int:
        epoch = await self.adaptive.acquire() if self.adaptive is not None else 0
        try:
            if self.requests is not None:
                await self.requests.take(1)
            if self.tokens is not None:
                await self.tokens.take(estimate_tokens)
        except BaseException:
            await self.leave(epoch, estimate_tokens, None, ok=False, overload=False)
            raise
        return epoch

    async def leave(self, epoch: int, estimate_tokens: int, used_tokens: int | None, *, ok: bool,
                    overload: bool, retry_after: float | None = None) -> None:
        """After a call: correct the token bucket by what the call used (a call that
        failed before an answer used its prompt at most: the estimate stands), and
        tell the adaptive limit how it went."""
        if self.tokens is not None and used_tokens is not None:
            self.tokens.give(estimate_tokens - used_tokens)
        if self.adaptive is not None:
            if ok:
                self.adaptive.success()
            elif overload:
                self.adaptive.overloaded(epoch, retry_after)
            await self.adaptive.release()


__all__ = ["AdaptiveLimit", "Gate", "RateLimits", "TokenBucket"]
