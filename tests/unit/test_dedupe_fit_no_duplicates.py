"""The EM fit on a base with few or no duplicates: it says so, and does not go wrong silently.

Before the deterministic anchors bounded the prior, 1,000 distinct people drawn from 20
family and 20 given names fitted a prior of 0.88 and grouped over a thousand namesake
pairs, and a model fitted on 12 to 200 distinct customers scored an exact copy at 0,
both with ``converged: true``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.models import Customer
from crmcore.rules.dedupe import (
    DedupeResult,
    FitDiagnostics,
    MatchModel,
    find_duplicates,
    fit,
    likely_duplicates,
)

from .dedupe._build import person

FAMILIES = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
    "Schmidt", "Müller", "Smith", "Tanaka", "Kim", "García", "徐", "孙", "欧阳", "朱",
)  # fmt: skip
GIVENS = (
    "芳", "伟", "娜", "敏", "静", "丽", "强", "磊", "军", "洋",
    "Anna", "Jonas", "John", "Yuki", "Minjun", "María", "勇", "艳", "杰", "娜娜",
)  # fmt: skip
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _born(i: int, names: int) -> dt.date:
    """Person ``i``'s own birthday, in a year its namesakes (``i`` modulo ``names``) share."""
    k = i % names
    return dt.date(1950 + k % 50, 1, 1) + dt.timedelta(days=8 * (i // names) + k // 50)


def _distinct(n: int, families: int = 20, givens: int = 20) -> list[Customer]:
    """``n`` different people: names cycle through the pools (so namesakes abound), while
    phones, emails and birthdays are each person's own.

    Namesakes share a birth year (the ``name`` blocking key carries it), so they are
    candidates of one another and the fit has to tell them apart."""
    return [
        person(
            f"c{i:04d}",
            FAMILIES[i % families],
            GIVENS[(i // families) % givens],
            phone=f"+86138{i:08d}",
            email=f"user{i}@example.com",
            born=_born(i, families * givens),
        )
        for i in range(n)
    ]


def _copy(customer: Customer, cid: str, *, phone: str | None = None) -> Customer:
    """Another record of the same person (its phone typed another way, if given)."""
    assert customer.person is not None
    assert customer.person.name is not None
    name = customer.person.name
    return person(
        cid,
        name.family or "",
        name.given or "",
        phone=phone or (customer.phones[0].number if customer.phones else None),
        email=customer.emails[0].address if customer.emails else None,
        born=customer.person.birthday,
    )


def _local_full_width(customer: Customer) -> str:
    """The customer's Chinese mobile number as a local number in full-width digits."""
    return customer.phones[0].number.removeprefix("+86").translate(_FULL_WIDTH)


def _high(result: DedupeResult, threshold: float = 0.9) -> set[tuple[str, str]]:
    return {(p.left, p.right) for p in result.pairs if p.probability >= threshold}


@functools.cache
def _thousand() -> tuple[Customer, ...]:
    return tuple(_distinct(1000))


def test_a_thousand_distinct_namesakes_give_no_group_and_say_why() -> None:
    """No pair of 1,000 distinct people reaches 0.9; the fit reports no match class."""
    result = find_duplicates(_thousand())
    assert len(result.pairs) > 800  # the namesakes are candidates of one another
    assert _high(result) == set()
    assert result.clustering.groups == ()
    model = result.model
    assert model is not None
    assert model.diagnostics is not None
    assert model.diagnostics.codes == ("dedupe.no_match_class",)
    assert model.diagnostics.anchors == 0
    assert model.diagnostics.duplicates < 0.5
    # One duplicate among the pairs fit on (the candidates and the random pairs' weight).
    assert 1e-6 < model.prior < 2 / len(result.pairs)


@pytest.mark.parametrize(
    ("fields", "dropped"),
    [
        ("name, birthday and phone", ("emails",)),
        ("name, phone and email", ("birthday",)),
        ("name, birthday and email", ("phones",)),
    ],
)
def test_a_model_fitted_on_a_thousand_distinct_people_knows_a_copy_on_entry(
    fields: str, dropped: tuple[str, ...]
) -> None:
    """A copy agreeing on the name and two strong fields scores at least 0.9 on entry,
    under the model fitted on a base of distinct people; its namesakes stay low."""
    people = _thousand()
    model = find_duplicates(people).model
    assert model is not None
    original = people[7]
    assert original.person is not None
    copy = attrs.evolve(original, id="new")
    if "emails" in dropped:
        copy = attrs.evolve(copy, emails=())
    if "phones" in dropped:
        copy = attrs.evolve(copy, phones=())
    if "birthday" in dropped:
        copy = attrs.evolve(copy, person=attrs.evolve(original.person, birthday=None))
    found = likely_duplicates(copy, people, model=model, threshold=0.0)
    scores = {p.right if p.left == "new" else p.left: p.probability for p in found}
    assert scores[original.id] >= 0.9, fields
    assert all(score < 0.5 for cid, score in scores.items() if cid != original.id), fields


def test_one_exact_copy_among_a_thousand_namesakes_is_the_only_group() -> None:
    """The copy scores at least 0.9 and groups alone with its original; no namesake does."""
    people = list(_thousand())
    result = find_duplicates([*people, _copy(people[7], "x0007")])
    assert _high(result) == {("c0007", "x0007")}
    assert [g.members for g in result.clustering.groups] == [("c0007", "x0007")]
    assert result.model is not None
    assert result.model.diagnostics is not None
    assert result.model.diagnostics.anchors == 1
    assert 0.5 < result.model.diagnostics.duplicates < 2.0


@pytest.mark.parametrize("n", [12, 50, 200])
def test_copies_in_a_small_base_score_high_and_namesakes_do_not(n: int) -> None:
    """An exact copy and a copy with its phone in local full-width digits both reach 0.9;
    no pair of the distinct customers (each name shared by two or more) does."""
    people = _distinct(n, families=3, givens=2)
    exact = _copy(people[1], "x1")
    reformatted = _copy(people[4], "x2", phone=_local_full_width(people[4]))
    result = find_duplicates([*people, exact, reformatted])
    assert _high(result) == {("c0001", "x1"), ("c0004", "x2")}
    assert [g.members for g in result.clustering.groups] == [("c0001", "x1"), ("c0004", "x2")]
    assert result.model is not None
    assert result.model.diagnostics is not None
    assert result.model.diagnostics.anchors == 2
    assert "dedupe.no_match_class" not in result.model.diagnostics.codes


@pytest.mark.parametrize("n", [12, 50, 200])
def test_a_model_fitted_on_distinct_customers_still_knows_an_exact_copy(n: int) -> None:
    """Fitted where there is nothing to learn from, m keeps its assumed shape: on entry an
    exact copy scores at least 0.9 against its original and its namesakes stay low."""
    people = _distinct(n, families=3, givens=2)
    model = find_duplicates(people).model
    assert model is not None
    assert model.diagnostics is not None
    assert model.diagnostics.codes == ("dedupe.no_match_class",)
    found = likely_duplicates(_copy(people[5], "new"), people, model=model, threshold=0.0)
    scores = {p.right if p.left == "new" else p.left: p.probability for p in found}
    assert scores["c0005"] >= 0.9
    assert all(score < 0.01 for cid, score in scores.items() if cid != "c0005")
    assert len(scores) > 1  # its namesakes were compared too


def test_without_an_anchor_the_prior_is_one_duplicate_and_strong_agreement_still_counts() -> None:
    """Namesake vectors alone (no random pairs): the prior is one duplicate among the 800
    pairs, and an exact phone or email still weighs for a match while a different one
    weighs against, as assumed."""
    namesakes = [(7, 0, 0, 2, -1, -1, 1)] * 500 + [(7, 0, 0, 0, -1, -1, 0)] * 300
    model = fit(namesakes)
    assert model.prior == pytest.approx(1 / 800)
    assert model.diagnostics is not None
    assert model.diagnostics.codes == ("dedupe.no_match_class",)
    phone, email = model.fields[2].levels, model.fields[3].levels
    assert phone[-1].weight > 0 > phone[0].weight
    assert email[-1].weight > 0 > email[0].weight


def test_namesakes_outnumbering_the_anchors_cap_the_prior_and_say_so() -> None:
    """A thousand namesakes agreeing on gender and postal code against three anchor pairs:
    the prior is held at what the anchors allow, with ``dedupe.prior_capped``."""
    namesakes = [(7, 0, 0, 0, -1, 1, 1)] * 1000
    anchors = [(7, 3, 2, 3, -1, 5, 1)] * 3
    model = fit(namesakes + anchors)
    assert model.diagnostics is not None
    assert model.prior <= model.diagnostics.prior_high == pytest.approx(3 / (0.5 * 1003))
    assert model.total((7, 0, 0, 0, -1, 1, 1)) < 0  # a namesake is not a match
    assert model.total((7, 3, 2, 3, -1, 5, 1)) > 10


def test_diagnostics_round_trip_and_old_models_still_load() -> None:
    """A model's diagnostics survive to_dict/from_dict; a model saved without them loads."""
    model = fit([(7, 0, 0, 2, -1, -1, 1)] * 20)
    again = MatchModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again == model
    assert isinstance(again.diagnostics, FitDiagnostics)
    old = model.to_dict()
    del old["diagnostics"]
    assert MatchModel.from_dict(old).diagnostics is None
    bad = model.to_dict()
    bad["diagnostics"]["problems"][0]["severity"] = "fatal"
    with pytest.raises(ValidationError) as refused:
        MatchModel.from_dict(bad)
    assert refused.value.codes == ("dedupe.model_invalid",)


def _token(i: int, salt: str) -> str:
    """A token of its own for person ``i``: no two look alike (unlike user1 and user2)."""
    return hashlib.sha256(f"{salt}{i}".encode()).hexdigest()[:10]


_NAMES = st.tuples(st.sampled_from(FAMILIES), st.sampled_from(GIVENS))


@st.composite
def distinct_bases(draw: st.DrawFn) -> list[Customer]:
    """2 to 25 different people: names drawn freely (namesakes likely), every phone, email
    and birthday their own and unlike the others' (some have no birthday)."""
    size = draw(st.integers(2, 25))
    names = draw(st.lists(_NAMES, min_size=size, max_size=size))
    days = draw(st.lists(st.integers(0, 20_000), min_size=size, max_size=size, unique=True))
    people = []
    for i, ((family, given_name), day) in enumerate(zip(names, days, strict=True)):
        people.append(
            person(
                f"c{i:03d}",
                family,
                given_name,
                phone=f"+86139{int(_token(i, 'p'), 16) % 10**8:08d}",
                email=f"{_token(i, 'e')}@example.org",
                born=dt.date(1940, 1, 1) + dt.timedelta(days=day) if draw(st.booleans()) else None,
            )
        )
    return people


@given(distinct_bases(), st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_an_exact_copy_of_any_distinct_customer_makes_the_only_group(
    people: list[Customer], data: st.DataObject
) -> None:
    """Whatever the distinct base, adding an exact copy of one customer groups exactly it
    and its copy, and nothing else."""
    chosen = data.draw(st.integers(0, len(people) - 1))
    original = people[chosen]
    result = find_duplicates([*people, _copy(original, "zcopy")])
    assert [g.members for g in result.clustering.groups] == [(original.id, "zcopy")]
