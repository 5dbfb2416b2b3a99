"""Money in SQL: exact decimal amounts as 64-bit counts of millionths (micro-units).

SQLite has no decimal type, and a ``NUMERIC`` column there is a float. crmcore keeps
every amount as a ``BIGINT`` number of millionths on every dialect instead: the model
(:class:`crmcore.models.Money`) allows at most six decimal places and less than 10**12
in absolute value, so every amount is a whole number of micro-units below 10**18, and
integer comparisons, orderings and sums are exact everywhere.

Conversions use integer arithmetic on the decimal's digits, never floats, and do not
depend on the caller's :mod:`decimal` context.

:data:`MICRO_UNITS` is the type the query compiler compares money columns as: its
comparisons take a :class:`~decimal.Decimal` operand and turn it into micro-units,
rounding in the direction that keeps the comparison exact (``amount > 1.0000005`` is
``amount_micros > 1000000``, ``amount >= 1.0000005`` is ``amount_micros >= 1000001``,
``amount == 1.0000005`` is false), and saturating operands beyond every storable
amount at +-10**18.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, false, literal, true, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from crmcore.errors import StorageError
from crmcore.models.values import MONEY_LIMIT, MONEY_PLACES, scaled_micros

__all__ = [
    "MICRO_UNITS",
    "SCALE",
    "MicroUnits",
    "from_micros",
    "micro_bounds",
    "places",
    "to_micros",
]

SCALE = 10**MONEY_PLACES
"""Micro-units per unit of currency."""

_SATURATED = MONEY_LIMIT * SCALE
"""No stored amount reaches this many micro-units (10**18) in absolute value."""

_LIMIT = Decimal(MONEY_LIMIT)
_EXACT = decimal.Context(prec=40, traps=[decimal.Inexact, decimal.InvalidOperation])


def to_micros(amount: Decimal) -> int:
    """The exact number of millionths in ``amount``.

    Raises:
        StorageError: ``amount`` is not a whole number of millionths below 10**12 (the
            model refuses such money; only a record built around its checks has one).
    """
    scaled = scaled_micros(amount) if amount.is_finite() else None
    if scaled is None:
        raise StorageError(
            f"cannot store the amount {amount}: money has at most six decimal places "
            "and is less than 10**12 in size"
        )
    return int(scaled)


def places(amount: Decimal) -> int:
    """The decimal places ``amount`` is written with (``0`` for ``5`` and for ``5E+2``)."""
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def from_micros(micros: int, places: int = MONEY_PLACES) -> Decimal:
    """The decimal amount of ``micros`` millionths, with ``places`` decimal places.

    ``places`` (0 to 6) gives the exponent of the result (``from_micros(1500000, 2)`` is
    ``Decimal('1.50')``); the micro-units must fit in it exactly.
    """
    whole, rest = divmod(micros, _POWERS[MONEY_PLACES - places])
    if not rest:  # the usual case: exact in ``places``, one exact scaling
        return Decimal(whole).scaleb(-places, context=_EXACT)
    value = Decimal(micros).scaleb(-MONEY_PLACES, context=_EXACT)
    return value.quantize(Decimal(1).scaleb(-places), context=_EXACT)  # raises Inexact


_POWERS = tuple(10**k for k in range(MONEY_PLACES + 1))


def micro_bounds(operand: Decimal) -> tuple[int, int]:
    """``(floor, ceiling)`` of ``operand`` in micro-units, saturated at +-10**18.

    Equal when ``operand`` is a whole number of millionths. Every stored amount is
    strictly inside the saturation bounds, so comparing with a saturated bound gives
    the answer comparing with ``operand`` would.
    """
    if operand.copy_abs() >= _LIMIT:
        bound = _SATURATED if operand > 0 else -_SATURATED
        return bound, bound
    # Below the limit the integer part has at most 18 digits: scaling by 10**6 and
    # rounding toward -inf or +inf in 40 digits gives the exact floor and ceiling
    # (directed rounding never crosses the integer it rounds toward).
    scaled_floor = operand.scaleb(MONEY_PLACES, context=_DIRECTED_FLOOR)
    scaled_ceiling = operand.scaleb(MONEY_PLACES, context=_DIRECTED_CEILING)
    floor = int(scaled_floor.to_integral_value(rounding=decimal.ROUND_FLOOR))
    ceiling = int(scaled_ceiling.to_integral_value(rounding=decimal.ROUND_CEILING))
    return floor, ceiling


_DIRECTED_FLOOR = decimal.Context(
    prec=40, rounding=decimal.ROUND_FLOOR, Emin=decimal.MIN_EMIN, Emax=decimal.MAX_EMAX
)
_DIRECTED_CEILING = decimal.Context(
    prec=40, rounding=decimal.ROUND_CEILING, Emin=decimal.MIN_EMIN, Emax=decimal.MAX_EMAX
)


def _as_integer(value: int) -> ColumnElement[Any]:
    return literal(value, BigInteger())


class MicroUnits(TypeDecorator[Decimal]):
    """A ``BIGINT`` of micro-units seen as a :class:`~decimal.Decimal` amount.

    Used with :func:`sqlalchemy.type_coerce` on a money column: results come back as
    decimals, and comparisons with decimals are rewritten to exact integer comparisons
    (see the module docstring).
    """

    impl = BigInteger
    cache_ok = True

    class Comparator(TypeDecorator.Comparator[Decimal]):
        """Comparisons of a micro-unit column with decimal operands, made exact."""

        __slots__ = ()

        def operate(self, op: Any, *other: Any, **kwargs: Any) -> ColumnElement[Any]:
            """Rewrite ``=``, ``<>``, ``<``, ``<=``, ``>``, ``>=`` and ``IN`` on decimals."""
            plain = type_coerce(self.expr, BigInteger())
            values = other[0] if len(other) == 1 else None
            if (
                op is operators.in_op
                and isinstance(values, Sequence)
                and all(isinstance(v, Decimal) for v in values)
            ):
                exact = []
                for value in values:
                    floor, ceiling = micro_bounds(value)
                    if floor == ceiling and abs(floor) < _SATURATED:
                        exact.append(floor)
                return plain.in_(exact) if exact else false()
            if len(other) != 1 or not isinstance(other[0], Decimal):
                return super().operate(op, *other, **kwargs)
            floor, ceiling = micro_bounds(other[0])
            if op is operators.eq:
                return plain == _as_integer(floor) if floor == ceiling else false()
            if op is operators.ne:
                return plain != _as_integer(floor) if floor == ceiling else true()
            if op is operators.gt:
                return plain > _as_integer(floor)
            if op is operators.ge:
                return plain >= _as_integer(ceiling)
            if op is operators.lt:
                return plain < _as_integer(ceiling)
            if op is operators.le:
                return plain <= _as_integer(floor)
            return super().operate(op, *other, **kwargs)

    comparator_factory = Comparator

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        """A decimal amount as micro-units (comparisons never bind a decimal)."""
        return None if value is None else to_micros(value)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        """Micro-units read back as the decimal amount."""
        return None if value is None else from_micros(int(value))


MICRO_UNITS = MicroUnits()
"""The one :class:`MicroUnits` instance money columns are compared as."""
