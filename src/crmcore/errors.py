"""The crmcore exception family: one root, stable codes, every problem at once.

Every exception crmcore raises derives from :class:`CrmError`. Where a builtin
fits, the class also derives from it (``NotFound`` is a ``LookupError``,
``ValidationError`` is a ``ValueError``), so callers can catch either.

Each class has a stable ``code``; :class:`ValidationError` carries a tuple of
:class:`Problem` objects, each with its own stable code and a ``$.path`` into
the input that caused it. Codes are API: they never change with the locale and
are listed in ``docs/errors.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal

import attrs

__all__ = [
    "BackendUnavailable",
    "ConcurrencyConflict",
    "CrmError",
    "DuplicateRecord",
    "FeatureUnavailable",
    "InvalidTransition",
    "NotFound",
    "Problem",
    "Severity",
    "StorageError",
    "TransientStorageError",
    "UnknownBackend",
    "ValidationError",
]

Severity = Literal["error", "warning", "info"]
"""How serious a :class:`Problem` is: ``error`` blocks a write, the others inform."""


@attrs.frozen(kw_only=True)
class Problem:
    """One thing wrong with some input.

    Attributes:
        code: Stable, dotted identifier such as ``"type.invalid"``; never localised.
        path: Where the problem is, as a JSONPath-like string rooted at ``$``
            (``"$.person.name.family"``, ``"$.phones[0].number"``).
        message: Human-readable explanation (English unless a rule chose a locale).
        severity: ``"error"``, ``"warning"`` or ``"info"``.
    """

    code: str
    path: str = "$"
    message: str = ""
    severity: Severity = "error"

    def under(self, prefix: str) -> Problem:
        """Return this problem re-rooted below ``prefix`` (a path such as ``$.phones[0]``)."""
        path = prefix if self.path == "$" else prefix + self.path[1:]
        if type(self) is not Problem:
            return attrs.evolve(self, path=path)
        return Problem(code=self.code, path=path, message=self.message, severity=self.severity)

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.code}]"


class CrmError(Exception):
    """Root of every exception crmcore raises.

    Attributes:
        code: A stable identifier for the kind of failure.
    """

    code: ClassVar[str] = "crm.error"


class ValidationError(CrmError, ValueError):
    """Input was rejected; ``problems`` lists every problem found, not just the first.

    Raised when constructing a model with impossible values, when structuring
    untrusted data through :func:`crmcore.serialization.make_converter`, and by
    write paths that refuse invalid records. Nothing is written when it is raised.
    """

    code: ClassVar[str] = "validation.failed"

    def __init__(self, problems: Iterable[Problem], *, subject: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.subject = subject
        if not self.problems:
            raise ValueError("ValidationError needs at least one problem")
        head = f"{subject}: " if subject else ""
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{head}{count} {noun}\n{lines}")

    @property
    def codes(self) -> tuple[str, ...]:
        """The problems' codes, in order."""
        return tuple(p.code for p in self.problems)

    def under(self, prefix: str) -> ValidationError:
        """Return a copy whose problem paths are re-rooted below ``prefix``."""
        return ValidationError((p.under(prefix) for p in self.problems), subject=self.subject)


class InvalidTransition(CrmError):
    """A state machine (such as a complaint's) was asked for a move it does not allow."""

    code: ClassVar[str] = "state.invalid_transition"

    def __init__(self, *, subject: str, current: str, requested: str, allowed: Iterable[str]):
        self.subject = subject
        self.current = current
        self.requested = requested
        self.allowed = tuple(sorted(allowed))
        allowed_text = ", ".join(self.allowed) or "none"
        super().__init__(
            f"{subject} in state {current!r} cannot move to {requested!r} "
            f"(allowed from here: {allowed_text})"
        )


class NotFound(CrmError, LookupError):
    """No record with the requested id exists."""

    code: ClassVar[str] = "storage.not_found"

    def __init__(self, kind: str, record_id: str) -> None:
        self.kind = kind
        self.record_id = record_id
        super().__init__(f"no {kind} with id {record_id!r}")


class CustomerMerged(NotFound):
    """The customer was merged into another; its id resolves to the survivor.

    Raised by ``uow.customers.get`` (and by a merge naming it) for an id merged
    away; :meth:`crmcore.storage.Store.resolve_customer_id` follows it instead.

    Attributes:
        survivor_id: The customer it was merged into (directly; that one may have been
            merged on since).
        merge_id: The merge that did it.
    """

    code: ClassVar[str] = "storage.merged"

    def __init__(self, customer_id: str, *, survivor_id: str, merge_id: str | None) -> None:
        super().__init__("customer", customer_id)
        self.survivor_id = survivor_id
        self.merge_id = merge_id
        self.args = (
            f"customer {customer_id!r} was merged into {survivor_id!r}"
            + (f" (merge {merge_id!r})" if merge_id else ""),
        )


class StorageError(CrmError):
    """A storage backend failed; the driver's own exception is chained as ``__cause__``."""

    code: ClassVar[str] = "storage.error"


class TransientStorageError(StorageError):
    """A storage failure that may pass if the whole unit of work is retried.

    The connection was lost, a lock wait timed out, the database chose this
    transaction as a deadlock victim, or it could not be serialised with a concurrent
    one. Nothing of the transaction was committed; run the unit of work again (a
    :class:`ConcurrencyConflict` is not transient: retrying the same write repeats the
    conflict, so read the record again first).
    """

    code: ClassVar[str] = "storage.transient"


