"""Merge plans: survivorship per field, unions without repeats, nothing lost."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError, WrongType
from crmcore.models import (
    Calendar,
    ContactPerson,
    Customer,
    Email,
    FactCategory,
    OptOut,
    OrganisationProfile,
    PersonName,
    Phone,
    ProfileFact,
    Provenance,
    SourceChannel,
)
from crmcore.rules.dedupe import (
    FieldRule,
    SurvivorChoice,
    SurvivorRule,
    SurvivorshipPolicy,
    plan_merge,
)
from crmcore.rules.dedupe._features import fold_email, phone_key
from crmcore.serialization import from_json, to_json

from ._build import AT, person


def _seen(channel: SourceChannel, verified: dt.datetime | None = None) -> Provenance:
    return Provenance(channel=channel, observed_at=AT, verified_at=verified)


def _decision(plan: object, path: str) -> tuple[str | None, str | None, str]:
    d = next(d for d in plan.fields if d.path == path)  # type: ignore[attr-defined]
    return d.source_id, d.value, d.rule


def test_most_recently_verified_wins_and_says_why() -> None:
    """The birthday of the record verified last survives; the reason names the date."""
    old = person(
        "a",
        "Li",
        "Na",
        born=dt.date(1990, 3, 4),
        provenance=_seen(SourceChannel.TRADE_FAIR, AT + dt.timedelta(days=1)),
    )
    new = person(
        "b",
        "Li",
        "Na",
        born=dt.date(1990, 4, 3),
        provenance=_seen(SourceChannel.PURCHASED_LIST, AT + dt.timedelta(days=30)),
    )
    plan = plan_merge([old, new])
    assert plan.survivor_id == "a"
    assert plan.merged_ids == ("b",)
    assert _decision(plan, "person.birthday") == ("b", "1990-04-03", "most_recently_verified")
    assert plan.customer.person is not None
    assert plan.customer.person.birthday == dt.date(1990, 4, 3)
    decision = next(d for d in plan.fields if d.path == "person.birthday")
    assert "2026-01-31" in decision.reason
    assert decision.candidates == (("a", "1990-03-04"), ("b", "1990-04-03"))


def test_most_trusted_source_wins_under_that_rule() -> None:
    """Under most_trusted_source the hotline's birthday beats the bought list's."""
    hotline = person(
        "a", "Li", "Na", born=dt.date(1990, 3, 4), provenance=_seen(SourceChannel.HOTLINE)
    )
    bought = person(
        "b",
        "Li",
        "Na",
        born=dt.date(1990, 4, 3),
        provenance=_seen(SourceChannel.PURCHASED_LIST, AT + dt.timedelta(days=9)),
    )
    policy = SurvivorshipPolicy(rule=SurvivorRule.MOST_TRUSTED_SOURCE)
    plan = plan_merge([bought, hotline], policy=policy)
    assert _decision(plan, "person.birthday")[:2] == ("a", "1990-03-04")


def test_an_empty_value_never_wins_and_field_rules_and_callers_decide() -> None:
    """A missing birthday loses; a FieldRule names a customer; a caller's function decides."""
    a = person("a", "Li", "Na", born=dt.date(1990, 3, 4))
    b = person("b", "Li", "Na", updated_at=AT + dt.timedelta(days=2))
    assert _decision(plan_merge([a, b]), "person.birthday") == ("a", "1990-03-04", "only_value")
    c = person("c", "Li", "Nana", born=dt.date(1991, 1, 1))
    policy = SurvivorshipPolicy(fields=(FieldRule(path="person.name", from_customer="c"),))
    assert _decision(plan_merge([a, c], policy=policy), "person.name")[::2] == (
        "c",
        "from_customer",
    )
    plan = plan_merge([a, c], choose={"person.birthday": lambda having: having[-1][0].id})
    assert _decision(plan, "person.birthday") == ("c", "1991-01-01", "caller")
    renamed = plan_merge([a, c], policy=policy)
    assert renamed.customer.display_name == "Nana Li"
    assert _decision(renamed, "display_name") == ("c", "Nana Li", "follows_name")


