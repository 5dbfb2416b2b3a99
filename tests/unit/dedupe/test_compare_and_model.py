"""Comparison levels and the Fellegi-Sunter model."""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError, WrongType
from crmcore.models import Customer, Gender, NameOrder
from crmcore.rules.dedupe import (
    HAS_PINYIN,
    NULL,
    ComparedField,
    ComparisonSpec,
    MatchModel,
    compare,
    compare_levels,
    explain_pair,
    features,
    fit,
    probability,
)
from crmcore.serialization import from_json, to_dict, to_json

from ._build import person


def _levels(a: object, b: object) -> dict[str, int]:
    result = compare(features(a), features(b))  # type: ignore[arg-type]
    return {c.field.value: c.level for c in result}


def test_exact_swapped_and_typo_names_get_their_levels() -> None:
    """Exact is 7, swapped family and given 6, one typo a part 4, a different name 0."""
    anna = person("a", "Schmidt", "Anna")
    assert _levels(anna, person("b", "Schmidt", "Anna"))["name"] == 7
    assert _levels(anna, person("b", "Anna", "Schmidt"))["name"] == 6
    assert _levels(anna, person("b", "Schmitd", "Anna"))["name"] == 4
    assert _levels(anna, person("b", "Müller", "Jonas"))["name"] == 0
    split = person("c", "欧", "阳娜娜")
    assert _levels(person("d", "欧阳", "娜娜"), split)["name"] == 7
    assert _levels(person("d", "Müller", "Jonas"), person("e", "MULLER", "jonas"))["name"] == 7


def test_one_typo_in_each_name_part_is_its_own_level() -> None:
    """Similar names with a typo in both parts, or in one part of a swapped name, are
    "one typo a part" (4); two typos in one part, or a typo in a part under 4 letters,
    are Jaro-Winkler's "similar" or "close"."""
    jessica = person("a", "Andersson", "Jessica")
    for other in (("Anderssom", "Jesica"), ("Jessica", "Andresson"), ("Andersson", "Jessicka")):
        assert _levels(jessica, person("b", *other))["name"] == 4, other
    assert _levels(jessica, person("b", "Andersson", "Jesicka"))["name"] in (2, 3)
    assert _levels(person("a", "Lee", "Mia"), person("b", "Lee", "Mio"))["name"] in (2, 3)
    # full-width Latin folds first: one typo in the given name
    assert _levels(jessica, person("b", "Ａｎｄｅｒｓｓｏｎ", "Jessika"))["name"] == 4


def test_han_names_one_pinyin_letter_apart_are_not_a_typo() -> None:
    """伟明 and 伟民 romanise to weiming and weimin: other characters, not a typo; the
    pinyin typed with a typo against the Han name is one."""
    wang = person("a", "王", "伟明")
    assert _levels(wang, person("b", "王", "伟民"))["name"] < 4
    if HAS_PINYIN:
        typed = person("b", "Wang", "Weimng", order=NameOrder.FAMILY_FIRST)
        assert _levels(wang, typed)["name"] == 4


latin_parts = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüé", min_size=4, max_size=12)


@st.composite
def typo_of(draw: st.DrawFn, text: str) -> str:
    """``text`` with one typo: a character changed, added, dropped or two swapped."""
    i = draw(st.integers(0, len(text) - 2))
    letter = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz"))
    op = draw(st.integers(0, 3))
    if op == 0:
        return text[:i] + text[i + 1 :]
    if op == 1:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if op == 2:
        return text[:i] + letter + text[i + 1 :]
    return text[:i] + letter + text[i:]


@given(st.data(), latin_parts, latin_parts, st.booleans())
@settings(max_examples=200, deadline=None)
def test_one_typo_a_part_is_at_least_that_level_both_ways(
    data: st.DataObject, family: str, given_name: str, swap: bool
) -> None:
    """Latin family and given names of 4+ letters with one typo each compare at "one
    typo a part" or above, swapped or not, in either order, unless they are not even
    "similar" (the level refines similar: ``baaa acaa`` and ``caa baa``); then they
    keep "one part the same", as each part is one typo from the other."""
    a = person("a", family, given_name)
    typo_family = data.draw(typo_of(family))
    typo_given = data.draw(typo_of(given_name))
    b = person("b", *((typo_given, typo_family) if swap else (typo_family, typo_given)))
    level = _levels(a, b)["name"]
    assert level == 1 or level >= 4
    assert _levels(b, a)["name"] == level


