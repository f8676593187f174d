"""Human annotation, kept in the same SQLite file as the results it is about.

Why the same file: a verdict by a person is one more judgement of a stored
result, and a single file is what people copy, back up and hand to ``report``.
The tables are created on first use (``CREATE TABLE IF NOT EXISTS``) so that a
store written before annotation existed needs no migration.

What is stored, and why so:

- ``annotators``: only the SHA-256 of each login token. The token is the whole
  credential (a link printed once); a leaked database must not log anyone in.
- ``assignments``: which person judges which case (who gets which is decided
  by ``score.assignment``; this module only stores and reads the pairs).
- ``human_verdicts`` / ``human_rankings``: one row per (person, result) and per
  (person, case); saving again overwrites, so the latest click is what counts.
- ``lead_decisions``: a lead's verdict on a result, which beats every vote.
- ``human_sessions`` (web logins, only the SHA-256 of the session id; issued,
  checked and ended by ``web.sessions``) and ``human_meta`` (the salt, made by
  ``web.views``, that makes the anonymous response ids and the per-person
  shuffle unguessable).

The store keeps what people gave, as given; counting the votes into one
verdict per result (and the rankings into one rank per model) is ``score.votes``.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..judge.verdict import JUDGED
from ..secrets import redact  # a comment may quote the response it is about, key included
from . import LATEST_RESULTS, _json_object
from .records import RESULT_COLUMNS, Annotator, AssignedCase, HumanRanking, HumanVerdict, LeadDecision, StoredResult

if TYPE_CHECKING:
    from . import Store

_JUDGED_SQL = ", ".join(f"'{v}'" for v in JUDGED)  # the CHECK constraints below
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS annotators (
    name TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL, is_lead INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS assignments (
    annotator TEXT NOT NULL, case_hash TEXT NOT NULL, assigned_at REAL NOT NULL,
    PRIMARY KEY (annotator, case_hash)
);
CREATE INDEX IF NOT EXISTS assignments_case ON assignments (case_hash);
CREATE TABLE IF NOT EXISTS human_verdicts (
    annotator TEXT NOT NULL, result_key TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ({_JUDGED_SQL})),
    comment TEXT NOT NULL DEFAULT '', updated_at REAL NOT NULL,
    PRIMARY KEY (annotator, result_key)
);
CREATE INDEX IF NOT EXISTS human_verdicts_key ON human_verdicts (result_key);
CREATE TABLE IF NOT EXISTS human_rankings (
    annotator TEXT NOT NULL, case_hash TEXT NOT NULL, ranking TEXT NOT NULL, updated_at REAL NOT NULL,
    PRIMARY KEY (annotator, case_hash)
);
CREATE TABLE IF NOT EXISTS lead_decisions (
    result_key TEXT PRIMARY KEY, verdict TEXT NOT NULL CHECK (verdict IN ({_JUDGED_SQL})),
    lead TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '', decided_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS human_sessions (
    sid_sha256 TEXT PRIMARY KEY, annotator TEXT NOT NULL, token_sha256 TEXT NOT NULL,
    csrf TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS human_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# The newest answered result per (model, case id), as ``Store.latest_results`` defines it.
_LATEST = f"SELECT {', '.join(RESULT_COLUMNS)} FROM ({LATEST_RESULTS}) WHERE rn = 1 AND status = 'ok'"

_ready: weakref.WeakSet[Any] = weakref.WeakSet()


class AnnotationError(ValueError):
    """A request the annotation tables cannot honour (unknown name, bad verdict...)."""


class NotAssigned(LookupError):
    """The annotator has no assignment for the case the request is about."""


def ensure_tables(store: Store) -> None:
    """Create the annotation tables if this store has none yet (cheap after the first call)."""
    if store in _ready:
        return
    store.db.executescript(_SCHEMA)
    _ready.add(store)


def token_digest(text: str) -> str:
    """The sha256 hex digest under which login tokens and session ids are stored (never the secret itself)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_verdict(verdict: str) -> None:
    if verdict not in JUDGED:
        raise AnnotationError(f"verdict must be one of {', '.join(JUDGED)}, got {verdict!r}")


# ---------------------------------------------------------------- annotators