def test_the_survivor_is_the_oldest_unless_told_otherwise() -> None:
    """The earliest created_at survives; most_complete and an explicit id change that."""
    a = person(
        "a",
        "Li",
        "Na",
        created_at=AT + dt.timedelta(days=5),
        updated_at=AT + dt.timedelta(days=5),
        phone="+8613800138000",
    )
    b = person("b", "Li", "Na")
    assert plan_merge([a, b]).survivor_id == "b"
    complete = SurvivorshipPolicy(survivor=SurvivorChoice.MOST_COMPLETE)
    assert plan_merge([a, b], policy=complete).survivor_id == "a"
    assert plan_merge([a, b], survivor_id="a").survivor_id == "a"
    assert plan_merge([a, b]).customer.created_at == AT


def test_repeated_contact_points_are_kept_once_with_every_opt_out() -> None:
    """The same mobile typed twice is one phone, keeping both copies' opt-outs and lineage."""
    a = person("a", "王", "芳")
    a = attrs.evolve(a, phones=(Phone(id="p1", number="+8613800138000", primary=True),))
    b = attrs.evolve(
        person("b", "王", "芳"),
        phones=(
            Phone(
                id="p2",
                number="１３８００１３８０００",
                region="CN",
                opt_outs=(OptOut.SMS,),
                verified=True,
            ),
        ),
    )
    plan = plan_merge([a, b])
    (phone,) = plan.customer.phones
    assert (phone.id, phone.primary, phone.verified, phone.opt_outs) == (
        "p1",
        True,
        True,
        (OptOut.SMS,),
    )
    assert ("p2", "p1") in plan.contact_point_ids
    assert ("phones", 2, 1) in plan.unions


def test_mixed_kinds_too_few_and_unknown_fields_are_refused() -> None:
    """A person and an organisation, one customer, or an unknown field path are refused."""
    org = Customer.organisation_named("示例有限公司", id="o1", created_at=AT, updated_at=AT)
    with pytest.raises(ValidationError) as refused:
        plan_merge([person("a", "Li", "Na"), org])
    assert refused.value.codes == ("dedupe.kind_mixed",)
    with pytest.raises(ValidationError) as refused:
        plan_merge([org])
    assert refused.value.codes == ("dedupe.merge_too_few",)
    with pytest.raises(ValidationError) as refused:
        FieldRule(path="person.brithday")
    assert refused.value.codes == ("dedupe.field_unknown",)
    with pytest.raises(ValidationError) as refused:
        plan_merge([person("a", "Li", "Na"), person("b", "Li", "Na")], survivor_id="z")
    assert refused.value.codes == ("dedupe.survivor_unknown",)


def _profile(customer: Customer) -> OrganisationProfile:
    assert customer.organisation is not None
    return customer.organisation


def test_organisations_merge_with_their_contact_persons() -> None:
    """Three records of one company merge; the contact person 王芳 is one, with every phone."""
    a = Customer.organisation_named("示例科技有限公司", id="o1", created_at=AT, updated_at=AT)
    b = Customer.organisation_named("示例科技有限公司", id="o2", created_at=AT, updated_at=AT)
    assert b.organisation is not None
    b = attrs.evolve(b, organisation=attrs.evolve(b.organisation, registration_number="91110000"))

    def wang(cid: str, number: str) -> ContactPerson:
        phones = (
            Phone(id=f"{cid}-p", number=number),
            Phone(id=f"{cid}-q", number="+861062345678"),
        )
        return ContactPerson(id=cid, name=PersonName(family="王", given="芳"), phones=phones)

    people = [
        wang("w1", "+8613800138000"),
        wang("w2", "+8613900139000"),
        wang("w3", "+8613800138000"),
    ]
    orgs = [a, b, attrs.evolve(a, id="o3")]
    orgs = [
        attrs.evolve(o, organisation=attrs.evolve(_profile(o), contact_persons=(w,)))
        for o, w in zip(orgs, people, strict=True)
    ]
    plan = plan_merge(orgs)
    assert plan.customer.organisation is not None
    assert plan.customer.organisation.registration_number == "91110000"
    (merged,) = plan.customer.organisation.contact_persons
    assert merged.id == "w1"
    assert sorted(p.number for p in merged.phones) == [
        "+861062345678", "+8613800138000", "+8613900139000"]  # fmt: skip
    assert {("w2", "w1"), ("w3", "w1"), ("w3-p", "w1-p")} <= set(plan.contact_point_ids)
    assert _decision(plan, "organisation.legal_name")[2] == "same_value"


