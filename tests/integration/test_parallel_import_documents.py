"""With workers, SQL imports write the documents the workers encoded: rows equal one worker's.

The SQL backend's ``import_preparer`` runs in each worker and encodes the customer's
document but for its version and timestamps; the importing process joins them in
(``sqlalchemy/_documents.py``). Contact points are given ids, or each run would mint
its own. The stored rows (documents, their digests, the index
rows) must be exactly those of a one-worker import, on every SQL dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from tests.integration._stores import FIXED

from crmcore._fastpaths import fast_paths_enabled
from crmcore.rules.verification import NormalisationPipeline
from crmcore.storage import connect
from crmcore.storage._parallel import Ready
from crmcore.storage.sqlalchemy import SqlBackend
from crmcore.storage.sqlalchemy._backend import SqlTransaction
from crmcore.storage.sqlalchemy._schema import INDEX, TABLES

PIPELINE = NormalisationPipeline(default_region="CN")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _rows(count: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(count):
        number = f"138 {i:04d} {(i * 7919) % 10000:04d}"
        typed = number.translate(FULL_WIDTH) if i % 2 else number
        row: dict[str, Any] = {
            "id": f"d{i:03d}",
            "kind": "person",
            "display_name": ["王芳", "欧阳娜", 'José "Pepe"', "李\\伟"][i % 4],
            "person": {"name": {"family": ["王", "欧阳", "García", "李"][i % 4], "given": "芳"}},
            "phones": [{"id": f"p{i}", "number": typed}],
            "emails": [{"id": f"e{i}", "address": f"User{i}@Example.CN"}],
            "tags": ["vip", "会员"][: i % 3],
        }
        if i % 3 == 0:
            row["created_at"] = "2024-02-29T08:00:00+08:00"  # a legacy creation time, kept
        if i % 11 == 5:
            row["emails"] = [{"id": f"e{i}", "address": "not an address"}]  # refused
        rows.append(row)
    return rows


def _stored(url: str) -> tuple[list[Any], list[Any]]:
    with connect(url, normaliser=PIPELINE) as store:
        backend = store.backend
        assert isinstance(backend, SqlBackend)
        table = TABLES["customer"]
        with backend.engine.connect() as conn:
            customers = conn.execute(select(table).order_by(table.c.id)).all()
            entries = conn.execute(
                select(INDEX).order_by(INDEX.c.customer_id, INDEX.c.path, INDEX.c.position)
            ).all()
    return [tuple(r) for r in customers], [tuple(r) for r in entries]


def _import(url: str, workers: int) -> list[Any]:
    with connect(url, normaliser=PIPELINE, clock=lambda: FIXED) as store:
        report = store.import_customers(_rows(40), batch_size=7, workers=workers)
    return [(o.index, o.id, o.status, o.version, o.problems, o.warnings) for o in report.outcomes]


@pytest.mark.parametrize(
    "dialect",
    [
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ],
)
def test_rows_written_from_the_workers_documents_equal_one_workers(
    dialect: str, sql_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    given: list[int] = []
    built: list[str] = []
    insert, insert_stamped = SqlTransaction.insert, SqlTransaction.insert_stamped
    load = Ready.customer

    def spy(self: SqlTransaction, kind: Any, records: Any, **options: Any) -> None:
        prepared = options.get("prepared")
        given.append(sum(1 for p in prepared or () if p is not None))
        insert(self, kind, records, **options)

    def spy_stamped(self: SqlTransaction, batch: Any) -> None:
        given.append(sum(1 for s in batch if s.prepared is not None))
        insert_stamped(self, batch)

    def spy_load(ready: Ready) -> Any:
        built.append(ready.id)
        return load(ready)

    monkeypatch.setattr(SqlTransaction, "insert", spy)
    monkeypatch.setattr(SqlTransaction, "insert_stamped", spy_stamped)
    monkeypatch.setattr(Ready, "customer", spy_load)
    one_url = sql_database(dialect)
    one = _import(one_url, workers=1)
    one_rows = _stored(one_url)
    assert sum(given) == 0  # one worker: every document encoded here
    two_url = sql_database(dialect)
    two = _import(two_url, workers=2)
    # two workers: every created customer's document came encoded (a fast path: with
    # CRMCORE_NO_FAST_PATHS=1 the importing process encodes every one, its reference)
    assert sum(given) == (36 if fast_paths_enabled() else 0)
    # and the rows came whole: no normalised customer was built in this process
    assert built == []
    assert two == one
    assert _stored(two_url) == one_rows
    assert len(one_rows[0]) == 36
