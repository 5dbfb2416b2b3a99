"""Segmentation results built from aggregate rows: generated builders and their references.

The SQL storage's aggregate statements (:mod:`._aggregates`, :mod:`._tiers`) return one
row per customer; what remains in Python is turning each row into the result object the
pure rule builds (a :class:`~crmcore.rules.segmentation.CurrencySummary`, an
:class:`~crmcore.rules.segmentation.RfmScore` with its explanation, a
:class:`~crmcore.rules.segmentation.TierAssignment`). Profiled, that was about half of
the time of a summary or RFM call. This module is a fast path for it (docs/architecture.md):

* **reference**: the rows through the rules' own constructors, one call per row
  (:func:`._aggregates.to_summary`, :func:`~crmcore.rules.segmentation.rfm.rfm_score`,
  :func:`~crmcore.rules.segmentation.pyramid.tier_assignment`), ``from_micros`` and
  ``divide``;
* **generated** (:mod:`crmcore._codegen`): one loop per result class, generated from
  its ``attrs`` fields, that unpacks each row, decodes money from integer micro-units
  inline (an exact integer division by the places' power of ten, then the
  coefficient times ``1E-places`` in an exact context: no string round trip), and
  stores each field into a layout-identical builder subclass whose ``__class__`` then
  becomes the result class (the codec's trusted reader's technique,
  :func:`._codec._builder`). The values are what the database computed from the typed
  columns (counts, exact integer sums, UTC texts the store wrote), so no validator has
  anything to check: the result classes have none (a class that gains a validator, a
  converter or a post-init hook is built by the reference instead, as is one whose
  fields the generator does not know). The RFM explanation's recency and frequency
  factors depend only on the value and its score: equal ones are one shared frozen
  :class:`~crmcore.rules.segmentation.Factor`.

With fast paths off (``CRMCORE_NO_FAST_PATHS=1``) the SQL aggregates do not run at
all (the pure rule answers over a streamed read); :func:`set_fast_paths` ``(False)``
also makes these functions use the reference, which the tests compare them with on
rows of every backend.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from crmcore._codegen import generate
from crmcore._fastpaths import fast_paths_enabled, on_switch
from crmcore.models.values import MONEY_PLACES
from crmcore.rules.segmentation import (
    CurrencySummary,
    Explanation,
    Factor,
    PyramidSpec,
    RfmCutPoints,
    RfmScore,
    RfmSpec,
    TierAssignment,
)
from crmcore.rules.segmentation._common import divide
from crmcore.rules.segmentation.pyramid import tier_assignment
from crmcore.rules.segmentation.rfm import Verdicts, rfm_score
from crmcore.storage.sqlalchemy._codec import _builder
from crmcore.storage.sqlalchemy._money import from_micros

__all__ = [
    "RFM_COLUMNS",
    "SUMMARY_COLUMNS",
    "TIER_COLUMNS",
    "reference_rfm_scores",
    "reference_summaries",
    "reference_tiers",
    "rfm_scores",
    "summaries",
    "tier_assignments",
]

SUMMARY_COLUMNS = (
    "customer_id",
    "currency",
    "first",
    "last",
    "purchases",
    "total",
    "margin",
    "costed",
    "total_places",
    "margin_places",
)
"""The columns of a summary row, in order (``_aggregates._summary_select``)."""

RFM_COLUMNS = ("customer_id", "currency", "recency", "purchases", "total", "total_places")
"""The leading columns of an RFM row; the last three are the R, F and M scores."""

TIER_COLUMNS = ("customer_id", "currency", "total", "places", "tier_index")
"""The leading columns of a pyramid row (``_tiers.value_pyramid``)."""

_UTC_SUFFIX = "+00:00"
_EXACT = decimal.Context(prec=40, traps=[decimal.Inexact, decimal.InvalidOperation])
_POWERS = tuple(10 ** (MONEY_PLACES - p) for p in range(MONEY_PLACES + 1))
_UNITS = tuple(Decimal(1).scaleb(-p) for p in range(MONEY_PLACES + 1))


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text + _UTC_SUFFIX)


# ------------------------------------------------------------------ references


def reference_summaries(rows: Sequence[Sequence[Any]], as_of: dt.datetime) -> list[CurrencySummary]:
    """Summary rows through :class:`CurrencySummary`'s constructor (the reference)."""
    out = []
    for row in rows:
        customer_id, currency, first, last, count, total, margin, costed = row[:8]
        count, costed = int(count), int(costed)
        total_amount = from_micros(int(total), int(row[8]))
        last_at = _utc(last)
        out.append(
            CurrencySummary(
                customer_id=customer_id,
                currency=currency,
                first_purchase=last_at if first == last else _utc(first),
                last_purchase=last_at,
                recency_days=(as_of - last_at).days,
                purchases=count,
                total=total_amount,
                # x / 1 is x itself, exponent included (fewer than 28 digits).
                mean=total_amount if count == 1 else divide(total_amount, count),
                margin=from_micros(int(margin), int(row[9])) if costed else None,
                costed_purchases=costed,
            )
        )
    return out