def test_a_contact_persons_details_are_filled_or_decided_never_dropped() -> None:
    """Two copies of 王芳 differ in birthday and title; one lacks a department.

    The first copy's birthday and title stay, each with a decision listing both
    copies' values; the missing department comes from the other copy; the birthday
    keeps its own calendar.
    """
    orgs = []
    copies = [
        ContactPerson(
            id="w1",
            name=PersonName(family="王", given="芳"),
            title="采购经理",
            birthday=dt.date(1980, 5, 6),
        ),
        ContactPerson(
            id="w2",
            name=PersonName(family="王", given="芳"),
            title="采购总监",
            department="采购部",
            birthday=dt.date(1980, 3, 1),
            birthday_calendar=Calendar.CHINESE,
            key_person=True,
        ),
    ]
    for cid, wang in zip(("o1", "o2"), copies, strict=True):
        org = Customer.organisation_named("示例科技有限公司", id=cid, created_at=AT, updated_at=AT)
        orgs.append(
            attrs.evolve(org, organisation=attrs.evolve(_profile(org), contact_persons=(wang,)))
        )
    plan = plan_merge(orgs)
    assert plan.customer.organisation is not None
    (merged,) = plan.customer.organisation.contact_persons
    assert (merged.id, merged.title, merged.department) == ("w1", "采购经理", "采购部")
    assert (merged.birthday, merged.birthday_calendar) == (dt.date(1980, 5, 6), Calendar.GREGORIAN)
    assert merged.key_person
    decisions = {d.path: d for d in plan.fields}
    birthday = decisions["organisation.contact_persons[w1].birthday"]
    assert (birthday.source_id, birthday.value, birthday.rule) == ("o1", "1980-05-06", "first_copy")
    assert birthday.candidates == (("o1", "1980-05-06"), ("o2", "1980-03-01 (chinese)"))
    assert "first in survivor order" in birthday.reason
    title = decisions["organisation.contact_persons[w1].title"]
    assert (title.value, title.rule) == ("采购经理", "first_copy")
    assert title.candidates == (("o1", "采购经理"), ("o2", "采购总监"))
    department = decisions["organisation.contact_persons[w1].department"]
    assert (department.source_id, department.value, department.rule) == (
        "o2", "采购部", "only_value")  # fmt: skip
    assert "organisation.contact_persons[w1].notes" not in decisions


def test_a_missing_birthday_comes_with_its_calendar() -> None:
    """The kept copy has no birthday: the other copy's birthday and calendar travel together."""
    orgs = []
    copies = [
        ContactPerson(id="w1", name=PersonName(family="王", given="芳")),
        ContactPerson(
            id="w2",
            name=PersonName(family="王", given="芳"),
            birthday=dt.date(1980, 3, 1),
            birthday_calendar=Calendar.CHINESE,
        ),
    ]
    for cid, wang in zip(("o1", "o2"), copies, strict=True):
        org = Customer.organisation_named("示例科技有限公司", id=cid, created_at=AT, updated_at=AT)
        orgs.append(
            attrs.evolve(org, organisation=attrs.evolve(_profile(org), contact_persons=(wang,)))
        )
    (merged,) = plan_merge(orgs).customer.organisation.contact_persons  # type: ignore[union-attr]
    assert (merged.id, merged.birthday, merged.birthday_calendar) == (
        "w1", dt.date(1980, 3, 1), Calendar.CHINESE)  # fmt: skip


