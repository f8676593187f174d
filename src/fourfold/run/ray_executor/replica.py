"""What runs inside a Ray actor: one model replica, and the typed outcome it sends back.

An actor builds its own backend from the model spec (the weights load once per
replica, where the actor is placed) and answers one case at a time or many
(async), as the backend allows. Exceptions do not cross the wire: a Ray error
wrapping a backend's exception loses its fields (``retry_after``) and its class
when the class cannot be rebuilt, so each call returns an ``Outcome`` that the
driver turns back into the backend's own exception (``Outcome.unwrap``).

Media travel as object references (``ray.put`` on the driver, where the case
and its frame cache are); a replica writes each object once to its own folder
and hands the backend a local path, so nothing is decoded or sent twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ...models import (
    BackendUnusable,
    ChatMessage,
    ChatPart,
    Generation,
    GenerationSettings,
    NoResponse,
    PermanentError,
    TransientError,
)
from ...secrets import redact

OutcomeKind = Literal["ok", "transient", "permanent", "unusable", "no_response", "failed"]


@dataclass(frozen=True)
class PortablePart:
    """A ``ChatPart`` that can cross to another node: media as an object reference."""

    type: Literal["text", "image", "video"]
    text: str = ""
    #: ``ray.ObjectRef`` of the file's bytes (typed loosely: ray is imported only when used).
    ref: Any = None
    suffix: str = ""


@dataclass(frozen=True)
class PortableMessage:
    role: Literal["system", "user", "assistant"]
    parts: tuple[PortablePart, ...]


@dataclass(frozen=True)
class Outcome:
    """One call's result as the replica saw it (never an exception object)."""

    kind: OutcomeKind
    generation: Generation | None = None
    message: str = ""
    retry_after: float | None = None

    def unwrap(self) -> Generation:
        """The generation, or the backend's exception raised again on the driver."""
        if self.kind == "ok" and self.generation is not None:
            return self.generation
        if self.kind == "transient":
            raise TransientError(self.message, self.retry_after)
        if self.kind == "unusable":
            raise BackendUnusable(self.message)
        if self.kind == "no_response":
            raise NoResponse(self.message)
        if self.kind == "permanent":
            raise PermanentError(self.message)
        raise RuntimeError(self.message)


def outcome_of(e: BaseException) -> Outcome:
    """The outcome for a backend's exception (most specific class first); redacted."""
    text = redact(str(e))[:2000]
    if isinstance(e, TransientError):
        return Outcome("transient", message=text, retry_after=e.retry_after)
    if isinstance(e, BackendUnusable):
        return Outcome("unusable", message=text)
    if isinstance(e, NoResponse):
        return Outcome("no_response", message=text)
    if isinstance(e, PermanentError):
        return Outcome("permanent", message=text)
    return Outcome("failed", message=redact(f"{type(e).__name__}: {e}")[:2000])


class Replica:
    """A Ray actor holding one model replica (``ray.remote(Replica)`` in ``pool``).

    Its constructor never raises: a model that cannot be built here (a missing
    key in this node's environment, no weights) is reported by ``ready`` so the
    driver can stop that model with one line instead of Ray restarting the actor."""

    def __init__(self, spec: str):
        self._error: str | None = None
        self._backend: Any = None
        self._media: dict[str, Path] = {}
        self._folder = Path(tempfile.mkdtemp(prefix="fourfold-media-"))
        try:
            from ...models import create_backend

            self._backend = create_backend(spec)
        except Exception as e:  # reported by ready(), once, to the driver
            self._error = redact(f"{type(e).__name__}: {e}")[:500]
            return
        threads = _assigned_cpus()
        if threads is not None and hasattr(self._backend, "n_threads"):
            # llama.cpp would take every core of the machine; the actor was given these
            self._backend.n_threads = threads

    async def ready(self, expected_identity: dict[str, Any]) -> tuple[bool, str]:
        """(True, this node's id) once the replica can answer; (False, why) if it never will:
        the model cannot be built here, or its identity here (the weights' hash, the served
        name) is not the driver's, whose identity keys every stored result."""
        if self._error is not None:
            return False, self._error
        import ray

        node = ray.get_runtime_context().get_node_id()
        try:
            here = await self._backend.identity()
        except Exception as e:  # noqa: BLE001 -- reported to the driver as this replica's fault
            return False, redact(f"identity failed on node {node[:12]}: {type(e).__name__}: {e}")[:500]
        if here != expected_identity:
            return False, (f"the model on node {node[:12]} is not the driver's: give every node the same weights "
                           f"and settings (there {_short(here)}, here {_short(expected_identity)})")
        return True, node

    async def answer(self, case_id: str, messages: list[PortableMessage], settings: GenerationSettings,
                     max_answer_chars: int) -> Outcome:
        if self._error is not None:
            return Outcome("unusable", message=self._error)
        self._backend.max_answer_chars = max_answer_chars
        try:
            local = [ChatMessage(m.role, tuple([await self._part(p) for p in m.parts])) for m in messages]
            gen = await self._backend.answer(case_id, local, settings)
        except Exception as e:  # every failure goes back as an outcome
            return outcome_of(e)
        if not isinstance(gen, Generation):  # the driver's runner explains it as the case's error
            return Outcome("failed", message=f"backend returned {type(gen).__name__}, not a Generation")
        return Outcome("ok", generation=gen)

    async def answer_many(self, calls: list[tuple[str, list[PortableMessage]]], settings: GenerationSettings,
                          max_answer_chars: int) -> list[Outcome]:
        """Several cases in one Ray call (``batching``), answered concurrently, in order."""
        return list(await asyncio.gather(*(self.answer(c, m, settings, max_answer_chars) for c, m in calls)))

    async def _part(self, p: PortablePart) -> ChatPart:
        if p.ref is None:
            return ChatPart(p.type, text=p.text)
        key = p.ref.hex()
        path = self._media.get(key)
        if path is None:
            data: bytes = await p.ref
            path = self._folder / f"{hashlib.sha256(data).hexdigest()[:24]}{p.suffix}"
            if not path.exists():
                path.write_bytes(data)
            self._media[key] = path
        return ChatPart(p.type, text=p.text, path=path)

    async def close(self) -> None:
        if self._backend is not None:
            await self._backend.aclose()


def _short(identity: dict[str, Any]) -> str:
    return redact(json.dumps(identity, sort_keys=True))[:100]


def _assigned_cpus() -> int | None:
    """The CPUs Ray gave this actor, rounded up (None outside Ray or with none declared)."""
    try:
        import ray

        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
    except Exception:  # noqa: BLE001 -- outside an actor: keep the backend's default
        return None
    if not cpus:
        return None
    return max(1, min(os.cpu_count() or 1, int(-(-cpus // 1))))
