"""What a store gives every write path: transactions, the time, the normaliser, history.

:class:`~crmcore.storage.Store` builds one :class:`WriteContext` when it is made; its
units of work, their repositories and its imports take everything they need from it,
and nothing from the store's own attributes.

The store's :class:`~crmcore.storage.ports.Normaliser` is turned once, here, into the
one-argument step the write paths call (:func:`normalising_step`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, cast

import attrs

from crmcore.models import Customer
from crmcore.storage.ports import BatchNormaliser, Clock, Normaliser, Transaction

__all__ = ["NormaliserArg", "WriteContext", "normalising_step"]

NormaliserArg = Normaliser | Callable[[Customer], Customer]
"""What a store accepts as its normaliser: the protocol, or a function of the customer alone."""


@attrs.frozen(kw_only=True)
class WriteContext:
    """The store's collaborators, as every write path sees them.

    Attributes:
        begin: Starts a backend transaction.
        now: The store's clock.
        normalise: The store's normaliser applied to one customer at the clock's time,
            its result checked to be a customer (identity when the store has none).
        batch_normaliser: The normaliser, when imports may hand it a whole batch.
        record_history: Whether writes to customers are recorded in their history.
        search_region: The region phone-shaped search text is read in (the
            normaliser's ``default_region``), so searches find numbers as writes store them.
        import_preparer: The backend's per-customer work an import's workers do after
            normalising (its ``import_preparer``, if it has one), handed back to its
            ``insert(..., prepared=)``; ``None`` for a backend without one.
    """

    begin: Callable[[], Transaction]
    now: Clock
    normalise: Callable[[Customer], Customer]
    batch_normaliser: BatchNormaliser | None
    record_history: bool
    search_region: str | None = None
    import_preparer: Callable[[Customer], Any] | None = None


def _unchanged(customer: Customer) -> Customer:
    return customer


def _takes_only_the_customer(normaliser: Callable[..., object]) -> bool:
    """Whether ``normaliser`` is the earlier form, a function of the customer alone.

    The only place the store reads a signature: a normaliser with a ``now`` keyword
    (or ``**kwargs``) is a :class:`Normaliser`; one without is called without the time.
    """
    try:
        parameters = inspect.signature(normaliser).parameters.values()
    except (TypeError, ValueError):
        return True
    return not any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        or (p.name == "now" and p.kind is not inspect.Parameter.POSITIONAL_ONLY)
        for p in parameters
    )


def _not_a_customer(result: object) -> TypeError:
    return TypeError(f"the normaliser returned a {type(result).__name__}, not a Customer")


def normalising_step(
    normaliser: NormaliserArg | None, clock: Clock
) -> Callable[[Customer], Customer]:
    """The one-argument step a write path calls to normalise a customer.

    A :class:`Normaliser` is called with the clock's time as ``now=`` (so plausibility
    rules judge the write's own time); a function taking only the customer is called
    with it alone, and the clock is not read. ``None`` leaves customers unchanged. The
    step refuses a result that is not a customer with a :class:`TypeError`.
    """
    if normaliser is None:
        return _unchanged
    if not isinstance(normaliser, BatchNormaliser) and _takes_only_the_customer(normaliser):
        alone = cast(Callable[[Customer], object], normaliser)

        def normalise_alone(customer: Customer) -> Customer:
            result = alone(customer)
            if not isinstance(result, Customer):
                raise _not_a_customer(result)
            return result

        return normalise_alone
    timed = cast(Normaliser, normaliser)

    def normalise(customer: Customer) -> Customer:
        result: object = timed(customer, now=clock())
        if not isinstance(result, Customer):
            raise _not_a_customer(result)
        return result

    return normalise
