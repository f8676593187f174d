"""The one async interface every backend implements, and the typed chat
messages it receives.

Backends never see case files or references: they get chat messages whose media
parts are already resolved to local files, so a new provider only has to map
``ChatMessage`` to its wire format (see ``to_openai_messages``).
"""

from __future__ import annotations

import base64
import importlib.util
import mimetypes
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

if TYPE_CHECKING:
    from ..cases import LoadedCase
    from ..cases.media.video import FrameCache


@dataclass(frozen=True)
class Capabilities:
    """What a backend accepts. A case needing more is stored as ``not_evaluated``."""

    text: bool = True
    image: bool = False
    multi_image: bool = False
    video: bool = False

    def names(self) -> list[str]:
        return [k for k in ("text", "image", "multi_image", "video") if getattr(self, k)]

    def missing(self, needs: set[str]) -> list[str]:
        """What the backend lacks for a case needing ``needs``. Video is also
        accepted as frames (multi-image backends) or one stitched grid (single
        image backends), as the report fed video to image models."""
        need = set(needs)
        if "video" in need and self.video_mode() is not None:
            need.discard("video")
            need.add("multi_image" if self.video_mode() == "frames" else "image")
        return sorted(n for n in need if not getattr(self, n))

    def video_mode(self) -> Literal["native", "frames", "grid"] | None:
        if self.video:
            return "native"
        if self.multi_image:
            return "frames"
        if self.image:
            return "grid"
        return None


#: Every input kind natively: what a backend that sees anything (Gemini, recorded answers) declares.
ALL_INPUTS = Capabilities(text=True, image=True, multi_image=True, video=True)


