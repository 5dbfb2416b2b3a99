"""On entry: the stored customers a new customer (or an import row) probably is.

:func:`likely_stored_duplicates` normalises the new customer with the store's
normaliser, finds the stored customers that share one of its phones (E.164), emails,
identifier values or its display name, each an indexed lookup (the default indexed
paths and the ``display_name`` key column), and scores them with
:func:`crmcore.rules.dedupe.likely_duplicates` and a fitted model. An import can call
it for a row before storing it and update the match instead of creating a second
customer.

A duplicate that shares none of these exact values (only a misspelt name with a birth
date, say) is not found here: that needs the blocking keys indexed in the store, which
the batch check (:func:`crmcore.rules.dedupe.find_duplicates`) computes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmcore.errors import WrongType
from crmcore.models import Customer
from crmcore.query import Field, Query
from crmcore.query.filters import AnyFilter

if TYPE_CHECKING:
    from crmcore.rules.dedupe import MatchModel, PairExplanation
    from crmcore.storage.unit_of_work import StoreUnitOfWork

__all__ = ["likely_stored_duplicates"]

_CANDIDATES = 200
"""At most this many stored customers are scored for one new customer."""


def likely_stored_duplicates(
    uow: StoreUnitOfWork, new: Customer, *, model: MatchModel, threshold: float = 0.9
) -> tuple[PairExplanation, ...]:
    """The stored customers likely to be ``new``, strongest first, each explained.

    ``new`` is on the left of each explanation; the stored customer's id is ``right``.
    """
    from crmcore.rules.dedupe import likely_duplicates

    if not isinstance(new, Customer):
        raise WrongType(f"expected a Customer, got {type(new).__name__}")
    normal = uow._context.normalise(new)
    wanted: list[AnyFilter] = [Field("display_name") == normal.display_name]
    if numbers := sorted({p.number for p in normal.phones}):
        wanted.append(Field("phones.number").in_(numbers))
    if addresses := sorted({e.address for e in normal.emails}):
        wanted.append(Field("emails.address").in_(addresses))
    if values := sorted({i.value for i in normal.identifiers}):
        wanted.append(Field("identifiers.value").in_(values))
    where = wanted[0]
    for more in wanted[1:]:
        where = where | more
    found = uow.customers.find(Query(where=where, limit=_CANDIDATES))
    candidates = [c for c in found if c.id != normal.id]
    return likely_duplicates(normal, candidates, model=model, threshold=threshold)
