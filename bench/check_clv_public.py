"""crmcore's repeat summaries, BG/NBD and Gamma-Gamma against lifetimes on public data.

Run on demand (not part of pytest; lifetimes and pandas in the bench environment only)::

    PYTHONPATH=src python bench/check_clv_public.py [--lifetimes-data DIR]

The data: the CDNOW sample of Fader and Hardie (``tests/data/cdnow_sample.txt``, 2,357
customers) and, when the installed lifetimes bundles them (``lifetimes/datasets``), the
CDNOW master file (23,570 customers, the population the sample was drawn from) and
lifetimes' ``example_transactions.csv`` (5,000 customers, dates without amounts). CDNOW
is cut at 1997-09-30 (the papers' 39-week calibration period), the example data at its
last date; lifetimes gets exactly the transactions crmcore keeps (it would otherwise
keep the rest of the week holding the end).

For every data set and every customer:

* **summaries** by day and by week: crmcore's ``repeat_summaries`` against lifetimes'
  ``summary_data_from_transaction_data`` (``monetary_value_col`` set): frequency,
  recency and T exactly, monetary value to a relative 1e-12 (crmcore sums exact
  decimals, lifetimes floats). Months are shown, not checked: crmcore counts whole
  calendar months, lifetimes divides by numpy's mean month of 30.436875 days (or, on
  pandas 3, refuses ``freq="M"``).
* **fits**: ``fit_bg_nbd`` (weeks: daily summaries with ``time_scale=7``; and days) and
  ``fit_gamma_gamma`` against lifetimes' ``BetaGeoFitter`` and ``GammaGammaFitter``
  (no penaliser) to a relative 1e-4, both against the maximum of the other's
  likelihood too; on the sample, against the published parameters (BG/NBD r 0.243,
  alpha 4.414, a 0.793, b 2.426 to 0.0006; Gamma-Gamma p 6.25, q 3.74, gamma 15.44 to
  0.006).
* **predictions** with crmcore's parameters given to lifetimes' fitters (so that only
  the formulas are compared): expected repeat purchases in the next 39 weeks and
  probability alive (relative 1e-9), expected average value (crmcore rounds money to
  4 places: 5e-5 absolute), and the 12-month CLV of lifetimes'
  ``customer_lifetime_value`` (days, 30-day steps, 1% a step) against
  ``predict_lifetime_values(PredictiveValueSpec(horizon=360, step=30,
  discount_rate=0.01))`` (1e-3 absolute: crmcore's rounded expected value times up to
  a few dozen purchases).

Prints one line per check (worst difference, tolerance) and exits 1 if any check
fails, 2 if lifetimes is missing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

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
)
from crmcore.rules.segmentation.predictive import _bg_log_likelihood, _rows

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "cdnow_sample.txt"
CDNOW_END = dt.datetime(1997, 9, 30, tzinfo=dt.UTC)
PUBLISHED_BG_NBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
LIFETIMES_GG = {"p": "p", "q": "q", "gamma": "v"}  # lifetimes calls gamma "v"
FIT_TOLERANCE = 1e-4
FORMULA_TOLERANCE = 1e-9
CLV_SPEC = PredictiveValueSpec(horizon=360, step=30, discount_rate=Decimal("0.01"))


class Report:
    """The checks' lines and whether every one passed."""

    def __init__(self) -> None:
        self.failed = 0

    def line(self, data: str, what: str, rows: int, worst: float, tolerance: float) -> None:
        ok = worst <= tolerance
        self.failed += not ok
        verdict = "ok" if ok else "FAILED"
        print(f"  {data:<14} {what:<50} {rows:>7,} {worst:>10.2e} {tolerance:>8.0e}  {verdict}")

    def note(self, data: str, what: str, text: str) -> None:
        print(f"  {data:<14} {what:<50} {text}")


def relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300) if a != b else 0.0


# ------------------------------------------------------------------ data


class Data:
    """One public data set: crmcore purchases and the same rows for lifetimes."""

    def __init__(self, name: str, rows: Sequence[tuple[str, dt.date, str]], end: dt.date) -> None:
        self.name = name
        self.end = end
        self.as_of = dt.datetime(end.year, end.month, end.day, tzinfo=dt.UTC)
        kept = [row for row in rows if row[1] <= end]
        self.money = any(amount != "0" for _, _, amount in kept)
        self.purchases = [
            Purchase(
                customer_id=customer,
                purchased_at=dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC),
                amount=Money.of(amount, "USD"),
                product="item",
            )
            for customer, day, amount in kept
        ]
        self.rows = kept


