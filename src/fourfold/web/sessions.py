"""Login links and web sessions: issuing, checking and ending them.

The store keeps only hashes (``store.human``: the SHA-256 of each login token
and of each session id); what a token or a session id is, how it is compared,
and how long a session lives is decided here.

- A login token is checked against every stored hash with
  ``hmac.compare_digest`` and the loop never stops early, so response time says
  nothing about how close a guess was.
- A session is bound to the annotator's token hash at the time of login, so
  rotating the token logs every browser out. Sessions are kept in the database
  so a server restart does not throw an annotator (and their queued saves) out.
- Each session has its own CSRF token, which its pages carry and every POST
  must send back (``auth.need_csrf``).
"""

from __future__ import annotations

import hmac
import secrets
import time

from ..store import Store
from ..store import human as H
from ..store.human import token_digest  # the digest add_annotator stores: one function, so the two always match

SESSION_MAX_AGE_S = 30 * 24 * 3600
_MAX_CREDENTIAL = 512  # longer than anything we issue: not worth hashing


def annotator_for_token(store: Store, token: str) -> str | None:
    """The name whose login token this is, or None (constant time over all annotators)."""
    if not token or len(token) > _MAX_CREDENTIAL:
        return None
    digest = token_digest(token)
    found = None
    for name, stored in H.token_hashes(store):
        if hmac.compare_digest(stored, digest):
            found = name
    return found


def create_session(store: Store, annotator: str) -> tuple[str, str]:
    """(session id for the cookie, CSRF token for the pages); expired sessions are dropped."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = time.time()
    H.delete_sessions_before(store, now - SESSION_MAX_AGE_S)
    if not H.put_session(store, token_digest(sid), annotator, csrf, now):
        raise H.AnnotationError(f"no annotator {annotator!r}")
    return sid, csrf


def session_for(store: Store, sid: str | None) -> H.SessionRow | None:
    """The live session with this id, or None (unknown, expired, token rotated)."""
    if not sid or len(sid) > _MAX_CREDENTIAL:
        return None
    return H.session_row(store, token_digest(sid), time.time() - SESSION_MAX_AGE_S)


def end_session(store: Store, sid: str) -> None:
    H.delete_session(store, token_digest(sid))


__all__ = ["SESSION_MAX_AGE_S", "annotator_for_token", "create_session", "end_session", "session_for"]
