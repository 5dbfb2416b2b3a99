"""The fast paths of blocking and of reading features equal their references.

Blocking by a dict of customer ranks, ``fold``'s ASCII path, one name form per
distinct written name and the paused collector must give exactly what the
references give: the sorted ``(key, customer)`` entries, ``fold_reference``, a form
built for every customer, the collector running. Each test switches the fast paths
itself, so it checks them under ``CRMCORE_NO_FAST_PATHS=1`` too.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore._collector import collector_paused
from crmcore._fastpaths import set_fast_paths
from crmcore.errors import ValidationError
from crmcore.models import Customer, OrganisationProfile
from crmcore.rules.dedupe import Candidates, candidate_pairs, feature_keys, features
from crmcore.rules.dedupe._text import fold, fold_reference

from ._build import person
from ._synthetic import generate

T = TypeVar("T")


def _both(run: Callable[[], T]) -> tuple[T, T]:
    """``run`` with the fast paths on, then off (the setting restored after)."""
    previous = set_fast_paths(True)
    try:
        fast = run()
        set_fast_paths(False)
        return fast, run()
    finally:
        set_fast_paths(previous)


@functools.cache
def _hard() -> tuple[Customer, ...]:
    return generate(400, seed=11, hard=True).customers


_keyed = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=3),
    st.lists(st.sampled_from(["k:1", "k:2", "k:3", "n:x", "n:y", "p:z"]), max_size=5),
    max_size=30,
)


@given(_keyed, st.integers(2, 12))
@settings(max_examples=150, deadline=None)
def test_blocking_by_rank_gives_the_sorted_entries_result(
    keyed: dict[str, list[str]], cap: int
) -> None:
    """Pairs, their shared keys, the per-pass counts and the cut blocks are the reference's."""
    items = list(keyed.items())
    fast, reference = _both(lambda: candidate_pairs(items, max_block_size=cap))
    assert fast == reference


def test_blocking_by_rank_on_damaged_customers() -> None:
    """On 400 hard synthetic people's records the two blockings agree pair for pair."""
    keyed = [(c.id, feature_keys(features(c))) for c in _hard()]

    def run() -> Candidates:
        return candidate_pairs(keyed, max_block_size=2)

    fast, reference = _both(run)
    assert fast.pairs
    assert fast.report.cut
    assert fast == reference


@pytest.mark.parametrize(
    "items",
    [
        [("a", ("k:1",)), ("b", "k:1")],
        [("a", ("k:1",)), ("b", ("k:1", 3))],
        [("a", ["k:1"]), ["b", ["k:1"]]],
        [("a", ("k:1",)), (7, ("k:1",))],
        [("a", ("k:1",)), ("a", ("k:2",))],
    ],
)
def test_blocking_by_rank_refuses_what_the_reference_refuses(items: list[object]) -> None:
    """A bad item or a repeated id gets the same coded error at the same path."""

    def run() -> tuple[str, str]:
        with pytest.raises(ValidationError) as caught:
            candidate_pairs(items, max_block_size=5)  # type: ignore[arg-type]
        problem = caught.value.problems[0]
        return problem.code, problem.path

    fast, reference = _both(run)
    assert fast == reference


@given(st.text(st.characters(max_codepoint=127), max_size=40))
@settings(max_examples=300, deadline=None)
def test_the_ascii_fold_is_the_reference_fold(text: str) -> None:
    """Any ASCII text folds as the character-by-character reference folds it."""
    previous = set_fast_paths(True)
    try:
        assert fold(text) == fold_reference(text)
    finally:
        set_fast_paths(previous)


@pytest.mark.parametrize(
    "text", ["Ｚｈａｎｇ　Ｗｅｉ", "Müller-Lüdenscheidt", "張 偉", "O'Brien  Jr.", "１０００８０"]
)
def test_text_beyond_ascii_still_folds_by_the_reference(text: str) -> None:
    """Full-width, accented and CJK text takes the reference path, fast paths on or off."""
    fast, reference = _both(lambda: fold(text))
    assert fast == reference == fold_reference(text)


def test_features_read_with_cached_name_forms_equal_the_reference() -> None:
    """Every damaged record, a namesake and an organisation read the same both ways."""
    extra = (
        person("x1", "Zhang", "Wei"),
        person("x2", "Zhang", "Wei", phone="１３８ ００１３ ８０００"),
        Customer.organisation_named(legal_name="北京星河科技有限公司"),
        Customer.organisation_named(
            "Acme GmbH",
            organisation=OrganisationProfile(legal_name="Acme GmbH", registration_number="hr 1"),
        ),
    )
    customers = (*_hard(), *extra)

    def run() -> list[tuple[object, tuple[str, ...]]]:
        read = [features(c) for c in customers]
        return [(item, feature_keys(item)) for item in read]

    fast, reference = _both(run)
    assert fast == reference


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was:
            gc.disable()


def test_the_collector_is_paused_for_a_batch_and_runs_again_after(collector_on: None) -> None:
    """Paused inside (nested too), running after, even when the batch fails."""
    previous = set_fast_paths(True)
    try:
        with collector_paused():
            assert not gc.isenabled()
            with collector_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()
        assert gc.isenabled()
        with pytest.raises(RuntimeError), collector_paused():
            raise RuntimeError("batch failed")
        assert gc.isenabled()
        set_fast_paths(False)
        with collector_paused():
            assert gc.isenabled()
    finally:
        set_fast_paths(previous)