def reference_rfm_scores(
    rows: Sequence[Sequence[Any]], spec: RfmSpec, cuts: RfmCutPoints, verdicts: Verdicts
) -> list[RfmScore]:
    """RFM rows through :func:`~crmcore.rules.segmentation.rfm.rfm_score` (the reference)."""
    out = []
    for row in rows:
        customer_id, currency, recency, purchases, total, places = row[:6]
        total_amount = from_micros(int(total), int(places))
        summary = CurrencySummary(
            customer_id=customer_id,
            currency=currency,
            first_purchase=_EPOCH,  # rfm_score reads none of the fields set to a stand-in
            last_purchase=_EPOCH,
            recency_days=int(recency),
            purchases=int(purchases),
            total=total_amount,
            mean=total_amount,
            margin=None,
            costed_purchases=0,
        )
        scores = (int(row[-3]), int(row[-2]), int(row[-1]))
        out.append(rfm_score(spec, cuts, verdicts, summary, scores))
    return out


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def reference_tiers(
    rows: Sequence[Sequence[Any]],
    spec: PyramidSpec,
    cut_points: tuple[Decimal, ...],
    names: Sequence[str],
) -> list[TierAssignment]:
    """Pyramid rows through :func:`~crmcore.rules.segmentation.pyramid.tier_assignment`."""
    return [
        tier_assignment(
            spec,
            cut_points,
            row[0],
            row[1],
            from_micros(int(row[2]), int(row[3])),
            names[int(row[4])],
        )
        for row in rows
    ]


# ------------------------------------------------------------------ generated


def _decode(target: str, micros: str, places: str) -> list[str]:
    """Lines setting ``target`` to ``from_micros(micros, places)``, inline when exact."""
    return [
        f"{places} = int({places})",
        f"_w, _r = divmod(int({micros}), _POWERS[{places}])",
        "if _r:",
        f"    {target} = _from_micros(int({micros}), {places})",
        f"elif {places}:",
        f"    {target} = _mul(_Decimal(_w), _UNITS[{places}])",
        "else:",
        f"    {target} = _Decimal(_w)",
    ]


class _NotGenerated(Exception):
    """The class cannot be built by plain stores, or has fields the generator lacks."""


def _loop(
    cls: type,
    name: str,
    params: str,
    head: str,
    body: list[str],
    values: dict[str, str],
    env: dict[str, Any],
) -> Callable[..., Any]:
    """Generate ``name(rows, params)``: for each row ``head``, ``body``, then one ``cls``.

    ``values`` maps every field of ``cls`` to the expression it is set to; a field
    missing from it (the class changed) or a class that is not plain data raises
    :class:`_NotGenerated`, and the caller keeps the reference.
    """
    fields = attrs.fields(cls)
    if {f.name for f in fields} != set(values) or not _plain(cls):
        raise _NotGenerated(cls.__name__)
    builder = _builder(cls)
    if builder is None:
        raise _NotGenerated(cls.__name__)
    lines = [
        f"def {name}(rows, {params}):",
        "    out = []",
        "    append = out.append",
        f"    for {head} in rows:",
        *(f"        {line}" for line in body),
        "        o = _new(_build)",
        *(f"        o.{f.name} = {values[f.name]}" for f in fields),
        "        o.__class__ = _cls",
        "        append(o)",
        "    return out",
    ]
    namespace = {
        **env,
        "_cls": cls,
        "_build": builder,
        "_new": object.__new__,
        "_Decimal": Decimal,
        "_POWERS": _POWERS,
        "_UNITS": _UNITS,
        "_mul": _EXACT.multiply,
        "_from_micros": from_micros,
    }
    return generate("\n".join(lines), name, namespace, what=f"{name} for {cls.__name__}")


