"""Applying a merge plan through the store, resolving merged-away ids, and undoing a merge.

:func:`apply_merge` writes a :class:`~crmcore.rules.dedupe.MergePlan` in one unit of
work: the survivor becomes the plan's merged customer, the merged-away customers are
removed, every purchase, interaction and complaint of theirs is re-pointed to the
survivor (a contact person they named to the survivor's person of the same name, the
one the plan kept), and a :class:`~crmcore.models.MergeRecord` keeps the lineage and the
exact state before. Every customer is checked against the version the plan was made
from, and every write is version checked, so a concurrent change raises
:class:`~crmcore.errors.ConcurrencyConflict` and nothing is written.

History: the survivor gets a ``merged`` change record holding the diff; each
merged-away customer a ``merged`` record holding its whole last state (``$``, as a
removal does) and the survivor (``$.merged_into``). Both carry the merge's id
(``merge_id``). A merged-away id resolves by its history, one indexed lookup per hop.

:func:`undo_merge` restores the state recorded in the merge record exactly: every
customer's serialised form is the one before the merge apart from ``version``, which
goes on counting (the survivor's is one more than the merge wrote; a merged-away
customer's two more than before the merge, its ``merged`` record having taken one).
Re-pointed records name their customer and contact person again, likewise one version
on. Restored customers are not normalised again: they are what was stored. Each
restored customer gets an ``unmerged`` change record.

The :class:`~crmcore.storage.Store` methods ``merge``, ``undo_merge`` and
``resolve_customer_id`` run these in a unit of work of their own; the unit of work's
``apply_merge``, ``undo_merge`` and ``resolve_customer_id`` run them inside yours.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import attrs

from crmcore._fastpaths import fast_paths_enabled
from crmcore.errors import (
    ConcurrencyConflict,
    CustomerMerged,
    MergeAlreadyUndone,
    MergeChangedSince,
    NotFound,
    Problem,
    ValidationError,
    WrongType,
)
from crmcore.models import (
    ChangeOperation,
    ChangeRecord,
    Customer,
    CustomerSnapshot,
    FieldChange,
    MergedField,
    MergeRecord,
    RenamedId,
    RepointedRecord,
)
from crmcore.models._ids import new_id
from crmcore.query import Field, Query
from crmcore.query.operands import check_id
from crmcore.rules.dedupe import MergePlan
from crmcore.rules.dedupe._text import fold
from crmcore.serialization import from_dict, to_dict
from crmcore.storage.history import diff_customers
from crmcore.storage.ports import MergedIdLookup, Record, RecordKind, Transaction

if TYPE_CHECKING:
    from crmcore.storage.unit_of_work import StoreUnitOfWork

__all__ = [
    "MERGED_INTO",
    "apply_merge",
    "content_digest",
    "merged_into",
    "resolve_customer_id",
    "undo_merge",
]

MERGED_INTO = "$.merged_into"
"""The path of the survivor's id in a merged-away customer's ``merged`` change record."""

_MAX_HOPS = 1000


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def content_digest(record: Record) -> str:
    """The digest of a record's serialised form without ``version`` (what an undo compares)."""
    data = to_dict(record)
    data.pop("version", None)
    return hashlib.sha256(_json(data).encode()).hexdigest()[:32]


def _refuse(code: str, path: str, message: str) -> ValidationError:
    return ValidationError([Problem(code=code, path=path, message=message)], subject="merge")


def merged_into(history: Sequence[ChangeRecord]) -> ChangeRecord | None:
    """The ``merged`` record that removed this customer, when it is the id's last change."""
    if not history:
        return None
    last = max(history, key=lambda c: (c.at, c.version))
    if last.operation is ChangeOperation.MERGED and any(
        c.path == MERGED_INTO for c in last.changes
    ):
        return last
    return None


def _survivor_of(record: ChangeRecord) -> str:
    change = next(c for c in record.changes if c.path == MERGED_INTO)
    return str(json.loads(change.new or "null"))


