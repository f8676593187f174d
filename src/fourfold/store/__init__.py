"""The SQLite results store: the one place every later stage reads from.

WAL mode with ``synchronous=NORMAL``: a committed transaction survives the
process being killed (it is in the WAL file), and commits cost no fsync. The
runner hands finished results to a ``ResultWriter`` that commits them in
batches at most ``FLUSH_INTERVAL_S`` apart, so a kill -9 loses at most the
cases in flight plus the last 100 ms, while 2,000 results cost a few dozen
transactions rather than 2,000.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import IO, Any

from ..secrets import redact
from .checkpoint import Checkpointer
from .claims import Claims, _rollback, delete_claims
from .maintenance import StoreBusy, hold_shared
from .records import RESULT_COLUMNS, CaseFacts, LatestResult, StoredCase, StoredJudgement, StoredRanking, StoredResult

SCHEMA_VERSION = 1
FLUSH_INTERVAL_S = 0.05

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
    case_hash TEXT PRIMARY KEY, case_id TEXT NOT NULL, cell TEXT NOT NULL, category TEXT NOT NULL,
    suite TEXT, media_base TEXT, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL, model_identity TEXT NOT NULL, settings TEXT NOT NULL,
    case_id TEXT NOT NULL, case_hash TEXT NOT NULL, cell TEXT NOT NULL, category TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error', 'not_evaluated')),
    response TEXT, served_model TEXT, prompt_tokens INTEGER, completion_tokens INTEGER,
    latency_s REAL, attempts INTEGER, error TEXT,
    verdict TEXT NOT NULL, rationale TEXT, judge TEXT,
    created_at REAL NOT NULL, run_id TEXT, finish_reason TEXT
);
CREATE INDEX IF NOT EXISTS results_model_case ON results (model, case_id, created_at);
CREATE INDEX IF NOT EXISTS results_case_model ON results (case_id, model, created_at);
CREATE TABLE IF NOT EXISTS judgements (
    cache_key TEXT PRIMARY KEY,
    result_key TEXT NOT NULL, judge TEXT NOT NULL, judge_identity TEXT NOT NULL, template TEXT NOT NULL,
    verdict TEXT NOT NULL, rationale TEXT, raw TEXT, votes TEXT, created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS judgements_result ON judgements (result_key, created_at);
CREATE TABLE IF NOT EXISTS rankings (
    cache_key TEXT PRIMARY KEY,
    case_hash TEXT NOT NULL, case_id TEXT NOT NULL, cell TEXT NOT NULL, judge TEXT NOT NULL, template TEXT NOT NULL,
    ranks TEXT NOT NULL, raw TEXT, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started_at REAL NOT NULL, finished_at REAL, argv TEXT, status TEXT
);
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL);
"""


@dataclass
class ResultRow:
    """A result on its way in (the runner builds it; ``put_results`` redacts it in
    place); what comes out is a frozen ``StoredResult``."""

    key: str
    model: str
    model_identity: str
    settings: str
    cell: str
    category: str
    case_id: str
    case_hash: str
    verdict: str
    status: str
    rationale: str = ""
    judge: str = ""
    response: str | None = None
    served_model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    attempts: int = 0
    error: str | None = None
    created_at: float = field(default_factory=time.time)
    run_id: str | None = None
    #: Why the model stopped, in its backend's words ("stop", "length", "max_tokens", ...).
    finish_reason: str | None = None


_COLUMNS = list(ResultRow.__dataclass_fields__)
#: A row's values in ``_COLUMNS`` order, in one C call (a generator of getattr cost 23 steps a row).
_ROW_VALUES = attrgetter(*_COLUMNS)
#: Every result with its rank among the same model's results for the same case id,
#: newest first: ``rn = 1`` is the latest result, the one reports, scores and people judge.
#: Two stored at the same ``created_at`` (a coarse clock, an import): the greater key is
#: the latest, so every reader (``iter_latest_chunks`` too) picks the same one.
LATEST_RESULTS = """
    SELECT r.*, ROW_NUMBER() OVER (PARTITION BY r.model, r.case_id ORDER BY r.created_at DESC, r.key DESC) AS rn
    FROM results r
"""
_REDACTED = ("response", "rationale", "error", "served_model")
_INSERT = f"INSERT OR REPLACE INTO results ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


