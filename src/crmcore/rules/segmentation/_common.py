"""What every segmentation shares: explanations, cut points, scores, argument checks."""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal

import attrs

from crmcore.errors import Problem, ValidationError, WrongType
from crmcore.models.values import CURRENCY_CODES

__all__ = [
    "Explanation",
    "Factor",
    "ascending_score",
    "currency_problem",
    "descending_score",
    "divide",
    "order_problem",
    "quantile_cut_points",
    "rank_cut_points",
    "refuse",
    "require_aware",
    "require_spec",
    "share_problem",
]


@attrs.frozen(kw_only=True)
class Factor:
    """One input that decided an assignment: its value, its score, the cut points it met.

    Attributes:
        name: What the value is (``"recency_days"``, ``"total"``, ``"margin"``).
        value: The value itself, exact (money and counts alike are decimals).
        score: The score it earned, when the rule scores values.
        cut_points: The thresholds it was compared with, in the order the rule uses
            them (ascending for scores; top tier first for the pyramid).
        rule: How the value met the thresholds, in words
            (``"score = 1 + number of cut points below the value"``).
    """

    name: str
    value: Decimal | None
    score: int | None = None
    cut_points: tuple[Decimal, ...] = ()
    rule: str = ""


@attrs.frozen(kw_only=True)
class Explanation:
    """Why an assignment came out as it did: serialisable, so an app can show it.

    Attributes:
        rule: The ``kind`` tag of the spec that decided it.
        outcome: The result (a segment, a tier, a class), as text.
        factors: Every value, score and threshold that decided it.
        reason: The decision in one sentence.
    """

    rule: str
    outcome: str
    factors: tuple[Factor, ...]
    reason: str


def share_problem(value: Decimal, path: str) -> Problem | None:
    """A ``segmentation.share_invalid`` problem unless ``0 < value <= 1``."""
    if Decimal(0) < value <= 1:
        return None
    return Problem(
        code="segmentation.share_invalid",
        path=path,
        message="a share is greater than 0 and at most 1",
    )


def order_problem(spec: object, low: str, high: str) -> Problem | None:
    """A ``segmentation.thresholds_invalid`` problem when field ``low`` is above ``high``."""
    if getattr(spec, low) <= getattr(spec, high):
        return None
    return Problem(
        code="segmentation.thresholds_invalid", path=f"$.{low}", message=f"cannot be above {high}"
    )


def currency_problem(currency: str | None) -> Problem | None:
    """A ``money.currency_invalid`` problem when a spec's ``currency`` is no ISO 4217 code.

    A spec naming ``"cny"`` or ``"RMB"`` would otherwise match no summary and return
    nothing, silently.
    """
    if currency is None or currency in CURRENCY_CODES:
        return None
    return Problem(
        code="money.currency_invalid",
        path="$.currency",
        message=f"{currency!r} is not an ISO 4217 currency code (such as CNY, USD or EUR)",
    )


def refuse(code: str, path: str, message: str, subject: str) -> ValidationError:
    """Build the :class:`ValidationError` a rule raises for a bad argument."""
    return ValidationError([Problem(code=code, path=path, message=message)], subject=subject)


def require_spec(spec: object, cls: type, rule: str) -> None:
    """Raise :class:`~crmcore.errors.WrongType` unless ``spec`` is a ``cls`` spec.

    ``rfm`` given a mapping (a spec's JSON not yet read with ``from_json``) or another
    rule's spec would otherwise fail deep inside with an ``AttributeError``.
    """
    if not isinstance(spec, cls):
        hint = ""
        if isinstance(spec, dict | str):
            hint = "; read a spec's JSON with crmcore.serialization.from_json first"
        raise WrongType(f"{rule} takes a {cls.__name__}, got {type(spec).__name__}{hint}")


def require_aware(value: object, name: str) -> dt.datetime:
    """Return ``value`` if it is an aware datetime, else raise a :class:`ValidationError`."""
    if not isinstance(value, dt.datetime):
        raise refuse(
            "type.invalid",
            f"$.{name}",
            f"expected an aware datetime, got {type(value).__name__}",
            name,
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise refuse("datetime.naive", f"$.{name}", "must be timezone-aware", name)
    return value


_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)


def divide(numerator: Decimal, denominator: Decimal | int) -> Decimal:
    """Divide to 28 significant digits, rounding half to even, whatever the thread's context."""
    return _CONTEXT.divide(numerator, denominator)


def quantile_cut_points(ascending: Sequence[Decimal], scores: int) -> tuple[Decimal, ...]:
    """The ``scores - 1`` cut points of values sorted ascending: the lower quantiles.

    Cut point ``j`` is the value at 1-based position ``ceil(j * n / scores)``: the
    smallest value with at least ``j / scores`` of the values at or below it (the
    inverse of the empirical distribution). Repeated values give repeated cut points;
    nothing fails when half the customers share one value.
    """
    n = len(ascending)
    if n == 0:
        return ()
    return tuple(ascending[-(-j * n // scores) - 1] for j in range(1, scores))


def rank_cut_points(
    descending: Sequence[Decimal], shares: Sequence[Decimal]
) -> tuple[Decimal, ...]:
    """Cut points for cumulative rank shares of values sorted descending.

    For each cumulative share ``s`` the cut point is the value at 1-based position
    ``ceil(s * n)``; a value at or above it is in the top ``s`` (with every value
    equal to the last one in, so ties are never split).
    """
    n = len(descending)
    cuts: list[Decimal] = []
    for share in shares:
        position = max(1, min(n, math.ceil(share * n)))
        cuts.append(descending[position - 1])
    return tuple(cuts)


def ascending_score(value: Decimal, cut_points: Sequence[Decimal]) -> int:
    """Score where more is better: 1 + the number of cut points strictly below ``value``."""
    return 1 + bisect_left(cut_points, value)


def descending_score(value: Decimal, cut_points: Sequence[Decimal]) -> int:
    """Score where less is better: 1 + the number of cut points strictly above ``value``."""
    return 1 + len(cut_points) - bisect_right(cut_points, value)
