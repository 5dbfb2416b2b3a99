"""On entry, and stored "not a duplicate" decisions.

:func:`likely_stored_duplicates` normalises the new customer with the store's
normaliser, finds the stored customers that share one of its phones (E.164), emails
(compared case-insensitively, as dedupe compares them), identifier values or its
display name, and scores them with :func:`crmcore.rules.dedupe.likely_duplicates` and
a fitted model. Phones, identifiers, the display name and an email as written are
indexed lookups (the default indexed paths and the ``display_name`` key column); an
email written in another case is found through the ``@dedupe.email`` index entries
when the backend holds them (:class:`~crmcore.storage.ports.DedupeKeyLookup`, the SQL
storage once ``"@dedupe"`` is declared), otherwise by a text search of the stored
customers, which reads every customer. Customers a stored decision says are not
``new`` are left out.

A duplicate that shares none of these exact values (only a misspelt name with a birth
date, say) is not found here: that needs the blocking keys indexed in the store, which
the batch check (:func:`crmcore.rules.dedupe.find_duplicates`) computes.

**Decisions.** :func:`mark_not_duplicate` stores a :class:`~crmcore.models.NotDuplicate`
(record kind ``"not_duplicate"``) and a ``marked_not_duplicate`` change record for each
of the two customers; :func:`remove_not_duplicate` removes it (``unmarked_not_duplicate``
records). :func:`standing_decisions` gives every stored decision with its ids resolved
through merges (a decision naming a merged-away id applies to its survivor), which
:func:`crmcore.storage.dedupe.find_duplicates` and :func:`likely_stored_duplicates`
respect without being told.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

import attrs

from crmcore._fastpaths import fast_paths_enabled
from crmcore.errors import NotFound, Problem, ValidationError, WrongType
from crmcore.models import ChangeOperation, ChangeRecord, Customer, FieldChange, NotDuplicate
from crmcore.query import Field, Query
from crmcore.query.filters import AnyFilter, Search
from crmcore.query.operands import check_id
from crmcore.rules.dedupe._features import fold_email

if TYPE_CHECKING:
    from crmcore.rules.dedupe import MatchModel, PairExplanation
    from crmcore.storage.ports import Transaction
    from crmcore.storage.unit_of_work import StoreUnitOfWork

__all__ = [
    "NOT_DUPLICATE_OF",
    "DedupeKeyLookup",
    "decisions_naming",
    "kept_apart",
    "likely_of_normalised",
    "likely_stored_duplicates",
    "mark_not_duplicate",
    "remove_not_duplicate",
    "standing_decisions",
]

_CANDIDATES = 200
"""At most this many stored customers are scored for one new customer."""

_BATCH = 500

NOT_DUPLICATE_OF = "$.not_duplicate_of"
"""The path of a decision's change: ``{"decision_id": ..., "customer_id": <the other>}``."""


@runtime_checkable
class DedupeKeyLookup(Protocol):
    """Optional: a transaction that finds the customers holding given blocking keys.

    :meth:`customers_with_blocking_keys` returns the ids of the customers whose
    :func:`~crmcore.rules.dedupe.blocking_keys` (every pass, no default region) include
    one of ``keys`` (``"email:anna@example.com"``), sorted, by an index, or ``None``
    when it does not hold the keys; the store then searches.
    """

    def customers_with_blocking_keys(self, keys: Sequence[str]) -> list[str] | None:
        """The ids of the customers holding one of ``keys``, or ``None``."""
        ...


def _emails_in_any_case(tx: Transaction, folded: set[str], seen: set[str]) -> list[Customer]:
    """The stored customers, beyond ``seen``, with an email whose folded form is in ``folded``."""
    if not folded:
        return []
    ids: list[str] | None = None
    if fast_paths_enabled() and isinstance(tx, DedupeKeyLookup):
        ids = tx.customers_with_blocking_keys(sorted(f"email:{e}" for e in folded))
    if ids is not None:
        wanted = [i for i in ids if i not in seen][:_CANDIDATES]
        found = [cast(Customer, c) for c in tx.get_many("customer", wanted).values()]
    else:
        found = []
        for address in sorted(folded):
            query = Query(where=Search(text=address), limit=_CANDIDATES)
            found.extend(cast(list[Customer], tx.query("customer", query)))
    out: dict[str, Customer] = {}
    for customer in found:
        if customer.id in seen or customer.id in out:
            continue
        if folded.intersection(fold_email(e.address) for e in customer.emails):
            out[customer.id] = customer
    return [out[k] for k in sorted(out)]


