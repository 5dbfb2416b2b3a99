"""Predictive lifetime value: BG/NBD and Gamma-Gamma against the published CDNOW fits."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.models import Money, Purchase
from crmcore.rules.segmentation import (
    BgNbdParameters,
    GammaGammaParameters,
    Period,
    PredictiveValueSpec,
    RepeatSummary,
    expected_average_value,
    expected_purchases,
    fit_bg_nbd,
    fit_gamma_gamma,
    predict_lifetime_values,
    probability_alive,
    repeat_summaries,
    segmentation_spec_type,
)
from crmcore.serialization import from_json, to_json

CDNOW = Path(__file__).resolve().parents[2] / "data" / "cdnow_sample.txt"
CALIBRATION_END = dt.datetime(1997, 9, 30, tzinfo=dt.UTC)

# Fader, Hardie and Lee (2005), table 1; Fader and Hardie (2013), section 3.
PUBLISHED_BG_NBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
PAPER = BgNbdParameters(
    r=0.243, alpha=4.414, a=0.793, b=2.426, time_scale=Decimal(1), customers=0, log_likelihood=0
)


def _summary(frequency: int, recency: str, age: str, value: str = "1") -> RepeatSummary:
    return RepeatSummary(
        customer_id="c",
        currency="USD",
        period=Period.DAY,
        frequency=frequency,
        recency=Decimal(recency),
        age=Decimal(age),
        monetary_value=Decimal(value),
    )


@functools.cache
def cdnow_summaries() -> tuple[RepeatSummary, ...]:
    """The CDNOW sample's 39-week calibration summaries, built from its transactions."""
    purchases = []
    for line in CDNOW.read_text(encoding="ascii").splitlines():
        customer, _, day, _, amount = line.split()
        when = dt.datetime.strptime(day, "%Y%m%d").replace(tzinfo=dt.UTC)
        purchases.append(
            Purchase(
                customer_id=customer,
                purchased_at=when,
                amount=Money.of(amount, "USD"),
                product="cd",
            )
        )
    return repeat_summaries(purchases, as_of=CALIBRATION_END)


def test_bg_nbd_fit_on_cdnow_gives_the_published_parameters() -> None:
    """Days divided by 7 (weeks), 2,357 customers: r, alpha, a, b to three decimals."""
    fitted = fit_bg_nbd(cdnow_summaries(), time_scale=7)
    assert fitted.customers == 2357
    for name, published in PUBLISHED_BG_NBD.items():
        assert getattr(fitted, name) == pytest.approx(published, abs=0.0006), name
    assert fitted.log_likelihood == pytest.approx(-9582.4, abs=0.1)


def test_gamma_gamma_fit_on_cdnow_gives_the_published_parameters() -> None:
    """The 946 customers with repeat purchases: p, q, gamma to two decimals."""
    fitted = fit_gamma_gamma(cdnow_summaries())
    assert fitted.customers == 946
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert getattr(fitted, name) == pytest.approx(published, abs=0.006), name


def test_expected_purchases_match_the_paper_example() -> None:
    """FHL 2005: x=2, t_x=30.43, T=38.86 expects 1.226 purchases in the next 39 weeks."""
    summary = _summary(2, "30.43", "38.86")
    assert expected_purchases(PAPER, summary, 39) == pytest.approx(1.226, abs=0.0005)
    assert expected_purchases(PAPER, summary, 0) == 0.0


def test_a_customer_without_repeats_is_alive_and_an_old_silence_lowers_it() -> None:
    """P(alive) is 1 with no repeat purchase, and falls as the last purchase ages."""
    assert probability_alive(PAPER, _summary(0, "0", "30")) == 1.0
    recent = probability_alive(PAPER, _summary(3, "29", "30"))
    silent = probability_alive(PAPER, _summary(3, "2", "30"))
    assert 0 < silent < recent < 1


