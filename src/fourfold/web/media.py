"""A case's images and videos, and the frames the models saw of a video.

Media are served only from the case's own parts (an index into the stored case,
resolved against its ``media_base``), never from a path in the request, and only
to an annotator the case is assigned to.
"""

# No ``from __future__ import annotations``: FastAPI reads the dependencies from the signatures.

import mimetypes
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse, Response

from ..cases.loader import checked_media
from ..store.records import StoredCase
from .auth import Session, need_session
from .state import AppState, app_state
from .views import assigned_case, frame_files, media_parts

router = APIRouter()
_CACHE = {"Cache-Control": "private, max-age=3600"}


def media_file(stored: StoredCase, index: int) -> Path | None:
    """The file of the case's ``index``-th media part, if it exists and is an image or a video."""
    parts = media_parts(stored.case)
    if not 0 <= index < len(parts):
        return None
    base = Path(stored.media_base or ".")
    try:  # inside the case's folder or a package's data, and a decodable file within the caps
        path = checked_media(base, parts[index].path, parts[index].type)
    except (OSError, ValueError):
        return None
    mime = mimetypes.guess_type(path.name)[0] or ""
    if not mime.startswith(("image/", "video/")) or not path.is_file():
        return None
    return path


@router.get("/media/{case_hash}/{index:int}")
def media(case_hash: str, index: int, s: Annotated[Session, Depends(need_session)],
          state: Annotated[AppState, Depends(app_state)]) -> Response:
    path = media_file(assigned_case(state.stores.get(), s, case_hash), index)
    if path is None:
        raise HTTPException(404, "no such media in this case")
    return FileResponse(path, media_type=mimetypes.guess_type(path.name)[0], headers=_CACHE)


@router.get("/frames/{case_hash}/{index:int}/{frame:int}")
def frame(case_hash: str, index: int, frame: int, s: Annotated[Session, Depends(need_session)],
          state: Annotated[AppState, Depends(app_state)]) -> Response:
    parts = media_parts(assigned_case(state.stores.get(), s, case_hash).case)
    files = frame_files(state.frames, parts[index]) if 0 <= index < len(parts) else []
    if not 0 <= frame < len(files):
        raise HTTPException(404, "no such frame")
    return FileResponse(files[frame], media_type="image/png", headers=_CACHE)


__all__ = ["media_file", "router"]
