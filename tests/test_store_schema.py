"""A store written before a column was added (``finish_reason``) still opens: for
writing it gains the column in place, and read-only it reads the column as NULL
without touching the file. The golden store in tests/data/golden/ is such an older store."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from fourfold.store import ResultRow, Store, _with_new_columns

OLD = Path(__file__).parent / "data" / "golden" / "store.db"


def _columns(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return [r[1] for r in con.execute("PRAGMA table_info(results)")]
    finally:
        con.close()


def test_an_older_store_gains_finish_reason_when_opened_for_writing(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    shutil.copyfile(OLD, db)
    assert "finish_reason" not in _columns(db), "the fixture is a store from before the column"
    before = Store(db, readonly=True).latest_results()
    store = Store(db)
    assert "finish_reason" in _columns(db)
    assert [r.finish_reason for r in store.latest_results()] == [None] * len(before)
    store.put_results([ResultRow(key="k-new", model="m", model_identity="{}", settings="{}", case_id="c-new",
                                 case_hash="h-new", cell="text/generalizability", category="other", status="ok",
                                 verdict="good", response="x", finish_reason="length")])
    store.close()
    again = Store(db, readonly=True)
    by_key = {r.key: r for r in again.latest_results()}
    assert by_key["k-new"].finish_reason == "length"
    assert len(by_key) == len(before) + 1


def test_an_older_store_reads_finish_reason_as_null_read_only(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    shutil.copyfile(OLD, db)
    data = db.read_bytes()
    store = Store(db, readonly=True, check=True)
    rows = store.latest_results()
    assert rows and all(r.finish_reason is None for r in rows)
    store.close()
    assert db.read_bytes() == data and "finish_reason" not in _columns(db), "a read-only open changed the file"
    # the other read-only way in (a read-only folder, as immutable: root cannot make one with chmod,
    # test_store_hostile does it with a bind mount): the same view
    con = _with_new_columns(sqlite3.connect(f"{db.resolve().as_uri()}?immutable=1", uri=True))
    assert con.execute("SELECT COUNT(*) FROM results WHERE finish_reason IS NULL").fetchone()[0] == len(rows)
    con.close()
    assert db.read_bytes() == data