def _plain(cls: type) -> bool:
    """Whether construction only sets the fields (no validator, converter or hook)."""
    if hasattr(cls, "__attrs_post_init__") or hasattr(cls, "__attrs_pre_init__"):
        return False
    return all(f.init and f.validator is None and f.converter is None for f in attrs.fields(cls))


def _explanation_env() -> dict[str, Any]:
    """The names the generated loops build a ``Factor`` and an ``Explanation`` with.

    Raises :class:`_NotGenerated` when either class is not plain data with the fields
    the loops set.
    """
    expected = (
        (Factor, {"name", "value", "score", "cut_points", "rule"}),
        (Explanation, {"rule", "outcome", "factors", "reason"}),
    )
    for cls, names in expected:
        if {f.name for f in attrs.fields(cls)} != names or not _plain(cls):
            raise _NotGenerated(cls.__name__)
    factor_build, explain_build = _builder(Factor), _builder(Explanation)
    if factor_build is None or explain_build is None:
        raise _NotGenerated("Explanation")
    return {
        "_factor_build": factor_build,
        "_explain_build": explain_build,
        "_Factor": Factor,
        "_Explanation": Explanation,
    }


def _summary_loop() -> Callable[..., Any]:
    body = [
        "count = int(count)",
        "costed = int(costed)",
        *_decode("total", "total", "total_places"),
        # x / 1 is x itself, exponent included (fewer than 28 digits); an exact quotient
        # of the coefficient is the division's result at the dividend's exponent (the
        # ideal exponent of an exact decimal division), with no division in a context.
        "if count == 1:",
        "    mean = total",
        "elif _r or _w % count:",
        "    mean = _divide(total, count)",
        "elif total_places:",
        "    mean = _mul(_Decimal(_w // count), _UNITS[total_places])",
        "else:",
        "    mean = _Decimal(_w // count)",
        "last_at = _fromiso(last + _SUFFIX)",
        "first_at = last_at if first == last else _fromiso(first + _SUFFIX)",
        "if costed:",
        *(f"    {line}" for line in _decode("margin", "margin", "margin_places")),
        "else:",
        "    margin = None",
    ]
    values = {
        "customer_id": "customer_id",
        "currency": "currency",
        "first_purchase": "first_at",
        "last_purchase": "last_at",
        "recency_days": "(as_of - last_at).days",
        "purchases": "count",
        "total": "total",
        "mean": "mean",
        "margin": "margin",
        "costed_purchases": "costed",
    }
    env = {"_fromiso": dt.datetime.fromisoformat, "_SUFFIX": _UTC_SUFFIX, "_divide": divide}
    head = "customer_id, currency, first, last, count, total, margin, costed, total_places"
    head += ", margin_places"
    return _loop(CurrencySummary, "summaries", "as_of", head, body, values, env)


def _rfm_loop() -> tuple[Callable[..., Any], Callable[..., Any]]:
    factor_values = {
        "name": "_name",
        "value": "_value",
        "score": "_score",
        "cut_points": "_cuts",
        "rule": "_rule",
    }
    # One factor per call of the generated factor constructor (the recency and
    # frequency ones are remembered per value and score by the caller's dictionaries).
    make_factor = _loop(
        Factor,
        "factors",
        "_name, _cuts, _rule",
        "_value, _score",
        [],
        factor_values,
        {},
    )
    body = [
        "r = int(r)",
        "f = int(f)",
        "m = int(m)",
        "recency = int(recency)",
        "purchases = int(purchases)",
        *_decode("money", "total", "total_places"),
        "rf = rec_factors.get((recency, r))",
        "if rf is None:",
        "    rf = rec_factors[recency, r] = _factors(",
        "        ((_Decimal(recency), r),), rs.name, cuts.recency, rs.rule)[0]",
        "ff = freq_factors.get((purchases, f))",
        "if ff is None:",
        "    ff = freq_factors[purchases, f] = _factors(",
        "        ((_Decimal(purchases), f),), fs.name, cuts.frequency, fs.rule)[0]",
        "mf = _new(_factor_build)",
        "mf.name = ms.name",
        "mf.value = money",
        "mf.score = m",
        "mf.cut_points = cuts.monetary",
        "mf.rule = ms.rule",
        "mf.__class__ = _Factor",
        "segment, reason = verdicts[r, f, m]",
        "e = _new(_explain_build)",
        "e.rule = kind",
        "e.outcome = segment or f'{r}{f}{m}'",
        "e.factors = (rf, ff, mf)",
        "e.reason = reason",
        "e.__class__ = _Explanation",
    ]
    values = {
        "customer_id": "customer_id",
        "currency": "currency",
        "recency_days": "recency",
        "frequency": "purchases",
        "monetary": "money",
        "recency_score": "r",
        "frequency_score": "f",
        "monetary_score": "m",
        "segment": "segment",
        "explanation": "e",
    }
    env = {"_factors": make_factor, **_explanation_env()}
    head = ", ".join(RFM_COLUMNS) + ", *_cuts, r, f, m"
    params = "cuts, verdicts, kind, rs, fs, ms, rec_factors, freq_factors"
    return _loop(RfmScore, "rfm_scores", params, head, body, values, env), make_factor