#: Columns added to a table after stores were first written, as (table, column, type).
#: A store opened for writing gains them (``ALTER TABLE``); one opened read-only reads
#: them as NULL (``_with_new_columns``). A new column is one line here.
_ADDED_COLUMNS = (("results", "finish_reason", "TEXT"),)


def _missing_columns(db: sqlite3.Connection) -> dict[str, list[tuple[str, str]]]:
    """The ``_ADDED_COLUMNS`` this store lacks, by table (tables it does not have: none)."""
    missing: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in _ADDED_COLUMNS:
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if have and column not in have:
            missing.setdefault(table, []).append((column, kind))
    return missing


def _add_columns(db: sqlite3.Connection) -> None:
    """A store from before a column was added gains it, in place."""
    for table, columns in _missing_columns(db).items():
        for column, kind in columns:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def _with_new_columns(db: sqlite3.Connection) -> sqlite3.Connection:
    """A read-only store written before a column was added gets it as NULL, through a
    temporary view that shadows the table for this connection alone (the file is not
    touched): every reader can then select the current columns."""
    try:
        for table, columns in _missing_columns(db).items():
            nulls = ", ".join(f"NULL AS {column}" for column, _ in columns)
            db.execute(f"CREATE TEMP VIEW {table} AS SELECT *, {nulls} FROM main.{table}")
    except sqlite3.Error:
        db.close()
        raise
    return db


#: A case's metadata field when it is a string, else NULL: a perturbation and its original
#: are names (``score.robustness`` skips a variant whose are a number, a list or true).
_TEXT = "CASE json_type(data, '$.metadata.{0}') WHEN 'text' THEN json_extract(data, '$.metadata.{0}') END"
#: ``CaseFacts`` but the hash, from a case's JSON ``data``, one expression per field.
_FACT_EXPRS = ("json_extract(data, '$.reference.kind')", "json_array_length(data, '$.reference.options')",
               _TEXT.format("perturbation"), _TEXT.format("original"))
#: ``_FACT_EXPRS`` for rows whose JSON is valid (``Store.case_facts``, ``case_facts_of``).
_FACTS = ", ".join(_FACT_EXPRS)
#: ``_FACTS`` for a row whose JSON may be invalid (each NULL then; SQLite's JSON functions would raise).
_FACTS_IF_VALID = ", ".join(f"CASE WHEN json_valid(data) THEN {e} END" for e in _FACT_EXPRS)
_LOCAL = threading.local()


def case_facts_of(case_hash: str, data: str) -> CaseFacts | None:
    """``Store.case_facts`` of one case's JSON, read by the same SQLite functions (an
    in-memory database, one per thread): what a list of cases in memory needs to agree
    with a streamed pass to the letter, where Python's parser would not (duplicate keys:
    SQLite takes the first; nesting: SQLite accepts deeper than Python's recursion limit;
    NaN: Python accepts it). None when SQLite finds the JSON invalid."""
    db = getattr(_LOCAL, "db", None)
    if db is None:
        db = _LOCAL.db = sqlite3.connect(":memory:")
    row = db.execute(f"SELECT {_FACTS} FROM (SELECT ? AS data) WHERE json_valid(data)", (data,)).fetchone()
    return CaseFacts(case_hash, *row) if row is not None else None


class StoreError(Exception):
    """The store cannot be used as asked; the message names the file and what to do."""


class StoreWriteError(StoreError):
    """A commit failed (disk full, I/O error, damage): what was committed before is kept."""


def recover_hint(path: Path) -> str:
    """How to get back what a damaged store still holds (SQLite's own ``.recover``)."""
    new = path.with_name(path.stem + "-recovered" + path.suffix)
    return f'recover what is readable with: sqlite3 {path} ".recover" | sqlite3 {new}  (then pass --store {new})'


#: How long a connection waits for another's write lock before it gives up.
BUSY_TIMEOUT_MS = 5000


