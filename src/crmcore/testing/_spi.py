"""Helpers of the kit's SPI-level tests, which drive ``Backend.begin()`` transactions directly."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import attrs

from crmcore.storage.ports import RECORD_TYPES, Backend, Record, RecordKind, Transaction
from crmcore.testing._fixtures import as_json
from crmcore.testing.data import (
    sample_complaints,
    sample_customers,
    sample_interactions,
    sample_merges,
    sample_not_duplicates,
    sample_purchases,
)

__all__ = [
    "KINDS",
    "committed",
    "edited",
    "outcome",
    "read",
    "run_aside",
    "same",
    "sample",
    "samples",
    "transaction",
]

R = TypeVar("R", bound=Record)

KINDS: tuple[RecordKind, ...] = tuple(RECORD_TYPES)
"""Every record kind, in the port's order."""

_SAMPLES: dict[RecordKind, Callable[[], list[Any]]] = {
    "customer": sample_customers,
    "interaction": sample_interactions,
    "complaint": sample_complaints,
    "purchase": sample_purchases,
    "merge": sample_merges,
    "not_duplicate": sample_not_duplicates,
}


def _note_field(model: type) -> str:
    """The first optional text field of ``model`` that is no reference: what :func:`edited` sets."""
    for field in attrs.fields(model):
        if field.type in ("str | None", str | None) and not field.name.endswith("_id"):
            return str(field.name)
    raise TypeError(f"{model.__name__} has no optional text field for the kit to edit")


def samples(kind: RecordKind, count: int, *, prefix: str | None = None) -> list[Record]:
    """``count`` sample records of ``kind`` as a backend stores them: version 1, fresh ids.

    Ids are ``prefix`` (a fresh one by default) followed by a sortable number, so their
    order is known; the records are returned in id order.
    """
    prefix = prefix or uuid.uuid4().hex[:8]
    pool = _SAMPLES[kind]()
    return [
        attrs.evolve(pool[n % len(pool)], id=f"{prefix}-{n:03d}", version=1) for n in range(count)
    ]


def sample(kind: RecordKind) -> Record:
    """One sample record of ``kind`` at version 1, under a fresh id."""
    return samples(kind, 1)[0]


def edited(record: R, note: str, *, bump: bool = True) -> R:
    """``record`` with ``note`` in a text field of its kind, one version later if ``bump``."""
    changes: dict[str, Any] = {_note_field(type(record)): note, "version": record.version + bump}
    return attrs.evolve(record, **changes)


def same(found: object, expected: object) -> bool:
    """Whether two records (or ``None``) are equal in their exact serialised form."""
    if found is None or expected is None:
        return found is expected
    return bool(as_json(found) == as_json(expected))


@contextmanager
def transaction(backend: Backend) -> Iterator[Transaction]:
    """One backend transaction, rolled back on leaving unless it was committed."""
    tx = backend.begin()
    try:
        yield tx
    finally:
        tx.rollback()


def committed(backend: Backend, kind: RecordKind, records: Sequence[Record]) -> None:
    """Insert ``records`` in one transaction and commit it."""
    with transaction(backend) as tx:
        tx.insert(kind, records)
        tx.commit()


def read(backend: Backend, kind: RecordKind, record_id: str) -> Record | None:
    """The committed record, read in a transaction of its own."""
    with transaction(backend) as tx:
        return tx.get(kind, record_id)


def outcome(*steps: Callable[[], object]) -> str:
    """Run ``steps`` in turn: ``"ok"``, or the name of the exception that stopped them."""
    try:
        for step in steps:
            step()
    except Exception as error:
        return type(error).__name__
    return "ok"


def run_aside(work: Callable[[], str], *, wait: float) -> Callable[[], str]:
    """Start ``work`` in a thread; wait up to ``wait`` s; return a function joining it.

    A backend that locks rows blocks the thread until the main transaction ends; an
    optimistic one lets it finish at once. The joiner returns ``work``'s result.
    """
    results: list[str] = []

    def target() -> None:
        try:
            results.append(work())
        except BaseException as error:  # pragma: no cover - reported by the joiner
            results.append(f"crashed: {error!r}")

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout=wait)

    def join() -> str:
        thread.join(timeout=120)
        return results[0] if results else "still running after 120 s"

    return join