def _tier_loop() -> Callable[..., Any]:
    body = [
        "tier = names[int(tier_index)]",
        *_decode("total", "total", "places"),
        "tf = _new(_factor_build)",
        "tf.name = 'total'",
        "tf.value = total",
        "tf.score = None",
        "tf.cut_points = cut_points",
        "tf.rule = how",
        "tf.__class__ = _Factor",
        "e = _new(_explain_build)",
        "e.rule = kind",
        "e.outcome = tier",
        "e.factors = (tf,)",
        "e.reason = f'total {total!s} {currency}: {how} -> {tier}'",
        "e.__class__ = _Explanation",
    ]
    values = {
        "customer_id": "customer_id",
        "currency": "currency",
        "total": "total",
        "tier": "tier",
        "explanation": "e",
    }
    env = _explanation_env()
    head = ", ".join(TIER_COLUMNS) + ", *_cuts"
    params = "cut_points, names, kind, how"
    return _loop(TierAssignment, "tier_assignments", params, head, body, values, env)


@functools.cache
def _generated(kind: str) -> Any:
    """The generated builder of ``kind``, or ``None`` (use the reference)."""
    try:
        if kind == "summaries":
            return _summary_loop()
        if kind == "rfm":
            return _rfm_loop()[0]
        return _tier_loop()
    except _NotGenerated:
        return None


on_switch(_generated.cache_clear)


def summaries(rows: Sequence[Sequence[Any]], as_of: dt.datetime) -> list[CurrencySummary]:
    """Summary rows (:data:`SUMMARY_COLUMNS`) as the :class:`CurrencySummary` the rule builds."""
    build = _generated("summaries") if fast_paths_enabled() else None
    if build is None:
        return reference_summaries(rows, as_of)
    result: list[CurrencySummary] = build(rows, as_of)
    return result


def rfm_scores(
    rows: Sequence[Sequence[Any]], spec: RfmSpec, cuts: RfmCutPoints, verdicts: Verdicts
) -> list[RfmScore]:
    """RFM rows (:data:`RFM_COLUMNS`, any cut columns, then R, F, M) as ``RfmScore`` objects.

    Exactly what :func:`~crmcore.rules.segmentation.rfm.rfm_score` builds for the
    monetary basis ``total`` (the only one the SQL storage scores).
    """
    build = _generated("rfm") if fast_paths_enabled() else None
    if build is None:
        return reference_rfm_scores(rows, spec, cuts, verdicts)
    # The factors' names and rules in the reference's words (a stand-in summary).
    stand_in = CurrencySummary(
        customer_id="",
        currency=cuts.currency,
        first_purchase=_EPOCH,
        last_purchase=_EPOCH,
        recency_days=0,
        purchases=1,
        total=Decimal(0),
        mean=Decimal(0),
        margin=None,
        costed_purchases=0,
    )
    rs, fs, ms = rfm_score(spec, cuts, verdicts, stand_in, (1, 1, 1)).explanation.factors
    result: list[RfmScore] = build(rows, cuts, verdicts, spec.kind, rs, fs, ms, {}, {})
    return result


def tier_assignments(
    rows: Sequence[Sequence[Any]],
    spec: PyramidSpec,
    cut_points: tuple[Decimal, ...],
    names: Sequence[str],
) -> list[TierAssignment]:
    """Pyramid rows (:data:`TIER_COLUMNS`, then any cut columns) as ``TierAssignment`` objects."""
    build = _generated("tiers") if fast_paths_enabled() else None
    if build is None:
        return reference_tiers(rows, spec, cut_points, names)
    # The rule's words, as the reference writes them for this spec's method.
    how = tier_assignment(spec, (), "", "", Decimal(0), "").explanation.factors[0].rule
    result: list[TierAssignment] = build(rows, cut_points, names, spec.kind, how)
    return result