class ConcurrencyConflict(StorageError):
    """A write was based on a stale version of a record; nothing was changed."""

    code: ClassVar[str] = "storage.conflict"

    def __init__(
        self,
        kind: str,
        record_id: str,
        *,
        expected_version: int | None = None,
        actual_version: int | None = None,
    ) -> None:
        self.kind = kind
        self.record_id = record_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        detail = ""
        if expected_version is not None:
            detail = f" (write based on version {expected_version}"
            if actual_version is not None:
                detail += f", stored version is {actual_version}"
            detail += ")"
        super().__init__(f"{kind} {record_id!r} was changed after this write read it{detail}")


class DuplicateRecord(StorageError):
    """A record with this id already exists."""

    code: ClassVar[str] = "storage.duplicate"

    def __init__(self, kind: str, record_id: str) -> None:
        self.kind = kind
        self.record_id = record_id
        super().__init__(f"a {kind} with id {record_id!r} already exists")


class ImportWorkerFailed(StorageError):
    """A worker process of ``import_customers(workers=...)`` crashed or its normaliser raised.

    The worker's exception (or the broken pool) is chained as ``__cause__``. The batch
    being normalised and every later one were not written; batches committed earlier
    stay, as they do when the normaliser raises in a one-worker import.
    """

    code: ClassVar[str] = "storage.import_worker_failed"


__all__ += ["ImportWorkerFailed"]


class UnknownBackend(StorageError, ValueError):
    """``connect(url)`` was given a URL whose scheme no installed backend handles."""

    code: ClassVar[str] = "storage.unknown_backend"


class BackendUnavailable(StorageError, ImportError):
    """The backend for a URL needs a driver that is not installed; the message says what to do."""

    code: ClassVar[str] = "storage.backend_unavailable"


class FeatureUnavailable(CrmError, ImportError):
    """A feature needs an optional extra that is not installed; the message names it."""

    code: ClassVar[str] = "feature.unavailable"


class UnknownReference(CrmError, LookupError):
    """A record refers to a record that is not stored (a purchase for an unknown customer).

    Attributes:
        kind: The kind of the record that refers (``"purchase"``).
        record_id: Its id.
        field: The referring field (``"customer_id"``, ``"contact_person_id"``).
        reference: The id it refers to, which is not stored.
    """

    code: ClassVar[str] = "storage.unknown_reference"

    def __init__(self, kind: str, record_id: str, *, field: str, reference: str) -> None:
        self.kind = kind
        self.record_id = record_id
        self.field = field
        self.reference = reference
        target = "customer" if field == "customer_id" else "contact person of its customer"
        super().__init__(f"{kind} {record_id!r}: {field} {reference!r} is no stored {target}")


__all__ += ["UnknownReference"]


class InvalidArgument(CrmError, ValueError):
    """A documented argument was given a value it does not take (``batch_size=0``)."""

    code: ClassVar[str] = "argument.invalid"


class WrongType(CrmError, TypeError):
    """An argument is of the wrong type (a ``dict`` given to ``add`` in place of a model)."""

    code: ClassVar[str] = "argument.wrong_type"


class InvalidStorageURL(StorageError, ValueError):
    """``connect(url)`` was given a URL it cannot use (no database name, NUL, a bad host)."""

    code: ClassVar[str] = "storage.invalid_url"


class SchemaOutdated(StorageError):
    """The database's schema is older than this crmcore, or its upgrade is unfinished.

    Raised when a backend opens a database whose customer index is missing (a schema
    before revision 0003) or still being backfilled (an interrupted upgrade or index
    declaration); ``crmcore db upgrade URL`` (``crmcore.storage.sqlalchemy.upgrade``)
    brings it up to date, resuming where an interrupted run stopped.
    """

    code: ClassVar[str] = "storage.schema_outdated"


__all__ += ["InvalidArgument", "InvalidStorageURL", "SchemaOutdated", "WrongType"]


__all__ += ["CustomerMerged", "MergeAlreadyUndone", "MergeChangedSince", "MergeNotUndoable"]


class MergeNotUndoable(CrmError):
    """A merge was not undone; nothing was changed (see the two subclasses).

    Attributes:
        merge_id: The merge.
    """

    code: ClassVar[str] = "merge.not_undoable"

    def __init__(self, merge_id: str, message: str) -> None:
        self.merge_id = merge_id
        super().__init__(message)


class MergeChangedSince(MergeNotUndoable):
    """The survivor, a re-pointed record or a merged-away id changed after the merge.

    Attributes:
        changed: What changed, as ``"<kind> <id>"``.
    """

    code: ClassVar[str] = "merge.changed_since"

    def __init__(self, merge_id: str, *, changed: str, detail: str) -> None:
        self.changed = changed
        super().__init__(merge_id, f"merge {merge_id!r} cannot be undone: {changed} {detail} since")


class MergeAlreadyUndone(MergeNotUndoable):
    """The merge was undone before."""

    code: ClassVar[str] = "merge.already_undone"

    def __init__(self, merge_id: str) -> None:
        super().__init__(merge_id, f"merge {merge_id!r} was already undone")