def read_cdnow(path: Path) -> list[tuple[str, dt.date, str]]:
    """CDNOW rows: ``id [sample id] YYYYMMDD cds dollars`` (a header line is skipped)."""
    rows = []
    for line in path.read_text(encoding="ascii").splitlines():
        fields = line.split()
        if not fields or not fields[0].isdigit():
            continue
        customer, day, amount = fields[0], fields[-3], fields[-1]
        rows.append((customer, dt.datetime.strptime(day, "%Y%m%d").date(), amount))
    return rows


def read_example(path: Path) -> list[tuple[str, dt.date, str]]:
    """lifetimes' ``example_transactions.csv``: ``date,id`` (no amounts: zero here)."""
    rows = []
    for line in path.read_text(encoding="ascii").splitlines()[1:]:
        when, customer = line.split(",")
        rows.append((customer, dt.date.fromisoformat(when[:10]), "0"))
    return rows


def data_sets(lifetimes_dir: Path | None) -> list[Data]:
    sets = [Data("cdnow_sample", read_cdnow(SAMPLE), CDNOW_END.date())]
    if lifetimes_dir is None:
        return sets
    master = lifetimes_dir / "CDNOW_master.txt"
    if master.exists():
        sets.append(Data("cdnow_master", read_cdnow(master), CDNOW_END.date()))
    example = lifetimes_dir / "example_transactions.csv"
    if example.exists():
        rows = read_example(example)
        sets.append(Data("example", rows, max(day for _, day, _ in rows)))
    return sets


# ------------------------------------------------------------------ checks


def lifetimes_summaries(data: Data, freq: str) -> Any:
    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    frame = pd.DataFrame(
        {
            "c": [row[0] for row in data.rows],
            "t": [pd.Timestamp(row[1]) for row in data.rows],
            "v": [float(row[2]) for row in data.rows],
        }
    )
    return summary_data_from_transaction_data(
        frame, "c", "t", "v", observation_period_end=pd.Timestamp(data.end), freq=freq
    )


def check_summaries(
    report: Report, data: Data, period: Period, mine: Sequence[RepeatSummary]
) -> None:
    theirs = lifetimes_summaries(data, "D" if period is Period.DAY else "W")
    by_id = {s.customer_id: s for s in mine}
    missing = len(set(by_id) ^ set(theirs.index))
    counts = 0
    worst_money = 0.0
    for key, row in zip(theirs.index, theirs.itertuples(index=False), strict=True):
        s = by_id.get(key)
        if s is None:
            continue
        counts += (s.frequency, float(s.recency), float(s.age)) != (
            row.frequency,
            row.recency,
            row.T,
        )
        worst_money = max(worst_money, relative(float(s.monetary_value), row.monetary_value))
    what = f"summaries by {period.value}: customers, f, recency, T"
    report.line(data.name, what, len(by_id), float(missing + counts), 0)
    if data.money:
        what = f"summaries by {period.value}: monetary value (relative)"
        report.line(data.name, what, len(by_id), worst_money, 1e-12)


MEAN_MONTH_DAYS = 30.436875  # numpy's timedelta64(1, "M"): 365.2425 / 12 days


def note_months(report: Report, data: Data) -> None:
    """Months differ by design: shown, not checked.

    crmcore counts whole calendar months between the months' first days. lifetimes
    0.11.3 divides the days between them by numpy's mean month (30.436875 days), so a
    T of one calendar month is 0.92 to 1.02 there; on pandas 3 it refuses ``freq="M"``.
    """
    mine = repeat_summaries(data.purchases, as_of=data.as_of, period=Period.MONTH)
    try:
        lifetimes_summaries(data, "M")
        verdict = "lifetimes runs"
    except Exception as error:  # shown: lifetimes on pandas 3 refuses "M"
        verdict = f"lifetimes refuses ({str(error).split('.')[0]})"
    end = data.end.replace(day=1)
    differ, worst = 0, 0.0
    for s in mine:  # lifetimes' formula, computed here from crmcore's whole months
        months = int(s.age)
        first = _months_before(end, months)
        theirs = (end - first).days / MEAN_MONTH_DAYS
        differ += theirs != months
        worst = max(worst, abs(theirs - months))
    text = f"{verdict}; its 30.436875-day T differs for {differ:,} of {len(mine):,}"
    text += f" (by up to {worst:.3f})"
    report.note(data.name, "summaries by month (differ by design)", text)


def _months_before(end: dt.date, months: int) -> dt.date:
    index = end.year * 12 + end.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def lifetimes_bg(summaries: Sequence[RepeatSummary], scale: int) -> Any:
    import numpy as np
    from lifetimes import BetaGeoFitter

    f = np.array([s.frequency for s in summaries], dtype=float)
    r = np.array([float(s.recency) / scale for s in summaries])
    t = np.array([float(s.age) / scale for s in summaries])
    fitter = BetaGeoFitter(penalizer_coef=0.0)
    fitter.fit(f, r, t)
    return fitter


