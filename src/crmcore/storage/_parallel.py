"""Normalising an import's customers in worker processes (``import_customers(workers=)``).

What a worker does is pure and per customer: structure a mapping into a
:class:`~crmcore.models.Customer` (:func:`crmcore.serialization.from_dict`) and run
the store's :class:`~crmcore.storage.BatchNormaliser` over a chunk of them
(``check_many``). Everything else (the clock, the ids seen, the database, merges,
versions, history and the outcomes) stays in the importing process, in input order;
see :class:`~crmcore.storage._customer_import._ImportRun`.

The pool is a :class:`concurrent.futures.ProcessPoolExecutor` on the ``"spawn"``
start method on every platform (never ``fork``: the importing process holds open
database connections and perhaps threads). The normaliser is pickled once and handed
to each worker when it starts; chunks are sent as they fill, at most
:func:`window` of them in flight, so a generator of a million rows streams.

A chunk is processed here, in a worker, by :func:`normalise_chunk`; the one-worker
path runs :func:`check_batch`, the same function, in the importing process. A
backend may also give a :data:`Preparer`, run in the worker on each normalised
customer: the SQL backend's makes the customer's row there (all but its version and
timestamps). A customer the preparer made a row of comes back as a :class:`Ready`: its
id, its ``created_at`` and the model pickled, which the importing process unpickles
only if it needs the model (a batch that updates stored customers, or a row the
backend cannot write as it came). Unpickling each normalised customer was the largest
serial cost of a pool; a batch of new customers now never builds them. With fast
paths off, every customer comes back as the model (the reference).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import pickle
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, NamedTuple, cast

from crmcore._fastpaths import fast_paths_enabled
from crmcore.errors import ImportWorkerFailed, Problem, ValidationError, WrongType
from crmcore.models import Customer, replace
from crmcore.serialization import from_dict
from crmcore.storage.ports import BatchNormaliser

__all__ = [
    "AUTO_MIN_RECORDS",
    "MAX_AUTO_WORKERS",
    "MAX_CHUNK",
    "CheckResult",
    "NormaliserPool",
    "Preparer",
    "Ready",
    "Stamped",
    "WorkerResult",
    "auto_workers",
    "check_batch",
    "chunk_size",
    "normalise_chunk",
    "window",
    "worker_preparer",
]

AUTO_MIN_RECORDS = 10_000
"""With ``workers=None``, an import of fewer records than this runs on one worker.

Starting a pool of spawned processes costs about half a second (each worker imports
crmcore and the verification libraries), the time one process takes to normalise a
few thousand customers.
"""

MAX_AUTO_WORKERS = 8
"""With ``workers=None``, at most this many workers (the CPUs the process may use, fewer)."""

MAX_CHUNK = 2_000
"""A chunk sent to a worker holds ``batch_size`` records, at most this many."""


class Ready(NamedTuple):
    """A normalised customer a worker prepared: what the importing process reads of it.

    The model itself travels pickled (``blob``) and is built only by :meth:`customer`.
    """

    id: str
    created_at: dt.datetime
    blob: bytes

    def customer(self) -> Customer:
        """The normalised customer (unpickled now: about 100 µs)."""
        return cast(Customer, pickle.loads(self.blob))


class Stamped(NamedTuple):
    """A worker's new customer with the version 1 and timestamps its import gives it.

    What a backend's ``insert_stamped`` writes: the row ``prepared`` holds, with these
    stamps joined in, or (the reference) :meth:`customer`.
    """

    ready: Ready
    prepared: Any
    created_at: dt.datetime
    updated_at: dt.datetime

    def customer(self) -> Customer:
        """The stamped customer, built from the pickled model."""
        return replace(
            self.ready.customer(),
            version=1,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


WorkerResult = tuple[Customer | Ready | None, tuple[Problem, ...], tuple[Problem, ...], Any]
"""One record, normalised by a worker: the customer (``None`` when refused; a
:class:`Ready` when the backend's preparer made its row), the problems refusing it, the
normaliser's warnings, and what the preparer made of the customer (``None`` without
one; see :class:`NormaliserPool`)."""

Preparer = Callable[[Customer], Any]
"""A backend's per-customer work a worker does after normalising (``None``: nothing).