@settings(max_examples=60, deadline=None)
@given(
    frequency=st.integers(0, 30),
    recency=st.integers(0, 300),
    extra=st.integers(0, 300),
    t=st.integers(1, 200),
)
def test_expected_purchases_grow_with_the_horizon(
    frequency: int, recency: int, extra: int, t: int
) -> None:
    """More time ahead never means fewer expected purchases; all values are positive."""
    summary = _summary(frequency, str(recency if frequency else 0), str(recency + extra))
    params = BgNbdParameters(
        r=0.24, alpha=4.4, a=0.79, b=2.4, time_scale=Decimal(7), customers=0, log_likelihood=0
    )
    shorter = expected_purchases(params, summary, t)
    longer = expected_purchases(params, summary, t + 10)
    assert 0 < shorter <= longer
    assert 0 < probability_alive(params, summary) <= 1


def test_expected_value_shrinks_towards_the_population_mean() -> None:
    """A customer's expected value lies between their own mean and the population's."""
    params = GammaGammaParameters(p=6.25, q=3.74, gamma=15.44, customers=0, log_likelihood=0)
    population = Decimal(6.25 * 15.44 / (3.74 - 1))
    low = expected_average_value(params, _summary(2, "10", "20", "10"))
    high = expected_average_value(params, _summary(2, "10", "20", "200"))
    assert Decimal(10) < low < population < high < Decimal(200)
    assert expected_average_value(params, _summary(0, "0", "20")) == population.quantize(
        Decimal("0.0001")
    )


def test_predictions_explain_themselves_and_discounting_lowers_them() -> None:
    """Each prediction names its inputs and parameters; a discount lowers the value."""
    summaries = cdnow_summaries()[:20]
    bg = fit_bg_nbd(cdnow_summaries(), time_scale=7)
    gg = fit_gamma_gamma(cdnow_summaries())
    plain = predict_lifetime_values(PredictiveValueSpec(horizon=52, step=4), bg, gg, summaries)
    discounted = predict_lifetime_values(
        PredictiveValueSpec(horizon=52, step=4, discount_rate=Decimal("0.01")), bg, gg, summaries
    )
    assert [p.customer_id for p in plain] == [s.customer_id for s in summaries]
    for a, b in zip(plain, discounted, strict=True):
        assert Decimal(0) < b.value <= a.value
        names = {f.name for f in a.explanation.factors}
        assert {"frequency", "recency", "age", "r", "alpha", "p", "q", "gamma"} <= names
        assert a.explanation.rule == "predictive_lifetime_value"
        assert a.value == a.value.quantize(Decimal("0.0001"))


def test_the_spec_round_trips_as_json_by_its_kind() -> None:
    """The spec travels as JSON and its ``kind`` tag names the class."""
    spec = PredictiveValueSpec(horizon=26, step=2, discount_rate=Decimal("0.005"))
    assert from_json(to_json(spec), segmentation_spec_type("predictive_lifetime_value")) == spec


def test_bad_arguments_are_refused_with_codes() -> None:
    """Mixed periods or currencies, no data, a bad time scale: coded problems."""
    day = _summary(1, "1", "2")
    week = RepeatSummary(
        customer_id="w",
        currency="USD",
        period=Period.WEEK,
        frequency=1,
        recency=Decimal(1),
        age=Decimal(2),
        monetary_value=Decimal(1),
    )
    euro = RepeatSummary(
        customer_id="e",
        currency="EUR",
        period=Period.DAY,
        frequency=1,
        recency=Decimal(1),
        age=Decimal(2),
        monetary_value=Decimal(1),
    )
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: fit_bg_nbd([]), "segmentation.no_data"),
        (lambda: fit_bg_nbd([day, week]), "segmentation.periods_mixed"),
        (lambda: fit_gamma_gamma([day, euro]), "segmentation.currency_mixed"),
        (lambda: fit_bg_nbd([day], time_scale=0), "segmentation.value_invalid"),
        (lambda: fit_gamma_gamma([_summary(1, "1", "2", "-5")]), "segmentation.value_invalid"),
        (lambda: expected_purchases(PAPER, day, -1), "segmentation.value_invalid"),
    ]
    for call, code in cases:
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.codes == (code,)
    with pytest.raises(ValidationError) as caught:
        PredictiveValueSpec(horizon=0)
    assert caught.value.problems[0].path == "$.horizon"
