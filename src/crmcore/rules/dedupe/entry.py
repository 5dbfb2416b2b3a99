"""On entry: the existing customers a new customer (or an import row) probably is.

The caller finds the candidates, typically the stored customers sharing one of
the new customer's :func:`.keys.blocking_keys` (an indexed lookup, not a scan),
and :func:`likely_duplicates` scores them with a fitted model before the new
customer is stored, so an import can match instead of creating a second customer.
"""

from __future__ import annotations

from collections.abc import Iterable

from crmcore.errors import WrongType
from crmcore.models import Customer
from crmcore.rules.dedupe._features import features
from crmcore.rules.dedupe.cluster import check_threshold
from crmcore.rules.dedupe.explain import PairExplanation, explain_pair
from crmcore.rules.dedupe.keys import DEFAULT_BLOCKING, BlockingSpec, feature_keys
from crmcore.rules.dedupe.model import MatchModel

__all__ = ["likely_duplicates"]


def likely_duplicates(
    new: Customer,
    candidates: Iterable[Customer],
    *,
    model: MatchModel,
    threshold: float = 0.9,
    blocking: BlockingSpec = DEFAULT_BLOCKING,
    shared_key_only: bool = True,
) -> tuple[PairExplanation, ...]:
    """The candidates that are likely ``new``, strongest first, each explained.

    Raises :class:`~crmcore.errors.WrongType` for a ``new`` that is not a customer or
    a ``model`` that is not a :class:`MatchModel`, and ``dedupe.threshold_invalid``
    for a ``threshold`` that is not a probability.

    Each explanation has ``new`` on the left. Only candidates of the same kind are
    scored, and with ``shared_key_only`` (the default) only those sharing a
    blocking key with ``new``, as a batch check would; a candidate with
    ``new``'s own id is skipped.
    """
    if not isinstance(new, Customer):
        raise WrongType(f"expected a Customer, got {type(new).__name__}")
    if not isinstance(model, MatchModel):
        raise WrongType(f"model: expected a fitted MatchModel, got {type(model).__name__}")
    check_threshold(threshold, "likely_duplicates")
    item = features(new, region=blocking.region)
    keys = frozenset(feature_keys(item, passes=blocking.passes))
    found = []
    for candidate in candidates:
        if candidate.id == new.id or candidate.kind is not new.kind:
            continue
        other = features(candidate, region=blocking.region)
        shared = tuple(sorted(keys.intersection(feature_keys(other, passes=blocking.passes))))
        if shared_key_only and not shared:
            continue
        explanation = explain_pair(item, other, model, keys=shared)
        if explanation.probability >= threshold:
            found.append(explanation)
    return tuple(sorted(found, key=lambda p: (-p.total, p.right)))
