"""Money: ISO 4217 currency codes only, and amounts that never pass through a float."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.models import Money
from crmcore.models.values import CURRENCY_CODES
from crmcore.serialization import from_dict


@pytest.mark.parametrize("code", ["CNY", "USD", "EUR", "JPY", "HKD", "TWD", "MOP", "XAU"])
def test_active_iso_4217_codes_are_accepted(code: str) -> None:
    """Codes of ISO 4217's list of current currencies are accepted."""
    assert Money.of("1", code).currency == code


@pytest.mark.parametrize("code", ["RMB", "XYZ", "CNY\n", " CNY", "cny", "ABC", "CN", "CNYY"])
def test_codes_that_are_not_iso_4217_are_refused(code: str) -> None:
    """Three capital letters are not enough: the code must be in ISO 4217 (no trailing newline)."""
    with pytest.raises(ValidationError) as caught:
        Money(amount=Decimal("1"), currency=code)
    assert caught.value.codes == ("money.currency_invalid",)
    assert caught.value.problems[0].path == "$.currency"


@pytest.mark.parametrize(
    ("code", "suggestion"), [("RMB", "CNY"), ("CNY\n", "CNY"), ("cny", "CNY"), ("NTD", "TWD")]
)
def test_the_refusal_suggests_the_code_meant(code: str, suggestion: str) -> None:
    """RMB (the colloquial name) suggests CNY; stray spaces or lower case suggest the code."""
    with pytest.raises(ValidationError) as caught:
        Money(amount=Decimal("1"), currency=code)
    assert f"did you mean {suggestion!r}" in caught.value.problems[0].message


def test_an_unknown_code_gets_no_suggestion() -> None:
    """XYZ is refused without a guess."""
    with pytest.raises(ValidationError) as caught:
        Money(amount=Decimal("1"), currency="XYZ")
    assert "did you mean" not in caught.value.problems[0].message


def test_decoding_refuses_rmb_with_the_coded_error() -> None:
    """from_dict reports the same code and path as the constructor."""
    with pytest.raises(ValidationError) as caught:
        from_dict({"amount": "19.90", "currency": "RMB"}, Money)
    assert caught.value.codes == ("money.currency_invalid",)


def test_the_table_holds_only_three_capital_letter_codes() -> None:
    """Every code in the table has ISO 4217's shape, and the common ones are there."""
    assert all(len(c) == 3 and c.isascii() and c.isupper() for c in CURRENCY_CODES)
    assert {"CNY", "USD", "EUR", "JPY", "GBP", "HKD"} <= CURRENCY_CODES
    assert "RMB" not in CURRENCY_CODES


def test_money_of_refuses_a_float_with_a_coded_error() -> None:
    """Money.of(19.9) is refused, as its docs promise no float rounding; text is the way in."""
    with pytest.raises(ValidationError) as caught:
        Money.of(19.9, "CNY")  # type: ignore[arg-type]
    assert caught.value.codes == ("type.invalid",)
    assert caught.value.problems[0].path == "$.amount"
    assert "Money.of('19.9'" in caught.value.problems[0].message


def test_money_of_refuses_a_bool() -> None:
    """True is not an amount of one."""
    with pytest.raises(ValidationError) as caught:
        Money.of(True, "CNY")
    assert caught.value.codes == ("type.invalid",)


@pytest.mark.parametrize("text", ["abc", "", "1,5", "¥19.9"])
def test_money_of_refuses_text_that_is_not_a_number_with_a_coded_error(text: str) -> None:
    """Text that is not a decimal number is a coded error, not decimal.InvalidOperation."""
    with pytest.raises(ValidationError) as caught:
        Money.of(text, "CNY")
    assert caught.value.codes == ("decimal.invalid",)
    assert caught.value.problems[0].path == "$.amount"


def test_money_of_keeps_text_and_ints_exactly() -> None:
    """Text keeps its digits (19.90 stays 19.90); ints and Decimals pass through."""
    assert Money.of("19.90", "CNY").amount.as_tuple() == Decimal("19.90").as_tuple()
    assert Money.of(" 19.9 ", "CNY").amount == Decimal("19.9")
    assert Money.of(20, "CNY").amount == Decimal(20)
    assert Money.of(Decimal("0.1"), "USD").amount == Decimal("0.1")


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_money_of_refuses_every_float(value: float) -> None:
    """No float is ever turned into an amount, whatever its value."""
    with pytest.raises(ValidationError):
        Money.of(value, "EUR")  # type: ignore[arg-type]