def describe_error(path: Path, e: sqlite3.Error, doing: str = "open the store") -> StoreError:
    """A ``StoreError`` that says what is wrong with the file, not just SQLite's words."""
    name = getattr(e, "sqlite_errorname", "") or ""
    text = " ".join(str(e).split())
    if name.startswith("SQLITE_CORRUPT") or "malformed" in text:
        return StoreError(f"{path}: the store is damaged ({text}); {recover_hint(path)}")
    if name == "SQLITE_NOTADB" or "not a database" in text:
        return StoreError(f"{path}: not a fourfold store (not an SQLite database: {text})")
    if name.startswith("SQLITE_READONLY") or (name.startswith("SQLITE_CANTOPEN") and not _writable(path)):
        return StoreError(f"{path}: the store is read-only (it or its folder cannot be written): `fourfold run` "
                          "cannot add to it; `fourfold report` reads it as it is, or copy it somewhere writable")
    if name == "SQLITE_FULL" or "disk is full" in text:
        return StoreWriteError(f"{path}: cannot {doing}: the disk is full ({text})")
    if name.startswith("SQLITE_IOERR"):
        return StoreWriteError(f"{path}: cannot {doing}: disk I/O error ({text})")
    if name.startswith("SQLITE_BUSY") or "database is locked" in text:
        # Runs share a store by taking its write lock for a moment at a time: one held past
        # the busy timeout belongs to a process that is not running (paused, in a debugger).
        return StoreError(f"{path}: cannot {doing}: another process has held the store's write lock for "
                          f"{BUSY_TIMEOUT_MS // 1000} s ({text}); a fourfold run paused with Ctrl-Z holds it "
                          "until it continues (`fg`) or stops; then run the command again")
    return StoreError(f"{path}: cannot {doing} ({text})")


