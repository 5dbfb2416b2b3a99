"""Bulk import: the entry functions, and the names of the report they return.

:meth:`crmcore.storage.Store.import_customers` calls :func:`import_customers`, which
runs one :class:`~crmcore.storage._customer_import._ImportRun`;
:meth:`crmcore.storage.Store.import_records` calls :func:`import_records`, which runs
one :class:`~crmcore.storage._record_import._RecordImportRun`. The report types
(:mod:`crmcore.storage.import_report`), :data:`ImportMode` and :class:`MatchKey` are
re-exported here, so imports from this module keep working.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence, Sized
from typing import TYPE_CHECKING, Any

from crmcore.models import Customer
from crmcore.storage._arguments import (
    check_batch_size,
    check_choice,
    check_records,
    check_workers,
)
from crmcore.storage._context import WriteContext
from crmcore.storage._customer_import import ImportMode, _ImportRun
from crmcore.storage._import_duplicates import OnDuplicate, duplicate_check
from crmcore.storage._merge import MatchKey, match_keys
from crmcore.storage._record_import import _RecordImportRun
from crmcore.storage.import_report import ImportOutcome, ImportReport, ImportStatus
from crmcore.storage.ports import Record, RecordKind
from crmcore.storage.unit_of_work import DEPENDENT_KINDS

if TYPE_CHECKING:
    from crmcore.rules.dedupe import MatchModel

__all__ = ["ImportMode", "ImportOutcome", "ImportReport", "ImportStatus", "MatchKey", "OnDuplicate"]

_MODES = ("merge", "replace")


def import_customers(
    context: WriteContext,
    records: Iterable[Customer | Mapping[str, Any]],
    *,
    batch_size: int,
    actor: str | None,
    source: str | None,
    upsert: bool,
    on_outcome: Callable[[ImportOutcome], None] | None,
    mode: ImportMode = "merge",
    match_on: Sequence[str | MatchKey] | str | None = None,
    workers: int | None = None,
    on_duplicate: OnDuplicate = "create",
    duplicate_model: MatchModel | None = None,
    duplicate_threshold: float = 0.9,
) -> ImportReport:
    """Run one import (see :meth:`crmcore.storage.Store.import_customers`)."""
    check_batch_size(batch_size)
    duplicates = duplicate_check(on_duplicate, duplicate_model, duplicate_threshold)
    check_choice("mode", mode, _MODES)
    check_records(records, what="import_customers")
    check_workers(workers)
    total = len(records) if isinstance(records, Sized) else None
    with _ImportRun(
        context,
        batch_size,
        actor,
        source,
        upsert,
        on_outcome,
        mode,
        match_keys(match_on),
        workers,
        total,
        duplicates,
    ) as run:
        for index, item in enumerate(records):
            run.add(index, item)
        return run.finish()


def import_records(
    context: WriteContext,
    kind: RecordKind,
    records: Iterable[Record | Mapping[str, Any]],
    *,
    batch_size: int,
    upsert: bool,
    on_outcome: Callable[[ImportOutcome], None] | None,
) -> ImportReport:
    """Run one import of purchases, interactions or complaints (see ``Store.import_records``)."""
    check_batch_size(batch_size)
    check_choice("kind", kind, DEPENDENT_KINDS, hint=" (import customers with import_customers)")
    check_records(records, what="import_records")
    run = _RecordImportRun(context, kind, batch_size, upsert, on_outcome)
    for index, item in enumerate(records):
        run.add(index, item)
    return run.finish()
