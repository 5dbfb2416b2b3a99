"""Predictive customer lifetime value: BG/NBD with Gamma-Gamma (needs ``crmcore[clv]``).

The models of Fader, Hardie and Lee: **BG/NBD** ("Counting your customers the easy
way", 2005) for how many repeat purchases a customer will make and whether they are
still "alive", and **Gamma-Gamma** (Fader and Hardie, "The Gamma-Gamma model of
monetary value", 2013) for how much a repeat purchase is worth. Both are fitted by
maximum likelihood on the repeat-purchase summaries of
:func:`~crmcore.rules.segmentation.repeat_summaries` (frequency, recency, age ``T``,
mean repeat value), without labels; their parameters are plain, inspectable data.

Time is counted in the summaries' periods divided by ``time_scale``: summaries by day
with ``time_scale=7`` are fitted in weeks, as the papers do (``recency / 7``). On the
CDNOW sample (2,357 customers, 39 weeks) the fits give the published parameters
(``r = 0.243, alpha = 4.414, a = 0.793, b = 2.426``; ``p = 6.25, q = 3.74,
gamma = 15.44``); the test suite checks it.

:func:`predict_lifetime_values` combines the two: for each customer the expected
number of repeat purchases in each of the next periods, times the expected value of
a purchase, discounted, with an :class:`~crmcore.rules.segmentation.Explanation` that
names every input. Fitting needs numpy and scipy (``pip install 'crmcore[clv]'``);
without them these functions raise :class:`~crmcore.errors.FeatureUnavailable`.

The money results are estimates: they are rounded to :data:`MONEY_PLACES` decimal
places, and probabilities and expected counts are floats.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from crmcore.errors import FeatureUnavailable
from crmcore.models._base import checks, non_negative, positive
from crmcore.rules._items import item_types
from crmcore.rules.segmentation._common import Explanation, Factor, refuse
from crmcore.rules.segmentation.summaries import RepeatSummary
from crmcore.rules.verification import Spec

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "MONEY_PLACES",
    "BgNbdParameters",
    "GammaGammaParameters",
    "PredictedValue",
    "PredictiveValueSpec",
    "expected_average_value",
    "expected_purchases",
    "fit_bg_nbd",
    "fit_gamma_gamma",
    "predict_lifetime_values",
    "probability_alive",
]

MONEY_PLACES = 4
"""Predicted money is rounded to this many decimal places (half to even)."""


def _numerics() -> tuple[Any, Any, Any]:
    """numpy, scipy.optimize and scipy.special, or a coded error naming the extra."""
    try:
        import numpy
        from scipy import optimize, special  # type: ignore[import-untyped]
    except ImportError as error:  # pragma: no cover - the test extra brings both
        raise FeatureUnavailable(
            "predictive lifetime value needs numpy and scipy: pip install 'crmcore[clv]'"
        ) from error
    return numpy, optimize, special


@attrs.frozen(kw_only=True)
class BgNbdParameters:
    """Fitted BG/NBD parameters.

    Attributes:
        r: Shape of the gamma distribution of purchase rates.
        alpha: Its scale (in ``time_scale`` periods).
        a: First shape of the beta distribution of the drop-out probability.
        b: Its second shape.
        time_scale: The summaries' periods per model time unit the fit used.
        customers: How many summaries the fit used.
        log_likelihood: The maximised log-likelihood.
    """

    r: float
    alpha: float
    a: float
    b: float
    time_scale: Decimal
    customers: int
    log_likelihood: float


@attrs.frozen(kw_only=True)
class GammaGammaParameters:
    """Fitted Gamma-Gamma parameters (``E[value] = p * gamma / (q - 1)`` before data).

    Attributes:
        p: Shape of the gamma distribution of one purchase's value.
        q: Shape of the gamma distribution of its scale across customers.
        gamma: Scale of that distribution.
        customers: How many customers with repeat purchases the fit used.
        log_likelihood: The maximised log-likelihood.
    """

    p: float
    q: float
    gamma: float
    customers: int
    log_likelihood: float


def _one_kind(summaries: Sequence[RepeatSummary], *, money: bool) -> None:
    if not summaries:
        raise refuse("segmentation.no_data", "$.summaries", "no summaries to fit", "summaries")
    periods = {s.period for s in summaries}
    if len(periods) > 1:
        raise refuse(
            "segmentation.periods_mixed",
            "$.summaries",
            f"summaries of one period are fitted together, got {sorted(periods)}",
            "summaries",
        )
    currencies = {s.currency for s in summaries}
    if money and len(currencies) > 1:
        raise refuse(
            "segmentation.currency_mixed",
            "$.summaries",
            f"monetary values of one currency are fitted together, got {sorted(currencies)}",
            "summaries",
        )


def _scale(time_scale: Decimal | int) -> Decimal:
    scale = Decimal(time_scale)
    if not scale.is_finite() or scale <= 0:
        raise refuse(
            "segmentation.value_invalid", "$.time_scale", "must be a positive number", "time_scale"
        )
    return scale


def _rows(
    summaries: Sequence[RepeatSummary], scale: Decimal
) -> tuple[npt.NDArray[np.float64], ...]:
    """Distinct (frequency, recency, age) rows in model time, with their counts."""
    num, _, _ = _numerics()
    counts: dict[tuple[int, Decimal, Decimal], int] = {}
    for s in summaries:
        key = (s.frequency, s.recency, s.age)
        counts[key] = counts.get(key, 0) + 1
    keys = sorted(counts)
    x = num.array([k[0] for k in keys], dtype=float)
    t_x = num.array([float(k[1] / scale) for k in keys], dtype=float)
    age = num.array([float(k[2] / scale) for k in keys], dtype=float)
    weights = num.array([counts[k] for k in keys], dtype=float)
    return x, t_x, age, weights


def _bg_log_likelihood(
    params: Sequence[float],
    x: npt.NDArray[np.float64],
    t_x: npt.NDArray[np.float64],
    age: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    num, _, special = _numerics()
    r, alpha, a, b = params
    gammaln = special.gammaln
    a1 = gammaln(r + x) - gammaln(r) + r * num.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * num.log(alpha + age)
    repeat = x > 0
    a4 = num.where(
        repeat,
        num.log(a) - num.log(num.where(repeat, b + x - 1, 1.0)) - (r + x) * num.log(alpha + t_x),
        -num.inf,
    )
    result: npt.NDArray[np.float64] = a1 + a2 + num.logaddexp(a3, a4)
    return result


def _maximise(
    objective: Any, start: Sequence[float], subject: str
) -> tuple[npt.NDArray[np.float64], float]:
    """Maximise ``objective`` over positive parameters (searching their logarithms)."""
    num, optimize, _ = _numerics()

    def negative(log_params: npt.NDArray[np.float64]) -> float:
        value = float(objective(num.exp(log_params)))
        return -value if math.isfinite(value) else math.inf

    result = optimize.minimize(
        negative,
        num.log(num.asarray(start, dtype=float)),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 20_000, "maxfev": 40_000},
    )
    if not result.success or not math.isfinite(result.fun):
        raise refuse(
            "segmentation.fit_failed",
            "$.summaries",
            f"the {subject} fit did not converge: {result.message}",
            "summaries",
        )
    return num.exp(result.x), -float(result.fun)


@item_types(summaries=RepeatSummary)
def fit_bg_nbd(
    summaries: Iterable[RepeatSummary], *, time_scale: Decimal | int = 1
) -> BgNbdParameters:
    """Fit BG/NBD to repeat-purchase summaries (one period; any currencies).

    A customer who bought in two currencies has two summaries; pass one currency's
    summaries (or your own per-customer ones) when that matters.
    """
    rows = tuple(summaries)
    _one_kind(rows, money=False)
    scale = _scale(time_scale)
    x, t_x, age, weights = _rows(rows, scale)

    def objective(params: Sequence[float]) -> float:
        return float((weights * _bg_log_likelihood(params, x, t_x, age)).sum())

    (r, alpha, a, b), ll = _maximise(objective, (1.0, 1.0, 1.0, 1.0), "BG/NBD")
    return BgNbdParameters(
        r=float(r),
        alpha=float(alpha),
        a=float(a),
        b=float(b),
        time_scale=scale,
        customers=len(rows),
        log_likelihood=ll,
    )


@item_types(summaries=RepeatSummary)
def fit_gamma_gamma(summaries: Iterable[RepeatSummary]) -> GammaGammaParameters:
    """Fit Gamma-Gamma to the mean repeat values of customers with repeat purchases.

    Summaries with ``frequency == 0`` carry no repeat value and are left out; those
    left must share one currency. The model assumes value and frequency independent,
    and positive values (a customer whose mean repeat value is not positive is refused).
    """
    rows = tuple(s for s in summaries if s.frequency > 0)
    _one_kind(rows, money=True)
    for s in rows:
        if s.monetary_value <= 0:
            raise refuse(
                "segmentation.value_invalid",
                "$.summaries",
                f"customer {s.customer_id!r} has a mean repeat value of {s.monetary_value}; "
                "Gamma-Gamma needs positive values",
                "summaries",
            )
    num, _, special = _numerics()
    x = num.array([s.frequency for s in rows], dtype=float)
    m = num.array([float(s.monetary_value) for s in rows], dtype=float)
    gammaln = special.gammaln

    def objective(params: Sequence[float]) -> float:
        p, q, g = params
        ll = (
            gammaln(p * x + q)
            - gammaln(p * x)
            - gammaln(q)
            + q * num.log(g)
            + (p * x - 1) * num.log(m)
            + p * x * num.log(x)
            - (p * x + q) * num.log(g + m * x)
        )
        return float(ll.sum())

    (p, q, g), ll = _maximise(objective, (1.0, 1.0, 1.0), "Gamma-Gamma")
    return GammaGammaParameters(
        p=float(p), q=float(q), gamma=float(g), customers=len(rows), log_likelihood=ll
    )


def _model_time(params: BgNbdParameters, s: RepeatSummary) -> tuple[int, float, float]:
    scale = params.time_scale
    return s.frequency, float(s.recency / scale), float(s.age / scale)


def probability_alive(params: BgNbdParameters, summary: RepeatSummary) -> float:
    """The probability that the customer has not dropped out, as of the summary."""
    x, t_x, age = _model_time(params, summary)
    if x == 0:
        return 1.0
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_ratio = (r + x) * (math.log(alpha + age) - math.log(alpha + t_x))
    return 1.0 / (1.0 + (a / (b + x - 1)) * math.exp(log_ratio))


def expected_purchases(params: BgNbdParameters, summary: RepeatSummary, periods: float) -> float:
    """Expected repeat purchases in the next ``periods`` model time units (FHL eq. 10)."""
    if periods < 0:
        raise refuse("segmentation.value_invalid", "$.periods", "must not be negative", "periods")
    if periods == 0:
        return 0.0
    _, _, special = _numerics()
    x, t_x, age = _model_time(params, summary)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = periods / (alpha + age + periods)
    hyp = float(special.hyp2f1(r + x, b + x, a + b + x - 1, z))
    head = (a + b + x - 1) / (a - 1)
    body = 1.0 - ((alpha + age) / (alpha + age + periods)) ** (r + x) * hyp
    alive_odds = 0.0
    if x > 0:
        alive_odds = (a / (b + x - 1)) * ((alpha + age) / (alpha + t_x)) ** (r + x)
    return float(head * body / (1.0 + alive_odds))


def expected_average_value(params: GammaGammaParameters, summary: RepeatSummary) -> Decimal:
    """The expected value of one of the customer's future purchases (Gamma-Gamma)."""
    p, q, g = params.p, params.q, params.gamma
    x = summary.frequency
    m = float(summary.monetary_value)
    value = (g + m * x) * p / (p * x + q - 1) if x > 0 else p * g / (q - 1)
    return _money(value)