class GenerationSettings(BaseModel):
    """Decoding settings; part of every result's key, so changing one re-runs.

    Every sampler field is in the dump, defaults too: the key says exactly how an
    answer was decoded. (Adding them changed every key once: answers stored
    before were decoded under each path's own unstated defaults.)"""

    model_config = ConfigDict(frozen=True, extra="forbid")
    temperature: float = Field(default=0.0, ge=0)
    max_tokens: int = Field(default=256, ge=1)
    seed: int = 1234
    top_p: float = Field(default=1.0, gt=0, le=1)
    #: The rest of the sampler, always sent, so that every path decodes alike: left
    #: unsaid, each applies its own defaults (llama-cpp-python's server a repeat
    #: penalty of 1.1, its library 1.0), and the same weights gave different greedy
    #: answers in process and through the server. The penalties and typical-p are
    #: off, as they can change which token is likeliest; top-k and min-p never drop
    #: the likeliest token, so they leave temperature 0 plain greedy, and when
    #: sampling they are llama.cpp's defaults, now on every path (``top_k`` 0: no cut).
    top_k: int = Field(default=40, ge=0)
    min_p: float = Field(default=0.05, ge=0, le=1)
    typical_p: float = Field(default=1.0, gt=0, le=1)
    #: llama.cpp's multiplicative penalty on recent tokens (vLLM's ``repetition_penalty``); 1.0 is none.
    repeat_penalty: float = Field(default=1.0, gt=0)
    presence_penalty: float = Field(default=0.0, ge=-2, le=2)
    frequency_penalty: float = Field(default=0.0, ge=-2, le=2)
    #: Frames sampled from a video for models that take images (the report used 16).
    video_frames: int = Field(default=16, ge=1, le=64)
    #: Constrain the output to this JSON schema where the backend can (llama.cpp's grammar,
    #: OpenAI-compatible ``response_format``); others ignore it. Judges set it so their
    #: verdict object always parses. Left out of the dump when None, so existing result
    #: keys (which hash these settings) stay the same.
    json_schema: dict[str, Any] | None = None

    def llamacpp_sampler(self) -> dict[str, Any]:
        """Every step of the sampler in llama.cpp's words: llama-cpp-python's
        arguments, and the request fields of its server (and of llama.cpp's own),
        mirostat switched off too. Stated in full on both, so neither path's
        defaults decide any part of an answer."""
        return {"temperature": self.temperature, "top_p": self.top_p, "top_k": self.top_k, "min_p": self.min_p,
                "typical_p": self.typical_p, "repeat_penalty": self.repeat_penalty,
                "presence_penalty": self.presence_penalty, "frequency_penalty": self.frequency_penalty,
                "mirostat_mode": 0}

    @model_serializer(mode="wrap")
    def _drop_unset_schema(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        if data.get("json_schema") is None:
            data.pop("json_schema", None)
        return data


@dataclass(frozen=True)
class ChatPart:
    type: Literal["text", "image", "video"]
    text: str = ""
    path: Path | None = None


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    parts: tuple[ChatPart, ...]

    def text(self) -> str:
        return "\n".join(p.text for p in self.parts if p.type == "text")


#: Stored answers are cut to this many characters (``--max-answer-chars``): a runaway
#: answer of 50 MB must not take the run's memory or the report's size with it.
DEFAULT_MAX_ANSWER_CHARS = 100_000
TRUNCATION_MARK = "\n[... truncated by fourfold: {why}]"


#: ``Generation.finish_reason`` values that mean the answer hit the token limit
#: (OpenAI-compatible servers, llama.cpp and transformers; Anthropic; Gemini).
TOKEN_LIMIT_REASONS = frozenset({"length", "max_tokens", "MAX_TOKENS"})
#: ``Generation.finish_reason`` values that mean the model ended its answer itself
#: (the same backends, and replay), where the report has nothing to say.
PLAIN_STOP_REASONS = frozenset({"stop", "end_turn", "stop_sequence", "STOP", "eos", "replay"})


@dataclass
class Generation:
    text: str
    served_model: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    #: Set when the backend itself stopped reading the answer (why, in words).
    truncated: str | None = None


def cap_answer(gen: Generation, max_chars: int) -> tuple[str, str]:
    """(the text to judge, the text to store): at most ``max_chars`` characters,
    the stored one marked when cut. The judge sees no mark, so a number in it
    cannot become the answer to a numeric case."""
    text = gen.text
    why = gen.truncated
    if len(text) > max_chars:
        why = why or f"{len(text):,} characters in all"
        text = text[:max_chars]
    if why is None:
        return text, text
    return text, text + TRUNCATION_MARK.format(why=why)


class TransientError(Exception):
    """Worth retrying (rate limit, 5xx, connection reset, timeout)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Retrying cannot help (bad request, auth failure, unknown model)."""


class MalformedReply(PermanentError):
    """The server answered, but not in the wire format (a wrong type, a missing
    field, not JSON): stored as this case's error with the reason, never raised
    past the runner. Not retried within the run: a server that sends it once
    will likely send it again, and the next run retries stored errors anyway."""


class BackendUnusable(PermanentError):
    """No case can succeed (bad API key, unknown model, missing weights): the
    runner stops this model at once instead of recording every case as an error."""


class NoResponse(PermanentError):
    """The backend has no answer for this case by design (a replay file without
    it): recorded as ``not_evaluated``, not as an error."""


class ModelSpecError(ValueError):
    """A model spec that names no backend, or one its backend cannot parse."""


class MissingExtra(BackendUnusable):
    """The backend's libraries are not installed: the message names the pip command."""


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package that is missing or broken
        return False


@dataclass(frozen=True)
class BackendSpec:
    """A model spec split once: ``openai/gpt-4o@URL#image`` is backend ``openai``
    and the rest ``gpt-4o@URL#image``, which only that backend interprets (so
    ``#`` may mean capabilities to one backend and a model name to another)."""

    text: str
    backend: str
    rest: str

    @classmethod
    def parse(cls, text: str) -> BackendSpec:
        text = text.strip()
        backend, _, rest = text.partition("/")
        return cls(text, backend, rest)


class ModelBackend(ABC):
    """One model behind one interface. ``identity`` must pin down exactly which
    weights answer, since results are reused whenever it is unchanged.

    A new backend subclasses this, implements ``from_spec``, ``identity`` and
    ``generate``, fills in ``syntax``, ``accepts`` and ``description`` (what
    ``fourfold models`` lists), and is registered with one line in
    ``models/__init__.py`` (or a plugin module): ``BACKENDS.register(NAME, "module:Class")``.
    """

    kind: str = ""
    #: How a spec for this backend is written, e.g. ``openai/NAME[@BASE_URL][#CAPS]``.
    syntax: ClassVar[str] = ""
    #: What it accepts, in words (``fourfold models``).
    accepts: ClassVar[str] = "text"
    #: One line on what it is.
    description: ClassVar[str] = ""
    #: Modules the backend imports that a plain install lacks (importable names,
    #: e.g. ``("torch", "transformers")``), and the extra that installs them
    #: (``pip install 'fourfold[EXTRA]'``). Checked with ``find_spec``, never imported,
    #: so ``fourfold models`` and a spec with a missing extra cost no heavy import.
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str] = ""
    capabilities: Capabilities = Capabilities()
    #: Upper bound on concurrent requests the backend can use (None: the run's).
    max_concurrency: int | None = None
    #: Answers longer than this are cut (the runner sets it from ``--max-answer-chars``);
    #: a backend that reads replies itself uses it to bound what it reads.
    max_answer_chars: int = DEFAULT_MAX_ANSWER_CHARS

    def __init__(self, spec: str):
        self.spec = spec

    @classmethod
    def missing_modules(cls) -> list[str]:
        """The modules in ``requires`` that cannot be imported here (found, not imported)."""
        return [m for m in cls.requires if not _importable(m)]

    @classmethod
    def install_hint(cls) -> str:
        """How to install what ``requires`` names: the extra's pip command."""
        return f"pip install 'fourfold[{cls.extra}]'" if cls.extra else f"pip install {' '.join(cls.requires)}"

    @classmethod
    def from_spec(cls, spec: BackendSpec) -> Self:
        """The backend for ``spec`` (whose ``backend`` part named this class);
        each backend parses its own ``rest`` and raises ``ModelSpecError`` on a bad one."""
        raise ModelSpecError(f"model spec {spec.text!r}: {cls.__name__} cannot be built from a spec")

    @property
    def label(self) -> str:
        """Name shown in reports."""
        return self.spec

    @abstractmethod
    async def identity(self) -> dict[str, Any]:
        """Stable description of the model (file hash, served name, ...); never secrets."""

    @abstractmethod
    async def generate(self, messages: list[ChatMessage], settings: GenerationSettings) -> Generation:
        """An answer to ``messages`` (judges call this: their prompts are no case)."""

    async def prepare(self, case: LoadedCase, settings: GenerationSettings, frames: FrameCache | None = None
                      ) -> list[ChatMessage]:
        """The case as the chat messages this backend is sent: by default, video
        as the file, frames or one grid, as ``capabilities.video_mode()`` says
        (see ``models.messages``). ``frames`` is the shared frame cache. A
        backend that wants its media otherwise overrides this."""
        from .messages import prepare_messages

        return await prepare_messages(case, self.capabilities.video_mode(), settings.video_frames, frames)

    async def answer(self, case_id: str, messages: list[ChatMessage], settings: GenerationSettings) -> Generation:
        """The answer to case ``case_id``, asked as ``messages``: what the runner
        calls. Most backends only need the messages; one that answers by case id
        (replay: recorded answers) overrides this, and may raise ``NoResponse``."""
        return await self.generate(messages, settings)

    async def aclose(self) -> None:  # noqa: B027 -- optional hook
        pass


