"""What an import reports: the status and outcome of each input record, and the report.

:meth:`crmcore.storage.Store.import_customers` and
:meth:`crmcore.storage.Store.import_records` return an :class:`ImportReport`; its
:class:`ImportOutcome` objects say, by :class:`ImportStatus`, what happened to each
input record. Import these from :mod:`crmcore.storage`.
"""

from __future__ import annotations

import enum

import attrs

from crmcore.errors import Problem

__all__ = ["ImportOutcome", "ImportReport", "ImportStatus"]


class ImportStatus(enum.StrEnum):
    """What an import did with one input record."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"
    SKIPPED = "skipped"
    """Not written: likely a stored customer (``import_customers(on_duplicate="skip")``)."""


@attrs.frozen(kw_only=True)
class ImportOutcome:
    """What happened to one input record.

    Attributes:
        index: Position of the record in the input (0-based).
        id: The record's id, when the input had a usable one (for a customer matched
            by a natural key or merged into or skipped for a likely duplicate, the
            stored customer's id).
        status: Created, updated, unchanged, rejected or skipped.
        version: The stored version after the import (``None`` if rejected).
        problems: Why it was rejected (paths into the input record).
        warnings: What the import noticed but did not refuse: the normaliser's
            findings of severity ``warning`` (a phone kept as typed and flagged
            invalid, ``phone.invalid``), and the import's own (``import.created_at_kept``).
    """

    index: int
    id: str | None
    status: ImportStatus
    version: int | None = None
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()


@attrs.frozen(kw_only=True)
class ImportReport:
    """What an import did: counts by status, and the outcomes.

    Attributes:
        outcomes: One :class:`ImportOutcome` per input record, in input order; when the
            import was given ``on_outcome``, only the rejected ones (every outcome went
            to the callback instead, so memory stays flat however many records there are).
        created: How many records were created.
        updated: How many records were updated.
        unchanged: How many records equalled the stored one and were not written.
        rejected: How many records were rejected (nothing of them was written).
        skipped: How many records were skipped as likely duplicates of stored customers.
    """

    outcomes: tuple[ImportOutcome, ...]
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        """How many input records there were."""
        return self.created + self.updated + self.unchanged + self.rejected + self.skipped

    @property
    def ok(self) -> bool:
        """True when no record was rejected."""
        return self.rejected == 0

    def skips(self) -> tuple[ImportOutcome, ...]:
        """Return the skipped outcomes (each names the stored customer it likely is)."""
        return tuple(o for o in self.outcomes if o.status is ImportStatus.SKIPPED)

    def rejections(self) -> tuple[ImportOutcome, ...]:
        """Return the rejected outcomes, with their problems."""
        return tuple(o for o in self.outcomes if o.status is ImportStatus.REJECTED)