def _merged_error(tx: Transaction, customer_id: str) -> NotFound:
    """:class:`CustomerMerged` when ``customer_id`` was merged away, else :class:`NotFound`."""
    record = merged_into(tx.history(customer_id))
    if record is not None:
        return CustomerMerged(
            customer_id, survivor_id=_survivor_of(record), merge_id=record.merge_id
        )
    found = _standing_merge(tx, customer_id)
    if found is not None:  # merged with history turned off: the merge record says where it went
        survivor_id, merge_id = found
        return CustomerMerged(customer_id, survivor_id=survivor_id, merge_id=merge_id)
    return NotFound("customer", customer_id)


def _standing_merge(tx: Transaction, customer_id: str) -> tuple[str, str] | None:
    """The survivor and merge of the latest standing merge that removed ``customer_id``.

    A backend implementing :class:`~crmcore.storage.ports.MergedIdLookup` answers by
    an index (a fast path); otherwise, and with fast paths off, every merge record
    naming the id is queried.
    """
    if fast_paths_enabled() and isinstance(tx, MergedIdLookup):
        return tx.merged_into(customer_id)
    found = tx.query("merge", Query(where=Field("merged_ids").contains(customer_id)))
    standing = [m for m in cast(list[MergeRecord], found) if m.undone_at is None]
    if not standing:
        return None
    last = max(standing, key=lambda m: (m.at, m.id))
    return (last.survivor_id, last.id)


def resolve_customer_id(tx: Transaction, customer_id: str) -> str:
    """The stored customer ``customer_id`` is now: itself, or the survivor it was merged into.

    Follows chained merges (``a`` into ``b``, later ``b`` into ``c``: ``a`` resolves to
    ``c``). Raises :class:`~crmcore.errors.NotFound` for an id never stored or removed
    (not merged).
    """
    check_id(customer_id, subject="Customer")
    current = customer_id
    for _ in range(_MAX_HOPS):
        if tx.count("customer", Query(where=Field("id") == current)):
            return current
        error = _merged_error(tx, current)
        if not isinstance(error, CustomerMerged):
            raise NotFound("customer", customer_id) from error
        current = error.survivor_id
    raise NotFound("customer", customer_id)  # pragma: no cover - a cycle cannot be written


def _person_map(survivor: Customer, customer: Customer) -> dict[str, str]:
    """Each contact person id of ``customer``: the survivor's person of the same name."""
    if customer.organisation is None or survivor.organisation is None:
        return {}
    kept = {fold(p.name.display): p.id for p in survivor.organisation.contact_persons}
    return {
        p.id: kept[key]
        for p in customer.organisation.contact_persons
        if (key := fold(p.name.display)) in kept
    }


def _dependent_kinds() -> tuple[RecordKind, ...]:
    from crmcore.storage.unit_of_work import DEPENDENT_KINDS

    return DEPENDENT_KINDS


def _check_plan(plan: object) -> MergePlan:
    if not isinstance(plan, MergePlan):
        raise WrongType(f"expected a MergePlan (crmcore.rules.dedupe.plan_merge), got {plan!r}")
    if plan.customer.id != plan.survivor_id:
        raise _refuse(
            "merge.plan_invalid", "$.customer.id", "the merged customer is not the survivor"
        )
    if not plan.merged_ids or plan.survivor_id in plan.merged_ids:
        raise _refuse(
            "merge.plan_invalid", "$.merged_ids", "nothing merged, or the survivor merged"
        )
    if len(set(plan.merged_ids)) != len(plan.merged_ids):
        raise _refuse("merge.plan_invalid", "$.merged_ids", "an id is merged twice")
    return plan