def likely_stored_duplicates(
    uow: StoreUnitOfWork, new: Customer, *, model: MatchModel, threshold: float = 0.9
) -> tuple[PairExplanation, ...]:
    """The stored customers likely to be ``new``, strongest first, each explained.

    ``new`` is on the left of each explanation; the stored customer's id is ``right``.
    A stored customer a decision says is not ``new`` (``new.id`` stored or merged
    away) is left out.
    """
    if not isinstance(new, Customer):
        raise WrongType(f"expected a Customer, got {type(new).__name__}")
    normal = uow._context.normalise(new)
    tx = uow._tx
    return likely_of_normalised(tx, normal, model, threshold, standing_decisions(tx))


def likely_of_normalised(
    tx: Transaction,
    normal: Customer,
    model: MatchModel,
    threshold: float,
    decisions: Sequence[NotDuplicate],
) -> tuple[PairExplanation, ...]:
    """:func:`likely_stored_duplicates` of a customer already normalised, given the decisions.

    ``decisions`` are the standing decisions (:func:`standing_decisions`), read once by
    a caller that checks many customers (an import's batch).
    """
    from crmcore.rules.dedupe import likely_duplicates

    wanted: list[AnyFilter] = [Field("display_name") == normal.display_name]
    if numbers := sorted({p.number for p in normal.phones}):
        wanted.append(Field("phones.number").in_(numbers))
    folded = {fold_email(e.address) for e in normal.emails if e.address.strip()}
    if addresses := sorted({e.address for e in normal.emails} | folded):
        wanted.append(Field("emails.address").in_(addresses))
    if values := sorted({i.value for i in normal.identifiers}):
        wanted.append(Field("identifiers.value").in_(values))
    where = wanted[0]
    for more in wanted[1:]:
        where = where | more
    found = cast(list[Customer], tx.query("customer", Query(where=where, limit=_CANDIDATES)))
    found += _emails_in_any_case(tx, folded, {c.id for c in found})
    apart = _kept_apart_from(tx, normal.id, decisions)
    candidates = [c for c in found if c.id != normal.id and c.id not in apart]
    return likely_duplicates(normal, candidates, model=model, threshold=threshold)


def _kept_apart_from(
    tx: Transaction, customer_id: str, decisions: Sequence[NotDuplicate]
) -> set[str]:
    """The customers the standing ``decisions`` keep apart from ``customer_id`` (resolved)."""
    if not decisions:
        return set()
    try:
        current = _resolve(tx, customer_id)
    except NotFound:  # a new id, or a removed customer's (a decision may still name it)
        current = customer_id
    return kept_apart(decisions, current)


def _resolve(tx: Transaction, customer_id: str) -> str:
    from crmcore.storage.merging import resolve_customer_id

    return resolve_customer_id(tx, customer_id)


def _stored_decisions(tx: Transaction) -> list[NotDuplicate]:
    return [cast(NotDuplicate, d) for d in tx.scan("not_duplicate", batch_size=_BATCH)]


def standing_decisions(tx: Transaction) -> list[NotDuplicate]:
    """Every stored decision, its ids resolved to the customers they stand for now.

    A decision naming a merged-away id names its survivor instead (same ``id``, the
    rest unchanged); one whose two customers have since been merged into one, so that
    it no longer separates anything, is left out; an id neither stored nor merged
    (a removed customer) stays as it is. Ordered by decision id.
    """
    decisions = _stored_decisions(tx)
    ids = sorted({i for d in decisions for i in (d.first_id, d.second_id)})
    stored: set[str] = set()
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        stored.update(
            cast(Customer, c).id
            for c in tx.query("customer", Query(where=Field("id").in_(chunk), limit=_BATCH))
        )
    resolved: dict[str, str] = {}
    for cid in ids:
        if cid in stored:
            resolved[cid] = cid
            continue
        try:
            resolved[cid] = _resolve(tx, cid)
        except NotFound:
            resolved[cid] = cid
    out: list[NotDuplicate] = []
    for d in decisions:
        first, second = resolved[d.first_id], resolved[d.second_id]
        if first == second:
            continue
        if (first, second) != (d.first_id, d.second_id):
            d = attrs.evolve(d, first_id=first, second_id=second)
        out.append(d)
    return sorted(out, key=lambda d: d.id)


def decisions_naming(tx: Transaction, customer_id: str | None) -> list[NotDuplicate]:
    """The standing decisions (resolved) naming the customer ``customer_id`` stands for.

    ``None``: every standing decision. Raises :class:`~crmcore.errors.NotFound` for an
    id neither stored nor merged.
    """
    if customer_id is None:
        return standing_decisions(tx)
    current = _resolve(tx, check_id(customer_id, subject="Customer"))
    return [d for d in standing_decisions(tx) if current in (d.first_id, d.second_id)]