def test_dates_forgive_a_swapped_day_and_month() -> None:
    """The same date is 3, day and month swapped 2, one digit off 1, else 0, missing null."""
    born = person("a", "Li", "Na", born=dt.date(1990, 3, 4))
    assert _levels(born, person("b", "Li", "Na", born=dt.date(1990, 3, 4)))["birthday"] == 3
    assert _levels(born, person("b", "Li", "Na", born=dt.date(1990, 4, 3)))["birthday"] == 2
    assert _levels(born, person("b", "Li", "Na", born=dt.date(1990, 3, 5)))["birthday"] == 1
    assert _levels(born, person("b", "Li", "Na", born=dt.date(1971, 8, 9)))["birthday"] == 0
    assert _levels(born, person("b", "Li", "Na"))["birthday"] == NULL


def test_phones_compare_exactly_in_e164_whatever_the_digits_typed() -> None:
    """A full-width local number equals its E.164 form; another number is 0."""
    a = person("a", "王", "芳", phone="１３８００１３８０００")
    assert _levels(a, person("b", "王", "芳", phone="+8613800138000"))["phone"] == 2
    assert _levels(a, person("b", "王", "芳", phone="+8613900139000"))["phone"] == 0


def test_emails_compare_exactly_and_by_local_part() -> None:
    """The same address (case folded) is 3, a typo 2, the same local part 1, else 0."""
    a = person("a", "Li", "Na", email="Li.Na@Example.com")
    assert _levels(a, person("b", "Li", "Na", email="li.na@example.com"))["email"] == 3
    assert _levels(a, person("b", "Li", "Na", email="li.na@exmaple.com"))["email"] == 2
    assert _levels(a, person("b", "Li", "Na", email="li.na@other.example"))["email"] == 1
    assert _levels(a, person("b", "Li", "Na", email="wang.fang@example.com"))["email"] == 0


names = st.sampled_from(
    ["张", "伟", "張", "偉", "Zhang", "Wei", "Anna", "Schmidt", "Schmitd", "李"]
)
dates = st.none() | st.dates(dt.date(1950, 1, 1), dt.date(2000, 12, 31))
phones = st.none() | st.sampled_from(["+8613800138000", "13800138000", "１３９００１３９０００"])
emails = st.none() | st.sampled_from(["a@x.example", "A@x.example", "a@y.example", "b@x.example"])
genders = st.none() | st.sampled_from(list(Gender))
streets = st.none() | st.sampled_from(["中关村大街 1", "中关村大街 11", "Hauptstraße 5"])


@st.composite
def customers(draw: st.DrawFn, cid: str) -> object:
    return person(
        cid,
        draw(names),
        draw(names),
        born=draw(dates),
        phone=draw(phones),
        email=draw(emails),
        gender=draw(genders),
        street=draw(streets),
        postal=draw(st.sampled_from(["100080", "100081"])),
    )


@given(customers("a"), customers("b"))
@settings(max_examples=200, deadline=None)
def test_comparison_is_symmetric(a: object, b: object) -> None:
    """compare(a, b) has the levels of compare(b, a), the values mirrored."""
    fa, fb = features(a), features(b)  # type: ignore[arg-type]
    ab, ba = compare(fa, fb), compare(fb, fa)
    assert [c.level for c in ab] == [c.level for c in ba]
    assert compare_levels(fa, fb) == compare_levels(fb, fa)


@functools.cache
def _model() -> MatchModel:
    rng = random.Random(5)
    spec = ComparisonSpec(fields=(ComparedField.NAME, ComparedField.PHONE, ComparedField.BIRTHDAY))
    vectors = []
    for _ in range(3000):
        match = rng.random() < 0.2
        name = rng.choices(
            range(8), [1, 1, 1, 2, 2, 4, 4, 40] if match else [40, 5, 20, 5, 1, 1, 1, 3]
        )[0]
        phone = rng.choices(range(3), [2, 1, 20] if match else [50, 1, 1])[0]
        born = rng.choices(range(4), [1, 1, 3, 30] if match else [60, 3, 1, 1])[0]
        if rng.random() < 0.1:
            phone = NULL
        vectors.append((name, phone, born))
    return fit(vectors, spec=spec)