def add_annotator(store: Store, name: str, lead: bool | None = None, *, rotate: bool = False) -> str:
    """Register ``name`` and return a fresh login token (shown once, stored only hashed).

    An existing name is an error unless ``rotate``: then the old token (and every
    web session opened with it) stops working. ``lead=None`` keeps a rotated
    person's lead status and means ``False`` for a new one."""
    ensure_tables(store)
    if not _NAME.match(name):
        raise AnnotationError(f"annotator name must be 1-64 characters of letters, digits and . _ -, got {name!r}")
    token = secrets.token_urlsafe(32)
    digest = token_digest(token)
    now = time.time()
    row = store.db.execute("SELECT is_lead FROM annotators WHERE name=?", (name,)).fetchone()
    if row is None:
        store.db.execute("INSERT INTO annotators VALUES (?, ?, ?, ?)", (name, digest, int(bool(lead)), now))
    elif not rotate:
        raise AnnotationError(f"annotator {name!r} exists; rotate the token to issue a new login link")
    else:
        is_lead = row[0] if lead is None else int(lead)
        store.db.execute("UPDATE annotators SET token_sha256=?, is_lead=? WHERE name=?", (digest, is_lead, name))
    return token


def annotators(store: Store) -> list[Annotator]:
    """Name, lead flag, creation time and assignment count of every annotator (never a token hash)."""
    ensure_tables(store)
    return [Annotator(name, bool(lead), at, n) for name, lead, at, n in store.db.execute("""
        SELECT a.name, a.is_lead, a.created_at, COUNT(s.case_hash) AS assignments
        FROM annotators a LEFT JOIN assignments s ON s.annotator = a.name
        GROUP BY a.name ORDER BY a.name""")]


def is_lead(store: Store, name: str) -> bool:
    ensure_tables(store)
    row = store.db.execute("SELECT is_lead FROM annotators WHERE name=?", (name,)).fetchone()
    return bool(row and row[0])


# ---------------------------------------------------------------- sessions (rows only: web.sessions issues them)


@dataclass(frozen=True)
class SessionRow:
    """A stored web session: whose it is and the CSRF token its pages carry."""

    annotator: str
    csrf: str


def token_hashes(store: Store) -> list[tuple[str, str]]:
    """``[(annotator, SHA-256 of their login token)]`` for every annotator."""
    ensure_tables(store)
    return [(name, digest) for name, digest in store.db.execute("SELECT name, token_sha256 FROM annotators")]


def put_session(store: Store, sid_sha256: str, annotator: str, csrf: str, created_at: float) -> bool:
    """Store a session under the hash of its id, bound to the annotator's current
    token hash (so rotating the token ends it); False when there is no such annotator."""
    ensure_tables(store)
    cur = store.db.execute("""
        INSERT INTO human_sessions SELECT ?, name, token_sha256, ?, ? FROM annotators WHERE name = ?""",
                           (sid_sha256, csrf, created_at, annotator))
    return cur.rowcount == 1


def delete_sessions_before(store: Store, created_before: float) -> None:
    ensure_tables(store)
    store.db.execute("DELETE FROM human_sessions WHERE created_at < ?", (created_before,))


def session_row(store: Store, sid_sha256: str, created_since: float) -> SessionRow | None:
    """The session stored under this id hash, if created since then and its
    annotator's token has not been rotated since."""
    ensure_tables(store)
    row = store.db.execute("""
        SELECT s.annotator, s.csrf FROM human_sessions s JOIN annotators a
          ON a.name = s.annotator AND a.token_sha256 = s.token_sha256
        WHERE s.sid_sha256 = ? AND s.created_at >= ?""", (sid_sha256, created_since)).fetchone()
    return SessionRow(row[0], row[1]) if row else None


def delete_session(store: Store, sid_sha256: str) -> None:
    ensure_tables(store)
    store.db.execute("DELETE FROM human_sessions WHERE sid_sha256=?", (sid_sha256,))


def meta_value(store: Store, key: str, default: str) -> str:
    """The stored ``human_meta`` value for ``key``, storing ``default`` first if there is none
    (written once: later page views stay read-only and never wait for a running evaluation)."""
    ensure_tables(store)
    row = store.db.execute("SELECT value FROM human_meta WHERE key=?", (key,)).fetchone()
    if row is None:
        store.db.execute("INSERT OR IGNORE INTO human_meta VALUES (?, ?)", (key, default))
        row = store.db.execute("SELECT value FROM human_meta WHERE key=?", (key,)).fetchone()
    return str(row[0])


# ---------------------------------------------------------------- assignment


def annotatable_cases(store: Store, cells: Sequence[str] | None = None) -> dict[str, str]:
    """``{case_hash: cell}`` of stored cases whose latest result for some model is answered."""
    rows = store.db.execute(f"""
        SELECT DISTINCT l.case_hash, l.cell FROM ({_LATEST}) l JOIN cases c ON c.case_hash = l.case_hash""")
    out = {}
    for h, cell in rows:
        if cells is None or cell in cells or cell.split("/", 1)[0] in cells:
            out[h] = cell
    return out