def bg_log_likelihood(
    values: Sequence[float], summaries: Sequence[RepeatSummary], scale: int
) -> float:
    """crmcore's BG/NBD log-likelihood of ``values`` (r, alpha, a, b) on ``summaries``.

    lifetimes maximises over rescaled times (``10 / max(T)``), so its own maximum is
    not comparable; both fits' parameters are scored with one likelihood instead.
    """
    x, t_x, age, weights = _rows(summaries, Decimal(scale))
    return float((weights * _bg_log_likelihood(values, x, t_x, age)).sum())


def check_bg_fit(
    report: Report, data: Data, summaries: Sequence[RepeatSummary], scale: int
) -> tuple[BgNbdParameters, Any]:
    mine = fit_bg_nbd(summaries, time_scale=scale)
    fitter = lifetimes_bg(summaries, scale)
    unit = "weeks" if scale == 7 else "days"
    worst = max(relative(getattr(mine, k), float(fitter.params_[k])) for k in PUBLISHED_BG_NBD)
    report.line(
        data.name,
        f"BG/NBD fit in {unit} = lifetimes' (relative)",
        len(summaries),
        worst,
        FIT_TOLERANCE,
    )
    theirs_ll = bg_log_likelihood(
        [float(fitter.params_[k]) for k in PUBLISHED_BG_NBD], summaries, scale
    )
    gap = max(0.0, theirs_ll - mine.log_likelihood)
    report.line(
        data.name, f"BG/NBD log-likelihood in {unit}: lifetimes' above", len(summaries), gap, 1e-6
    )
    print(
        f"    crmcore r={mine.r:.6f} alpha={mine.alpha:.6f} a={mine.a:.6f} b={mine.b:.6f}"
        f" ll={mine.log_likelihood:.4f} | lifetimes "
        + " ".join(f"{k}={float(fitter.params_[k]):.6f}" for k in PUBLISHED_BG_NBD)
        + f" ll={theirs_ll:.4f}"
    )
    if data.name == "cdnow_sample" and scale == 7:
        worst = max(abs(getattr(mine, k) - v) for k, v in PUBLISHED_BG_NBD.items())
        report.line(data.name, "BG/NBD fit = published (absolute)", len(summaries), worst, 6e-4)
    return mine, fitter


def check_gg_fit(
    report: Report, data: Data, summaries: Sequence[RepeatSummary]
) -> tuple[GammaGammaParameters, Any, list[RepeatSummary]]:
    import numpy as np
    from lifetimes import GammaGammaFitter

    # Gamma-Gamma needs positive values: CDNOW master has a few zero-dollar repeats.
    kept = [s for s in summaries if s.frequency > 0 and s.monetary_value > 0]
    mine = fit_gamma_gamma(kept)
    fitter = GammaGammaFitter(penalizer_coef=0.0)
    f = np.array([s.frequency for s in kept], dtype=float)
    m = np.array([float(s.monetary_value) for s in kept])
    fitter.fit(f, m)
    theirs = {k: float(fitter.params_[v]) for k, v in LIFETIMES_GG.items()}
    worst = max(relative(getattr(mine, k), theirs[k]) for k in PUBLISHED_GAMMA_GAMMA)
    report.line(
        data.name, "Gamma-Gamma fit = lifetimes' (relative)", len(kept), worst, FIT_TOLERANCE
    )
    print(
        f"    crmcore p={mine.p:.6f} q={mine.q:.6f} gamma={mine.gamma:.6f} | lifetimes "
        + " ".join(f"{k}={v:.6f}" for k, v in theirs.items())
    )
    if data.name == "cdnow_sample":
        worst = max(abs(getattr(mine, k) - v) for k, v in PUBLISHED_GAMMA_GAMMA.items())
        report.line(data.name, "Gamma-Gamma fit = published (absolute)", len(kept), worst, 6e-3)
    return mine, fitter, kept


def with_params(fitter: Any, values: dict[str, float]) -> Any:
    import pandas as pd

    fitter.params_ = pd.Series(values)
    return fitter


def worst_of(
    rows: Sequence[RepeatSummary], mine: Callable[[RepeatSummary], float], theirs: Sequence[float]
) -> float:
    return max(
        (relative(mine(s), float(v)) for s, v in zip(rows, theirs, strict=True)), default=0.0
    )


