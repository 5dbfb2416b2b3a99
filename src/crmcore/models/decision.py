"""Reviewers' decisions about duplicates: "these two customers are not the same".

A :class:`NotDuplicate` is both the decision :func:`crmcore.rules.dedupe.cluster`
keeps apart and a stored record (kind ``"not_duplicate"``), written by
:meth:`crmcore.storage.Store.mark_not_duplicate` and respected by every duplicate
search through the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from crmcore.errors import Problem
from crmcore.models._base import Model
from crmcore.models._ids import new_id
from crmcore.models.checks import checks, max_length, non_blank, non_negative
from crmcore.models.customer import utc_now

__all__ = ["NotDuplicate"]


@attrs.frozen(kw_only=True)
class NotDuplicate(Model):
    """A decision that two customers are not the same, to keep them apart for good.

    Attributes:
        first_id: One customer's id.
        second_id: The other's.
        decided_at: When it was decided.
        decided_by: Who decided.
        note: Why.
        id: The decision's id (a stored decision is removed by it).
        version: The stored version (0 before it is stored).
        created_at: When the record was made.
    """

    first_id: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    second_id: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    decided_at: dt.datetime
    decided_by: str | None = attrs.field(default=None, metadata=checks(max_length(256)))
    note: str | None = attrs.field(default=None, metadata=checks(max_length(2000)))
    id: str = attrs.field(factory=new_id, metadata=checks(non_blank, max_length(64)))
    version: int = attrs.field(default=0, metadata=checks(non_negative))
    created_at: dt.datetime = attrs.field(factory=utc_now)

    kind_name = "not_duplicate"

    def _invariants(self) -> Iterable[Problem]:
        if self.first_id == self.second_id:
            yield Problem(
                code="dedupe.same_customer",
                path="$.second_id",
                message="a customer cannot be a non-duplicate of itself",
            )

    @property
    def pair(self) -> tuple[str, str]:
        """The two ids, smaller first."""
        a, b = sorted((self.first_id, self.second_id))
        return (a, b)
