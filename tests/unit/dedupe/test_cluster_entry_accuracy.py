"""Clustering with non-duplicate decisions, on-entry matching, and accuracy without labels."""

from __future__ import annotations

import datetime as dt
import itertools

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.rules.dedupe import (
    NotDuplicate,
    cluster,
    find_duplicates,
    likely_duplicates,
)
from crmcore.serialization import from_json, to_json

from ._build import AT, person, scored_pair
from ._synthetic import generate, group_pairs, pair_scores, true_pairs

ids = st.sampled_from([f"c{i}" for i in range(8)])
edges = st.lists(st.tuples(ids, ids, st.floats(-10, 30)).filter(lambda e: e[0] < e[1]), max_size=25)
decisions = st.lists(st.tuples(ids, ids).filter(lambda e: e[0] != e[1]), max_size=6)


@given(edges, decisions, st.floats(0, 1))
@settings(max_examples=300, deadline=None)
def test_a_group_never_holds_a_known_non_duplicate_pair(
    pairs: list[tuple[str, str, float]], apart: list[tuple[str, str]], threshold: float
) -> None:
    """Whatever the pairs, no group contains both customers of a NotDuplicate decision."""
    scored = [scored_pair(a, b, w) for a, b, w in pairs]
    kept_apart = [NotDuplicate(first_id=a, second_id=b, decided_at=AT) for a, b in apart]
    result = cluster(scored, threshold=threshold, not_duplicates=kept_apart)
    forbidden = {tuple(sorted(p)) for p in apart}
    for group in result.groups:
        assert not forbidden & set(itertools.combinations(group.members, 2))
        assert len(group.joined_by) == len(group.members) - 1  # a spanning tree
        assert all(p.probability >= threshold for p in group.joined_by)
    members = [m for g in result.groups for m in g.members]
    assert len(members) == len(set(members))


def test_without_decisions_groups_are_the_connected_components() -> None:
    """c1-c2 and c2-c3 above the threshold make one group; c4-c5 below it none."""
    pairs = [scored_pair("c1", "c2", 20), scored_pair("c2", "c3", 10), scored_pair("c4", "c5", -5)]
    result = cluster(pairs, threshold=0.9)
    assert [g.members for g in result.groups] == [("c1", "c2", "c3")]
    assert [(p.left, p.right) for p in result.groups[0].joined_by] == [("c1", "c2"), ("c2", "c3")]


def test_a_decision_keeps_two_customers_apart_and_is_reported() -> None:
    """With c1 and c3 not duplicates, the weaker link c2-c3 is kept apart, naming the decision."""
    pairs = [scored_pair("c1", "c2", 20), scored_pair("c2", "c3", 10)]
    decision = NotDuplicate(first_id="c3", second_id="c1", decided_at=AT, decided_by="ops")
    result = cluster(pairs, threshold=0.9, not_duplicates=[decision])
    assert [g.members for g in result.groups] == [("c1", "c2")]
    assert result.kept_apart[0].decision == decision
    assert (result.kept_apart[0].pair.left, result.kept_apart[0].pair.right) == ("c2", "c3")
    assert from_json(to_json(decision), NotDuplicate) == decision


def test_a_customer_cannot_be_its_own_non_duplicate_and_thresholds_are_probabilities() -> None:
    """NotDuplicate(a, a) is dedupe.same_customer; a threshold of 2 dedupe.threshold_invalid."""
    with pytest.raises(ValidationError) as refused:
        NotDuplicate(first_id="a", second_id="a", decided_at=AT)
    assert refused.value.codes == ("dedupe.same_customer",)
    with pytest.raises(ValidationError) as refused:
        cluster([], threshold=2)
    assert refused.value.codes == ("dedupe.threshold_invalid",)


def test_synthetic_corrupted_customers_are_found_without_labels() -> None:
    """On 1,500 damaged synthetic records, unsupervised detection reaches F1 >= 0.95."""
    data = generate(1000, seed=11)
    result = find_duplicates(data.customers, threshold=0.9)
    found = group_pairs(g.members for g in result.clustering.groups)
    precision, recall, f1 = pair_scores(found, true_pairs(data.truth))
    assert f1 >= 0.95, (precision, recall, f1)
    assert result.model is not None
    assert result.model.converged
    group = result.clustering.groups[0]
    assert group.joined_by
    assert all(p.fields for p in group.joined_by)


def test_on_entry_a_new_customer_finds_its_stored_duplicate() -> None:
    """A new 張偉 with the same mobile in full-width digits matches the stored 张伟 first."""
    data = generate(300, seed=2)
    model = find_duplicates(data.customers).model
    assert model is not None
    stored = person(
        "s1", "张", "伟", phone="+8613800138000", born=dt.date(1988, 6, 1), email="zw@example.com"
    )
    other = person("s2", "张", "伟", phone="+8613900000000", born=dt.date(1970, 2, 2))
    new = person("n1", "張", "偉", phone="１３８００１３８０００", born=dt.date(1988, 1, 6))
    found = likely_duplicates(new, [other, stored, new], model=model, threshold=0.5)
    assert [p.right for p in found] == ["s1"]
    assert found[0].left == "n1"
    fields = {f.field: f.label for f in found[0].fields}
    assert fields["phone"] == "exact"
    assert fields["birthday"] == "day and month swapped"