def test_the_policy_round_trips_through_json() -> None:
    """A survivorship policy travels as JSON with its kind tag."""
    policy = SurvivorshipPolicy(
        rule=SurvivorRule.MOST_COMPLETE,
        fields=(FieldRule(path="person.birthday", rule=SurvivorRule.MOST_TRUSTED_SOURCE),),
    )
    assert from_json(to_json(policy), SurvivorshipPolicy) == policy


numbers = st.sampled_from(["+8613800138000", "13800138000", "+8613900139000", "+4930123456"])
addresses = st.sampled_from(["a@x.example", "A@X.example", "b@x.example"])
tags = st.sampled_from(["vip", "tea", "wholesale", "新客户"])
facts = st.tuples(
    st.sampled_from(list(FactCategory)[:3]),
    st.sampled_from(["drink", "food"]),
    st.sampled_from(["tea", "茶", "coffee"]),
)


@st.composite
def records(draw: st.DrawFn, cid: str) -> Customer:
    base = person(cid, "王", "芳", born=draw(st.none() | st.just(dt.date(1990, 1, 2))))
    return attrs.evolve(
        base,
        phones=tuple(
            Phone(id=f"{cid}p{i}", number=n, region="CN")
            for i, n in enumerate(draw(st.lists(numbers, max_size=3)))
        ),
        emails=tuple(
            Email(id=f"{cid}e{i}", address=e)
            for i, e in enumerate(draw(st.lists(addresses, max_size=3)))
        ),
        tags=tuple(draw(st.lists(tags, max_size=3))),
        facts=tuple(
            ProfileFact(id=f"{cid}f{i}", category=c, key=k, value=v)
            for i, (c, k, v) in enumerate(draw(st.lists(facts, max_size=3)))
        ),
    )


@given(
    st.lists(st.sampled_from("abcd"), min_size=2, max_size=4, unique=True).flatmap(
        lambda cids: st.tuples(*(records(c) for c in cids))
    )
)
@settings(max_examples=150, deadline=None)
def test_a_merge_loses_no_contact_point_fact_or_tag(customers: tuple[Customer, ...]) -> None:
    """Every phone, email, fact and tag of every input is in the merged customer, once."""
    plan = plan_merge(list(customers))
    merged = plan.customer
    phone_keys = [phone_key(p.number, p.region) for p in merged.phones]
    email_keys = [fold_email(e.address) for e in merged.emails]
    fact_keys = [(f.category, f.key, f.value) for f in merged.facts]
    assert len(phone_keys) == len(set(phone_keys))
    assert len(email_keys) == len(set(email_keys))
    assert len(fact_keys) == len(set(fact_keys))
    kept_ids = {p.id for p in merged.contact_points} | {f.id for f in merged.facts}
    moved = dict(plan.contact_point_ids)
    for customer in customers:
        assert set(customer.tags) <= set(merged.tags)
        for phone in customer.phones:
            assert phone_key(phone.number, phone.region) in phone_keys
            assert phone.id in kept_ids or moved.get(phone.id) in kept_ids
        for email in customer.emails:
            assert fold_email(email.address) in email_keys
        for fact in customer.facts:
            assert (fact.category, fact.key, fact.value) in fact_keys
    assert set(plan.merged_ids) | {plan.survivor_id} == {c.id for c in customers}


@pytest.mark.parametrize("policy", ["most_recently_verified", {"survivor": "oldest"}])
def test_a_policy_that_is_not_a_policy_is_refused_by_type(policy: object) -> None:
    pair = [person("M1", "陈", "大文"), person("M2", "陈", "大文")]
    with pytest.raises(WrongType, match="SurvivorshipPolicy"):
        plan_merge(pair, policy=policy)  # type: ignore[arg-type]
