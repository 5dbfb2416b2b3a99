"""Money's range (six places, below 10**12) and its exact conversion to micro-units."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import StorageError, ValidationError
from crmcore.models import Money, Purchase
from crmcore.models.values import MONEY_LIMIT
from crmcore.serialization import from_dict
from crmcore.storage.sqlalchemy._money import from_micros, micro_bounds, to_micros

_IN_RANGE = st.decimals(
    min_value=Decimal("-999999999999.999999"),
    max_value=Decimal("999999999999.999999"),
    places=6,
    allow_nan=False,
    allow_infinity=False,
)


@pytest.mark.parametrize(
    "amount",
    [
        "0",
        "-0",
        "0.000000",
        "0.000001",
        "-0.000001",
        "1.500000000",
        "999999999999.999999",
        "-999999999999.999999",
        "58900.00",
        "1E+11",
        "0E-30",
        "123.4560000000000000000000000000000",
    ],
)
def test_amounts_within_the_range_are_accepted(amount: str) -> None:
    """Six places after dropping trailing zeros, and less than 10**12 in size, are money."""
    assert Money(amount=Decimal(amount), currency="CNY").amount == Decimal(amount)


@pytest.mark.parametrize(
    ("amount", "what"),
    [
        ("1.0000001", "decimal places"),
        ("-0.0000005", "decimal places"),
        ("1E-7", "decimal places"),
        ("1000000000000", "less than 10**12"),
        ("-1000000000000", "less than 10**12"),
        ("1E+12", "less than 10**12"),
        ("1E+999999", "less than 10**12"),
        ("1E-999999", "decimal places"),
        ("999999999999.9999999", "decimal places"),
    ],
)
def test_amounts_outside_the_range_are_refused_with_a_code(amount: str, what: str) -> None:
    """Seven places or 10**12 and more: money.out_of_range at $.amount, whatever the sign."""
    with pytest.raises(ValidationError) as caught:
        Money(amount=Decimal(amount), currency="CNY")
    assert caught.value.codes == ("money.out_of_range",)
    assert caught.value.problems[0].path == "$.amount"
    assert what in caught.value.problems[0].message


def test_the_range_is_checked_with_the_currency_and_on_decoding() -> None:
    """Both problems are reported together, and from_dict reports the same code and path."""
    with pytest.raises(ValidationError) as caught:
        Money(amount=Decimal("0.1234567"), currency="RMB")
    assert set(caught.value.codes) == {"money.out_of_range", "money.currency_invalid"}
    with pytest.raises(ValidationError) as decoded:
        from_dict({"amount": "0.1234567", "currency": "EUR"}, Money)
    assert decoded.value.codes == ("money.out_of_range",)
    assert decoded.value.problems[0].path == "$.amount"


def test_the_check_does_not_depend_on_the_decimal_context() -> None:
    """A caller's low-precision context neither lets a bad amount in nor refuses a good one."""
    with decimal.localcontext(decimal.Context(prec=3)):
        Money(amount=Decimal("999999999999.999999"), currency="EUR")
        assert to_micros(Decimal("999999999999.999999")) == 999999999999999999
        with pytest.raises(ValidationError):
            Money(amount=Decimal("1.0000000000000000000000000001"), currency="EUR")


@given(_IN_RANGE)
def test_micros_are_the_exact_amount(amount: Decimal) -> None:
    """to_micros is amount * 10**6 exactly, and from_micros gives an equal amount back."""
    micros = to_micros(amount)
    assert Fraction(micros) == Fraction(amount) * 10**6
    assert from_micros(micros) == amount
    assert abs(micros) < MONEY_LIMIT * 10**6 < 2**63


@pytest.mark.parametrize("amount", ["1.0000001", "1000000000000", "NaN", "-Infinity"])
def test_to_micros_refuses_what_money_refuses(amount: str) -> None:
    """An amount outside the range (only in a record built around its checks) is a StorageError."""
    with pytest.raises(StorageError):
        to_micros(Decimal(amount))


_OPERANDS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.decimals(min_value=-10, max_value=10, places=9),
    st.decimals(min_value=Decimal(-(10**13)), max_value=Decimal(10**13), places=7),
    st.sampled_from(
        [Decimal("1.0000005"), Decimal("-1.0000005"), Decimal("1E-300"), Decimal("1E+99")]
    ),
)


@given(_OPERANDS)
def test_micro_bounds_are_the_floor_and_ceiling(operand: Decimal) -> None:
    """Within the range the bounds are floor and ceiling of amount * 10**6; beyond, +-10**18."""
    floor, ceiling = micro_bounds(operand)
    if abs(operand) >= MONEY_LIMIT:
        assert floor == ceiling == (10**18 if operand > 0 else -(10**18))
        return
    exact = Fraction(operand) * 10**6
    assert (floor, ceiling) == (math.floor(exact), math.ceil(exact))


def test_micro_bounds_of_vanishing_operands() -> None:
    """Operands far below a millionth fall between 0 and +-1 micro-unit, quickly."""
    assert micro_bounds(Decimal("1E-999999")) == (0, 1)
    assert micro_bounds(Decimal("-1E-999999999")) == (-1, 0)


def test_a_purchase_whose_margin_would_be_out_of_range_is_refused() -> None:
    """A refund with a large cost: the margin is money, so the purchase is refused."""
    with pytest.raises(ValidationError) as caught:
        Purchase(
            customer_id="c1",
            purchased_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            amount=Money.of("-900000000000", "CNY"),
            cost=Money.of("900000000000", "CNY"),
            product="plant",
        )
    assert caught.value.codes == ("money.out_of_range",)
    assert caught.value.problems[0].path == "$.cost.amount"
