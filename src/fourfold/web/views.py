"""What a page shows of a case: its messages, its media, and the responses in
the annotator's own blind order.

Blind judging: responses are shown as "Response A, B, ..." in an order shuffled
per (annotator, case) with a salted hash (stable across reloads, different
between people); the browser only sees opaque response ids.

Everything is scoped to the annotator: a case is looked up through their
assignments; anything else is a 404, the same answer as for a case that does
not exist, so nobody can probe for other cases.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException

from ..cases.media.video import FrameCache
from ..store import Store
from ..store import human as H

if TYPE_CHECKING:
    from .auth import Session


@dataclass
class MediaItem:
    index: int
    kind: str
    name: str
    frames: list[int]


@dataclass
class PartView:
    kind: str  # text | image | video
    text: str = ""
    media: MediaItem | None = None


@dataclass
class MessageView:
    role: str
    parts: list[PartView]


@dataclass
class ResponseView:
    rid: str
    label: str
    text: str
    verdict: str
    comment: str
    key: str


def label(i: int) -> str:
    """A, B, ..., Z, AA, AB, ...: a spreadsheet-style name for the i-th response."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def media_parts(case: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's image and video parts in prompt order: ``/media/{hash}/{i}`` indexes this list."""
    out = []
    for msg in case.get("input") or []:
        content = msg.get("content") or []
        if isinstance(content, str):
            continue
        for part in content:
            if isinstance(part, dict) and part.get("type") in ("image", "video") and part.get("path"):
                out.append(part)
    return out


def frame_files(cache: FrameCache | None, part: dict[str, Any]) -> list[Path]:
    """Frames the models saw for a video part, if the runner's frame cache has them."""
    if cache is None or part.get("type") != "video":
        return []
    return cache.frames_seen(str(part.get("sha256") or ""))


def messages(case: dict[str, Any], cache: FrameCache | None) -> list[MessageView]:
    """The case's input as the page shows it; media parts are numbered as ``media_parts`` numbers them."""
    msgs = []
    index = 0
    for msg in case.get("input") or []:
        content = msg.get("content") or []
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        parts = []
        for p in content:
            t = p.get("type") if isinstance(p, dict) else None
            if t == "text":
                parts.append(PartView("text", text=str(p.get("text", ""))))
            elif t in ("image", "video") and p.get("path"):
                frames = list(range(len(frame_files(cache, p)))) if t == "video" else []
                parts.append(PartView(t, media=MediaItem(index, t, Path(str(p["path"])).name, frames)))
                index += 1
        msgs.append(MessageView(str(msg.get("role", "user")), parts))
    return msgs


def prompt_text(case: dict[str, Any]) -> str:
    """The case's text parts, one paragraph each (what a lead reads next to a disagreement)."""
    return "\n\n".join(p.text for m in messages(case, None) for p in m.parts if p.kind == "text")


def anon_salt(store: Store) -> str:
    """A random salt made once per store: response ids and shuffles derived from it
    cannot be recomputed by an annotator who guesses model names."""
    return H.meta_value(store, "anon_salt", secrets.token_hex(16))


def _shuffle_digest(salt: str, annotator: str, case_hash: str, key: str) -> str:
    return hashlib.sha256(f"{salt}\x00{annotator}\x00{case_hash}\x00{key}".encode()).hexdigest()


def anonymised(store: Store, annotator: str, case_hash: str) -> list[tuple[str, dict[str, Any]]]:
    """``[(response id, result row)]`` in this annotator's shuffled order for the case."""
    salt = anon_salt(store)
    rows = H.case_responses(store, [case_hash]).get(case_hash, [])
    tagged = sorted(((_shuffle_digest(salt, annotator, case_hash, r["key"]), r) for r in rows), key=lambda t: t[0])
    return [(d[:16], r) for d, r in tagged]


def assigned_case(store: Store, s: Session, case_hash: str) -> dict[str, Any]:
    """The case if it is assigned to this annotator; 404 otherwise (also when it
    does not exist, so the answer says nothing about other people's cases)."""
    if len(case_hash) > 200 or not H.is_assigned(store, s.annotator, case_hash):
        raise HTTPException(404, "no such case among your assignments")
    case = store.cases([case_hash]).get(case_hash)
    if case is None:
        raise HTTPException(404, "no such case among your assignments")
    return case


__all__ = ["MediaItem", "MessageView", "PartView", "ResponseView", "anonymised", "assigned_case", "frame_files",
           "label", "media_parts", "messages", "prompt_text"]
