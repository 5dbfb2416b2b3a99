"""A customer's stored document, encoded ahead of its version and timestamps.

An import stamps each new customer when its batch is written (version 1, ``created_at``
and ``updated_at`` the batch's time), in the importing process; everything else of the
document is known as soon as the customer is normalised. With import workers
(``import_customers(workers=)``), each worker encodes the document of each customer it
normalised and splits it around those three fields (:func:`document_parts`); the
importing process then writes the stamped document by joining the parts with the
stamped values (:func:`join_document`), instead of encoding the whole customer again.

A fast path: the reference is :func:`~crmcore.storage.sqlalchemy._codec.encode` of
the stamped customer, which the importing process uses whenever a worker sent no
parts (fast paths off, or a document the split does not recognise). A property test
proves the two equal.

The workers also make the rest of each customer's row that the stamps do not change
(:class:`WorkerPreparer`): its search columns and its index rows, for the index set
the database had when the pool started. The importing process writes them as they
came when its index set is still the same (``_index.prepared_rows``), and makes them
itself otherwise; with fast paths off it makes all of them (the reference), and the
integration tests prove the stored rows equal. A batch of new customers whose every
row a worker made is written from those rows alone (:func:`stamped_rows`, through
``SqlTransaction.insert_stamped``): the importing process then never builds the models.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from crmcore._fastpaths import fast_paths_enabled
from crmcore.errors import StorageError
from crmcore.models import Customer
from crmcore.storage.indexing import EntryRow, IndexSet
from crmcore.storage.sqlalchemy import _codec
from crmcore.storage.sqlalchemy._rows import (
    assembled_customer_row,
    customer_head,
    customer_row,
)
from crmcore.storage.sqlalchemy._schema import INDEX_TEXT_LENGTH, utc_key
from crmcore.storage.sqlalchemy._search import search_columns

if TYPE_CHECKING:
    from crmcore.storage._parallel import Stamped
    from crmcore.storage.sqlalchemy._backend import SqlBackend

__all__ = [
    "DocumentParts",
    "Head",
    "ImportPreparer",
    "Prepared",
    "WorkerPreparer",
    "document_parts",
    "join_document",
    "row_with_document",
    "stamped_rows",
]

DocumentParts = tuple[str, str]
"""A customer's document before its version (or its ``created_at``, version 0 being
left out) and after its ``updated_at`` value."""

_VERSION = ',"version":'
_CREATED = ',"created_at":"'
_UPDATED = '","updated_at":"'
_VERSIONED = re.compile(r',"version":[0-9]+\Z')
_DEFAULT_VERSION = attrs.fields(Customer).version.default
"""The writer leaves a default out: a customer of this version has no ``"version"``."""

_iso: Callable[[dt.datetime], str] = dt.datetime.isoformat


def join_document(
    parts: DocumentParts, version: int, created: dt.datetime, updated: dt.datetime
) -> str:
    """The document of the customer ``parts`` came from, with these version and timestamps."""
    head, tail = parts
    stamp = "" if version == _DEFAULT_VERSION else f"{_VERSION}{version}"
    return f'{head}{stamp}{_CREATED}{_iso(created)}{_UPDATED}{_iso(updated)}"{tail}'


def document_parts(customer: Customer) -> DocumentParts | None:
    """Split ``encode(customer)`` around its version and timestamps (``None``: not split).

    The three fields follow ``kind``, ``display_name`` and ``id``, which are texts, so
    the first ``,"created_at":"`` is the field's (a quote inside a JSON text is
    escaped) and a ``,"version":<digits>`` just before it is the version. The split is
    checked by joining it again with the customer's own values: a document that does
    not come back exactly is not split. With fast paths off, nothing is.
    """
    if not fast_paths_enabled():
        return None
    doc = _codec.encode(customer)
    created = doc.find(_CREATED)
    updated = doc.find(_UPDATED, created)
    if created < 0 or updated < 0:
        return None
    end = doc.find('"', updated + len(_UPDATED))
    if end < 0:
        return None
    head = doc[:created]
    versioned = _VERSIONED.search(head)
    if versioned is not None:
        head = head[: versioned.start()]
    parts = (head, doc[end + 1 :])
    if join_document(parts, customer.version, customer.created_at, customer.updated_at) != doc:
        return None
    return parts


Head = tuple[str, str, str, str | None]
"""The typed columns of a customer's row the stamps do not change: ``kind``,
``display_name``, ``lifecycle_stage`` and ``acquired_on`` (as :func:`customer_row` writes them)."""

Prepared = tuple[
    DocumentParts | None,
    tuple[str, ...],
    tuple[str, ...] | None,
    list[EntryRow] | None,
    Head,
]
"""What a worker made of one customer (:class:`WorkerPreparer`): its document parts
(``None``: not split), its search columns, its index rows with the declared paths
of the index set they were made for (both ``None``: none made), and its :data:`Head`."""

Row = tuple[Any, ...]


def row_with_document(prepared: dict[str, Prepared | None], record: Any) -> tuple[Any, ...]:
    """The customer row of ``record``, made of what a worker prepared of it where it did."""
    made = prepared[record.id]
    if made is None:
        return customer_row(record, _codec.encode(record))
    parts, search = made[0], made[1]
    if parts is None:
        return customer_row(record, _codec.encode(record), search)
    doc = join_document(parts, record.version, record.created_at, record.updated_at)
    return customer_row(record, doc, search)


def stamped_rows(
    batch: Sequence[Stamped], declared: tuple[str, ...]
) -> tuple[list[Row], list[EntryRow]] | None:
    """The ``crm_customer`` rows and index rows of ``batch``, from what the workers made.

    Each row is :func:`customer_row` of the stamped customer, joined from its parts
    (the document with the stamps, its digest, the stamps' keys) without building the
    model. ``None`` when a customer's document was not split or its index rows were not
    made for ``declared`` (the caller then writes the batch by the reference).
    """
    rows: list[Row] = []
    entries: list[EntryRow] = []
    at, at_key = None, ""  # a batch's customers share one time: its key is made once
    for stamped in batch:
        made = stamped.prepared
        if made is None or made[0] is None or made[3] is None or made[2] != declared:
            return None
        parts, search, _, index_rows, head = made
        created, updated = stamped.created_at, stamped.updated_at
        doc = join_document(parts, 1, created, updated)
        if created is not at:
            at, at_key = created, utc_key(created)
        created_key = at_key
        updated_key = at_key if updated is created else utc_key(updated)
        rows.append(
            assembled_customer_row(stamped.ready.id, 1, head, created_key, updated_key, doc, search)
        )
        entries.extend(index_rows)
    return rows, entries


_STAMPED = frozenset({"version", "created_at", "updated_at"})
"""The fields an import stamps after the workers: an index set with a path through one
of them has its rows made in the importing process."""

_ROW_SETS: dict[tuple[str, ...], IndexSet | None] = {}


def _row_set(declared: tuple[str, ...]) -> IndexSet | None:
    """The index set of ``declared``, ``None`` if a path reads a stamped field (cached)."""
    if declared not in _ROW_SETS:
        index_set = IndexSet.of(declared)
        stamped = any(p.resolved.steps[0].name in _STAMPED for p in index_set.paths)
        _ROW_SETS[declared] = None if stamped else index_set
    return _ROW_SETS[declared]


@attrs.frozen
class WorkerPreparer:
    """The SQL backend's :data:`~crmcore.storage._parallel.Preparer`, run in an import's workers.

    Attributes:
        declared: The declared paths of the database's index set when the pool
            started (``None``: unknown, no index rows are made).
    """

    declared: tuple[str, ...] | None

    def __call__(self, customer: Customer) -> Prepared | None:
        """The customer's document parts, search columns and index rows (``None``: nothing).

        With fast paths off, nothing (the importing process makes every row).
        """
        if not fast_paths_enabled():
            return None
        rows: list[EntryRow] | None = None
        declared = self.declared
        if declared is not None:
            index_set = _row_set(declared)
            if index_set is not None:
                rows = index_set.entry_rows((customer,), INDEX_TEXT_LENGTH)
        if rows is None:
            declared = None
        head = customer_head(customer)
        return (document_parts(customer), search_columns(customer), declared, rows, head)


class ImportPreparer:
    """:attr:`SqlBackend.import_preparer`: hands the workers a :class:`WorkerPreparer`.

    Called in the importing process itself it prepares without index rows;
    :meth:`for_workers`, called when the pool starts, reads the database's index set
    so the workers make its rows too.
    """

    def __init__(self, backend: SqlBackend) -> None:
        self._backend = backend

    def __call__(self, customer: Customer) -> Prepared | None:
        """What a worker without the index set makes of ``customer``."""
        return WorkerPreparer(None)(customer)

    def for_workers(self) -> WorkerPreparer:
        """The preparer the workers run: with the index set's declared paths, if readable."""
        try:
            declared: tuple[str, ...] | None = self._backend.index_set().declared
        except StorageError:  # an outdated schema: the first write will say so
            declared = None
        return WorkerPreparer(declared)