def test_nothing_to_compare_gives_no_groups_and_no_model() -> None:
    """One customer, or none, makes no pairs: no groups, and no model to fit."""
    result = find_duplicates([person("a", "Li", "Na")])
    assert result.model is None
    assert result.clustering.groups == ()
    assert result.blocking.customers == 1


def test_every_dedupe_spec_round_trips_by_its_kind() -> None:
    """Blocking, comparison and survivorship specs load back from JSON through DedupeSpec."""
    from crmcore.rules.dedupe import (
        DEDUPE_SPEC_TYPES,
        BlockingPass,
        BlockingSpec,
        ComparisonSpec,
        DedupeSpec,
        SurvivorshipPolicy,
    )

    specs = [
        BlockingSpec(passes=(BlockingPass.PHONE, BlockingPass.NAME), max_block_size=20),
        ComparisonSpec(),
        SurvivorshipPolicy(),
    ]
    for spec in specs:
        assert from_json(to_json(spec), DedupeSpec) == spec  # type: ignore[arg-type]
        assert DEDUPE_SPEC_TYPES[spec.TAG] is type(spec)
    with pytest.raises(ValidationError) as refused:
        BlockingSpec(passes=())
    assert refused.value.codes == ("dedupe.passes_empty",)


def test_organisations_match_by_name_without_legal_form_and_never_a_person() -> None:
    """示例科技有限公司 and 示例科技 with one registration number match; a person is not paired."""
    from crmcore.models import Customer

    def org(cid: str, name: str, number: str | None) -> Customer:
        base = Customer.organisation_named(name, id=cid, created_at=AT, updated_at=AT)
        assert base.organisation is not None
        profile = attrs.evolve(base.organisation, registration_number=number)
        return attrs.evolve(base, organisation=profile)

    customers = [
        org("o1", "示例科技有限公司", "91110108MA01"),
        org("o2", "示例科技", "91110108 ma01"),
        org("o3", "Acme GmbH", None),
        org("o4", "ACME", None),
        person("p1", "示例科技", "", phone="+8613800138000"),
    ]
    result = find_duplicates(customers, threshold=0.5)
    compared = {(p.left, p.right) for p in result.pairs}
    assert ("o1", "o2") in compared
    assert ("o3", "o4") in compared
    assert not any("p1" in pair for pair in compared)
    o1_o2 = next(p for p in result.pairs if (p.left, p.right) == ("o1", "o2"))
    fields = {f.field: f.label for f in o1_o2.fields}
    assert fields == {**fields, "name": "exact", "identifier": "exact"}


def test_bad_input_is_refused_with_crmcore_errors() -> None:
    """Blocking, features and clustering refuse what they cannot read with type.invalid."""
    from crmcore.rules.dedupe import candidate_pairs, features

    with pytest.raises(ValidationError) as refused:
        candidate_pairs([("a", [1, 2])])  # type: ignore[list-item]
    assert refused.value.codes == ("type.invalid",)
    with pytest.raises(ValidationError) as refused:
        features({"id": "a"})  # type: ignore[arg-type]
    assert refused.value.codes == ("type.invalid",)
    with pytest.raises(ValidationError) as refused:
        cluster([("a", "b")], threshold=0.5)  # type: ignore[list-item]
    assert refused.value.codes == ("type.invalid",)


def test_misused_entry_points_raise_crmcore_errors() -> None:
    """A model that is not fitted, a threshold that is not a probability, a store that is
    not a Store: coded crmcore errors, never a raw AttributeError or TypeError."""
    from crmcore.errors import WrongType
    from crmcore.models import Customer
    from crmcore.rules.dedupe import find_duplicates, likely_duplicates
    from crmcore.storage import connect
    from crmcore.storage import dedupe as stored

    new = Customer.person_named(family="张", given="伟", id="N1")
    with pytest.raises(WrongType):
        likely_duplicates(new, [], model=None)  # type: ignore[arg-type]
    with pytest.raises(WrongType):
        find_duplicates(None)  # type: ignore[arg-type]
    with pytest.raises(WrongType):
        find_duplicates([new], model="m")  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as refused:
        find_duplicates([new], threshold=5)
    assert refused.value.codes == ("dedupe.threshold_invalid",)
    with pytest.raises(WrongType):
        stored.find_duplicates("memory://")  # type: ignore[arg-type]
    with connect("memory://") as store:
        with pytest.raises(WrongType):
            stored.find_duplicates(store, model="x")  # type: ignore[arg-type]
        with pytest.raises(WrongType):
            store.likely_duplicates(new, model=None)  # type: ignore[arg-type]
        fitted = find_duplicates(
            [new, Customer.person_named(family="张", given="伟", id="N2")]
        ).model
        assert fitted is not None
        for threshold in (5, "x", -0.1, True):
            with pytest.raises(ValidationError) as refused:
                store.likely_duplicates(new, model=fitted, threshold=threshold)  # type: ignore[arg-type]
            assert refused.value.codes == ("dedupe.threshold_invalid",)
