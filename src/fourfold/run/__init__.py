"""The scheduler: drives cases through models and judges into the store.

One asyncio loop, a fixed pool of workers per model (bounded concurrency
without thousands of waiting tasks), retries with backoff, and a writer that
commits finished results every 50 ms. Resuming is just skipping the keys the
store already has: a key hashes the model identity, the generation settings and
the case content, so any change to one of them re-runs the case.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sqlite3
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from ..cases import LoadedCase
from ..judge import Judgement, Verdict, judge, judge_now
from ..models import (
    DEFAULT_MAX_ANSWER_CHARS,
    TOKEN_LIMIT_REASONS,
    BackendUnusable,
    Generation,
    GenerationSettings,
    ModelBackend,
    NoResponse,
    PermanentError,
    TransientError,
    cap_answer,
)
from ..secrets import redact
from ..store import ResultRow, ResultWriter, Store, StoreWriteError, describe_error
from ..store.checkpoint import Checkpointer
from .limits import AdaptiveLimit, Gate, RateLimits
from .progress import RunProgress


@dataclass
class RunConfig:
    """How the runner drives every model: a fixed pool of ``concurrency`` workers per
    model, ``retries`` with capped exponential backoff for transient errors, and the
    decoding ``settings``, which are part of every result's key (changing them re-runs)."""

    concurrency: int = 8
    #: Retries after the first attempt: 0 is one attempt and no retry.
    retries: int = 5
    timeout_s: float = 300.0
    backoff_base_s: float = 0.25
    backoff_cap_s: float = 30.0
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    progress: bool = True
    #: Stored answers are cut here, visibly marked (see ``models.cap_answer``).
    max_answer_chars: int = DEFAULT_MAX_ANSWER_CHARS
    #: ``--concurrency auto``: each model's limit adapts (AIMD, ``run.limits``) between
    #: ``adaptive_start`` and ``max_concurrency``; ``concurrency`` is then unused.
    adaptive: bool = False
    adaptive_start: int = 4
    max_concurrency: int = 256
    #: Requests/tokens per minute, by the spec's backend part (``openai``); ``""``: every model.
    #: Each model has its own buckets (providers' limits are per model).
    rate_limits: dict[str, RateLimits] = field(default_factory=dict)

    def limits_for(self, spec: str) -> RateLimits | None:
        return self.rate_limits.get(spec.partition("/")[0]) or self.rate_limits.get("")


@dataclass
class ModelSummary:
    model: str
    skipped: int = 0  # already in the store
    sent: int = 0
    errors: int = 0
    #: Why the model was stopped before its cases were done (its remaining cases stay unsent).
    stopped: str | None = None
    #: Cases another run on the same store was answering (claimed there), not sent by this one.
    elsewhere: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    by_cell: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    #: Tokens the stored results of this run reported, by cell (a cell absent: none reported).
    prompt_tokens: Counter[str] = field(default_factory=Counter)
    completion_tokens: Counter[str] = field(default_factory=Counter)
    #: ``--concurrency auto``: where the limit ended, its peak and how often it was cut.
    adaptive: AdaptiveLimit | None = None
    #: Answers of this run that stopped at the token limit (``--max-tokens``): judged as cut.
    cut: int = 0


@dataclass
class RunSummary:
    run_id: str
    models: list[ModelSummary]
    wall_s: float
    interrupted: bool = False


class NotEvaluated(str):
    """Why a case got no answer by design (see ``NoResponse``)."""


def _token_estimate(messages: list[Any], settings: GenerationSettings) -> int:
    """What a call may use before it is made (``--token-limit``): about 4 characters a
    token for the prompt's text, plus the most it may answer; corrected afterwards."""
    return sum(len(p.text) for m in messages for p in m.parts) // 4 + settings.max_tokens


def _tokens_used(gen: object) -> int | None:
    p, c = getattr(gen, "prompt_tokens", None), getattr(gen, "completion_tokens", None)
    return p + c if isinstance(p, int) and isinstance(c, int) else None


def result_key(identity_json: str, settings_json: str, case_hash: str) -> str:
    return hashlib.sha256(f"{identity_json}\x00{settings_json}\x00{case_hash}".encode()).hexdigest()


