"""Model backends behind one async interface, and the registry that builds them from specs.

A spec is ``BACKEND/REST``: ``smollm2`` (the embedded default),
``llamacpp/PATH.gguf``, ``openai/NAME[@BASE_URL][#CAPS]`` or
``replay/PATH.jsonl[#MODEL]``. The part before the first ``/`` picks the backend
in ``BACKENDS``; the backend's ``from_spec`` parses the rest. Entries are lazy
(``"module:Class"``): a run that uses only ``openai/`` never imports the
llama.cpp backend, and ``fourfold --help`` imports none.

Adding a backend: one new module with a ``ModelBackend`` subclass, and one line
below (or in a plugin module named in ``FOURFOLD_PLUGINS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..registry import Registry
from .base import (
    DEFAULT_MAX_ANSWER_CHARS,
    TOKEN_LIMIT_REASONS,
    BackendSpec,
    BackendUnusable,
    Capabilities,
    ChatMessage,
    ChatPart,
    Generation,
    GenerationSettings,
    MalformedReply,
    MissingExtra,
    ModelBackend,
    ModelSpecError,
    NoResponse,
    PermanentError,
    TransientError,
    cap_answer,
    to_openai_messages,
)

DEFAULT_MODEL = "smollm2"

BACKENDS: Registry[type[ModelBackend]] = Registry(
    "model backend", base=ModelBackend, error=ModelSpecError, describe=lambda name, cls: cls.syntax or name)
BACKENDS.register("smollm2", "fourfold.models.llamacpp:EmbeddedBackend")
BACKENDS.register("llamacpp", "fourfold.models.llamacpp:LlamaCppBackend")
BACKENDS.register("replay", "fourfold.models.replay:ReplayBackend")
BACKENDS.register("openai", "fourfold.models.openai:OpenAIBackend")
BACKENDS.register("anthropic", "fourfold.models.anthropic:AnthropicBackend")
BACKENDS.register("gemini", "fourfold.models.gemini:GeminiBackend")
BACKENDS.register("hf", "fourfold.models.hf:HFBackend")


def create_backend(spec: str) -> ModelBackend:
    """Build a backend from its spec, with a "did you mean" for a mistyped backend."""
    parsed = BackendSpec.parse(spec)
    if parsed.backend not in BACKENDS:
        raise BACKENDS.unknown(parsed.backend, what=f"unknown model spec {parsed.text!r}")
    cls = BACKENDS.get(parsed.backend)
    missing = cls.missing_modules()
    if missing:  # before from_spec, which may need them; nothing is run or recorded
        raise MissingExtra(f"model spec {parsed.text!r} needs {', '.join(missing)}, not installed here: "
                           f"{cls.install_hint()}")
    return cls.from_spec(parsed)


@dataclass(frozen=True)
class BackendInfo:
    """One line of ``fourfold models``."""

    prefix: str
    syntax: str
    accepts: str
    description: str
    #: The pip extra it needs ("" for none), whether what it needs is installed,
    #: and, when not, the command that installs it.
    extra: str
    installed: bool
    install: str | None


def backend_infos() -> list[BackendInfo]:
    """Every registered backend, described by its own class (imports each backend
    module, none of their heavy libraries: for listings, not start-up)."""
    out = []
    for name, cls in BACKENDS.items():
        missing = cls.missing_modules()
        out.append(BackendInfo(name, cls.syntax or name, cls.accepts, cls.description, cls.extra, not missing,
                               cls.install_hint() if missing else None))
    return out


def __getattr__(name: str) -> Any:
    # The embedded model's location lives with the llama.cpp backend; importing it
    # only when asked keeps that module out of runs that do not use it.
    if name == "embedded_model_path":
        from .llamacpp import embedded_model_path

        return embedded_model_path
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BACKENDS", "DEFAULT_MAX_ANSWER_CHARS", "DEFAULT_MODEL", "BackendInfo", "BackendSpec", "BackendUnusable",
    "Capabilities", "ChatMessage", "ChatPart", "Generation", "GenerationSettings", "MalformedReply", "MissingExtra", "ModelBackend",
    "ModelSpecError", "NoResponse", "PermanentError", "TOKEN_LIMIT_REASONS", "TransientError", "backend_infos", "cap_answer",
    "create_backend", "embedded_model_path", "to_openai_messages",
]
