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
from typing import TYPE_CHECKING

from fastapi import HTTPException

from ..cases.media.video import FrameCache
from ..cases.schema import Case, ImagePart, TextPart, VideoPart
from ..store import Store
from ..store import human as H
from ..store.records import StoredCase, StoredResult

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


def media_parts(case: Case) -> list[ImagePart | VideoPart]:
    """The case's image and video parts in prompt order: ``/media/{hash}/{i}`` indexes this list."""
    return [p for p in case.media() if p.path]


def frame_files(cache: FrameCache | None, part: ImagePart | VideoPart) -> list[Path]:
    """Frames the models saw for a video part, if the runner's frame cache has them."""
    if cache is None or not isinstance(part, VideoPart):
        return []
    return cache.frames_seen(part.sha256 or "")


def messages(case: Case, cache: FrameCache | None) -> list[MessageView]:
    """The case's input as the page shows it; media parts are numbered as ``media_parts`` numbers them."""
    msgs = []
    index = 0
    for msg in case.input:
        parts = []
        for p in msg.content:
            if isinstance(p, TextPart):
                parts.append(PartView("text", text=p.text))
            elif p.path:
                frames = list(range(len(frame_files(cache, p)))) if isinstance(p, VideoPart) else []
                parts.append(PartView(p.type, media=MediaItem(index, p.type, Path(p.path).name, frames)))
                index += 1
        msgs.append(MessageView(msg.role, parts))
    return msgs


def prompt_text(case: Case | None) -> str:
    """The case's text parts, one paragraph each (what a lead reads next to a disagreement)."""
    if case is None:
        return ""
    return "\n\n".join(p.text for m in case.input for p in m.content if isinstance(p, TextPart))


def anon_salt(store: Store) -> str:
    """A random salt made once per store: response ids and shuffles derived from it
    cannot be recomputed by an annotator who guesses model names."""
    return H.meta_value(store, "anon_salt", secrets.token_hex(16))


def _shuffle_digest(salt: str, annotator: str, case_hash: str, key: str) -> str:
    return hashlib.sha256(f"{salt}\x00{annotator}\x00{case_hash}\x00{key}".encode()).hexdigest()


def anonymised(store: Store, annotator: str, case_hash: str) -> list[tuple[str, StoredResult]]:
    """``[(response id, result)]`` in this annotator's shuffled order for the case."""
    salt = anon_salt(store)
    rows = H.case_responses(store, [case_hash]).get(case_hash, [])
    tagged = sorted(((_shuffle_digest(salt, annotator, case_hash, r.key), r) for r in rows), key=lambda t: t[0])
    return [(d[:16], r) for d, r in tagged]


def assigned_case(store: Store, s: Session, case_hash: str) -> StoredCase:
    """The case if it is assigned to this annotator; 404 otherwise (also when it
    does not exist, or no longer validates, so the answer says nothing about other
    people's cases)."""
    if len(case_hash) > 200 or not H.is_assigned(store, s.annotator, case_hash):
        raise HTTPException(404, "no such case among your assignments")
    case = store.cases([case_hash]).get(case_hash)
    if case is None or case.valid_case() is None:
        raise HTTPException(404, "no such case among your assignments")
    return case


__all__ = ["MediaItem", "MessageView", "PartView", "ResponseView", "anonymised", "assigned_case", "frame_files",
           "label", "media_parts", "messages", "prompt_text"]