def _writable(path: Path) -> bool:
    """Whether this process may write the store and create its -wal and -shm files.
    ``os.access`` answers for root too on a read-only mount (EROFS) or an
    immutable file, where permission bits would not."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.exists() and not os.access(path, os.W_OK):
        return False
    return os.access(folder, os.W_OK)


class Store:
    """One SQLite connection to a results store.

    ``readonly``: open for reading only (``report``): works on a read-only file,
    folder or mount, where SQLite cannot create the WAL's side files, by opening
    the file as immutable when it has no unmerged WAL. ``check``: run SQLite's
    ``quick_check`` first, so a damaged file is an error that says how to
    recover, never silently wrong numbers (about 10 ms for 2,000 results)."""

    def __init__(self, path: str | Path, *, readonly: bool = False, check: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        self._hold: IO[bytes] | None = None
        try:
            self.db = self._connect_readonly() if readonly else self._connect()
            row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if check:
                self.check()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                raise StoreError(f"{self.path}: not a fourfold store (it has no fourfold tables)") from None
            raise describe_error(self.path, e) from None
        except sqlite3.DatabaseError as e:
            raise describe_error(self.path, e) from None
        if row is None:
            if readonly:
                raise StoreError(f"{self.path}: not a fourfold store (no schema version)")
            self.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: written by a newer fourfold (schema {row[0]})")

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"{self.path.parent}: cannot create the store's folder ({e.strerror})") from None
        # A writer holds PATH-lock shared, so `fourfold store compact` never swaps the file under it.
        try:
            self._hold = hold_shared(self.path)
        except StoreBusy as e:
            raise StoreError(str(e)) from None
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        db.executescript(_SCHEMA)
        _add_columns(db)
        # Opening a read-only file still succeeds (SQLite falls back to reading):
        # find out now, not at the first result.
        db.execute("BEGIN IMMEDIATE")
        db.execute("ROLLBACK")
        return db

    def _connect_readonly(self) -> sqlite3.Connection:
        uri = self.path.resolve().as_uri()
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        try:
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return _with_new_columns(db)
        except sqlite3.OperationalError as e:
            db.close()
            if not (getattr(e, "sqlite_errorname", "") or "").startswith("SQLITE_CANTOPEN"):
                raise
        # A WAL database in a folder nobody may write: SQLite cannot create the
        # -shm file. With no -wal left over, the main file is the whole store.
        wal = Path(f"{self.path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise StoreError(f"{self.path}: read-only, and its latest changes are still in {wal.name}, which SQLite "
                             "can only read with write access to the folder: copy the folder somewhere writable")
        return _with_new_columns(sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None,
                                                 check_same_thread=False))

    def check(self) -> None:
        """Raise ``StoreError`` with recovery advice unless SQLite's ``quick_check`` passes."""
        problems = [str(r[0]) for r in self.db.execute("PRAGMA quick_check(5)")]
        if problems != ["ok"]:
            found = " ".join("; ".join(problems).split())  # SQLite's report spans lines
            raise StoreError(f"{self.path}: the store is damaged ({found[:300]}); {recover_hint(self.path)}")

    def claims(self) -> Claims:
        """This process's claims on the store's keys (see ``store.claims``)."""
        return Claims(self.db)

    def checkpointer(self) -> Checkpointer:
        """WAL checkpoints off this connection's thread while a run writes (``store.checkpoint``):
        ``start()`` before the results come, ``stop()`` after the last commit."""
        return Checkpointer(self.db, self.path)

    def close(self) -> None:
        self.db.close()
        if self._hold is not None:
            self._hold.close()

    # -- writing ----------------------------------------------------------

    def put_cases(self, rows: Iterable[tuple[str, str, str, str, str | None, str | None, str]],
                  replace: bool = True) -> None:
        """(case_hash, case_id, cell, category, suite, media_base, json); ``replace=False``
        keeps a case already stored (the same hash is the same content)."""
        verb = "REPLACE" if replace else "IGNORE"
        with self._tx():
            self.db.executemany(f"INSERT OR {verb} INTO cases VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def put_results(self, rows: list[ResultRow]) -> None:
        if not rows:
            return
        values = []
        for r in rows:
            # Every text a model, a server or a judge wrote passes redact here, whoever
            # built the row: one gate at the write is what no new code path can forget.
            for name in _REDACTED:
                text = getattr(r, name)
                if text:
                    setattr(r, name, redact(text if isinstance(text, str) else str(text)))
            values.append(_ROW_VALUES(r))
        with self._tx():
            self.db.executemany(_INSERT, values)
            delete_claims(self.db, (r.key for r in rows))

    def start_run(self, run_id: str, argv: list[str]) -> None:
        self.db.execute("INSERT INTO runs VALUES (?, ?, NULL, ?, 'running')",
                        (run_id, time.time(), redact(json.dumps(argv))))

    def finish_run(self, run_id: str, status: str) -> None:
        self.db.execute("UPDATE runs SET finished_at=?, status=? WHERE run_id=?", (time.time(), status, run_id))

    def _tx(self) -> _Tx:
        return _Tx(self.db)

    # -- reading ----------------------------------------------------------

    def latest_results(self, models: list[str] | None = None) -> list[StoredResult]:
        """The newest result per (model, case id), what reports and scores use."""
        sql = f"SELECT {', '.join(RESULT_COLUMNS)} FROM ({LATEST_RESULTS}) WHERE rn = 1"
        args: list[Any] = []
        if models:
            sql += f" AND model IN ({', '.join('?' * len(models))})"
            args.extend(models)
        sql += " ORDER BY cell, case_id, model"
        return [StoredResult(*row) for row in self.db.execute(sql, args)]

    def iter_latest_chunks(self, size: int = 5_000) -> Iterator[list[LatestResult]]:
        """``latest_results`` streamed, for scores at any size, in lists of about ``size``
        results cut between case ids: memory stays flat, and every model's result for
        a case is in one list. Light ``LatestResult`` records, without the texts.

        Ordered by case id, then model (the ``results_case_model`` index: no sort of
        the whole table), so for any one (model, cell) the order is ``latest_results``'
        own. The latest of each (model, case id) is the last of its run (``created_at``
        ascending, then key, as ``LATEST_RESULTS`` breaks ties). A store opened read-only
        before the index existed still works: SQLite sorts instead."""
        select = f"SELECT {', '.join(LatestResult._fields)} FROM results ORDER BY case_id, model, created_at"
        if self.count() == self.count_latest():  # no reruns: every row is a latest one
            yield from _whole_cases(self.db.execute(select), size)
            return
        # only reruns can tie on created_at; the key orders within the index's runs (no full sort)
        cur = self.db.execute(select + ", key")
        make = LatestResult._make
        chunk: list[LatestResult] = []
        last: tuple[Any, ...] | None = None
        while rows := cur.fetchmany(size):
            for row in rows:
                if last is not None and (row[2] != last[2] or row[1] != last[1]):  # a new (case id, model)
                    if row[2] != last[2] and len(chunk) >= size:
                        chunk.append(make(last))
                        yield chunk
                        chunk, last = [], row
                        continue
                    chunk.append(make(last))
                last = row
        if last is not None:
            chunk.append(make(last))
        if chunk:
            yield chunk

    def count_latest(self) -> int:
        """How many results ``latest_results`` holds (one per model and case id), from the index alone."""
        return self.db.execute("SELECT COUNT(*) FROM (SELECT DISTINCT model, case_id FROM results)").fetchone()[0]

    def case_facts(self, hashes: Iterable[str]) -> dict[str, CaseFacts]:
        """What scores need of these stored cases (reference kind, number of options,
        perturbation and original), read by SQLite's JSON functions: validating each
        case costs about 85 µs, too much for every case of a million results."""
        wanted = list(set(hashes))
        out: dict[str, CaseFacts] = {}
        for i in range(0, len(wanted), 900):
            part = wanted[i:i + 900]
            cur = self.db.execute(
                f"SELECT case_hash, {_FACTS} "
                f"FROM cases WHERE case_hash IN ({', '.join('?' * len(part))}) AND json_valid(data)", part)
            out.update((row[0], CaseFacts(*row)) for row in cur)  # a case whose JSON is damaged: no facts
        return out

    def perturbation_originals(self) -> set[str]:
        """The case ids perturbed variants name as their ``original`` (metadata), all stored cases."""
        cur = self.db.execute(f"SELECT DISTINCT {_TEXT.format('original')} FROM cases "
                              f"WHERE json_valid(data) AND {_TEXT.format('perturbation')} IS NOT NULL")
        return {o for (o,) in cur if o is not None}

    def cases(self, hashes: Iterable[str] | None = None) -> dict[str, StoredCase]:
        """The stored cases (all, or those with these hashes) by case hash, each with its
        ``facts`` read in the same query (one SQL call per case cost the report 10 %)."""
        cur = self.db.execute("SELECT case_hash, case_id, cell, category, suite, media_base, data, json_valid(data), "
                              f"{_FACTS_IF_VALID} FROM cases")
        wanted = set(hashes) if hashes is not None else None
        return {row[0]: StoredCase.with_facts(row[:7], CaseFacts(row[0], *row[8:]) if row[7] else None)
                for row in cur if wanted is None or row[0] in wanted}

    # -- judge models -----------------------------------------------------

    def has_judgement(self, cache_key: str) -> bool:
        return self.db.execute("SELECT 1 FROM judgements WHERE cache_key=?", (cache_key,)).fetchone() is not None

    def put_judgement(self, *, cache_key: str, result_key: str, judge: str, judge_identity: str, template: str,
                      verdict: str, rationale: str, raw: list[str], votes: dict[str, int]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO judgements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (cache_key, result_key, judge, judge_identity, template, verdict, redact(rationale),
             redact(json.dumps(raw)), json.dumps(votes), time.time()))

    def latest_judgements(self) -> dict[str, StoredJudgement]:
        """Newest judge-model verdict per result (by result key)."""
        cur = self.db.execute(
            "SELECT result_key, verdict, rationale, judge, template, judge_identity, created_at, votes, raw "
            "FROM judgements j WHERE created_at = "
            "(SELECT MAX(created_at) FROM judgements WHERE result_key = j.result_key)")
        # votes and raw are shown, not scored: a damaged one is shown as none rather than failing the report
        return {row[0]: StoredJudgement(*row[:7], votes=_json_object(row[7] or "{}"),
                                        raw=_json_value(row[8] or "[]", list, []))
                for row in cur}

    def has_ranking(self, cache_key: str) -> bool:
        return self.db.execute("SELECT 1 FROM rankings WHERE cache_key=?", (cache_key,)).fetchone() is not None

    def put_ranking(self, *, cache_key: str, case_hash: str, case_id: str, cell: str, judge: str, template: str,
                    ranks: dict[str, float], raw: list[str]) -> None:
        self.db.execute("INSERT OR REPLACE INTO rankings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (cache_key, case_hash, case_id, cell, judge, template, json.dumps(ranks),
                         redact(json.dumps(raw)), time.time()))

    def judge_rankings(self) -> dict[str, StoredRanking]:
        """Newest judge ranking per case (by case hash). Ranks that are not a JSON object
        (a damaged or hand-edited row) are handed out as none: that case is ranked by its
        verdicts, as when a ranking leaves a model out, instead of the report failing."""
        cur = self.db.execute("SELECT case_hash, case_id, cell, judge, template, ranks, created_at FROM rankings "
                              "ORDER BY created_at")
        return {h: StoredRanking(h, cid, cell, j, t, _json_object(r), c) for h, cid, cell, j, t, r, c in cur}

    def has_table(self, name: str) -> bool:
        """Whether an optional stage's tables exist (reading must not create them)."""
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() \
            is not None

    def models(self) -> list[str]:
        return [m for (m,) in self.db.execute("SELECT DISTINCT model FROM results ORDER BY model")]

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM results").fetchone()[0]