def check_predictions(
    report: Report,
    data: Data,
    summaries: Sequence[RepeatSummary],
    bg: tuple[BgNbdParameters, Any],
    days: tuple[BgNbdParameters, Any],
    gg: tuple[GammaGammaParameters, Any] | None,
) -> None:
    import numpy as np
    import pandas as pd

    mine_bg, fitter = bg
    fitter = with_params(fitter, {k: getattr(mine_bg, k) for k in PUBLISHED_BG_NBD})
    f = np.array([s.frequency for s in summaries], dtype=float)
    r = np.array([float(s.recency) / 7 for s in summaries])
    t = np.array([float(s.age) / 7 for s in summaries])
    n = len(summaries)
    theirs = fitter.conditional_expected_number_of_purchases_up_to_time(39, f, r, t)
    worst = worst_of(summaries, lambda s: expected_purchases(mine_bg, s, 39), theirs)
    report.line(
        data.name, "expected purchases, next 39 weeks (relative)", n, worst, FORMULA_TOLERANCE
    )
    theirs = fitter.conditional_probability_alive(f, r, t)
    worst = worst_of(summaries, lambda s: probability_alive(mine_bg, s), theirs)
    report.line(data.name, "probability alive (relative)", n, worst, FORMULA_TOLERANCE)
    if gg is None:
        return
    mine_gg, gg_fitter = gg
    gg_fitter = with_params(gg_fitter, {v: getattr(mine_gg, k) for k, v in LIFETIMES_GG.items()})
    m = pd.Series([float(s.monetary_value) for s in summaries])
    fs = pd.Series(f)
    theirs = gg_fitter.conditional_expected_average_profit(fs, m)
    worst = max(
        abs(float(expected_average_value(mine_gg, s)) - float(v))
        for s, v in zip(summaries, theirs, strict=True)
    )
    # crmcore rounds money to 4 places: half a unit there, and a float's error.
    report.line(data.name, "expected average value (absolute)", n, worst, 5e-5 + 1e-12)
    mine_days, day_fitter = days
    day_fitter = with_params(day_fitter, {k: getattr(mine_days, k) for k in PUBLISHED_BG_NBD})
    clv = gg_fitter.customer_lifetime_value(
        day_fitter,
        fs,
        pd.Series([float(s.recency) for s in summaries]),
        pd.Series([float(s.age) for s in summaries]),
        m,
        time=12,
        discount_rate=0.01,
        freq="D",
    )
    predicted = predict_lifetime_values(CLV_SPEC, mine_days, mine_gg, summaries)
    # crmcore rounds the expected value (5e-5 at most, times the purchases) and the CLV
    # (5e-5): the difference in units of that bound.
    worst = max(
        abs(float(p.value) - float(v)) / (5e-5 * (1 + p.expected_purchases))
        for p, v in zip(predicted, clv, strict=True)
    )
    report.line(data.name, "12-month CLV, 30-day steps, 1% (/ rounding bound)", n, worst, 1)
    mean = sum(float(p.value) for p in predicted) / n
    report.note(
        data.name, "  mean 12-month CLV", f"crmcore {mean:.4f}, lifetimes {float(clv.mean()):.4f}"
    )


def check(report: Report, data: Data) -> None:
    print(f"{data.name}: {len(data.purchases):,} transactions up to {data.end}")
    by_day = repeat_summaries(data.purchases, as_of=data.as_of, period=Period.DAY)
    by_week = repeat_summaries(data.purchases, as_of=data.as_of, period=Period.WEEK)
    check_summaries(report, data, Period.DAY, by_day)
    check_summaries(report, data, Period.WEEK, by_week)
    note_months(report, data)
    weeks = check_bg_fit(report, data, by_day, 7)
    days = check_bg_fit(report, data, by_day, 1)
    gg = None
    if data.money:
        mine_gg, gg_fitter, _ = check_gg_fit(report, data, by_day)
        gg = (mine_gg, gg_fitter)
    check_predictions(report, data, by_day, weeks, days, gg)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lifetimes-data", type=Path, help="default: lifetimes/datasets")
    args = parser.parse_args()
    try:
        import lifetimes
    except ImportError as error:
        print(f"lifetimes is not installed ({error}): pip install lifetimes pandas")
        return 2
    folder = args.lifetimes_data or Path(lifetimes.__file__).parent / "datasets"
    print(f"lifetimes {lifetimes.__version__}; data from {SAMPLE.name} and {folder}")
    print(f"  {'data':<14} {'check':<50} {'rows':>7} {'worst':>10} {'allowed':>8}")
    report = Report()
    for data in data_sets(folder if folder.is_dir() else None):
        check(report, data)
    print("all checks agree" if report.failed == 0 else f"{report.failed} checks FAILED")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