def _money(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-MONEY_PLACES))


@attrs.frozen(kw_only=True)
class PredictiveValueSpec(Spec):
    """How far ahead to predict and how to discount.

    Attributes:
        horizon: How many model time units ahead (weeks, say, with ``time_scale=7`` on
            daily summaries).
        step: The time units per discounting step (``4`` for about a month of weeks).
        discount_rate: The discount rate per step (``0.01`` for 1%).
    """

    TAG = "predictive_lifetime_value"
    kind: str = "predictive_lifetime_value"
    horizon: int = attrs.field(default=52, metadata=checks(positive))
    step: int = attrs.field(default=4, metadata=checks(positive))
    discount_rate: Decimal = attrs.field(default=Decimal(0), metadata=checks(non_negative))


@attrs.frozen(kw_only=True)
class PredictedValue:
    """One customer's predicted lifetime value over the spec's horizon.

    Attributes:
        customer_id: The customer.
        currency: The currency of the summary the prediction used.
        probability_alive: The probability they are still a customer.
        expected_purchases: Repeat purchases expected over the horizon.
        expected_value: Expected value of one purchase.
        value: The discounted predicted value over the horizon.
        explanation: Every input and parameter that decided it.
    """

    customer_id: str
    currency: str
    probability_alive: float
    expected_purchases: float
    expected_value: Decimal
    value: Decimal
    explanation: Explanation