def _json_object(text: str) -> dict[str, Any]:
    """``text`` as a JSON object, or an empty one when it is not one."""
    return _json_value(text, dict, {})


def _json_value(text: str, kind: type, empty: Any) -> Any:
    """``text`` as JSON of type ``kind``, or ``empty`` when it is not JSON or not of that type."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return empty
    return value if isinstance(value, kind) else empty


def _whole_cases(cur: sqlite3.Cursor, size: int) -> Iterator[list[LatestResult]]:
    """``iter_latest_chunks`` where no row is superseded: each batch of rows as it comes,
    but for its last case id's rows, held back for the next batch (no Python per row)."""
    make = LatestResult._make
    carry: list[tuple[Any, ...]] = []
    while rows := cur.fetchmany(size):
        rows = carry + rows
        last_id, cut = rows[-1][2], len(rows)
        while cut > 0 and rows[cut - 1][2] == last_id:
            cut -= 1
        carry = rows[cut:]
        if cut:
            yield list(map(make, rows[:cut]))
    if carry:
        yield list(map(make, carry))


class _Tx:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN")

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            try:
                self.db.execute("COMMIT")
                return
            except sqlite3.Error:
                _rollback(self.db)  # a failed COMMIT (disk full) can leave the transaction open
                raise
        _rollback(self.db)


