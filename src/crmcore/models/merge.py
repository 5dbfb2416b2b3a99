"""Merge records: the durable lineage of a merge of duplicate customers, enough to undo it.

A :class:`MergeRecord` is written by the store when it applies a merge plan
(:meth:`crmcore.storage.Store.merge`): which customers were merged into which, when,
by whom and from which source, where each surviving field value came from and why,
the exact serialised state of every customer before the merge, and every purchase,
interaction and complaint the merge re-pointed, with the customer (and contact
person) it named before. Undoing the merge (:meth:`crmcore.storage.Store.undo_merge`)
reads it back and marks it undone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from crmcore.errors import Problem
from crmcore.models._base import Model
from crmcore.models._ids import new_id
from crmcore.models.checks import checks, max_length, non_blank, non_negative, unique
from crmcore.models.customer import utc_now

__all__ = ["CustomerSnapshot", "MergeRecord", "MergedField", "RenamedId", "RepointedRecord"]


@attrs.frozen(kw_only=True)
class MergedField(Model):
    """Where one field of the merged customer came from (a plan's field decision).

    Attributes:
        path: The field (``"person.birthday"``, ``"display_name"``).
        source_id: The customer whose value survived (``None``: no customer had one).
        rule: The rule that decided (``most_recently_verified``, ``only_value``, ...).
        reason: The decision in one sentence.
    """

    path: str = attrs.field(metadata=checks(non_blank, max_length(128)))
    rule: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    reason: str = attrs.field(metadata=checks(max_length(1024)))
    source_id: str | None = attrs.field(default=None, metadata=checks(max_length(64)))


@attrs.frozen(kw_only=True)
class RenamedId(Model):
    """A contact point, contact person, fact or other item whose id the merge replaced.

    Attributes:
        old: The id the item had on its customer before the merge.
        new: The id of the item that stands for it on the survivor.
    """

    old: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    new: str = attrs.field(metadata=checks(non_blank, max_length(128)))


@attrs.frozen(kw_only=True)
class CustomerSnapshot(Model):
    """The exact stored form of one customer just before the merge.

    Attributes:
        customer_id: The customer.
        version: Its stored version then.
        document: Its serialised form (:func:`crmcore.serialization.to_dict`) as JSON
            text, ``version``, ``created_at`` and ``updated_at`` included.
    """

    customer_id: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    version: int = attrs.field(metadata=checks(non_negative))
    document: str = attrs.field(metadata=checks(non_blank))


@attrs.frozen(kw_only=True)
class RepointedRecord(Model):
    """A purchase, interaction or complaint the merge moved to the survivor.

    Attributes:
        kind: The record's kind (``"purchase"``, ``"interaction"``, ``"complaint"``).
        record_id: The record.
        customer_id: The merged-away customer it named before the merge.
        contact_person_id: The contact person it named before (``None``: none).
        version: The record's version after the merge re-pointed it.
    """

    kind: str = attrs.field(metadata=checks(non_blank, max_length(32)))
    record_id: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    customer_id: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    version: int = attrs.field(metadata=checks(non_negative))
    contact_person_id: str | None = attrs.field(default=None, metadata=checks(max_length(64)))
    digest: str | None = attrs.field(default=None, metadata=checks(max_length(64)))


@attrs.frozen(kw_only=True)
class MergeRecord(Model):
    """The lineage of one merge: stored by the store, one record per merge (kind ``merge``).

    Attributes:
        survivor_id: The customer the others were merged into.
        merged_ids: The customers merged away (removed; their ids resolve to the survivor).
        at: When the merge was applied.
        survivor_version: The survivor's version the merge wrote.
        survivor_digest: The digest of the survivor as the merge wrote it (without
            ``version``), by which an undo sees whether it changed since.
        actor: Who applied it, when known.
        source: Where the decision came from (a review screen, a batch job).
        fields: Where each single-valued field's surviving value came from, and why.
        renamed_ids: Items (contact points, contact persons, facts) whose ids the merge
            replaced, each with the id that stands for it.
        before: The exact stored state of every customer involved, survivor first.
        repointed: Every record re-pointed to the survivor, with what it named before.
        undone_at: When the merge was undone (``None`` while it stands).
        undone_by: Who undid it, when known.
    """

    survivor_id: str = attrs.field(metadata=checks(non_blank, max_length(64)))
    merged_ids: tuple[str, ...] = attrs.field(metadata=checks(unique()))
    at: dt.datetime
    survivor_version: int = attrs.field(metadata=checks(non_negative))
    survivor_digest: str | None = attrs.field(default=None, metadata=checks(max_length(64)))
    id: str = attrs.field(factory=new_id, metadata=checks(non_blank, max_length(64)))
    version: int = attrs.field(default=0, metadata=checks(non_negative))
    created_at: dt.datetime = attrs.field(factory=utc_now)
    actor: str | None = attrs.field(default=None, metadata=checks(max_length(256)))
    source: str | None = attrs.field(default=None, metadata=checks(max_length(256)))
    fields: tuple[MergedField, ...] = ()
    renamed_ids: tuple[RenamedId, ...] = ()
    before: tuple[CustomerSnapshot, ...] = ()
    repointed: tuple[RepointedRecord, ...] = ()
    undone_at: dt.datetime | None = None
    undone_by: str | None = attrs.field(default=None, metadata=checks(max_length(256)))

    kind_name = "merge"

    def _invariants(self) -> Iterable[Problem]:
        if not self.merged_ids:
            yield Problem(
                code="merge.nothing_merged", path="$.merged_ids", message="no customer merged away"
            )
        if self.survivor_id in self.merged_ids:
            yield Problem(
                code="merge.survivor_merged",
                path="$.merged_ids",
                message=f"the survivor {self.survivor_id!r} cannot be merged away",
            )