def assignment_holders(store: Store) -> dict[str, set[str]]:
    """``{case_hash: names}``: who already has which case."""
    ensure_tables(store)
    have: dict[str, set[str]] = defaultdict(set)
    for name, h in store.db.execute("SELECT annotator, case_hash FROM assignments"):
        have[h].add(name)
    return dict(have)


def add_assignments(store: Store, pairs: Sequence[tuple[str, str]]) -> None:
    """Store ``(annotator, case_hash)`` assignments (decided by ``score.assignment``);
    ones already stored are kept as they were."""
    ensure_tables(store)
    if pairs:
        now = time.time()
        with store._tx():
            store.db.executemany("INSERT OR IGNORE INTO assignments VALUES (?, ?, ?)",
                                 [(name, h, now) for name, h in pairs])


def is_assigned(store: Store, annotator: str, case_hash: str) -> bool:
    ensure_tables(store)
    return store.db.execute("SELECT 1 FROM assignments WHERE annotator=? AND case_hash=?",
                            (annotator, case_hash)).fetchone() is not None


def case_responses(store: Store, case_hashes: Iterable[str] | None = None) -> dict[str, list[StoredResult]]:
    """The answered latest result of every model per case (what a person judges),
    ``{case_hash: [result, ...]}`` sorted by model."""
    out: dict[str, list[StoredResult]] = defaultdict(list)
    wanted = sorted(set(case_hashes)) if case_hashes is not None else None
    if wanted == []:
        return {}
    sql, args = _LATEST, []
    if wanted is not None and len(wanted) <= 500:  # else filter in Python: SQLite caps bound parameters
        sql += f" AND case_hash IN ({', '.join('?' * len(wanted))})"
        args = wanted
    keep = set(wanted) if wanted is not None else None
    for row in store.db.execute(sql + " ORDER BY case_hash, model", args):
        r = StoredResult(*row)
        if keep is None or r.case_hash in keep:
            out[r.case_hash].append(r)
    return dict(out)


def assigned_cases(store: Store, annotator: str) -> list[AssignedCase]:
    """The annotator's assigned cases in a stable order (cell, case id)."""
    ensure_tables(store)
    rows = store.db.execute("""
        SELECT s.case_hash, c.case_id, c.cell, c.category, s.assigned_at
        FROM assignments s JOIN cases c ON c.case_hash = s.case_hash
        WHERE s.annotator = ? ORDER BY c.cell, c.case_id, s.case_hash""", (annotator,))
    return [AssignedCase(*r) for r in rows]


def annotator_marks(store: Store, annotator: str) -> tuple[set[str], set[str]]:
    """(result keys the annotator gave a verdict on, case hashes they ranked)."""
    ensure_tables(store)
    judged = {k for (k,) in store.db.execute("SELECT result_key FROM human_verdicts WHERE annotator=?",
                                              (annotator,))}
    ranked = {h for (h,) in store.db.execute("SELECT case_hash FROM human_rankings WHERE annotator=?",
                                              (annotator,))}
    return judged, ranked


def result_exists(store: Store, result_key: str) -> bool:
    """Whether a result with this key is stored (a lead can only settle a real one)."""
    return store.db.execute("SELECT 1 FROM results WHERE key=?", (result_key,)).fetchone() is not None


def response_texts(store: Store, result_keys: Sequence[str]) -> dict[str, str]:
    """``{result key: stored response text}`` (as stored, redacted at write time) for
    the keys that exist; read in chunks because SQLite caps bound parameters."""
    out: dict[str, str] = {}
    keys = list(result_keys)
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        out.update(store.db.execute(
            f"SELECT key, response FROM results WHERE key IN ({', '.join('?' * len(chunk))})", chunk).fetchall())
    return out


# ---------------------------------------------------------------- saving


def save_verdict(store: Store, annotator: str, result_key: str, verdict: str, comment: str = "", *,
                 require_assignment: bool = True) -> float:
    """Store (or overwrite) one person's verdict on one result; returns the time saved.

    With ``require_assignment`` the result's case must be assigned to the person
    (raises ``NotAssigned``), which is what the web UI relies on."""
    ensure_tables(store)
    _check_verdict(verdict)
    row = store.db.execute("SELECT case_hash FROM results WHERE key=?", (result_key,)).fetchone()
    if row is None:
        raise NotAssigned(f"no result {result_key!r}")
    if require_assignment and not is_assigned(store, annotator, row[0]):
        raise NotAssigned(f"case of result {result_key!r} is not assigned to {annotator!r}")
    now = time.time()
    store.db.execute("INSERT OR REPLACE INTO human_verdicts VALUES (?, ?, ?, ?, ?)",
                     (annotator, result_key, verdict, redact(comment[:10_000]), now))
    return now