def apply_merge(uow: StoreUnitOfWork, plan: MergePlan) -> MergeRecord:
    """Write ``plan`` in ``uow`` (not committed); returns the merge record (module docs).

    Raises:
        ConcurrencyConflict: A customer's stored version is not the planned one.
        CustomerMerged: A customer of the plan was merged away already.
        NotFound: A customer of the plan is not stored.
        ValidationError: The plan does not hold together (``merge.plan_invalid``), or
            the normaliser rejects the merged customer.
    """
    plan = _check_plan(plan)
    context, tx = uow._context, uow._tx
    now = context.now()
    ids = [plan.survivor_id, *plan.merged_ids]
    stored = cast(dict[str, Customer], tx.get_many("customer", ids))
    for customer_id in ids:
        if customer_id not in stored:
            raise _merged_error(tx, customer_id)
    planned = {plan.survivor_id: plan.customer.version, **dict(plan.versions)}
    for customer_id, version in planned.items():
        if customer_id in stored and stored[customer_id].version != version:
            raise ConcurrencyConflict(
                "customer",
                customer_id,
                expected_version=version,
                actual_version=stored[customer_id].version,
            )
    old = stored[plan.survivor_id]
    merged = context.normalise(plan.customer)
    survivor = attrs.evolve(
        merged,
        version=old.version + 1,
        created_at=plan.customer.created_at,
        updated_at=max(now, plan.customer.created_at),
    )
    merge_id = new_id()
    tx.update("customer", survivor, expected_version=old.version)
    repointed = _repoint(tx, plan, stored, survivor)
    for customer_id in plan.merged_ids:
        tx.delete("customer", customer_id, expected_version=stored[customer_id].version)
        uow._known_customers.discard(customer_id)
    record = MergeRecord(
        id=merge_id,
        version=1,
        created_at=now,
        survivor_id=plan.survivor_id,
        merged_ids=plan.merged_ids,
        at=now,
        survivor_version=survivor.version,
        survivor_digest=content_digest(survivor),
        actor=uow.actor,
        source=uow.source,
        fields=tuple(
            MergedField(path=d.path, source_id=d.source_id, rule=d.rule, reason=d.reason)
            for d in plan.fields
        ),
        renamed_ids=tuple(RenamedId(old=a, new=b) for a, b in plan.contact_point_ids),
        before=tuple(
            CustomerSnapshot(
                customer_id=i, version=stored[i].version, document=_json(to_dict(stored[i]))
            )
            for i in ids
        ),
        repointed=repointed,
    )
    tx.insert("merge", [record])
    if context.record_history:
        changes = [
            _change(uow, record, survivor.id, survivor.version, diff_customers(old, survivor))
        ]
        for customer_id in plan.merged_ids:
            gone = stored[customer_id]
            whole = FieldChange(path="$", old=_json(_bare(gone)), new=None)
            into = FieldChange(path=MERGED_INTO, old=None, new=_json(plan.survivor_id))
            changes.append(_change(uow, record, customer_id, gone.version + 1, (whole, into)))
        tx.append_history(changes)
    return record


def _repoint(
    tx: Transaction, plan: MergePlan, stored: Mapping[str, Customer], survivor: Customer
) -> tuple[RepointedRecord, ...]:
    """Point the merged customers' records at the survivor and its kept contact persons.

    The survivor's own records change only when they name a contact person the plan
    folded into another of the same name.
    """
    ids = (plan.survivor_id, *plan.merged_ids)
    persons = {i: _person_map(survivor, stored[i]) for i in ids}
    moved: list[RepointedRecord] = []
    refers = Query(where=Field("customer_id").in_(ids))
    for kind in _dependent_kinds():
        for record in tx.query(kind, refers):
            owner: str = getattr(record, "customer_id")  # noqa: B009
            person: str | None = getattr(record, "contact_person_id", None)
            changes: dict[str, Any] = {"customer_id": survivor.id}
            if person is not None:
                if person not in persons[owner]:
                    raise _refuse(
                        "merge.contact_person_lost",
                        "$.customer.organisation.contact_persons",
                        f"{kind} {record.id} names contact person {person!r} of {owner!r}, "
                        "whom the merged customer does not have",
                    )
                changes["contact_person_id"] = persons[owner][person]
            if all(getattr(record, k) == v for k, v in changes.items()):
                continue  # the survivor's own record, naming a person it keeps
            changes["version"] = record.version + 1
            repointed = attrs.evolve(record, **changes)
            tx.update(kind, repointed, expected_version=record.version)
            moved.append(
                RepointedRecord(
                    kind=kind,
                    record_id=record.id,
                    customer_id=owner,
                    contact_person_id=person,
                    version=record.version + 1,
                    digest=content_digest(repointed),
                )
            )
    return tuple(moved)


def _bare(customer: Customer) -> dict[str, Any]:
    data: dict[str, Any] = to_dict(customer)
    for key in ("version", "created_at", "updated_at"):
        data.pop(key, None)
    return data