def _factor(name: str, value: float | Decimal) -> Factor:
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return Factor(name=name, value=exact)


@item_types(summaries=RepeatSummary)
def predict_lifetime_values(
    spec: PredictiveValueSpec,
    purchases_model: BgNbdParameters,
    value_model: GammaGammaParameters,
    summaries: Iterable[RepeatSummary],
) -> list[PredictedValue]:
    """Predict each summary's lifetime value over ``spec.horizon``, discounted per step.

    The value is ``sum over steps k of (E[Y(k * step)] - E[Y((k - 1) * step)]) *
    expected_value / (1 + discount_rate) ** k``; the last step may be shorter.
    """
    if not isinstance(spec, PredictiveValueSpec):
        raise refuse("type.invalid", "$.spec", "expected a PredictiveValueSpec", "spec")
    rate = float(spec.discount_rate)
    out: list[PredictedValue] = []
    for s in summaries:
        value_each = expected_average_value(value_model, s)
        total = 0.0
        previous = 0.0
        ends = [*range(spec.step, spec.horizon, spec.step), spec.horizon]
        for k, end in enumerate(ends, start=1):
            cumulative = expected_purchases(purchases_model, s, end)
            total += (cumulative - previous) * float(value_each) / (1.0 + rate) ** k
            previous = cumulative
        alive = probability_alive(purchases_model, s)
        value = _money(total)
        out.append(
            PredictedValue(
                customer_id=s.customer_id,
                currency=s.currency,
                probability_alive=alive,
                expected_purchases=previous,
                expected_value=value_each,
                value=value,
                explanation=Explanation(
                    rule=spec.kind,
                    outcome=str(value),
                    factors=(
                        Factor(name="frequency", value=Decimal(s.frequency)),
                        Factor(name="recency", value=s.recency),
                        Factor(name="age", value=s.age),
                        Factor(name="monetary_value", value=s.monetary_value),
                        _factor("time_scale", purchases_model.time_scale),
                        _factor("r", purchases_model.r),
                        _factor("alpha", purchases_model.alpha),
                        _factor("a", purchases_model.a),
                        _factor("b", purchases_model.b),
                        _factor("p", value_model.p),
                        _factor("q", value_model.q),
                        _factor("gamma", value_model.gamma),
                        _factor("probability_alive", alive),
                        _factor("expected_purchases", previous),
                        _factor("expected_value", value_each),
                    ),
                    reason=(
                        f"{previous:.3f} repeat purchases expected over {spec.horizon} "
                        f"time units (alive with probability {alive:.3f}) at "
                        f"{value_each} {s.currency} each, discounted at "
                        f"{spec.discount_rate} per {spec.step} units"
                    ),
                ),
            )
        )
    return out