The SQL backend's encodes the customer's document ahead of its version and timestamps
(:func:`crmcore.storage.sqlalchemy._documents.document_parts`) and makes its search
columns and index rows. It must pickle (a function defined at module level, or an
instance of a module-level class) and may return ``None`` for a customer it leaves to
the importing process. One with a ``for_workers()`` method is replaced by what that
returns when the pool starts (:func:`worker_preparer`)."""


def worker_preparer(preparer: Preparer | None) -> Preparer | None:
    """The preparer the workers run: ``preparer.for_workers()`` if it has one, else itself.

    Called in the importing process as the pool starts: a backend's preparer that must
    know something of the database then (the SQL backend's index set) reads it there,
    and returns a picklable callable holding it.
    """
    make = getattr(preparer, "for_workers", None)
    return preparer if make is None else cast(Preparer, make())


CheckResult = tuple[Customer | ValidationError, tuple[Problem, ...]]
"""One customer checked by :func:`check_batch`: normalised or refused, and its warnings."""


def auto_workers() -> int:
    """How many workers ``workers=None`` uses for a large import.

    The CPUs this process may run on (its affinity mask, or ``os.process_cpu_count()``
    where Python has it, else ``os.cpu_count()``), at most :data:`MAX_AUTO_WORKERS`.
    """
    counter = getattr(os, "process_cpu_count", None)
    if counter is not None:
        count = counter()
    elif hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:  # pragma: no cover - platforms without affinity masks
        count = os.cpu_count()
    return max(1, min(count or 1, MAX_AUTO_WORKERS))


def chunk_size(batch_size: int) -> int:
    """How many records one chunk sent to a worker holds: ``batch_size``, at most 2,000."""
    return min(batch_size, MAX_CHUNK)


def window(workers: int) -> int:
    """How many chunks may be in flight at once: two per worker, so none waits for work."""
    return 2 * workers


def _warnings(findings: Sequence[Problem]) -> tuple[Problem, ...]:
    return tuple(p for p in findings if p.severity == "warning")


def check_batch(
    normaliser: BatchNormaliser, customers: list[Customer], now: Callable[[], dt.datetime]
) -> list[CheckResult]:
    """Each customer normalised by ``check_many`` (or the error refusing it), with its warnings.

    A :class:`ValidationError` from ``check_many`` itself (a clock giving a naive
    time) refuses every customer of the batch.
    """
    try:
        results = normaliser.check_many(customers, now=now())
    except ValidationError as error:
        return [(error, ())] * len(customers)
    return [
        (
            r.customer if r.ok else ValidationError(r.errors, subject="Customer"),
            _warnings(r.findings),
        )
        for r in results
    ]


_WORKER_NORMALISER: BatchNormaliser | None = None
_WORKER_PREPARER: Preparer | None = None


def _start_worker(pickled: bytes, preparer: Preparer | None = None) -> None:
    """Pool initializer: unpickle the store's normaliser (and take the preparer) once."""
    global _WORKER_NORMALISER, _WORKER_PREPARER
    _WORKER_NORMALISER = pickle.loads(pickled)
    _WORKER_PREPARER = preparer


def normalise_chunk(
    items: Sequence[Customer | Mapping[str, Any]], now: dt.datetime
) -> list[WorkerResult]:
    """In a worker: structure each mapping and normalise the chunk, one result per item.

    ``now`` is the time the importing process read from the store's clock for this
    chunk. Problems and warnings travel as tuples of :class:`~crmcore.errors.Problem`
    (an exception does not pickle with its problems).
    """
    normaliser = _WORKER_NORMALISER
    if normaliser is None:  # pragma: no cover - the pool always runs the initializer
        raise RuntimeError("normalise_chunk runs in an import worker, after _start_worker")
    results: list[WorkerResult | None] = [None] * len(items)
    customers: list[Customer] = []
    positions: list[int] = []
    for position, item in enumerate(items):
        if isinstance(item, Customer):
            customer = item
        else:
            try:
                customer = from_dict(item, Customer)
            except ValidationError as error:
                results[position] = (None, error.problems, (), None)
                continue
        customers.append(customer)
        positions.append(position)
    checked = check_batch(normaliser, customers, lambda: now)
    # equal warnings sent as one object: pickle then writes (and the importing process
    # rebuilds) each distinct warning of the chunk once
    same: dict[tuple[Problem, ...], tuple[Problem, ...]] = {}
    prepare = _WORKER_PREPARER
    ready = prepare is not None and fast_paths_enabled()
    for position, (result, found) in zip(positions, checked, strict=True):
        if isinstance(result, ValidationError):
            results[position] = (None, result.problems, (), None)
            continue
        prepared = None if prepare is None else prepare(result)
        sent: Customer | Ready = result
        if ready and prepared is not None:
            blob = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            sent = Ready(result.id, result.created_at, blob)
        results[position] = (sent, (), same.setdefault(found, found), prepared)
    return [r for r in results if r is not None]


def _pickled(normaliser: BatchNormaliser) -> bytes | None:
    try:
        return pickle.dumps(normaliser, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None


class NormaliserPool:
    """A pool of spawned worker processes running one normaliser over chunks of an import.

    ``pickled`` is the normaliser, pickled (:meth:`open` makes it). Use the pool as a
    context manager: leaving it shuts the workers down (cancelling chunks not
    started, after an error). :meth:`result` turns a worker's failure
    into :class:`~crmcore.errors.ImportWorkerFailed`, the cause chained.
    """

    def __init__(self, workers: int, pickled: bytes, preparer: Preparer | None = None) -> None:
        self.workers = workers
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(pickled, preparer),
        )

    @classmethod
    def open(
        cls,
        normaliser: BatchNormaliser,
        workers: int,
        *,
        explicit: bool,
        preparer: Preparer | None = None,
    ) -> NormaliserPool | None:
        """A pool for ``normaliser``, or ``None`` if it cannot be sent to a worker.

        An explicit ``workers=`` refuses a normaliser that does not pickle
        (:class:`~crmcore.errors.WrongType`); ``workers=None`` falls back to one
        worker with a :class:`RuntimeWarning`.
        """
        pickled = _pickled(normaliser)
        if pickled is None:
            message = (
                f"the store's normaliser ({type(normaliser).__name__}) cannot be pickled, "
                "so it cannot be sent to worker processes; define it at module level "
                "(no lambdas or local classes) or import with workers=1"
            )
            if explicit:
                raise WrongType(message)
            # stacklevel: the caller of Store.import_customers
            warnings.warn(f"{message}; importing on one worker", RuntimeWarning, stacklevel=6)
            return None
        return cls(workers, pickled, preparer)

    def submit(
        self, items: list[Customer | Mapping[str, Any]], now: dt.datetime
    ) -> Future[list[WorkerResult]]:
        """Send one chunk to the workers."""
        try:
            return self._executor.submit(normalise_chunk, items, now)
        except BrokenProcessPool as error:
            raise _failed(error) from error

    @staticmethod
    def result(future: Future[list[WorkerResult]]) -> list[WorkerResult]:
        """The chunk's results; a worker's crash or exception as ``ImportWorkerFailed``."""
        try:
            return future.result()
        except Exception as error:
            raise _failed(error) from error

    def __enter__(self) -> NormaliserPool:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._executor.shutdown(wait=True, cancel_futures=exc_type is not None)


def _failed(error: BaseException) -> ImportWorkerFailed:
    if isinstance(error, BrokenProcessPool):
        what = "a worker process of the import died (or could not start)"
    else:
        what = (
            "normalising a chunk of the import in a worker process failed "
            f"({type(error).__name__}: {error})"
        )
    return ImportWorkerFailed(
        f"{what}; the batch it was normalising and the ones after it were not written "
        "(batches committed before it stay)"
    )