class ResultWriter:
    """Buffers results and commits them at most ``interval`` seconds apart.

    A commit that fails (disk full, I/O error) is not retried: ``failed`` says
    why, the runner stops sending, and the rows already committed stay. Each
    flush also renews this run's claims, so a live run keeps its keys."""

    def __init__(self, store: Store, interval: float = FLUSH_INTERVAL_S, claims: Claims | None = None,
                 on_stored: Callable[[list[ResultRow]], None] | None = None):
        self.store = store
        self.interval = interval
        self.claims = claims
        #: Told of each committed batch (rows as stored: redacted); what it raises is ignored.
        self.on_stored = on_stored
        self._buf: list[ResultRow] = []
        self.written = 0
        self.lost = 0
        self.failed: StoreWriteError | None = None

    def add(self, row: ResultRow) -> None:
        self._buf.append(row)

    def flush(self) -> None:
        if self.failed is not None:
            self.lost += len(self._buf)
            self._buf.clear()
            return
        try:
            if self._buf:
                rows, self._buf = self._buf, []
                try:
                    self.store.put_results(rows)
                except sqlite3.Error:
                    self.lost += len(rows)
                    raise
                self.written += len(rows)
                if self.on_stored is not None:
                    try:
                        self.on_stored(rows)
                    except Exception:  # noqa: BLE001 -- an observer must never cost a stored result
                        self.on_stored = None
            if self.claims is not None:
                self.claims.renew()
        except sqlite3.Error as e:
            self.fail(e)

    def fail(self, e: sqlite3.Error | StoreError) -> None:
        """Record the first failed write; later flushes store nothing."""
        if self.failed is None:
            err = e if isinstance(e, StoreError) else describe_error(self.store.path, e, "store results")
            self.failed = err if isinstance(err, StoreWriteError) else StoreWriteError(str(err))


__all__ = ["FLUSH_INTERVAL_S", "LATEST_RESULTS", "ResultRow", "case_facts_of", "ResultWriter", "Store", "StoreError", "StoreWriteError",
           "StoredCase", "StoredJudgement", "StoredRanking", "StoredResult",
           "describe_error", "recover_hint"]