def save_ranking(store: Store, annotator: str, case_hash: str, ranking: Mapping[str, float] | Sequence[str], *,
                 require_assignment: bool = True) -> float:
    """Store one person's ranking of the models' responses to a case, best = 1.

    ``ranking`` is ``{model: rank}`` (equal ranks are ties) or a list of models,
    best first. Returns the time saved."""
    ensure_tables(store)
    if require_assignment and not is_assigned(store, annotator, case_hash):
        raise NotAssigned(f"case {case_hash!r} is not assigned to {annotator!r}")
    if isinstance(ranking, Mapping):
        ranks = {str(m): float(r) for m, r in ranking.items()}
    else:
        ranks = {str(m): float(i + 1) for i, m in enumerate(ranking)}
    if not ranks:
        raise AnnotationError("an empty ranking")
    now = time.time()
    store.db.execute("INSERT OR REPLACE INTO human_rankings VALUES (?, ?, ?, ?)",
                     (annotator, case_hash, json.dumps(ranks, sort_keys=True), now))
    return now


def decide(store: Store, result_key: str, verdict: str, lead: str, comment: str = "", *,
           check_lead: bool = True) -> float:
    """A lead settles a result: this verdict wins over every annotator's vote.
    ``check_lead=False`` is for callers that made someone a lead by other means
    (the web UI's ``lead_names``)."""
    ensure_tables(store)
    _check_verdict(verdict)
    if check_lead and not is_lead(store, lead):
        raise AnnotationError(f"{lead!r} is not a lead")
    now = time.time()
    store.db.execute("INSERT OR REPLACE INTO lead_decisions VALUES (?, ?, ?, ?, ?)",
                     (result_key, verdict, lead, redact(comment[:10_000]), now))
    return now


# ---------------------------------------------------------------- reading


def human_verdicts(store: Store, annotator: str | None = None) -> list[HumanVerdict]:
    """Every stored human verdict with provenance: ``annotator, result_key, verdict,
    comment, updated_at`` plus the result's ``model, case_id, case_hash, cell``."""
    ensure_tables(store)
    sql = """
        SELECT h.annotator, h.result_key, h.verdict, h.comment, h.updated_at,
               r.model, r.case_id, r.case_hash, r.cell
        FROM human_verdicts h LEFT JOIN results r ON r.key = h.result_key"""
    args: tuple[str, ...] = ()
    if annotator is not None:
        sql += " WHERE h.annotator = ?"
        args = (annotator,)
    return [HumanVerdict(*row) for row in store.db.execute(sql + " ORDER BY r.cell, r.case_id, r.model, h.annotator",
                                                           args)]


def human_rankings(store: Store) -> list[HumanRanking]:
    """Every saved ranking, by case and then person; one whose JSON is damaged (not an
    object) as an empty ranking, which ranks nobody, rather than failing every report."""
    ensure_tables(store)
    return [HumanRanking(who, h, cell, _json_object(ranking), at) for who, h, cell, ranking, at in store.db.execute("""
        SELECT h.annotator, h.case_hash, c.cell, h.ranking, h.updated_at
        FROM human_rankings h LEFT JOIN cases c ON c.case_hash = h.case_hash
        ORDER BY h.case_hash, h.annotator""")]


def lead_decisions(store: Store) -> dict[str, LeadDecision]:
    """Every lead decision, by result key."""
    ensure_tables(store)
    cur = store.db.execute("SELECT result_key, verdict, lead, comment, decided_at FROM lead_decisions")
    return {row[0]: LeadDecision(*row) for row in cur}


__all__ = [
    "AnnotationError", "NotAssigned", "SessionRow", "add_annotator", "annotatable_cases",
    "add_assignments", "annotator_marks", "annotators", "assigned_cases", "assignment_holders", "case_responses", "decide",
    "delete_session", "delete_sessions_before", "ensure_tables", "human_rankings", "human_verdicts", "is_assigned", "is_lead", "lead_decisions",
    "meta_value", "put_session", "response_texts", "result_exists", "save_ranking", "save_verdict", "session_row",
    "token_hashes",
]
