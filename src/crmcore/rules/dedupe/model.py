"""The Fellegi-Sunter model: m and u per comparison level, fit by EM without labels.

For each field and level, ``m`` is the chance that a true duplicate pair shows the
level, ``u`` the chance that a pair of different customers does. A level's weight
is ``log2(m / u)``: positive when the level is more typical of duplicates. A
pair's total is the prior weight ``log2(p / (1 - p))`` (``p`` the share of
duplicates among the pairs fit on) plus its fields' weights; a null level
weighs 0. Its match probability is ``2**total / (1 + 2**total)``.

:func:`fit` estimates ``p``, ``m`` and ``u`` from comparison vectors alone (as
splink and recordlinkage do), by expectation-maximisation over the distinct
vectors and their counts, so the vectors may come from anywhere: from Python
(:func:`.compare.compare_levels`) or from a SQL query.

Given ``random_vectors`` (random pairs that are not candidates), they stand for
the pairs blocking did not make, taken as different customers: their level
counts join u in every M-step, and the prior's denominator, as pseudo-pairs
worth a tenth of the candidates (at least 100, at most the ``population`` minus
the candidates they stand for; a small set whose other pairs are all given is
fit over all its pairs exactly). So u cannot run away when nearly every
candidate is a duplicate (as on FEBRL), yet the candidates' own non-matches
(namesakes with look-alike emails, which random pairs almost never show) still
shape it. ``p`` is the share of duplicates among the candidates and those
pseudo-pairs. Without random vectors the fit is over the candidates alone.

Deterministic rules anchor the fit (as splink estimates its prior from such rules).
An *anchor* is a candidate pair with names at least ``close`` and either two of
E.164 phone, email address, identifier, birthday and address the same, or one the
same and none of the others different (one shared family email with another
birthday is no anchor: namesakes would teach m that birthdays change). The anchors bound
the prior: at least half of them are duplicates, and they are at least half of the
duplicates, so ``p`` stays within ``[anchors / 2, 2 * anchors]`` of the pairs fit
on; and each anchor counts as a duplicate at least 0.9 in every E-step. Without
any anchor the data show no duplicate to learn from: EM would otherwise make a
"match" class of whatever the candidates share most (namesakes, on a base of
distinct people), so ``p`` stays at one duplicate among the pairs fit on (the
least a fit can tell from none) and m keeps its assumed shape (each field's
agreeing levels likely), which still scores a later exact copy high.
:class:`FitDiagnostics` (``model.diagnostics``) says what happened, with stable
codes: ``dedupe.no_match_class``, ``dedupe.prior_capped``, ``dedupe.prior_raised``,
``dedupe.not_converged``.

Four things keep a small or lopsided fit sane:

* pseudo-counts: each M-step adds half a pair per level to u's counts (half a
  sampled pair when each random pair stands for more than one, since a level no
  sampled pair showed is only known to be rarer than the sample can tell), and to m's counts
  half a pair per level spread like u (like the assumed m on the strong fields:
  phone, email, identifier), so a level no duplicate showed weighs a few bits
  against, not -20 (and pooling keeps it between its neighbours);
* strong fields: u of a phone, an email and an identifier also gets 100
  pseudo-pairs of different customers, a thousandth of them agreeing exactly and
  a twentieth on a level between, since two different customers rarely share one
  and a small base cannot show how rarely;
* monotone levels: after each M-step, adjacent levels whose weight falls as
  agreement rises are pooled (:func:`pool_adjacent_violators`), so an exact
  value never weighs less than a variant, nor a variant less than "different";
* no probability is 0 (a floor of ``1e-6`` before pooling), so no weight is infinite.

The fit is deterministic: the same vectors give the same model.

The fitted :class:`MatchModel` is plain data: inspect ``model.fields``, keep it
with ``model.to_dict()`` (JSON-ready) and load it with ``MatchModel.from_dict``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from crmcore.errors import Problem, ValidationError
from crmcore.rules.dedupe._checks import check_max_iterations
from crmcore.rules.dedupe.compare import (
    DEFAULT_COMPARISON,
    LEVEL_LABELS,
    NULL,
    ComparedField,
    ComparisonSpec,
    level_counts,
)

__all__ = [
    "FieldParameters",
    "FitDiagnostics",
    "LevelParameters",
    "MatchModel",
    "fit",
    "pool_adjacent_violators",
    "probability",
]

_FLOOR = 1e-6
_SMOOTHING = 0.5
"""Pseudo-pairs added to every level's count in each M-step, so that a level never
seen among the duplicates of a small fit still has some weight (not -20 bits)."""
_PRIOR_BOUNDS = (1e-6, 1 - 1e-6)
_U_PRIOR_SHARE = 0.1
"""The random pairs' weight in u, as a share of the candidate pairs."""
_U_PRIOR_PAIRS = 100.0
"""... and at least this many pairs (a small fit leans on them)."""
_U_STRONG_PAIRS = 100.0
"""Pseudo-pairs of different customers added to u of phones, emails and identifiers in
every M-step: a thousandth of them agree exactly, a twentieth on a level between."""
_U_STRONG_EXACT = 0.001
_U_STRONG_BETWEEN = 0.05
_ANCHOR_FLOOR = 0.9
"""Each anchor pair counts as a duplicate at least this much in every E-step."""
_ANCHOR_RECALL = 0.5
"""The least share of the candidates' duplicates the deterministic rules are taken to
find: the prior is at most ``anchors / (_ANCHOR_RECALL * pairs)``."""
_ANCHOR_TRUST = 0.5
"""The share of the anchor pairs taken as duplicates for sure: the prior is at least
``_ANCHOR_TRUST * anchors / pairs``."""
_NO_ANCHOR_DUPLICATES = 1.0
"""Without any anchor, the prior is this many duplicates among the pairs fit on."""
_STRONG = (ComparedField.PHONE, ComparedField.EMAIL, ComparedField.IDENTIFIER)
_ANCHORED = (*_STRONG, ComparedField.BIRTHDAY, ComparedField.ADDRESS)
_NAME_CLOSE = 3
"""The name level from which an anchor's names are close (``close`` and above)."""
_ANCHOR_SAME = 2
"""An anchor with some ruled field different needs this many ruled fields the same."""


