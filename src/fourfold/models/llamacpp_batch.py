"""Greedy generations of several calls decoded together in one llama.cpp batch.

One sequence at a time leaves most of a small model's time in per-call overhead
(a 135M model on 2 cores is memory- and dispatch-bound, not compute-bound), so
one ``llama_decode`` over B sequences costs little more than over one. The
engine has its own ``llama_context`` on the backend's model, with one KV cache
of ``n_seq_max = B`` sequences of the backend's ``n_ctx`` each, so every call
has the same room as it would alone.

The lock discipline of ``llamacpp`` holds: one driver thread does every decode,
and it holds the backend's lock from its first decode until no call is left, so
no other generation (sampled, grammar-constrained, load, close) runs meanwhile.
Calls reach it through a queue. A call whose caller gave up (a timeout) sets its
cancel flag; the driver drops that sequence between two decodes (its KV cells
are removed) and the others go on. A call cancelled while still queued never
touches the model.

Only plain greedy text calls come here (temperature 0, no JSON schema); each
sequence takes the argmax of its own logits, as llama.cpp's greedy sampler does
(the penalties are off in ``GenerationSettings`` by default, and a call that
sets one goes one at a time). The prompt, stop strings and length limit are the
ones ``create_chat_completion`` would use: the chat handler is called with a
stand-in that records what it would have sent.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import base

#: Most tokens one decode takes (prompts longer than this are fed over several steps).
N_BATCH = 512


@dataclass
class _Call:
    """One queued or running sequence (its prompt is made from ``messages`` by the driver, under the lock)."""

    messages: list[dict[str, Any]]
    max_tokens: int
    cancel: threading.Event
    deliver: Callable[[base.Generation | BaseException], None]
    prompt: list[int] = field(default_factory=list)
    stop: list[bytes] = field(default_factory=list)
    seq: int = -1
    fed: int = 0  # prompt tokens already in the KV cache
    out: list[int] = field(default_factory=list)
    fix: int = 0  # tokens still owed to an incomplete UTF-8 character (see _holds_back)


class _Recorder:
    """Stands in for ``Llama`` when the chat handler sends its completion: keeps the prompt tokens and
    stop strings it would have generated from, and generates nothing."""

    def __init__(self, llm: Any):
        self._llm = llm
        self.sent: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._llm, name)

    def create_completion(self, **kw: Any) -> Any:
        self.sent = kw
        return iter(())


def plain_greedy(settings: base.GenerationSettings) -> bool:
    """Whether a call may be batched: greedy, no grammar, no penalty (those need the whole sampler chain,
    so they go one at a time; at temperature 0 llama-cpp-python's chain is the penalties, then argmax)."""
    return (settings.temperature == 0 and settings.json_schema is None and settings.repeat_penalty == 1.0
            and settings.presence_penalty == 0 and settings.frequency_penalty == 0)


def chat_prompt(llm: Any, messages: list[dict[str, Any]], max_tokens: int) -> tuple[list[int], list[bytes], int]:
    """(prompt tokens, stop strings, max tokens) exactly as ``create_chat_completion`` would generate:
    the model's own chat handler formats and tokenizes, and ``_create_completion``'s limits apply."""
    from llama_cpp import llama_chat_format

    handler = (llm.chat_handler or llm._chat_handlers.get(llm.chat_format)
               or llama_chat_format.get_chat_completion_handler(llm.chat_format))
    rec = _Recorder(llm)
    handler(llama=rec, messages=messages, max_tokens=max_tokens, temperature=0.0, stream=True)
    prompt = rec.sent.get("prompt")
    if not isinstance(prompt, list):  # a handler that sends text: tokenized as _create_completion would
        prompt = llm.tokenize(str(prompt).encode(), add_bos=True, special=True)
    n_ctx = llm.n_ctx()
    if len(prompt) >= n_ctx:
        raise base.PermanentError(f"llama.cpp: Requested tokens ({len(prompt)}) exceed context window of {n_ctx}")
    stop = rec.sent.get("stop") or []
    stop = [stop] if isinstance(stop, str) else stop
    return prompt, [s.encode() for s in stop], min(max_tokens, n_ctx - len(prompt))


class BatchEngine:
    """Decodes up to ``size`` greedy calls at once on its own context of ``llm``'s model."""

    def __init__(self, size: int, n_ctx: int, n_threads: int, lock: threading.Lock, load: Callable[[], Any],
                 served_model: str):
        self.size, self.served_model = size, served_model
        self._n_ctx, self._n_threads = n_ctx, n_threads
        self._lock, self._load = lock, load  # the backend's lock and loader
        self._queue: list[_Call] = []
        self._q_lock = threading.Lock()
        self._driving = False
        self._ctx: Any = None
        self._batch: Any = None

    async def generate(self, messages: list[dict[str, Any]], settings: base.GenerationSettings) -> base.Generation:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[base.Generation] = loop.create_future()

        def deliver(result: base.Generation | BaseException) -> None:
            loop.call_soon_threadsafe(_settle, done, result)

        call = _Call(messages, settings.max_tokens, threading.Event(), deliver)
        with self._q_lock:
            self._queue.append(call)
            start = not self._driving
            self._driving = True
        if start:
            threading.Thread(target=self._drive, name="llamacpp-batch", daemon=True).start()
        try:
            return await done
        except asyncio.CancelledError:
            call.cancel.set()  # dropped at the driver's next step; the other sequences go on
            raise

    def _drive(self) -> None:
        """The one thread that decodes: holds the backend's lock until the queue is empty."""
        with self._lock:
            active: list[_Call] = []
            try:
                llm = self._load()
                while True:
                    active = self._admit(llm, active)
                    if not active:
                        with self._q_lock:
                            if not self._queue:
                                self._driving = False
                                return
                        continue
                    active = self._step(llm, active)
            except BaseException as e:  # noqa: BLE001 - every waiting caller hears of it
                self._forget()
                with self._q_lock:
                    waiting, self._queue, self._driving = self._queue, [], False
                for call in active + waiting:
                    call.deliver(e if isinstance(e, base.PermanentError) else base.PermanentError(f"llama.cpp: {e}"))

    def _admit(self, llm: Any, active: list[_Call]) -> list[_Call]:
        """Queued calls into free sequence slots (cancelled ones are dropped unseen)."""
        free = sorted(set(range(self.size)) - {c.seq for c in active})
        while free:
            with self._q_lock:
                if not self._queue:
                    break
                call = self._queue.pop(0)
            if call.cancel.is_set():
                continue
            try:
                call.prompt, call.stop, call.max_tokens = chat_prompt(llm, call.messages, call.max_tokens)
            except base.PermanentError as e:
                call.deliver(e)
                continue
            call.seq = free.pop(0)
            active.append(call)
        return active

    def _context(self, llm: Any) -> Any:
        import llama_cpp

        if self._ctx is None:
            # the one-at-a-time context's own settings (flash attention, KV types, RoPE, ...): any other
            # default changes the numbers, and with them greedy answers
            p = type(llm.context_params).from_buffer_copy(llm.context_params)
            p.n_ctx, p.n_seq_max = self._n_ctx * self.size, self.size
            p.n_batch = p.n_ubatch = N_BATCH
            ctx = llama_cpp.llama_init_from_model(llm._model.model, p)
            if ctx is None:
                raise base.BackendUnusable(f"llama.cpp could not make a context for {self.size} sequences")
            self._ctx, self._batch = ctx, llama_cpp.llama_batch_init(N_BATCH, 0, 1)
        return self._ctx

    def _step(self, llm: Any, active: list[_Call]) -> list[_Call]:
        """One decode: the next token of every generating sequence, then as much prompt as fits."""
        import llama_cpp

        ctx = self._context(llm)
        mem = llama_cpp.llama_get_memory(ctx)
        for call in [c for c in active if c.cancel.is_set()]:
            llama_cpp.llama_memory_seq_rm(mem, call.seq, -1, -1)
            active.remove(call)
        if not active:
            return active
        batch, n, wants = self._batch, 0, {}
        for call in active:
            if call.fed < len(call.prompt):
                continue
            n = _put(batch, n, call.out[-1], len(call.prompt) + len(call.out) - 1, call.seq, True)
            wants[id(call)] = n - 1
        for call in active:
            while call.fed < len(call.prompt) and n < N_BATCH:
                last = call.fed == len(call.prompt) - 1
                n = _put(batch, n, call.prompt[call.fed], call.fed, call.seq, last)
                call.fed += 1
                if last:
                    wants[id(call)] = n - 1
        batch.n_tokens = n
        rc = llama_cpp.llama_decode(ctx, batch)
        if rc != 0:
            raise base.PermanentError(f"llama.cpp: llama_decode returned {rc}")
        return [c for c in active if not self._next(llm, ctx, mem, c, wants.get(id(c)))]

    def _next(self, llm: Any, ctx: Any, mem: Any, call: _Call, row: int | None) -> bool:
        """Takes the call's greedy token from its logits row; True (and the answer delivered) once it is done."""
        import llama_cpp
        import numpy as np

        if row is None:  # its prompt is still being fed
            return False
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, row), shape=(llm.n_vocab(),))
        token = int(logits.argmax())
        finish: str | None = None
        text = b""
        if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
            finish = "stop"
            text = llm.detokenize(call.out, prev_tokens=call.prompt) if call.out else b""
        else:
            call.out.append(token)
            text = llm.detokenize(call.out, prev_tokens=call.prompt)
            if _holds_back(call, text):  # a character still incomplete: neither stop nor length is checked
                return False
            hit = [s for s in call.stop if s in text]
            if hit:
                finish, text = "stop", text[: text.index(hit[0])]
            elif len(call.out) >= call.max_tokens:
                finish = "length"
        if finish is None:
            return False
        llama_cpp.llama_memory_seq_rm(mem, call.seq, -1, -1)
        answer = text.decode("utf-8", errors="ignore")
        call.deliver(base.Generation(
            text=answer, served_model=self.served_model, prompt_tokens=len(call.prompt),
            completion_tokens=len(llm.tokenize(answer.encode(), add_bos=False)) if answer else 0,
            finish_reason=finish))
        return True

    def _forget(self) -> None:
        """Empties the KV cache after a failed decode, so no stale cells meet the next calls' sequences."""
        import llama_cpp

        if self._ctx is not None:
            llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self._ctx), True)

    def close(self) -> None:
        """Frees the context; the caller holds the backend's lock (so no decode runs) and frees the model after."""
        import llama_cpp

        if self._ctx is not None:
            llama_cpp.llama_batch_free(self._batch)
            llama_cpp.llama_free(self._ctx)
            self._ctx = self._batch = None


def _holds_back(call: _Call, text: bytes) -> bool:
    """``_create_completion``'s multibyte rule, quirks and all: while the text may end inside a UTF-8
    character it goes on generating, past ``max_tokens`` too, so a cut answer keeps its last character."""
    for k, char in enumerate(text[-3:]):
        k = 3 - k
        for num, pattern in ((2, 192), (3, 224), (4, 240)):
            if num > k and pattern & char == pattern:
                call.fix = num - k
    if call.fix > 0:
        call.fix -= 1
        return True
    return False


def _put(batch: Any, n: int, token: int, pos: int, seq: int, logits: bool) -> int:
    batch.token[n], batch.pos[n], batch.n_seq_id[n] = token, pos, 1
    batch.seq_id[n][0] = seq
    batch.logits[n] = 1 if logits else 0
    return n + 1


def _settle(done: asyncio.Future[base.Generation], result: base.Generation | BaseException) -> None:
    if done.done():  # the caller gave up meanwhile
        return
    if isinstance(result, BaseException):
        done.set_exception(result)
    else:
        done.set_result(result)