def test_em_recovers_the_share_of_duplicates_without_labels() -> None:
    """Fit on vectors drawn with 20% duplicates, EM finds a prior near 0.2 and strong weights."""
    model = _model()
    assert model.converged
    assert 0.17 < model.prior < 0.23
    exact_name = model.fields[0].levels[-1]
    assert exact_name.m > 0.6
    assert exact_name.weight > 3
    assert model.fields[1].levels[0].weight < -3  # a different phone speaks against


@given(st.tuples(st.integers(-1, 6), st.integers(-1, 2), st.integers(-1, 3)))
@settings(max_examples=100, deadline=None)
def test_a_pairs_total_is_the_sum_of_its_weights(vector: tuple[int, int, int]) -> None:
    """The total is the prior weight plus each field's weight, null levels weighing 0."""
    model = _model()
    terms = model.terms(vector)
    assert model.total(vector) == math.fsum(terms)
    assert all(terms[i + 1] == 0.0 for i, level in enumerate(vector) if level == NULL)
    assert 0.0 <= probability(model.total(vector)) <= 1.0


@given(customers("a"), customers("b"))
@settings(max_examples=60, deadline=None)
def test_an_explained_pairs_total_is_the_sum_of_its_field_weights(a: object, b: object) -> None:
    """explain_pair's total is math.fsum of the prior weight and its field weights."""
    model = fit([(7, 3, 2, 3, -1, 5, 1), (0, 0, 0, 0, -1, 1, 0)] * 20)
    pair = explain_pair(features(a), features(b), model)  # type: ignore[arg-type]
    assert pair.total == math.fsum([pair.prior_weight, *(f.weight for f in pair.fields)])
    assert pair.probability == probability(pair.total)
    json.dumps(pair.to_dict())
    assert to_dict(pair) == pair.to_dict()


def test_the_fitted_model_round_trips_through_json() -> None:
    """to_dict, JSON and from_dict give back the same model."""
    model = _model()
    again = MatchModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again == model


def test_a_broken_model_document_is_refused_with_a_code() -> None:
    """A model whose m is out of range or whose fields do not match is dedupe.model_invalid."""
    data = _model().to_dict()
    data["fields"][0]["levels"][0]["m"] = 2.0
    with pytest.raises(ValidationError) as refused:
        MatchModel.from_dict(data)
    assert refused.value.codes == ("dedupe.model_invalid",)
    with pytest.raises(ValidationError) as refused:
        MatchModel.from_dict({"prior": 0.5})
    assert refused.value.codes == ("dedupe.model_invalid",)


def test_fit_refuses_vectors_of_the_wrong_shape_and_no_vectors() -> None:
    """A vector with a level out of range is dedupe.model_invalid; none at all dedupe.no_pairs."""
    with pytest.raises(ValidationError) as refused:
        fit([(9, 0, 0, 0, 0, 0, 0)])
    assert refused.value.codes == ("dedupe.model_invalid",)
    with pytest.raises(ValidationError) as refused:
        fit([])
    assert refused.value.codes == ("dedupe.no_pairs",)


def test_the_comparison_spec_round_trips_and_refuses_bad_thresholds() -> None:
    """The spec travels as JSON with its kind; a low threshold above the high is refused."""
    spec = ComparisonSpec(name_high=Decimal("0.95"))
    assert from_json(to_json(spec), ComparisonSpec) == spec
    with pytest.raises(ValidationError) as refused:
        ComparisonSpec(name_low=Decimal("0.99"))
    assert refused.value.codes == ("dedupe.threshold_invalid",)


def test_a_customer_instead_of_its_features_is_a_wrong_type() -> None:
    """``compare`` takes ``features(customer)``; a Customer is refused with a coded error."""
    customer = Customer.person_named(family="张", given="伟")
    with pytest.raises(WrongType) as caught:
        compare(customer, features(customer))  # type: ignore[arg-type]
    assert caught.value.code == "argument.wrong_type"
    assert "features(customer)" in str(caught.value)
