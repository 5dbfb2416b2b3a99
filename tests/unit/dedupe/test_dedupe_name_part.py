"""The name level "one part the same": a copy whose other name part was replaced."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.rules.dedupe import (
    LEVEL_LABELS,
    ComparedField,
    MatchModel,
    compare,
    compare_levels,
    explain_pair,
    features,
)
from crmcore.testing.data import sample_match_model

from ._build import person

ONE_PART = 1


def _name(a: object, b: object) -> tuple[int, str]:
    result = compare(features(a), features(b))  # type: ignore[arg-type]
    level = next(c for c in result if c.field == ComparedField.NAME)
    return level.level, level.label


def test_a_replaced_part_keeps_the_part_that_is_left() -> None:
    """The family or the given name the same (or one typo apart), the other replaced,
    as written or swapped: "one part the same" (1) when Jaro-Winkler does not already
    call them "similar" (a kept family name sorts first, so it often does: ``lodge
    phoebe`` and ``lodge raquel``); nothing in common: "different" (0)."""
    raquel = person("a", "Lodge", "Raquel")
    assert _name(raquel, person("b", "Lodge", "Phoebe"))[1] == "similar"
    for other in (("Garnett", "Raquel"), ("Raquel", "Garnett")):
        assert _name(raquel, person("b", *other)) == (ONE_PART, "one part the same"), other
    assert _name(person("a", "Dixon", "Phoebe"), person("b", "Dixn", "Tro"))[0] == ONE_PART
    assert _name(raquel, person("b", "Müller", "Jonas")) == (0, "different")
    # a part of 3 letters or fewer is never a typo of another: Lee and Leo differ
    assert _name(person("a", "Lee", "Anastasia"), person("b", "Leo", "Bob"))[0] == 0


def test_one_part_the_same_is_below_every_similar_level() -> None:
    """The level sits between "different" and "similar": similar names keep their levels."""
    labels = LEVEL_LABELS[ComparedField.NAME]
    assert labels[:3] == ("different", "one part the same", "similar")
    jessica = person("a", "Andersson", "Jessica")
    assert _name(jessica, person("b", "Anderssom", "Jesica"))[1] == "one typo a part"
    assert _name(jessica, person("b", "Andersson", "Jessica"))[1] == "exact"


def test_a_lone_name_part_against_the_same_part_is_at_most_close() -> None:
    """A person known only by a given name shares one part at most: never above "close"."""
    lone = person("a", "", "Emily")
    level, _ = _name(lone, person("b", "Smith", "Emily"))
    assert level <= LEVEL_LABELS[ComparedField.NAME].index("close")


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=4, max_size=10)


@given(names, names, names, st.booleans())
@settings(max_examples=100, deadline=None)
def test_a_kept_part_is_at_least_one_part_the_same_both_ways(
    kept: str, replaced: str, other: str, swap: bool
) -> None:
    """Whatever replaced the other part, the pair is "one part the same" or above, in
    either order, and the fast path gives the level the reference gives."""
    a = person("a", kept, replaced)
    b = person("b", *((other, kept) if swap else (kept, other)))
    level, _ = _name(a, b)
    assert level >= ONE_PART
    assert _name(b, a)[0] == level
    assert compare_levels(features(a), features(b))[0] == level


def test_the_explanation_names_the_level_and_its_weight() -> None:
    """The pair's explanation shows the new level's label, m, u and weight."""
    model = sample_match_model()
    pair = explain_pair(
        features(person("a", "Lodge", "Raquel")), features(person("b", "Garnett", "Raquel")), model
    )
    name = next(f for f in pair.fields if f.field == ComparedField.NAME)
    assert (name.level, name.label) == (ONE_PART, "one part the same")
    assert name.weight == model.weight(0, ONE_PART)


def test_a_model_saved_before_the_level_is_refused_with_its_code() -> None:
    """A model with the seven name levels of before fails with dedupe.model_invalid."""
    saved = sample_match_model().to_dict()
    name = saved["fields"][0]
    old = [lv for lv in name["levels"] if lv["label"] != "one part the same"]
    name["levels"] = [{**lv, "level": i} for i, lv in enumerate(old)]
    with pytest.raises(ValidationError) as raised:
        MatchModel.from_dict(saved)
    assert [(p.code, p.path) for p in raised.value.problems] == [
        ("dedupe.model_invalid", "$.fields[0]")
    ]
