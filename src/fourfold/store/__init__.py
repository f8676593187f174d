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
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..secrets import redact

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
    created_at REAL NOT NULL, run_id TEXT
);
CREATE INDEX IF NOT EXISTS results_model_case ON results (model, case_id, created_at);
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
"""


@dataclass
class ResultRow:
    key: str
    model: str
    model_identity: str
    settings: str
    case_id: str
    case_hash: str
    cell: str
    category: str
    status: str
    verdict: str
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


_COLUMNS = list(ResultRow.__dataclass_fields__)
_INSERT = f"INSERT OR REPLACE INTO results ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"


class StoreError(Exception):
    pass


class Store:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=5000")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path}: not a fourfold store ({e})") from None
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: written by a newer fourfold (schema {row[0]})")

    def close(self) -> None:
        self.db.close()

    # -- writing ----------------------------------------------------------

    def put_cases(self, rows: Iterable[tuple[str, str, str, str, str | None, str | None, str]]) -> None:
        """(case_hash, case_id, cell, category, suite, media_base, json)."""
        with self._tx():
            self.db.executemany("INSERT OR REPLACE INTO cases VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def put_results(self, rows: list[ResultRow]) -> None:
        if not rows:
            return
        values = []
        for r in rows:
            if r.response:
                r.response = redact(r.response)
            if r.error:
                r.error = redact(r.error)
            values.append(tuple(getattr(r, c) for c in _COLUMNS))
        with self._tx():
            self.db.executemany(_INSERT, values)

    def start_run(self, run_id: str, argv: list[str]) -> None:
        self.db.execute("INSERT INTO runs VALUES (?, ?, NULL, ?, 'running')",
                        (run_id, time.time(), redact(json.dumps(argv))))

    def finish_run(self, run_id: str, status: str) -> None:
        self.db.execute("UPDATE runs SET finished_at=?, status=? WHERE run_id=?", (time.time(), status, run_id))

    def _tx(self) -> _Tx:
        return _Tx(self.db)

    # -- reading ----------------------------------------------------------

    def done_keys(self, model: str) -> set[str]:
        """Keys that need no new call: answered, or not evaluable by this model.
        ``error`` rows are left out so they are retried."""
        cur = self.db.execute("SELECT key FROM results WHERE model=? AND status != 'error'", (model,))
        return {k for (k,) in cur}

    def latest_results(self, models: list[str] | None = None) -> list[dict[str, Any]]:
        """The newest result per (model, case id), what reports and scores use."""
        sql = """
            SELECT * FROM (
                SELECT r.*, ROW_NUMBER() OVER (PARTITION BY r.model, r.case_id ORDER BY r.created_at DESC) AS rn
                FROM results r
            ) WHERE rn = 1
        """
        args: list[Any] = []
        if models:
            sql += f" AND model IN ({', '.join('?' * len(models))})"
            args.extend(models)
        sql += " ORDER BY cell, case_id, model"
        cur = self.db.execute(sql, args)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def cases(self, hashes: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        cur = self.db.execute("SELECT case_hash, suite, media_base, data FROM cases")
        wanted = set(hashes) if hashes is not None else None
        out = {}
        for h, suite, base, data in cur:
            if wanted is None or h in wanted:
                d = json.loads(data)
                d["_suite"], d["_media_base"] = suite, base
                out[h] = d
        return out

    # -- judge models -----------------------------------------------------

    def has_judgement(self, cache_key: str) -> bool:
        return self.db.execute("SELECT 1 FROM judgements WHERE cache_key=?", (cache_key,)).fetchone() is not None

    def put_judgement(self, *, cache_key: str, result_key: str, judge: str, judge_identity: str, template: str,
                      verdict: str, rationale: str, raw: list[str], votes: dict[str, int]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO judgements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (cache_key, result_key, judge, judge_identity, template, verdict, redact(rationale),
             redact(json.dumps(raw)), json.dumps(votes), time.time()))

    def latest_judgements(self) -> dict[str, dict[str, Any]]:
        """Newest judge-model verdict per result."""
        cur = self.db.execute(
            "SELECT * FROM judgements j WHERE created_at = "
            "(SELECT MAX(created_at) FROM judgements WHERE result_key = j.result_key)")
        names = [d[0] for d in cur.description]
        return {row[1]: dict(zip(names, row, strict=True)) for row in cur}

    def has_ranking(self, cache_key: str) -> bool:
        return self.db.execute("SELECT 1 FROM rankings WHERE cache_key=?", (cache_key,)).fetchone() is not None

    def put_ranking(self, *, cache_key: str, case_hash: str, case_id: str, cell: str, judge: str, template: str,
                    ranks: dict[str, float], raw: list[str]) -> None:
        self.db.execute("INSERT OR REPLACE INTO rankings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (cache_key, case_hash, case_id, cell, judge, template, json.dumps(ranks),
                         redact(json.dumps(raw)), time.time()))

    def judge_rankings(self) -> dict[str, dict[str, Any]]:
        """Newest judge ranking per case (by case hash)."""
        cur = self.db.execute("SELECT case_hash, case_id, cell, judge, template, ranks, created_at FROM rankings "
                              "ORDER BY created_at")
        return {h: {"case_id": cid, "cell": cell, "judge": j, "template": t, "ranks": json.loads(r), "created_at": c}
                for h, cid, cell, j, t, r, c in cur}

    def effective_rankings(self) -> dict[str, dict[str, float]]:
        """Per-case ranks of the models' responses (case hash -> model -> rank):
        people's rankings over a judge model's."""
        ranks = {h: r["ranks"] for h, r in self.judge_rankings().items()}
        if self.has_table("human_rankings"):
            from .human import human_case_ranks

            ranks.update(human_case_ranks(self))
        return ranks

    def has_table(self, name: str) -> bool:
        """Whether an optional stage's tables exist (reading must not create them)."""
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() \
            is not None

    def effective_results(self, models: list[str] | None = None) -> list[dict[str, Any]]:
        """``latest_results`` with each verdict taken from the most trusted source:
        a person over a judge model over a rule. ``verdict_source`` and
        ``verdict_by`` record where it came from."""
        rows = self.latest_results(models)
        judged = self.latest_judgements()
        humans = _human_verdicts(self)
        for r in rows:
            r["verdict_source"] = "rule" if r["judge"] not in ("none", "error", "") else "none"
            r["verdict_by"] = r["judge"]
            r["rule_verdict"] = r["verdict"]
            j = judged.get(r["key"])
            if j is not None and r["status"] == "ok":
                r["judge_verdict"] = j["verdict"]
                r["verdict"], r["rationale"] = j["verdict"], j["rationale"]
                r["verdict_source"], r["verdict_by"] = "judge", f"{j['judge']} ({j['template']})"
            h = humans.get(r["key"])
            if h is not None and r["status"] == "ok":
                verdict, provenance = h
                r["human_verdict"] = verdict
                r["verdict"], r["verdict_source"], r["verdict_by"] = verdict, "human", provenance
        return rows

    def models(self) -> list[str]:
        return [m for (m,) in self.db.execute("SELECT DISTINCT model FROM results ORDER BY model")]

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM results").fetchone()[0]


def _human_verdicts(store: Store) -> dict[str, tuple[str, str]]:
    """Human verdicts when the annotation tables exist (``store.human``)."""
    if not store.has_table("human_verdicts"):  # annotation never used on this store
        return {}
    from .human import effective_human_verdicts

    found = effective_human_verdicts(store)
    out = {}
    for key, (verdict, prov) in found.items():
        who = ", ".join(prov.get("by") or []) if isinstance(prov, dict) else str(prov)
        how = prov.get("source", "") if isinstance(prov, dict) else ""
        out[key] = (verdict, f"people: {who} ({how})" if how else f"people: {who}")
    return out


class _Tx:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


class ResultWriter:
    """Buffers results and commits them at most ``interval`` seconds apart."""

    def __init__(self, store: Store, interval: float = FLUSH_INTERVAL_S):
        self.store = store
        self.interval = interval
        self._buf: list[ResultRow] = []
        self.written = 0

    def add(self, row: ResultRow) -> None:
        self._buf.append(row)

    def flush(self) -> None:
        if self._buf:
            rows, self._buf = self._buf, []
            self.store.put_results(rows)
            self.written += len(rows)


__all__ = ["FLUSH_INTERVAL_S", "ResultRow", "ResultWriter", "Store", "StoreError"]
