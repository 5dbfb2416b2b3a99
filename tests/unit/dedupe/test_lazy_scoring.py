"""Scoring from level vectors and explanations built when read equal the eager reference.

The fast path (level-only comparators, a weight table per distinct vector, lazy
explanations) must give exactly what the reference gives: ``compare`` for every
pair, ``explain_comparisons`` for every pair, clustering over all of them. Each
test switches the fast path on itself, so it checks it under
``CRMCORE_NO_FAST_PATHS=1`` too.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore._fastpaths import set_fast_paths
from crmcore.errors import ValidationError
from crmcore.models import Customer, Gender
from crmcore.rules.dedupe import (
    DedupeResult,
    ExplainedPairs,
    Features,
    WeightTable,
    candidate_pairs,
    compare,
    compare_levels,
    explain_comparisons,
    explain_pair,
    feature_keys,
    features,
    find_duplicates,
)
from crmcore.rules.dedupe.compare import ComparisonSpec, _at_least, level_vectors

from ._build import person
from ._synthetic import generate


@pytest.fixture
def fast() -> Iterator[None]:
    previous = set_fast_paths(True)
    try:
        yield
    finally:
        set_fast_paths(previous)


@functools.cache
def _hard() -> tuple[Customer, ...]:
    return generate(300, seed=7, hard=True).customers


@functools.cache
def _hard_features() -> dict[str, Features]:
    return {c.id: features(c) for c in _hard()}


def _reference_levels(a: Features, b: Features) -> tuple[int, ...]:
    return tuple(c.level for c in compare(a, b))


def test_level_only_comparisons_equal_the_full_ones_on_every_candidate(fast: None) -> None:
    items = _hard_features()
    found = candidate_pairs(
        [(cid, feature_keys(item)) for cid, item in items.items()], max_block_size=100
    )
    assert len(found.pairs) > 100
    for pair in found.pairs:
        a, b = items[pair.left], items[pair.right]
        assert compare_levels(a, b) == _reference_levels(a, b), (pair.left, pair.right)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_level_only_comparisons_equal_the_full_ones_on_random_pairs(data: st.DataObject) -> None:
    items = list(_hard_features().values())
    a = data.draw(st.sampled_from(items))
    b = data.draw(st.sampled_from(items))
    previous = set_fast_paths(True)
    try:
        assert compare_levels(a, b) == _reference_levels(a, b)
        assert compare_levels(b, a) == compare_levels(a, b)
    finally:
        set_fast_paths(previous)


_NAMES = st.sampled_from(
    ["张", "張", "欧阳", "王", "zhang", "Ｗｅｉ", "伟", "偉", "娜娜", "emily", ""]
)
_DAYS = st.one_of(st.none(), st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(2020, 12, 31)))
_PHONES = st.sampled_from(
    [None, "+8613800138000", "１３８００１３８０００", "13800138001", "555-0100"]
)
_EMAILS = st.sampled_from([None, "wei@example.com", "wei@example.org", "wie@example.com", "x@y.cn"])


@st.composite
def _customers(draw: st.DrawFn, cid: str) -> Customer:
    family, given_name = draw(_NAMES), draw(_NAMES)
    if not (family or given_name):
        family = "李"
    return person(
        cid,
        family,
        given_name,
        phone=draw(_PHONES),
        email=draw(_EMAILS),
        born=draw(_DAYS),
        gender=draw(st.sampled_from([None, Gender.FEMALE, Gender.MALE])),
        street=draw(st.sampled_from([None, "人民路1号", "人民路11号", "Main Street 5"])),
        postal=draw(st.sampled_from(["100000", "200000"])),
    )


@settings(max_examples=300, deadline=None)
@given(_customers("a"), _customers("b"))
def test_level_only_comparisons_equal_the_full_ones_on_drawn_customers(
    a: Customer, b: Customer
) -> None:
    fa, fb = features(a), features(b)
    previous = set_fast_paths(True)
    try:
        assert compare_levels(fa, fb) == _reference_levels(fa, fb)
    finally:
        set_fast_paths(previous)


def _run(enabled: bool) -> DedupeResult:
    previous = set_fast_paths(enabled)
    try:
        return find_duplicates(_hard(), threshold=0.9, sample_pairs=3_000)
    finally:
        set_fast_paths(previous)


def test_lazy_scoring_gives_the_eager_result() -> None:
    lazy, eager = _run(True), _run(False)
    assert isinstance(lazy.pairs, ExplainedPairs)
    assert isinstance(eager.pairs, ExplainedPairs)  # the reference reads alike (built)
    assert [eager.pairs.probability(i) for i in range(len(eager.pairs))] == [
        lazy.pairs.probability(i) for i in range(len(lazy.pairs))
    ]
    assert eager.pairs.reaching(0.9) == lazy.pairs.reaching(0.9)
    assert eager.pairs.linked(0.9) == lazy.pairs.linked(0.9)
    assert lazy.model == eager.model
    assert lazy.clustering == eager.clustering
    assert lazy.clustering.groups
    assert tuple(lazy.pairs) == eager.pairs
    assert lazy == eager
    assert hash(lazy) == hash(eager)


def test_only_the_pairs_reaching_the_threshold_are_explained_until_read(fast: None) -> None:
    # Two strangers on one household phone: a candidate pair below the threshold (the
    # synthetic customers' candidates alone are all true pairs, and all reach it).
    strangers = (
        person("zz1", "Schmidt", "Anna", phone="+4930123456", born=dt.date(1961, 2, 3)),
        person("zz2", "李", "娜", phone="+4930123456", born=dt.date(1990, 7, 8)),
    )
    result = find_duplicates((*_hard(), *strangers), threshold=0.9, sample_pairs=3_000)
    pairs = result.pairs
    assert isinstance(pairs, ExplainedPairs)
    chances = [pairs.probability(i) for i in range(len(pairs))]
    reaching = sum(1 for c in chances if c >= 0.9)
    assert 0 < reaching < len(pairs)
    assert repr(pairs) == f"ExplainedPairs({len(pairs)} pairs, {reaching} explained)"
    last = pairs[-1]
    assert last is pairs[len(pairs) - 1]  # built once, then kept
    assert last.probability == chances[-1]
    assert pairs[1:3] == (pairs[1], pairs[2])
    with pytest.raises(IndexError):
        pairs[len(pairs)]


def test_explained_pairs_refuse_what_a_tuple_refuses(fast: None) -> None:
    """Indices as a tuple takes them, for the pairs and their probabilities; thresholds
    as ``cluster`` takes them."""
    pairs = find_duplicates(_hard(), threshold=0.9, sample_pairs=3_000).pairs
    assert isinstance(pairs, ExplainedPairs)
    assert pairs.probability(-1) == pairs.probability(len(pairs) - 1)
    with pytest.raises(IndexError, match="pair index out of range"):
        pairs.probability(len(pairs))
    with pytest.raises(TypeError, match="integers or slices"):
        pairs["a"]  # type: ignore[call-overload]
    for threshold in (1.5, -1, "0.9"):
        with pytest.raises(ValidationError) as raised:
            pairs.reaching(threshold)  # type: ignore[arg-type]
        assert raised.value.problems[0].code == "dedupe.threshold_invalid"


def test_an_explained_pair_is_what_explain_pair_gives(fast: None) -> None:
    customers = [
        person("c1", "张", "伟", phone="+8613800138000", born=dt.date(1990, 3, 4)),
        person("c2", "張", "偉", phone="１３８００１３８０００", born=dt.date(1990, 4, 3)),
        person("c3", "王", "芳", email="fang@example.com"),
        person("c4", "Wang", "Fang", email="fang@example.com", born=dt.date(1985, 1, 2)),
    ]
    result = find_duplicates(customers, threshold=0.5)
    items = {c.id: features(c) for c in customers}
    assert len(result.pairs) > 0
    assert result.model is not None
    for scored in result.pairs:
        expected = explain_pair(
            items[scored.left], items[scored.right], result.model, keys=scored.keys
        )
        assert scored == expected


def test_the_weight_table_sums_as_the_explanation_does(fast: None) -> None:
    items = _hard_features()
    result = find_duplicates(_hard(), threshold=0.9, sample_pairs=3_000)
    assert result.model is not None
    table = WeightTable(result.model)
    ids = sorted(items)
    chooser = random.Random(3)
    for _ in range(300):
        a, b = (items[i] for i in chooser.sample(ids, 2))
        explained = explain_comparisons(a.customer_id, b.customer_id, compare(a, b), result.model)
        assert table.score(explained.vector) == (explained.total, explained.probability)


def test_explained_pairs_with_a_given_model_compare_the_pairs_themselves(fast: None) -> None:
    result = find_duplicates(_hard(), threshold=0.9, sample_pairs=3_000)
    assert result.model is not None
    again = find_duplicates(_hard(), threshold=0.9, model=result.model)
    assert again.clustering == result.clustering
    assert tuple(again.pairs) == tuple(result.pairs)
    items = _hard_features()
    pairs = candidate_pairs(
        [(cid, feature_keys(item)) for cid, item in items.items()], max_block_size=100
    ).pairs
    explained = ExplainedPairs(items, pairs, result.model)
    assert tuple(explained) == tuple(result.pairs)
    with pytest.raises(ValidationError) as refused:
        ExplainedPairs(items, pairs, result.model, vectors=[])
    assert [(p.code, p.path) for p in refused.value.problems] == [
        ("dedupe.vectors_invalid", "$.vectors")
    ]


@settings(max_examples=500, deadline=None)
@given(
    st.decimals(min_value="0.000001", max_value=1, places=6),
    st.floats(min_value=0, max_value=1),
)
def test_float_thresholds_compare_as_the_decimal_ones(threshold: Decimal, x: float) -> None:
    """A similarity reaches the float form of a threshold exactly when it reaches the decimal."""
    limit = _at_least(threshold)
    assert (x >= limit) == (x >= threshold)
    assert (limit >= limit) == (limit >= threshold)
    below = math.nextafter(limit, -math.inf)
    assert (below >= limit) == (below >= threshold)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 299), st.integers(0, 299)), max_size=40),
    st.sampled_from(["0.80", "0.85", "0.9", "0.92", "0.95"]),
)
def test_batch_level_vectors_equal_the_reference_pair_by_pair(
    picks: list[tuple[int, int]], high: str
) -> None:
    """``level_vectors`` (one comparator lookup per batch, float thresholds) gives the
    reference ``compare`` levels of every pair, whatever the thresholds."""
    items = _hard_features()
    ids = sorted(items)
    spec = ComparisonSpec(name_high=Decimal(high), street_high=Decimal(high))
    ends = [(ids[a % len(ids)], ids[b % len(ids)]) for a, b in picks]
    previous = set_fast_paths(True)
    try:
        fast = level_vectors(items, ends, spec=spec)
    finally:
        set_fast_paths(previous)
    assert fast == [tuple(c.level for c in compare(items[a], items[b], spec=spec)) for a, b in ends]


def test_batch_level_vectors_on_every_candidate(fast: None) -> None:
    """Every candidate pair of the hard sample compares the same in a batch as alone."""
    items = _hard_features()
    found = candidate_pairs(
        [(cid, feature_keys(item)) for cid, item in items.items()], max_block_size=100
    )
    ends = [(p.left, p.right) for p in found.pairs]
    assert len(ends) > 100
    assert level_vectors(items, ends) == [_reference_levels(items[a], items[b]) for a, b in ends]
