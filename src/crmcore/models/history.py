"""Change history: what changed on a customer, when, by whom and from which source."""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from crmcore.models._base import Model
from crmcore.models._ids import new_id
from crmcore.models.checks import checks, max_length, non_blank

__all__ = ["ChangeOperation", "ChangeRecord", "FieldChange"]


class ChangeOperation(enum.StrEnum):
    """What kind of change a :class:`ChangeRecord` records."""

    CREATED = "created"
    UPDATED = "updated"
    REMOVED = "removed"
    MERGED = "merged"
    """A merge wrote the survivor, or removed a customer merged into it."""
    ERASED = "erased"
    UNMERGED = "unmerged"
    """An undone merge restored the survivor, or a customer merged away."""
    MARKED_NOT_DUPLICATE = "marked_not_duplicate"
    """A "not a duplicate" decision named the customer (the customer itself is unchanged)."""
    UNMARKED_NOT_DUPLICATE = "unmarked_not_duplicate"
    """A "not a duplicate" decision naming the customer was removed."""


@attrs.frozen(kw_only=True)
class FieldChange(Model):
    """One changed value: its path in the customer's serialised form, old and new as JSON text.

    ``old`` is ``None`` for a value that did not exist; ``new`` is ``None`` for one removed.
    """

    path: str = attrs.field(metadata=checks(non_blank))
    old: str | None = None
    new: str | None = None


@attrs.frozen(kw_only=True)
class ChangeRecord(Model):
    """One recorded change to a customer, the unit an audit, a merge or an erasure is traced by.

    Attributes:
        customer_id: The customer changed.
        operation: Created, updated, removed, merged, erased, unmerged, or marked or
            unmarked not a duplicate.
        at: When the change was committed by the application.
        version: The customer's version after the change (a decision's records
            carry the version the customer has; it does not change).
        actor: Who made it (a user, a service), when known.
        source: Where the new data came from (an import file, a form, a vendor).
        changes: Every changed value, ordered by path.
        merge_id: The merge (a :class:`~crmcore.models.MergeRecord`) a ``merged`` or
            ``unmerged`` record belongs to.
    """

    customer_id: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    operation: ChangeOperation
    at: dt.datetime
    version: int
    id: str = attrs.field(factory=new_id, metadata=checks(non_blank, max_length(64)))
    actor: str | None = None
    source: str | None = None
    changes: tuple[FieldChange, ...] = ()
    merge_id: str | None = attrs.field(default=None, metadata=checks(max_length(64)))
