"""The driver's side: a pool of replicas behind the ``ModelBackend`` interface.

``RayBackend`` looks to the runner like any other backend, so everything that
makes a run correct stays where it was, in the one driver process: the keys
(identity is computed here, exactly as a local run does, so resume works across
executors), the claims, the retries, the rate limits and adaptive concurrency
(the gate sits in front of every call, so all replicas of a model share it),
and the single writer of the store. Only ``generate`` goes out to an actor.

A replica that dies (its actor or node killed) loses only the calls it had in
flight: each is sent again to a replica that is ready, without counting as one of
the model's retries, and the dead one is probed until Ray has restarted it
(``max_restarts``) or given up on it.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...models import (
    BackendUnusable,
    ChatMessage,
    Generation,
    GenerationSettings,
    ModelBackend,
    TransientError,
)
from .batching import Coalescer
from .replica import PortableMessage, PortablePart, Replica

#: Times one call is sent again after losing its replica, before it counts as a failed attempt.
RESENDS = 3
#: A replica that has not answered a probe for this long is given up.
GONE_AFTER_S = 120.0
#: Media objects kept referenced by the driver (older ones are left to Ray's object store to free).
MEDIA_REFS = 512


@dataclass
class Slot:
    """One replica as the driver sees it: its actor, calls in flight, ready (answering) or given up (why)."""

    handle: Any
    inflight: int = 0
    ready: bool = False
    gone: str | None = None
    probe: asyncio.Task[None] | None = None


@dataclass
class ReplicaPool:
    """The actors of one model; calls go to the ready replica with the fewest in flight."""

    spec: str
    handles: list[Any]
    #: Send calls that arrive together as one Ray call (``batching``): replicas that take many at once.
    coalesce: bool = False
    slots: list[Slot] = field(init=False)
    #: Set when a replica gets ready or is given up (waiters for a free replica look again).
    changed: asyncio.Event | None = field(default=None, init=False)
    _media: OrderedDict[Path, Any] = field(default_factory=OrderedDict, init=False)
    #: The driver's identity of the model (``RayBackend.identity``): every replica must have the same.
    identity: dict[str, Any] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.slots = [Slot(h) for h in self.handles]
        self._coalescer = Coalescer(self, RESENDS) if self.coalesce else None

    def start(self) -> None:
        if self.changed is None:  # created inside the run's loop, on first use
            self.changed = asyncio.Event()
            for s in self.slots:
                s.probe = asyncio.create_task(self._probe(s))

    async def _probe(self, slot: Slot) -> None:
        """Wait until the replica answers ``ready`` (a new actor loading, a restarted one)."""
        import ray

        delay, t0 = 0.2, time.monotonic()
        while True:
            try:
                ok, why = await slot.handle.ready.remote(self.identity)
                if ok:
                    slot.ready = True
                else:
                    slot.gone = why
                break
            except ray.exceptions.RayError as e:
                if time.monotonic() - t0 > GONE_AFTER_S:
                    slot.gone = f"replica lost: {type(e).__name__}"
                    break
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        assert self.changed is not None
        self.changed.set()

    async def _pick(self) -> Slot:
        self.start()
        assert self.changed is not None
        while True:
            ready = [s for s in self.slots if s.ready]
            if ready:
                return min(ready, key=lambda s: s.inflight)
            if all(s.gone is not None for s in self.slots):
                why = next(s.gone for s in self.slots if s.gone)
                raise BackendUnusable(f"{self.spec}: no Ray replica can run it: {why}")
            self.changed.clear()
            await self.changed.wait()

    def lost(self, slot: Slot) -> None:
        if slot.ready:
            slot.ready = False
            slot.probe = asyncio.create_task(self._probe(slot))

    def portable(self, messages: list[ChatMessage]) -> list[PortableMessage]:
        """The messages with each media file put in the object store once (by path)."""
        return [PortableMessage(m.role, tuple(self._part(p.type, p.text, p.path) for p in m.parts))
                for m in messages]

    def _part(self, kind: Any, text: str, path: Path | None) -> PortablePart:
        if path is None:
            return PortablePart(kind, text)
        ref = self._media.get(path)
        if ref is None:
            import ray

            ref = self._media[path] = ray.put(path.read_bytes())
            if len(self._media) > MEDIA_REFS:
                self._media.popitem(last=False)
        else:
            self._media.move_to_end(path)
        return PortablePart(kind, text, ref, path.suffix)

    async def call(self, case_id: str, messages: list[ChatMessage], settings: GenerationSettings,
                   max_answer_chars: int) -> Generation:
        import ray

        wire = self.portable(messages)
        if self._coalescer is not None:
            return (await self._coalescer.call(case_id, wire, settings, max_answer_chars)).unwrap()
        for _ in range(RESENDS + 1):
            slot = await self._pick()
            slot.inflight += 1
            ref = slot.handle.answer.remote(case_id, wire, settings, max_answer_chars)
            try:
                outcome = await ref
            except asyncio.CancelledError:  # the runner's timeout: stop the generation there too
                ray.cancel(ref)
                raise
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
                self.lost(slot)  # only this call is lost; it goes to another replica
                continue
            finally:
                slot.inflight -= 1
            return outcome.unwrap()
        raise TransientError(f"{self.spec}: {RESENDS + 1} Ray replicas were lost while answering this case")

    async def close(self) -> None:
        import ray

        for task in self._coalescer.pending() if self._coalescer is not None else []:
            task.cancel()
        for s in self.slots:
            if s.probe is not None:
                s.probe.cancel()
        for s in self.slots:
            if s.ready:
                try:
                    await asyncio.wait_for(s.handle.close.remote(), 30)
                except (ray.exceptions.RayError, TimeoutError):
                    pass
            ray.kill(s.handle, no_restart=True)


class RayBackend(ModelBackend):
    """A backend whose answers come from Ray actors; everything else from the local
    instance (``inner``: never loaded here), so keys, capabilities and media
    preparation are exactly a local run's."""

    def __init__(self, inner: ModelBackend, pool: ReplicaPool, per_replica: int | None):
        super().__init__(inner.spec)
        self.inner = inner
        self.pool = pool
        self.kind = inner.kind
        self.capabilities = inner.capabilities
        self.max_concurrency = per_replica * len(pool.handles) if per_replica else None

    @property
    def label(self) -> str:
        return self.inner.label

    async def identity(self) -> dict[str, Any]:
        self.pool.identity = await self.inner.identity()
        return self.pool.identity

    async def prepare(self, case: Any, settings: GenerationSettings, frames: Any = None) -> list[ChatMessage]:
        return await self.inner.prepare(case, settings, frames)

    async def generate(self, messages: list[ChatMessage], settings: GenerationSettings) -> Generation:
        return await self.answer("", messages, settings)

    async def answer(self, case_id: str, messages: list[ChatMessage], settings: GenerationSettings) -> Generation:
        if not self.pool.identity:  # replicas are checked against it before their first call
            await self.identity()
        return await self.pool.call(case_id, messages, settings, self.max_answer_chars)

    async def aclose(self) -> None:
        try:
            await self.pool.close()
        finally:
            await self.inner.aclose()


def actor_class() -> Any:
    """``Replica`` as a Ray actor class (made here: importing this module never imports ray)."""
    import ray

    return ray.remote(Replica)
