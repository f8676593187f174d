"""Calls that arrive together go to a replica together: one Ray call for many cases.

Why: a Ray actor call costs about 0.4 ms of CPU on each side before any work
(more on a busy machine), which is more than an API request itself costs the
local executor; at thousands of requests a second that overhead, not the
network, sets the pace. Coalescing sends what the runner's workers asked for in
the same turn of the event loop as one ``answer_many`` call, split over the
ready replicas. Nothing waits to fill a batch: a lone call goes alone, so a
slow run keeps its latency and a busy one pays the overhead per batch.

The price: a batch comes back when its slowest call is done, so a call can wait
for a slower neighbour (with a fixed-latency server, nothing). Used for API and
transformers models; llama.cpp replicas take one call at a time and keep the
per-call path, where a timeout also stops the generation on the replica.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...models import BackendUnusable, GenerationSettings, TransientError
from .replica import Outcome, PortableMessage

if TYPE_CHECKING:
    from .pool import ReplicaPool, Slot

#: Most calls in one Ray call.
MAX_BATCH = 64


@dataclass
class _Pending:
    case_id: str
    wire: list[PortableMessage]
    settings: GenerationSettings
    max_answer_chars: int
    future: asyncio.Future[Outcome]
    lost: int = 0


class Coalescer:
    """Queues a pool's calls and sends them in batches (see the module's docstring)."""

    def __init__(self, pool: ReplicaPool, resends: int):
        self.pool = pool
        self.resends = resends
        self._queue: list[_Pending] = []
        self._kick_pending = False
        self._waiting: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Task[None]] = set()

    async def call(self, case_id: str, wire: list[PortableMessage], settings: GenerationSettings,
                   max_answer_chars: int) -> Outcome:
        fut: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._enqueue(_Pending(case_id, wire, settings, max_answer_chars, fut))
        return await fut  # a cancelled call's answer, when it comes, is dropped

    def _enqueue(self, p: _Pending) -> None:
        self._queue.append(p)
        if not self._kick_pending:  # after every caller of this loop turn has queued
            self._kick_pending = True
            asyncio.get_running_loop().call_soon(self._kick)

    def _kick(self) -> None:
        self._kick_pending = False
        self.pool.start()
        self._queue = [p for p in self._queue if not p.future.done()]
        while self._queue:
            ready = [s for s in self.pool.slots if s.ready]
            if not ready:
                self._wait_for_replica()
                return
            share = -(-len(self._queue) // len(ready))
            slot = min(ready, key=lambda s: s.inflight)
            first = self._queue[0]
            group = [p for p in self._queue if p.settings is first.settings
                     and p.max_answer_chars == first.max_answer_chars][:min(MAX_BATCH, share)]
            taken = set(map(id, group))
            self._queue = [p for p in self._queue if id(p) not in taken]
            slot.inflight += len(group)
            task = asyncio.create_task(self._send(slot, group))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)

    def _wait_for_replica(self) -> None:
        """No replica is ready: fail everything if none ever will be, else look again when one is."""
        gone = [s.gone for s in self.pool.slots if s.gone is not None]
        if len(gone) == len(self.pool.slots):
            err = BackendUnusable(f"{self.pool.spec}: no Ray replica can run it: {gone[0]}")
            for p in self._queue:
                if not p.future.done():
                    p.future.set_exception(err)
            self._queue = []
            return
        if self._waiting is None or self._waiting.done():
            self._waiting = asyncio.create_task(self._when_changed())

    async def _when_changed(self) -> None:
        changed = self.pool.changed
        assert changed is not None
        while True:  # look after clearing, in the same step: a probe that finished meanwhile is not missed
            changed.clear()
            if any(s.ready for s in self.pool.slots) or all(s.gone is not None for s in self.pool.slots):
                break
            await changed.wait()
        self._kick()

    async def _send(self, slot: Slot, group: list[_Pending]) -> None:
        import ray

        first = group[0]
        try:
            outcomes: list[Outcome] = await slot.handle.answer_many.remote(
                [(p.case_id, p.wire) for p in group], first.settings, first.max_answer_chars)
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
            self.pool.lost(slot)  # only this batch is lost; it goes to the other replicas
            self._again(group)
            return
        except Exception as e:  # noqa: BLE001 -- e.g. a payload Ray cannot serialise: those cases' error
            self._fail(group, RuntimeError(f"ray: {type(e).__name__}: {e}"[:500]))
            return
        finally:
            slot.inflight -= len(group)
        for p, outcome in zip(group, outcomes, strict=True):
            if not p.future.done():
                p.future.set_result(outcome)

    def _again(self, group: list[_Pending]) -> None:
        for p in group:
            p.lost += 1
            if p.lost > self.resends:
                self._fail([p], TransientError(f"{self.pool.spec}: {p.lost} Ray replicas were lost while "
                                               "answering this case"))
            elif not p.future.done():
                self._enqueue(p)

    @staticmethod
    def _fail(group: list[_Pending], e: BaseException) -> None:
        for p in group:
            if not p.future.done():
                p.future.set_exception(e)

    def pending(self) -> list[Any]:
        """The sends in flight (closing the pool cancels them)."""
        return list(self._sends)