def _change(
    uow: StoreUnitOfWork,
    record: MergeRecord,
    customer_id: str,
    version: int,
    changes: Sequence[FieldChange],
    operation: ChangeOperation = ChangeOperation.MERGED,
) -> ChangeRecord:
    return ChangeRecord(
        customer_id=customer_id,
        operation=operation,
        at=uow._context.now() if operation is ChangeOperation.UNMERGED else record.at,
        version=version,
        actor=uow.actor,
        source=uow.source,
        changes=tuple(changes),
        merge_id=record.id,
    )


def undo_merge(uow: StoreUnitOfWork, merge_id: str) -> MergeRecord:
    """Undo the merge ``merge_id`` in ``uow`` (not committed); returns the record, undone.

    Raises:
        NotFound: No merge has this id.
        MergeAlreadyUndone: It was undone before (``merge.already_undone``).
        MergeChangedSince: The survivor, a re-pointed record or a merged-away id
            changed after the merge, or a record added since names a contact person
            the undo would take from the survivor (``merge.changed_since``).
    """
    check_id(merge_id, subject="MergeRecord")
    context, tx = uow._context, uow._tx
    record = cast(MergeRecord | None, tx.get("merge", merge_id))
    if record is None:
        raise NotFound("merge", merge_id)
    if record.undone_at is not None:
        raise MergeAlreadyUndone(merge_id)
    current = cast(Customer | None, tx.get("customer", record.survivor_id))
    if current is None or not _unchanged(current, record.survivor_version, record.survivor_digest):
        detail = "was removed or merged" if current is None else "was changed"
        raise MergeChangedSince(merge_id, changed=f"customer {record.survivor_id}", detail=detail)
    for customer_id in tx.get_many("customer", record.merged_ids):
        raise MergeChangedSince(merge_id, changed=f"customer {customer_id}", detail="was stored")
    back: list[tuple[RepointedRecord, Record]] = []
    for moved in record.repointed:
        kind = cast(RecordKind, moved.kind)
        now_stored = tx.get(kind, moved.record_id)
        if now_stored is None or not _unchanged(now_stored, moved.version, moved.digest):
            raise MergeChangedSince(
                merge_id, changed=f"{moved.kind} {moved.record_id}", detail="was changed"
            )
        back.append((moved, now_stored))
    snapshots = {s.customer_id: s for s in record.before}
    now = context.now()
    restored = attrs.evolve(_restore(snapshots[record.survivor_id]), version=current.version + 1)
    tx.update("customer", restored, expected_version=current.version)
    for moved, now_stored in back:
        changes: dict[str, Any] = {
            "customer_id": moved.customer_id,
            "version": now_stored.version + 1,
        }
        if hasattr(now_stored, "contact_person_id"):
            changes["contact_person_id"] = moved.contact_person_id
        kind = cast(RecordKind, moved.kind)
        tx.update(kind, attrs.evolve(now_stored, **changes), expected_version=now_stored.version)
    brought = []
    for customer_id in record.merged_ids:
        snapshot = snapshots[customer_id]
        brought.append(attrs.evolve(_restore(snapshot), version=snapshot.version + 2))
    tx.insert("customer", brought)
    from crmcore.storage.unit_of_work import dropped_contact_person_uses

    in_use = dropped_contact_person_uses(tx, current, restored)
    if in_use is not None:
        raise MergeChangedSince(
            merge_id,
            changed=f"customer {record.survivor_id}",
            detail=f"got records ({in_use.message})",
        )
    undone = attrs.evolve(record, version=record.version + 1, undone_at=now, undone_by=uow.actor)
    tx.update("merge", undone, expected_version=record.version)
    if context.record_history:
        unmerged = ChangeOperation.UNMERGED
        history = [
            _change(
                uow,
                record,
                restored.id,
                restored.version,
                diff_customers(current, restored),
                unmerged,
            )
        ]
        for customer in brought:
            whole = FieldChange(path="$", old=None, new=_json(_bare(customer)))
            history.append(_change(uow, record, customer.id, customer.version, (whole,), unmerged))
        tx.append_history(history)
    return undone


def _unchanged(record: Record, version: int, digest: str | None) -> bool:
    """Whether ``record`` is as a merge wrote it (at ``version``, or with that content).

    A later merge and its undo bring a record back with the same content at a later
    version: that counts as unchanged.
    """
    if digest is None:
        return record.version == version
    return content_digest(record) == digest


def _restore(snapshot: CustomerSnapshot) -> Customer:
    return from_dict(json.loads(snapshot.document), Customer)