def _history(
    uow: StoreUnitOfWork, operation: ChangeOperation, decision: NotDuplicate, ids: Sequence[str]
) -> None:
    if not uow._context.record_history:
        return
    tx = uow._tx
    now = uow._context.now()
    records = []
    for mine, other in ((ids[0], ids[1]), (ids[1], ids[0])):
        customer = tx.get("customer", mine)
        if customer is None:  # a removed customer keeps no history of later decisions
            continue
        value = json.dumps({"decision_id": decision.id, "customer_id": other}, ensure_ascii=False)
        marked = operation is ChangeOperation.MARKED_NOT_DUPLICATE
        change = FieldChange(
            path=NOT_DUPLICATE_OF, old=None if marked else value, new=value if marked else None
        )
        records.append(
            ChangeRecord(
                customer_id=mine,
                operation=operation,
                at=now,
                version=customer.version,
                actor=uow.actor,
                source=uow.source,
                changes=(change,),
            )
        )
    tx.append_history(records)


def _refuse(code: str, path: str, message: str) -> ValidationError:
    return ValidationError([Problem(code=code, path=path, message=message)], subject="NotDuplicate")


def mark_not_duplicate(
    uow: StoreUnitOfWork,
    first_id: str,
    second_id: str,
    *,
    note: str | None = None,
    decided_by: str | None = None,
) -> NotDuplicate:
    """Store the decision that ``first_id`` and ``second_id`` are not the same customer.

    Both ids must be stored or merged away (:class:`~crmcore.errors.NotFound`
    otherwise) and stand for two different customers (``dedupe.same_customer``).
    The decision keeps the two customers' current ids (a merged-away id is stored as
    its survivor's), smaller first. Marking a pair already decided (by their current
    ids, or by the ids as given) with the same note returns the stored decision and
    writes nothing; with another note it is refused (``dedupe.already_decided``:
    remove the decision first to change it).
    """
    a = check_id(first_id, subject="Customer")
    b = check_id(second_id, subject="Customer")
    if a == b:
        raise _refuse(
            "dedupe.same_customer", "$.second_id", "a customer cannot be a non-duplicate of itself"
        )
    given = sorted((a, b))
    current = (_resolve(uow._tx, given[0]), _resolve(uow._tx, given[1]))
    if current[0] == current[1]:
        raise _refuse(
            "dedupe.same_customer",
            "$.second_id",
            f"{given[0]!r} and {given[1]!r} are both the customer {current[0]!r} now",
        )
    first, second = sorted(current)
    for pair in dict.fromkeys([(first, second), (given[0], given[1])]):
        where = (Field("first_id") == pair[0]) & (Field("second_id") == pair[1])
        existing = uow._tx.query("not_duplicate", Query(where=where, limit=1))
        if existing:
            stored = cast(NotDuplicate, existing[0])
            if stored.note != note:
                raise _refuse(
                    "dedupe.already_decided",
                    "$.note",
                    f"{pair[0]!r} and {pair[1]!r} are already decided not duplicates "
                    f"(decision {stored.id!r}, note {stored.note!r}); remove it to change it",
                )
            return stored
    decision = NotDuplicate(
        first_id=first,
        second_id=second,
        decided_at=uow._context.now(),
        decided_by=decided_by if decided_by is not None else uow.actor,
        note=note,
    )
    stored = uow.not_duplicates.add(decision)
    _history(uow, ChangeOperation.MARKED_NOT_DUPLICATE, stored, current)
    return stored


def remove_not_duplicate(uow: StoreUnitOfWork, decision_id: str) -> NotDuplicate:
    """Remove a stored decision by its id; returns it. :class:`NotFound` if not stored."""
    decision = uow.not_duplicates.get(decision_id)
    uow.not_duplicates.remove(decision)
    current = []
    for cid in (decision.first_id, decision.second_id):
        try:
            current.append(_resolve(uow._tx, cid))
        except NotFound:
            current.append(cid)
    _history(uow, ChangeOperation.UNMARKED_NOT_DUPLICATE, decision, current)
    return decision


def kept_apart(decisions: Iterable[NotDuplicate], customer_id: str) -> set[str]:
    """The ids the ``decisions`` keep apart from ``customer_id``."""
    found: set[str] = set()
    for d in decisions:
        if d.first_id == customer_id:
            found.add(d.second_id)
        elif d.second_id == customer_id:
            found.add(d.first_id)
    return found
