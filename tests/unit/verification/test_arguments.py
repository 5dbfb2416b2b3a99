"""Every rule refuses a bad ``now`` or ``locale`` with a coded error, never a bare TypeError."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from crmcore.errors import ValidationError
from crmcore.models import Customer
from crmcore.rules.verification import (
    due_for_reverification,
    evaluate_vendor,
    score_quality,
    validate,
)

CUSTOMER = Customer.person_named(family="张", given="伟")

RULES: dict[str, Callable[[Any], object]] = {
    "score_quality": lambda now: score_quality(CUSTOMER, now=now),
    "validate": lambda now: validate(CUSTOMER, now=now),
    "due_for_reverification": lambda now: due_for_reverification([CUSTOMER], now=now),
    "evaluate_vendor": lambda now: evaluate_vendor([CUSTOMER], [], now=now),
}


@pytest.mark.parametrize("rule", list(RULES))
@pytest.mark.parametrize(
    ("now", "code"),
    [(dt.datetime(2026, 6, 1), "datetime.naive"), ("2026-06-01", "type.invalid")],
)
def test_rules_refuse_a_now_that_is_not_an_aware_datetime(
    rule: str, now: object, code: str
) -> None:
    """A naive or non-datetime now is a ValidationError at $.now."""
    with pytest.raises(ValidationError) as raised:
        RULES[rule](now)
    assert [(p.code, p.path) for p in raised.value.problems] == [(code, "$.now")]


def test_rules_refuse_an_unknown_locale() -> None:
    """Messages exist in English and Chinese only; another locale is refused up front."""
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    for call in (
        lambda: validate(CUSTOMER, now=now, locale="fr"),
        lambda: score_quality(CUSTOMER, now=now, locale="fr"),
    ):
        with pytest.raises(ValidationError) as raised:
            call()
        assert raised.value.codes == ("value.not_allowed",)