def _backoff(cfg: RunConfig, attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with equal jitter; a server's Retry-After is a floor."""
    b = min(cfg.backoff_cap_s, cfg.backoff_base_s * 2 ** (attempt - 1))
    delay = b / 2 + random.uniform(0, b / 2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, 300.0))
    return delay


class Runner:
    def __init__(self, store: Store, cfg: RunConfig, run_id: str | None = None,
                 on_result: Callable[[str, str, str], None] | None = None,
                 on_stored: Callable[[list[ResultRow]], None] | None = None):
        """``on_result``: told of each result as it is recorded (model, case id, verdict);
        ``on_stored``: given each batch of results once committed, as stored."""
        self.store = store
        self.cfg = cfg
        self.run_id = run_id or time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self.claims = store.claims()
        self.writer = ResultWriter(store, claims=self.claims, on_stored=on_stored)
        self.checkpoints: Checkpointer | None = None  # while ``run`` runs
        self.on_result = on_result
        self._sandbox_slots = asyncio.Semaphore(2)
        self._unjudged: list[Callable[[], None]] = []
        self._frame_cache: Any = None
        self._case_rows: dict[bool, list[tuple[str, str, str, str, str | None, str | None, str]]] = {
            True: [], False: []}

    def _register(self, lc: LoadedCase, case_hash: str, replace: bool) -> None:
        """Store each case once, with the results' next commit: reports show inputs
        from the store, not from files. The first model's cases replace (new
        metadata wins); the other models' only fill in what is missing."""
        self._case_rows[replace].append(
            (case_hash, lc.case.id, lc.case.cell, lc.case.category, lc.suite, str(lc.base),
             lc.case.model_dump_json(exclude_none=True)))

    def _store_cases(self) -> None:
        for replace, rows in self._case_rows.items():
            if rows:
                self._case_rows[replace] = []
                self.store.put_cases(rows, replace=replace)

    async def plan(self, backend: ModelBackend) -> tuple[str, str]:
        """The model's identity and the settings, as every result key hashes them."""
        identity = await backend.identity()
        return json.dumps(identity, sort_keys=True), self.cfg.settings.model_dump_json()

    def units(self, cases: Iterable[LoadedCase], ident: str, settings: str, register: bool | None
              ) -> Iterator[Unit]:
        """(case, result key, case hash) for each case, computed as the case is
        reached; each case is queued to be stored (``register``: replace or not; None: not)."""
        for lc in cases:
            h = lc.case.content_hash()
            if register is not None:
                self._register(lc, h, register)
            yield lc, result_key(ident, settings, h), h

    def _row(self, backend: ModelBackend, unit: Unit, ident: str, settings: str, **kw: object) -> ResultRow:
        lc, key, case_hash = unit
        return ResultRow(key=key, model=backend.label, model_identity=ident, settings=settings,
                         case_id=lc.case.id, case_hash=case_hash, cell=lc.case.cell,
                         category=lc.case.category, run_id=self.run_id, **kw)  # type: ignore[arg-type]

    async def _call(self, backend: ModelBackend, lc: LoadedCase, gate: Gate | None = None
                    ) -> tuple[Generation | str, int, float]:
        """Returns (Generation, or NotEvaluated, or an error message; attempts; latency).
        ``gate`` (adaptive concurrency, rate limits) is passed through before each
        attempt and told how it went; None (a fixed ``--concurrency``) costs nothing."""
        cfg = self.cfg
        try:
            if self._frame_cache is None and lc.case.media():
                from ..cases.media.video import FrameCache

                self._frame_cache = FrameCache()
            msgs = await backend.prepare(lc, cfg.settings, self._frame_cache)
        except (OSError, ValueError) as e:  # an unreadable clip is the case's fault, not the model's
            return f"cannot prepare media: {e}", 0, 0.0
        last = ""
        attempts = max(0, cfg.retries) + 1
        estimate = _token_estimate(msgs, cfg.settings) if gate is not None and gate.tokens is not None else 0
        for attempt in range(1, attempts + 1):
            if gate is not None:
                epoch = await gate.enter(estimate)
            t0 = time.perf_counter()
            retry_after, overload, ok, used = None, False, False, None
            try:
                async with asyncio.timeout(cfg.timeout_s):
                    gen = await backend.answer(lc.case.id, msgs, cfg.settings)
                if gate is not None:
                    ok, used = True, _tokens_used(gen)
                return self._checked(gen), attempt, time.perf_counter() - t0
            except NoResponse as e:
                return NotEvaluated(str(e)), attempt, 0.0
            except BackendUnusable:
                raise
            except TransientError as e:  # 429, 529, 5xx, a dropped connection: all say "slow down"
                last, retry_after, overload = str(e), e.retry_after, True
            except TimeoutError:
                last, overload = f"timed out after {cfg.timeout_s:g} s", True
            except PermanentError as e:
                return f"{e}", attempt, time.perf_counter() - t0
            except Exception as e:  # a backend bug costs this case, never the run
                return f"backend failed: {type(e).__name__}: {e}"[:2000], attempt, time.perf_counter() - t0
            finally:
                if gate is not None:
                    await gate.leave(epoch, estimate, used, ok=ok, overload=overload, retry_after=retry_after)
            if attempt < attempts:
                await asyncio.sleep(_backoff(cfg, attempt, retry_after))
        what = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        return f"failed after {what}: {last}", attempts, 0.0

    def _checked(self, gen: Generation) -> Generation | str:
        """The answer as it is judged and stored: text, cut at the answer cap (the
        stored copy marked), a short served-model name; a backend returning
        anything else is this case's error."""
        if not isinstance(gen, Generation) or not isinstance(gen.text, str):
            return f"backend returned {type(getattr(gen, 'text', gen)).__name__}, not text"
        if gen.served_model is not None:
            gen.served_model = str(gen.served_model)[:200]
        judged, stored = cap_answer(gen, self.cfg.max_answer_chars)
        if stored is not gen.text:
            gen.text = judged
            gen.extra["stored_text"] = stored
        return gen

    async def _judge_later(self, lc: LoadedCase, text: str, finish: Callable[[Judgement], None]) -> None:
        try:
            async with self._sandbox_slots:
                j = await judge(lc.case, text)
        except Exception as e:  # a judge bug must not lose the model's answer
            j = Judgement(Verdict.UNJUDGED, f"judge failed: {type(e).__name__}: {e}", "error")
        finish(j)

    async def run_model(self, backend: ModelBackend, cases: Iterable[LoadedCase], summary: ModelSummary,
                        advance: Callable[..., None], *, first: bool = True, total: int | None = None) -> None:
        """Send ``cases`` (iterated once, lazily: at most a few batches of them are held
        at a time) to one model; ``first``: this model's pass stores the cases."""
        ident, settings = await self.plan(backend)
        backend.max_answer_chars = self.cfg.max_answer_chars
        feed = _Feed(self.units(cases, ident, settings, register=first))
        slow_judges: set[asyncio.Task[None]] = set()

        def record(unit: Unit, **kw: object) -> None:
            self._record(summary, self._row(backend, unit, ident, settings, **kw), advance)

        def finish(unit: Unit, gen: Generation, attempts: int, latency: float, j: Judgement) -> None:
            record(unit, status="ok", verdict=j.verdict, rationale=j.rationale, judge=j.judge,
                   response=gen.extra.get("stored_text", gen.text), served_model=gen.served_model,
                   prompt_tokens=gen.prompt_tokens, completion_tokens=gen.completion_tokens, latency_s=latency,
                   attempts=attempts, finish_reason=_short(gen.finish_reason))

        n, gate = self._pool(backend, total if total is not None else _size(cases))
        summary.adaptive = gate.adaptive if gate is not None else None
        batch = max(16, 2 * n)

        async def worker() -> None:
            while (unit := self._take(feed, backend, summary, advance, batch, record)) is not None:
                summary.sent += 1
                try:
                    out, attempts, latency = await self._call(backend, unit[0], gate)
                except BackendUnusable as e:
                    if summary.stopped is None:
                        summary.stopped = redact(str(e))[:300]
                    feed.stop()  # nothing recorded: the next run, once fixed, sends them all
                    return
                if isinstance(out, NotEvaluated):
                    record(unit, status="not_evaluated", verdict=Verdict.NOT_EVALUATED, rationale=str(out)[:300],
                           judge="none", attempts=attempts)
                elif isinstance(out, str):
                    record(unit, status="error", verdict=Verdict.ERROR, rationale=redact(out)[:300], judge="none",
                           error=out, attempts=attempts)
                else:
                    # Judge and record at the next flush, not here: every microsecond between a response
                    # and the next request is lost concurrency when replies arrive in bursts.
                    self._unjudged.append(lambda a=(unit, out, attempts, latency): judge_soon(*a))

        def judge_soon(unit: Unit, out: Generation, attempts: int, latency: float) -> None:
            try:
                j = judge_now(unit[0].case, out.text)
            except Exception as e:  # a judge bug must not lose the model's answer
                j = Judgement(Verdict.UNJUDGED, f"judge failed: {type(e).__name__}: {e}", "error")
            if j is not None:
                finish(unit, out, attempts, latency, j)
            else:  # unit tests: run them in the sandbox without holding up anything else
                t = asyncio.create_task(self._judge_later(
                    unit[0], out.text, lambda j, a=(unit, out, attempts, latency): finish(*a, j)))
                slow_judges.add(t)
                t.add_done_callback(slow_judges.discard)

        await asyncio.gather(*(worker() for _ in range(n)))
        self._drain()
        while slow_judges:
            await asyncio.gather(*list(slow_judges))

    def _pool(self, backend: ModelBackend, queued: int) -> tuple[int, Gate | None]:
        """How many workers the model gets, and the gate its calls pass (None: the
        workers alone bound concurrency, as with a fixed ``--concurrency``). Adaptive:
        a worker per slot up to the ceiling, the gate's moving limit saying how many call."""
        cfg = self.cfg
        top = cfg.max_concurrency if cfg.adaptive else cfg.concurrency
        n = min(top, backend.max_concurrency or top, max(1, queued))
        limits = cfg.limits_for(backend.spec)
        if not cfg.adaptive and limits is None:
            return n, None
        adaptive = AdaptiveLimit(start=min(cfg.adaptive_start, n), ceiling=n) if cfg.adaptive else None
        return n, Gate(adaptive, limits or RateLimits())

    def _take(self, feed: _Feed, backend: ModelBackend, summary: ModelSummary, advance: Callable[..., None],
              batch: int, record: Callable[..., None]) -> Unit | None:
        """The next case to send, or None: none left, the model was stopped, or the
        store cannot commit (sending more would be paying for answers that are lost).
        Cases are read from the feed ``batch`` at a time and their keys claimed
        together, so another run on this store sends none of them; what is held in
        memory is this batch, the calls in flight and the results not yet committed."""
        while not feed.claimed and not feed.done and summary.stopped is None and self.writer.failed is None:
            taken = feed.next(batch)
            try:
                mine, before, _ = self.claims.claim_split([key for _, key, _ in taken])
            except sqlite3.Error as e:
                self.writer.fail(e)
                break
            for unit in reversed(taken):
                lc, key, _ = unit
                if key not in mine:  # stored already, or finished or in flight in another run on this store
                    if key in before:
                        summary.skipped += 1
                    else:
                        summary.elsewhere += 1
                    advance(lc.case.cell, "stored")
                    continue
                missing = backend.capabilities.missing(lc.case.needs())
                if missing:
                    record(unit, status="not_evaluated", verdict=Verdict.NOT_EVALUATED, judge="none",
                           rationale=f"{backend.label} does not accept {', '.join(missing)}")
                else:
                    feed.claimed.append(unit)
        if summary.stopped is not None or self.writer.failed is not None:
            feed.stop()
        return feed.claimed.pop() if feed.claimed else None

    def _record(self, summary: ModelSummary, row: ResultRow, advance: Callable[..., None]) -> None:
        self.writer.add(row)
        summary.verdicts[row.verdict] += 1
        summary.by_cell[row.cell][row.verdict] += 1
        if row.status == "error":
            summary.errors += 1
        if row.prompt_tokens is not None:
            summary.prompt_tokens[row.cell] += row.prompt_tokens
        if row.completion_tokens is not None:
            summary.completion_tokens[row.cell] += row.completion_tokens
        if row.finish_reason in TOKEN_LIMIT_REASONS:
            summary.cut += 1
        advance(row.cell, row.status)
        if self.on_result:
            self.on_result(row.model, row.case_id, row.verdict)

    def _drain(self) -> None:
        """Judge what the workers have handed over (rule judges are synchronous)."""
        while self._unjudged:
            batch, self._unjudged = self._unjudged, []
            for fn in batch:
                fn()

    def _flush(self) -> None:
        """Judge what arrived, store the cases reached and the results, in that order."""
        self._drain()
        cp = self.checkpoints
        if cp is not None and cp.busy:  # no commit lands in a checkpoint: the results wait (store.checkpoint)
            return
        if cp is not None and cp.overdue:
            cp.truncate()
        if self.writer.failed is None:
            try:
                self._store_cases()
            except sqlite3.Error as e:  # the disk is full: stop sending
                self.writer.fail(e)
        self.writer.flush()
        if cp is not None:
            cp.request_if_due(self.writer.written)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.writer.interval)
            self._flush()

    async def run(self, cases: Iterable[LoadedCase], backends: list[ModelBackend], argv: list[str] | None = None
                  ) -> RunSummary:
        """Every model on every case. ``cases`` is iterated once per model, lazily (a
        ``cases.CaseSource`` reads its files again each time; a list works too), and
        should say how many cases each cell has (``cell_counts``) for the progress line."""
        t0 = time.perf_counter()
        if iter(cases) is cases:  # a generator would be used up by the first model (or the count)
            raise TypeError("Runner.run needs cases it can iterate again: a list or a cases.CaseSource")
        try:
            self.store.start_run(self.run_id, argv or [])
        except sqlite3.Error as e:
            raise describe_error(self.store.path, e, "start a run") from None
        summaries = [ModelSummary(b.label) for b in backends]
        flusher = asyncio.create_task(self._flush_loop())
        counts = getattr(cases, "cell_counts", None)
        counts = Counter(counts) if counts is not None else Counter(lc.case.cell for lc in cases)
        progress = RunProgress(counts, [b.label for b in backends], enabled=self.cfg.progress)
        status = "interrupted"
        self.checkpoints = self.store.checkpointer()  # no fsync stalls on the loop's thread (store.checkpoint)
        self.checkpoints.start()
        try:
            with progress:
                await asyncio.gather(*(
                    self.run_model(b, cases, s, progress.advancer(b.label), first=i == 0, total=counts.total())
                    for i, (b, s) in enumerate(zip(backends, summaries, strict=True))
                ))
            status = "finished"
        finally:
            flusher.cancel()
            try:
                await flusher
            except (asyncio.CancelledError, Exception):
                pass
            self._drain()
            self.checkpoints.stop()  # first: the last flush must not wait for a checkpoint
            self._close_store(status)
            for b in backends:
                try:
                    await b.aclose()
                except Exception:  # closing must not hide the real outcome
                    pass
        if self.writer.failed is not None:
            raise StoreWriteError(
                f"{self.writer.failed}: stopped sending; {self.writer.written} result(s) of this run are stored "
                f"and kept, {self.writer.lost} answer(s) could not be stored. Once that is "
                "fixed (room made, the other process ended), run the same command again: it sends only what is "
                "missing")
        return RunSummary(self.run_id, summaries, time.perf_counter() - t0)

    def _close_store(self, status: str) -> None:
        """Last flush, run status, claims given back; a store that cannot be written
        any more leaves ``writer.failed`` set, which ``run`` reports."""
        try:
            self._flush()
            self.store.finish_run(self.run_id, "failed" if self.writer.failed else status)
            self.claims.release()
        except sqlite3.Error as e:
            self.writer.fail(e)


#: One piece of work: the case, its result key for this model, the case's content hash.
Unit = tuple[LoadedCase, str, str]


class _Feed:
    """A model's cases as they are reached: read ``next(n)`` at a time, never all at once."""

    def __init__(self, units: Iterator[Unit]):
        self._units = units
        self.claimed: list[Unit] = []
        self.done = False

    def next(self, n: int) -> list[Unit]:
        taken = list(islice(self._units, n))
        if len(taken) < n:
            self.done = True
        return taken

    def stop(self) -> None:
        self.done = True
        self.claimed.clear()


def _short(reason: object) -> str | None:
    """A backend's finish reason as stored: a short string (it comes from the server)."""
    return None if reason is None else str(reason)[:40]


def _size(cases: Iterable[LoadedCase]) -> int:
    try:
        return len(cases)  # type: ignore[arg-type]
    except TypeError:
        return 1 << 30


__all__ = ["AdaptiveLimit", "Gate", "ModelSummary", "RateLimits", "RunConfig", "RunSummary", "Runner", "Unit", "result_key"]