# ----------------------------------------------------------- wire conversions


def _data_url(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def chat_turns(messages: Iterable[ChatMessage], media_part: Callable[[ChatPart], dict[str, Any]],
               parts_always: bool = False) -> list[dict[str, Any]]:
    """The ``{role, content}`` turns every chat API shares: a text-only message's
    content as one string (which every server and text chat template accepts;
    ``parts_always`` for vision processors' templates, which iterate parts), any
    other's as a list of parts, ``{"type": "text", "text": ...}`` for text and
    ``media_part(part)`` for an image or video (in order: ``media_part`` may collect
    the media beside; it raises ``PermanentError`` for a part its API cannot take)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if not parts_always and all(p.type == "text" for p in m.parts):
            out.append({"role": m.role, "content": m.text()})
        else:
            content = [{"type": "text", "text": p.text} if p.type == "text" else media_part(p) for p in m.parts]
            out.append({"role": m.role, "content": content})
    return out


def to_openai_messages(messages: list[ChatMessage], image_url: Callable[[Path], str] = _data_url
                       ) -> list[dict[str, Any]]:
    """Chat-completions format: plain strings for text-only messages (accepted by
    every OpenAI-compatible server), content parts with data URLs for images
    (``image_url`` makes them: llama.cpp's vision handlers want some types re-encoded)."""
    def media(p: ChatPart) -> dict[str, Any]:
        if p.type == "image" and p.path is not None:
            return {"type": "image_url", "image_url": {"url": image_url(p.path)}}
        raise PermanentError("this backend cannot send video parts")

    return chat_turns(messages, media)