@attrs.frozen(kw_only=True)
class LevelParameters:
    """One level of one field: its label, m, u and weight.

    Attributes:
        level: The level (0 is "different").
        label: Its label (``"exact"``, ``"swapped"``, ...).
        m: P(level | duplicate).
        u: P(level | different customers).
    """

    level: int
    label: str
    m: float
    u: float

    @property
    def weight(self) -> float:
        """``log2(m / u)``: the evidence this level gives for a duplicate."""
        return math.log2(self.m / self.u)


@attrs.frozen(kw_only=True)
class FitDiagnostics:
    """What the data let the fit learn, and where it was held back.

    Attributes:
        anchors: Candidate pairs that a deterministic rule takes for duplicates:
            names at least ``close`` and two of E.164 phone, email address,
            identifier, birthday and address the same, or one the same and none of
            them different (without a compared name: the same phone, email or
            identifier, by the same rule).
        duplicates: The duplicates the fit expects among the candidates (the sum
            of their match probabilities in the last E-step).
        prior_low: The least prior the anchors allow.
        prior_high: The greatest prior the anchors allow.
        problems: Warnings with stable codes: ``dedupe.no_match_class`` (no
            anchor: the data show no duplicate to learn from, so the prior is one
            duplicate among the pairs fit on and m is assumed, not learnt),
            ``dedupe.prior_capped`` (EM wanted more duplicates than the anchors
            allow, as when namesakes outnumber duplicates), ``dedupe.prior_raised`` (EM wanted fewer
            duplicates than the anchors) and ``dedupe.not_converged``.
    """

    anchors: int = 0
    duplicates: float = 0.0
    prior_low: float = _PRIOR_BOUNDS[0]
    prior_high: float = _PRIOR_BOUNDS[1]
    problems: tuple[Problem, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        """The problems' codes, in order."""
        return tuple(p.code for p in self.problems)

    def to_dict(self) -> dict[str, Any]:
        """The diagnostics as JSON-ready plain data."""
        return {
            "anchors": self.anchors,
            "duplicates": self.duplicates,
            "prior_low": self.prior_low,
            "prior_high": self.prior_high,
            "problems": [
                {"code": p.code, "path": p.path, "message": p.message, "severity": p.severity}
                for p in self.problems
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FitDiagnostics:
        """Diagnostics written by :meth:`to_dict` (a ``KeyError`` or ``TypeError`` when bad)."""
        severities = ("error", "warning", "info")
        problems = []
        for p in data["problems"]:
            if p["severity"] not in severities:
                raise ValueError(f"severity {p['severity']!r}")
            problems.append(
                Problem(
                    code=str(p["code"]),
                    path=str(p["path"]),
                    message=str(p["message"]),
                    severity=p["severity"],
                )
            )
        return cls(
            anchors=int(data["anchors"]),
            duplicates=float(data["duplicates"]),
            prior_low=float(data["prior_low"]),
            prior_high=float(data["prior_high"]),
            problems=tuple(problems),
        )


@attrs.frozen(kw_only=True)
class FieldParameters:
    """The fitted levels of one compared field, level 0 first."""

    field: ComparedField
    levels: tuple[LevelParameters, ...]


def probability(total: float) -> float:
    """The match probability of a total weight: ``2**total / (1 + 2**total)``."""
    if total >= 0:
        return 1.0 / (1.0 + math.pow(2.0, -total))
    odds = math.pow(2.0, total)
    return odds / (1.0 + odds)


@attrs.frozen(kw_only=True)
class MatchModel:
    """A fitted Fellegi-Sunter model.

    Attributes:
        comparison: The comparison spec the vectors were made with.
        prior: The share of duplicates among the pairs fit on.
        fields: Each compared field's levels with m, u and weight.
        pairs: How many vectors it was fit on.
        iterations: EM iterations run.
        converged: Whether the parameters settled within the tolerance.
        diagnostics: What the data let the fit learn (``None`` for a model
            made by hand or saved before diagnostics existed).
    """

    comparison: ComparisonSpec
    prior: float
    fields: tuple[FieldParameters, ...]
    pairs: int = 0
    iterations: int = 0
    converged: bool = True
    diagnostics: FitDiagnostics | None = None

    @property
    def prior_weight(self) -> float:
        """``log2(prior / (1 - prior))``, the weight every pair starts from."""
        return math.log2(self.prior / (1.0 - self.prior))

    def weight(self, field_index: int, level: int) -> float:
        """The weight of ``level`` for the field at ``field_index`` (0 for a null level)."""
        if level == NULL:
            return 0.0
        return self.fields[field_index].levels[level].weight

    def terms(self, vector: Sequence[int]) -> tuple[float, ...]:
        """The prior weight followed by each field's weight for a comparison vector."""
        return (self.prior_weight, *(self.weight(i, lv) for i, lv in enumerate(vector)))

    def total(self, vector: Sequence[int]) -> float:
        """A vector's total weight: ``math.fsum`` of its :meth:`terms`."""
        return math.fsum(self.terms(vector))

    def to_dict(self) -> dict[str, Any]:
        """The model as JSON-ready plain data."""
        return {
            "comparison": {
                "kind": self.comparison.kind,
                "fields": [f.value for f in self.comparison.fields],
                "name_high": str(self.comparison.name_high),
                "name_low": str(self.comparison.name_low),
                "street_high": str(self.comparison.street_high),
                "street_low": str(self.comparison.street_low),
            },
            "prior": self.prior,
            "pairs": self.pairs,
            "iterations": self.iterations,
            "converged": self.converged,
            "fields": [
                {
                    "field": f.field.value,
                    "levels": [
                        {"level": lv.level, "label": lv.label, "m": lv.m, "u": lv.u}
                        for lv in f.levels
                    ],
                }
                for f in self.fields
            ],
            "diagnostics": None if self.diagnostics is None else self.diagnostics.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MatchModel:
        """Load a model written by :meth:`to_dict`; bad data raises ``ValidationError``."""
        from decimal import Decimal

        try:
            spec_data = data["comparison"]
            comparison = ComparisonSpec(
                fields=tuple(ComparedField(f) for f in spec_data["fields"]),
                name_high=Decimal(spec_data["name_high"]),
                name_low=Decimal(spec_data["name_low"]),
                street_high=Decimal(spec_data["street_high"]),
                street_low=Decimal(spec_data["street_low"]),
            )
            fields = tuple(
                FieldParameters(
                    field=ComparedField(f["field"]),
                    levels=tuple(
                        LevelParameters(
                            level=int(lv["level"]),
                            label=str(lv["label"]),
                            m=float(lv["m"]),
                            u=float(lv["u"]),
                        )
                        for lv in f["levels"]
                    ),
                )
                for f in data["fields"]
            )
            diagnostics = data.get("diagnostics")
            model = cls(
                comparison=comparison,
                prior=float(data["prior"]),
                fields=fields,
                pairs=int(data["pairs"]),
                iterations=int(data["iterations"]),
                converged=bool(data["converged"]),
                diagnostics=None if diagnostics is None else FitDiagnostics.from_dict(diagnostics),
            )
        except ValidationError:
            raise
        except (KeyError, TypeError, ValueError, ArithmeticError) as error:
            raise _invalid("$", f"not a match model: {error!r}") from None
        problems = list(_model_problems(model))
        if problems:
            raise ValidationError(problems, subject="MatchModel")
        return model


def _model_problems(model: MatchModel) -> Iterable[Problem]:
    if not 0.0 < model.prior < 1.0:
        yield Problem(code="dedupe.model_invalid", path="$.prior", message="must be in (0, 1)")
    if [f.field for f in model.fields] != list(model.comparison.fields):
        yield Problem(
            code="dedupe.model_invalid", path="$.fields", message="must follow comparison.fields"
        )
        return
    for index, (fp, count) in enumerate(
        zip(model.fields, level_counts(model.comparison), strict=True)
    ):
        if len(fp.levels) != count or any(
            lv.level != i or not (0.0 < lv.m <= 1.0 and 0.0 < lv.u <= 1.0)
            for i, lv in enumerate(fp.levels)
        ):
            yield Problem(
                code="dedupe.model_invalid",
                path=f"$.fields[{index}]",
                message=f"needs levels 0..{count - 1} with m and u in (0, 1]",
            )


def _invalid(path: str, message: str) -> ValidationError:
    return ValidationError(
        [Problem(code="dedupe.model_invalid", path=path, message=message)], subject="MatchModel"
    )


def _normalised(values: list[float]) -> list[float]:
    floored = [max(v, _FLOOR) for v in values]
    total = sum(floored)
    return [v / total for v in floored]


def _initial_m(levels: int) -> list[float]:
    # the top level takes most of the mass, lower levels geometrically less
    raw = [0.5 ** (levels - 1 - i) for i in range(levels)]
    raw[-1] *= 4
    return _normalised([r / sum(raw) for r in raw])


def _patterns(vectors: Iterable[Sequence[int]], counts: Sequence[int]) -> Counter[tuple[int, ...]]:
    patterns: Counter[tuple[int, ...]] = Counter()
    for index, vector in enumerate(vectors):
        item = tuple(vector)
        if len(item) != len(counts) or any(
            isinstance(v, bool) or not isinstance(v, int) or not NULL <= v < counts[f]
            for f, v in enumerate(item)
        ):
            raise _invalid(
                f"$[{index}]",
                f"a comparison vector has {len(counts)} levels within each field's range",
            )
        patterns[item] += 1
    return patterns


def _level_totals(
    patterns: Mapping[tuple[int, ...], float], counts: Sequence[int], scale: float
) -> list[list[float]]:
    """Each field's count of pairs per level (null levels left out), times ``scale``."""
    totals = [[0.0] * n for n in counts]
    for vector, count in patterns.items():
        for f, level in enumerate(vector):
            if level != NULL:
                totals[f][level] += count * scale
    return totals


def pool_adjacent_violators(m: Sequence[float], u: Sequence[float]) -> list[float]:
    """``m`` adjusted so that ``log(m / u)`` does not fall from one level to the next.

    Adjacent levels whose weights fall are pooled (the pool-adjacent-violators
    algorithm): the levels of a pool share the weight ``log(sum m / sum u)`` of
    the pool, ``m`` being spread over them in proportion to ``u``. ``sum(m)`` is
    unchanged, and levels already in order keep their ``m``.

    >>> [round(x, 3) for x in pool_adjacent_violators([0.1, 0.5, 0.4], [0.8, 0.1, 0.1])]
    [0.1, 0.45, 0.45]
    """
    pools: list[tuple[float, float, list[int]]] = []
    for level, (mv, uv) in enumerate(zip(m, u, strict=True)):
        pools.append((mv, uv, [level]))
        while len(pools) > 1 and pools[-2][0] * pools[-1][1] > pools[-1][0] * pools[-2][1]:
            m_last, u_last, levels_last = pools.pop()
            m_prev, u_prev, levels_prev = pools.pop()
            pools.append((m_prev + m_last, u_prev + u_last, levels_prev + levels_last))
    result = list(m)
    for m_sum, u_sum, levels in pools:
        if len(levels) > 1:
            for level in levels:
                result[level] = m_sum * u[level] / u_sum
    return result


def _anchor_patterns(
    patterns: Mapping[tuple[int, ...], int], spec: ComparisonSpec, counts: Sequence[int]
) -> set[tuple[int, ...]]:
    """The vectors a deterministic rule takes for duplicates (see :class:`FitDiagnostics`)."""
    name = spec.fields.index(ComparedField.NAME) if ComparedField.NAME in spec.fields else None
    ruled = _ANCHORED if name is not None else _STRONG
    ruled_at = [(i, counts[i] - 1) for i, f in enumerate(spec.fields) if f in ruled]
    anchored = set()
    for vector in patterns:
        if name is not None and vector[name] < _NAME_CLOSE:
            continue
        same = sum(vector[i] == top for i, top in ruled_at)
        if same >= _ANCHOR_SAME or (same and all(vector[i] != 0 for i, _ in ruled_at)):
            anchored.add(vector)
    return anchored


def _fit_problems(
    anchors: int, wanted: float, low: float, high: float, converged: bool, iterations: int
) -> Iterable[Problem]:
    if not anchors:
        yield Problem(
            code="dedupe.no_match_class",
            message=(
                "no candidate pair has close names and the same phone, email, identifier,"
                " birthday or address (two of them, or one and none different): the data"
                " show no duplicate to learn from, so the prior"
                f" is {low:.3g} (one duplicate among the pairs fit on) and m is assumed"
                " (agreement likely), not learnt"
            ),
            severity="warning",
        )
        return
    if wanted > high:
        yield Problem(
            code="dedupe.prior_capped",
            path="$.prior",
            message=(
                f"EM found a prior of {wanted:.3g}, more than the {anchors} anchor pairs"
                f" allow: it is held at {high:.3g} (namesakes or shared contact points"
                " may outnumber the duplicates)"
            ),
            severity="warning",
        )
    elif wanted < low:
        yield Problem(
            code="dedupe.prior_raised",
            path="$.prior",
            message=(
                f"EM found a prior of {wanted:.3g}, less than the {anchors} anchor pairs"
                f" show: it is held at {low:.3g}"
            ),
            severity="info",
        )
    if not converged:
        yield Problem(
            code="dedupe.not_converged",
            message=f"the parameters had not settled after {iterations} iterations",
            severity="warning",
        )


def fit(
    vectors: Iterable[Sequence[int]],
    *,
    spec: ComparisonSpec = DEFAULT_COMPARISON,
    random_vectors: Iterable[Sequence[int]] | None = None,
    population: int | None = None,
    prior: float = 0.1,
    max_iterations: int = 200,
    tolerance: float = 1e-7,
) -> MatchModel:
    """Fit m, u and the prior by EM from comparison vectors (see the module docs).

    ``vectors`` are the candidate pairs' comparison vectors; ``random_vectors``,
    optional, those of random pairs that are not candidates, standing for the
    pairs blocking did not make; ``population`` the number of pairs in all (the
    candidates included; by default the candidates and the random pairs given),
    which caps the weight the random pairs get.
    ``prior`` is the starting share of duplicates among the candidates. Vectors
    of the wrong shape are refused with ``dedupe.model_invalid``, no vector at
    all with ``dedupe.no_pairs``, a population below the number of candidates
    with ``dedupe.population_invalid``, ``max_iterations`` below 1 (or not an
    integer) with ``dedupe.max_iterations_invalid``.
    """
    check_max_iterations(max_iterations, "fit")
    counts = level_counts(spec)
    patterns = _patterns(vectors, counts)
    candidates = sum(patterns.values())
    if candidates == 0:
        raise ValidationError(
            [Problem(code="dedupe.no_pairs", path="$", message="no comparison vectors to fit")],
            subject="fit",
        )
    sampled = _patterns(random_vectors, counts) if random_vectors is not None else Counter()
    if random_vectors is None:
        everyone = candidates
    else:
        everyone = candidates + sum(sampled.values()) if population is None else population
    if isinstance(everyone, bool) or not isinstance(everyone, int) or everyone < candidates:
        raise ValidationError(
            [
                Problem(
                    code="dedupe.population_invalid",
                    path="$.population",
                    message=f"must be a count of pairs of at least the {candidates} candidates",
                )
            ],
            subject="fit",
        )
    fields = range(len(counts))
    # The random pairs stand for the pairs blocking did not make, taken as different
    # customers: their level counts join every M-step's u (and weigh nothing in m)
    # as a prior worth a tenth of the candidates (at least 100 pairs, at most as
    # many as they stand for), so u cannot run away when nearly every candidate is a
    # duplicate, yet the candidates' own non-matches (namesakes with look-alike
    # emails) still shape it.
    rest = everyone - candidates
    sampled_total = sum(sampled.values())
    weight = min(float(rest), max(_U_PRIOR_SHARE * candidates, _U_PRIOR_PAIRS))
    scale = weight / sampled_total if sampled_total else 0.0
    background = _level_totals(sampled, counts, scale)
    # A level no random pair showed is rare, not impossible: its u is at least what
    # half a pair of the sample would give (the sample cannot tell less apart).
    u_smoothing = _SMOOTHING * max(scale, 1.0)
    m = [_initial_m(n) for n in counts]
    u_start = sampled if sampled_total else patterns
    u = [
        _normalised(t) if sum(t) else [1.0 / len(t)] * len(t)
        for t in _level_totals(u_start, counts, 1.0)
    ]
    # Deterministic rules bound the prior (splink estimates it from such rules): the
    # anchors are duplicates, mostly, and are at least half of them. Without
    # an anchor the data show no duplicate, and EM would make a "match" class of
    # whatever the candidates share most (namesakes): the prior stays at its floor
    # and m keeps its assumed shape (agreement likely), so a later copy still scores.
    denominator = candidates + weight
    anchored = _anchor_patterns(patterns, spec, counts)
    anchors = sum(patterns[v] for v in anchored)
    low, high = _PRIOR_BOUNDS
    if anchors:
        low = min(max(_ANCHOR_TRUST * anchors / denominator, low), high)
        high = max(min(anchors / (_ANCHOR_RECALL * denominator), high), low)
    else:
        # No duplicate shown: the prior is that of one duplicate among the pairs fit on,
        # the least a fit can tell from none (a fixed 1e-6 would hold an exact copy
        # met later, on entry, below 0.9 on a base of thousands).
        low = high = min(max(_NO_ANCHOR_DUPLICATES / denominator, low), 0.5)
    assumed_m = m
    strong = {i for i, f in enumerate(spec.fields) if f in _STRONG}
    # u's pseudo-counts: half a pair per level, and on a phone, an email or an
    # identifier 100 pairs more, nearly all different: different customers rarely
    # share one, which a small base cannot show (its few copies would teach u
    # otherwise). The levels between share a twentieth, the exact level a thousandth.
    u_prior = [[u_smoothing] * n for n in counts]
    for f in strong:
        between = counts[f] - 2
        for level in range(1, counts[f] - 1):
            u_prior[f][level] += _U_STRONG_PAIRS * _U_STRONG_BETWEEN / between
        u_prior[f][-1] += _U_STRONG_PAIRS * _U_STRONG_EXACT
        u_prior[f][0] += _U_STRONG_PAIRS * (
            1.0 - _U_STRONG_BETWEEN * (between > 0) - _U_STRONG_EXACT
        )
    lam = min(max(prior * candidates / denominator, low), high)
    items = sorted(patterns.items())
    iterations, converged, wanted, matched = 0, False, lam, 0.0
    for iterations in range(1, max_iterations + 1):  # noqa: B007
        m_acc = [
            [_SMOOTHING * n * x for x in (assumed_m[f] if f in strong else u[f])]
            for f, n in enumerate(counts)
        ]
        u_acc = [[s + b for s, b in zip(u_prior[f], background[f], strict=True)] for f in fields]
        matched = 0.0
        log_lam, log_rest = math.log(lam), math.log(1.0 - lam)
        for vector, count in items:
            log_m, log_u = log_lam, log_rest
            for f in fields:
                level = vector[f]
                if level != NULL:
                    log_m += math.log(m[f][level])
                    log_u += math.log(u[f][level])
            g = 1.0 / (1.0 + math.exp(min(log_u - log_m, 700.0)))
            if vector in anchored:
                g = max(g, _ANCHOR_FLOOR)
            matched += count * g
            for f in fields:
                level = vector[f]
                if level != NULL:
                    m_acc[f][level] += count * g
                    u_acc[f][level] += count * (1.0 - g)
        wanted = matched / denominator
        new_lam = min(max(wanted, low), high)
        new_u = [_normalised(a) for a in u_acc]
        learnt = m_acc if anchors else assumed_m
        new_m = [pool_adjacent_violators(_normalised(a), new_u[f]) for f, a in enumerate(learnt)]
        change = max(
            abs(new_lam - lam) / lam,
            *(abs(x - y) for f in fields for x, y in zip(new_m[f], m[f], strict=True)),
            *(abs(x - y) for f in fields for x, y in zip(new_u[f], u[f], strict=True)),
        )
        lam, m, u = new_lam, new_m, new_u
        if change < tolerance:
            converged = True
            break
    diagnostics = FitDiagnostics(
        anchors=anchors,
        duplicates=matched,
        prior_low=low,
        prior_high=high,
        problems=tuple(_fit_problems(anchors, wanted, low, high, converged, iterations)),
    )
    return MatchModel(
        comparison=spec,
        prior=lam,
        fields=tuple(
            FieldParameters(
                field=field,
                levels=tuple(
                    LevelParameters(level=i, label=LEVEL_LABELS[field][i], m=m[f][i], u=u[f][i])
                    for i in range(counts[f])
                ),
            )
            for f, field in enumerate(spec.fields)
        ),
        pairs=candidates,
        iterations=iterations,
        converged=converged,
        diagnostics=diagnostics,
    )
