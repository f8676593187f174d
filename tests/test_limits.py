"""run.limits: the adaptive limit (AIMD) and the token buckets, without a server.

The buckets run on an injected clock, so no test waits on or measures wall time."""

from __future__ import annotations

import asyncio

import pytest

from fourfold.run.limits import AdaptiveLimit, Gate, RateLimits, TokenBucket


def test_slow_start_then_one_per_window_of_successes() -> None:
    lim = AdaptiveLimit(start=4, ceiling=100)
    for _ in range(4):
        lim.success()
    assert lim.limit == 8, "before the first overload: +1 a success (doubling each round trip)"
    lim.overloaded(lim.epoch)
    assert lim.limit == 4
    for _ in range(3):
        lim.success()
    assert lim.limit == 4, "after it: a window is as many successes as the limit"
    lim.success()
    assert lim.limit == 5
    for _ in range(5):
        lim.success()
    assert lim.limit == 6
    assert list(lim.history) == [4, 5, 6, 7, 8, 4, 5, 6]


def test_the_limit_stops_at_its_ceiling_and_floor() -> None:
    lim = AdaptiveLimit(start=9, ceiling=10)
    for _ in range(100):
        lim.success()
    assert lim.limit == lim.peak == 10
    for _ in range(10):
        lim.overloaded(lim.epoch)
    assert lim.limit == 1
    with pytest.raises(ValueError):
        AdaptiveLimit(start=1, ceiling=0)


def test_overloads_of_calls_sent_before_a_cut_halve_once() -> None:
    lim = AdaptiveLimit(start=16, ceiling=100)
    epoch = lim.epoch  # eight calls in flight, all taken in this epoch
    for _ in range(8):
        lim.overloaded(epoch)
    assert lim.limit == 8 and lim.cuts == 1
    lim.overloaded(lim.epoch)  # a call sent after the cut that fails: a new event
    assert lim.limit == 4 and lim.cuts == 2


def test_acquire_blocks_at_the_limit_and_a_raised_limit_lets_more_in() -> None:
    async def main() -> None:
        lim = AdaptiveLimit(start=2, ceiling=10)
        await lim.acquire()
        await lim.acquire()
        third = asyncio.create_task(lim.acquire())
        fourth = asyncio.create_task(lim.acquire())
        await asyncio.sleep(0)
        assert not third.done() and lim.inflight == 2
        lim.success()  # slow start: the limit is now 3
        assert lim.limit == 3
        await lim.release()  # one leaves: two slots are free, both waiters go
        await asyncio.wait_for(asyncio.gather(third, fourth), 10)
        assert lim.inflight == 3

    asyncio.run(main())


def test_retry_after_holds_new_calls_back() -> None:
    async def main() -> None:
        lim = AdaptiveLimit(start=4, ceiling=10)
        lim.overloaded(lim.epoch, retry_after=3600)  # held back a minute at most, never an hour
        waiter = asyncio.create_task(lim.acquire())
        for _ in range(5):
            await asyncio.sleep(0)
        assert not waiter.done(), "a slot is free, but the server asked for a pause"
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert lim.inflight == 0, "a cancelled wait takes no slot"
        short = AdaptiveLimit(start=4, ceiling=10)
        short.overloaded(short.epoch, retry_after=0.05)
        await asyncio.wait_for(short.acquire(), 30)  # the pause ends by itself
        assert short.inflight == 1

    asyncio.run(main())


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_at_its_rate_up_to_its_capacity() -> None:
    clock = Clock()
    b = TokenBucket(rate_per_s=10, capacity=5, clock=clock)
    assert b.wait_s(5) == 0
    b.level -= 5
    assert b.wait_s(1) == pytest.approx(0.1)
    clock.now += 0.25
    assert b.wait_s(2) == 0 and b.level == pytest.approx(2.5)
    clock.now += 100
    assert b.wait_s(0) == 0 and b.level == 5, "never more than the capacity"
    assert b.wait_s(50) == 0, "a call larger than the bucket goes once the bucket is full"


def test_token_bucket_debt_and_corrections() -> None:
    clock = Clock()
    b = TokenBucket(rate_per_s=100, capacity=100, clock=clock)

    async def take(n: float) -> None:
        await b.take(n)

    asyncio.run(take(266))  # the estimate: more than the bucket holds, so it goes into debt
    assert b.level == pytest.approx(-166)
    b.give(266 - 50)  # the reply said 50 tokens were used
    assert b.level == pytest.approx(50)
    assert b.wait_s(100) == pytest.approx(0.5)


def test_rate_limits_make_one_second_buckets() -> None:
    req, tok = RateLimits(rpm=600, tpm=30_000).buckets()
    assert req is not None and tok is not None
    assert (req.rate, req.capacity) == (10, 10)
    assert (tok.rate, tok.capacity) == (500, 500)
    slow, none = RateLimits(rpm=30).buckets()
    assert slow is not None and slow.capacity == 1 and none is None


def test_gate_corrects_tokens_and_reports_to_the_limit() -> None:
    async def main() -> None:
        gate = Gate(AdaptiveLimit(start=1, ceiling=4), RateLimits(tpm=6000))
        assert gate.tokens is not None and gate.adaptive is not None
        epoch = await gate.enter(80)
        assert gate.adaptive.inflight == 1 and gate.tokens.level == pytest.approx(20, abs=1)
        await gate.leave(epoch, 80, 30, ok=True, overload=False)
        assert gate.adaptive.inflight == 0 and gate.adaptive.limit == 2  # one success fills a window of 1
        assert gate.tokens.level == pytest.approx(70, abs=1)
        epoch = await gate.enter(10)
        await gate.leave(epoch, 10, None, ok=False, overload=True)
        assert gate.adaptive.limit == 1 and gate.adaptive.cuts == 1

    asyncio.run(main())
