"""Behaviour of crmcore.models.replace: attrs.evolve's result and checks, for less work."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.models import (
    Customer,
    CustomerKind,
    Email,
    LifecycleStage,
    Model,
    OrganisationProfile,
    PersonName,
    Phone,
    PhoneKind,
    PostalAddress,
    replace,
    replace_each,
)
from crmcore.models._base import type_accepts, type_checker
from crmcore.models.checks import field_specs
from crmcore.testing import strategies as cst

T0 = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)


def _customer() -> Customer:
    return Customer.person_named(
        family="张",
        given="伟",
        created_at=T0,
        updated_at=T0,
        phones=(Phone(id="p1", number="+8613800138000", primary=True),),
    )


def _outcome(fn: Any, instance: Any, changes: dict[str, Any]) -> tuple[str, Any]:
    """What a call gives: ("ok", result) or the exception's type and problems."""
    try:
        return "ok", fn(instance, **changes)
    except ValidationError as error:
        return "ValidationError", error.problems
    except TypeError:
        return "TypeError", None


def test_good_changes_give_the_evolved_customer() -> None:
    """Replacing valid values gives exactly what attrs.evolve gives."""
    customer = _customer()
    changes: dict[str, Any] = {
        "display_name": "张伟 (VIP)",
        "grade": "A",
        "updated_at": T0 + dt.timedelta(1),
    }
    assert replace(customer, **changes) == attrs.evolve(customer, **changes)


def test_no_changes_return_the_same_object() -> None:
    """Without changes there is nothing to check or copy."""
    customer = _customer()
    assert replace(customer) is customer


def test_the_tags_converter_is_applied() -> None:
    """Customer.tags are sorted and de-duplicated through replace as through the constructor."""
    customer = _customer()
    result = replace(customer, tags=["vip", "重点客户", "vip"])
    assert result.tags == ("vip", "重点客户")
    assert result == attrs.evolve(customer, tags=["vip", "重点客户", "vip"])


def test_a_blank_tag_breaks_the_invariant() -> None:
    """A blank tag is refused by the invariant, after the converter ran."""
    with pytest.raises(ValidationError) as info:
        replace(_customer(), tags=("vip", " "))
    assert info.value.codes == ("value.blank",)
    assert info.value.problems[0].path == "$.tags[0]"


@pytest.mark.parametrize(
    ("changes", "codes", "paths"),
    [
        ({"display_name": " "}, ("value.blank",), ("$.display_name",)),
        ({"display_name": "x" * 513}, ("value.too_long",), ("$.display_name",)),
        ({"version": -1}, ("value.negative",), ("$.version",)),
        ({"version": "1"}, ("type.invalid",), ("$.version",)),
        ({"updated_at": dt.datetime(2026, 1, 6)}, ("datetime.naive",), ("$.updated_at",)),
        (
            {"phones": (Phone(id="p1", number="1"), Phone(id="p1", number="2"))},
            ("value.duplicate",),
            ("$.phones[1]",),
        ),
        (
            {"emails": (Email(address="a@example.com"), "b@example.com")},
            ("type.invalid",),
            ("$.emails[1]",),
        ),
        # several bad fields: every problem at once, in field order whatever the call order
        (
            {"version": -1, "display_name": ""},
            ("value.blank", "value.negative"),
            ("$.display_name", "$.version"),
        ),
    ],
)
def test_bad_changed_values_are_refused(
    changes: dict[str, Any], codes: tuple[str, ...], paths: tuple[str, ...]
) -> None:
    """A bad changed value raises the ValidationError the constructor would raise."""
    customer = _customer()
    with pytest.raises(ValidationError) as info:
        replace(customer, **changes)
    assert info.value.codes == codes
    assert tuple(p.path for p in info.value.problems) == paths
    with pytest.raises(ValidationError) as evolved:
        attrs.evolve(customer, **changes)
    assert evolved.value.problems == info.value.problems


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"updated_at": T0 - dt.timedelta(days=1)}, "customer.updated_before_created"),
        ({"person": None}, "customer.profile_missing"),
        (
            {"organisation": OrganisationProfile(legal_name="北京某某科技有限公司")},
            "customer.profile_mismatch",
        ),
        ({"kind": CustomerKind.ORGANISATION}, "customer.profile_missing"),
    ],
)
def test_broken_invariants_are_refused(changes: dict[str, Any], code: str) -> None:
    """Values that pass their own checks but break a cross-field rule are refused."""
    with pytest.raises(ValidationError) as info:
        replace(_customer(), **changes)
    assert code in info.value.codes


def test_unknown_fields_are_a_type_error() -> None:
    """Like the constructor, replace refuses a field the class does not have."""
    with pytest.raises(TypeError):
        replace(_customer(), nickname="伟哥")


def test_contact_points_are_replaced_with_their_own_checks() -> None:
    """Phones, emails, addresses and names are checked as their constructors check them."""
    phone = Phone(number="138 0013 8000")
    assert replace(phone, number="+8613800138000", kind=PhoneKind.MOBILE) == attrs.evolve(
        phone, number="+8613800138000", kind=PhoneKind.MOBILE
    )
    with pytest.raises(ValidationError):
        replace(phone, extension=" ")
    with pytest.raises(ValidationError):
        replace(Email(address="a@example.com"), address="")
    with pytest.raises(ValidationError):
        replace(PostalAddress(country="CN"), street_lines=("海淀区", 3))
    assert replace(PersonName(family="张", given="伟"), given="伟伟").display == "张伟伟"


@attrs.frozen(kw_only=True)
class _Checked(Model):
    """A model whose construction also runs an attrs validator."""

    amount: int = attrs.field(validator=attrs.validators.lt(10))


def test_classes_with_more_construction_logic_go_through_evolve() -> None:
    """A class with an attrs validator is changed by attrs.evolve, so the validator runs."""
    with pytest.raises(ValueError, match="must be < 10"):
        replace(_Checked(amount=1), amount=12)
    assert replace(_Checked(amount=1), amount=2) == _Checked(amount=2)


_VALUES: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=3),
    st.sampled_from([-(2**31) - 1, 2**31 - 1, 2**31, 2**63]),
    st.sampled_from(["", " ", "x" * 600, "vip", "a\x00b", "\ud800", "ok\udfff"]),
    cst.texts(),
    st.sampled_from(
        [
            T0,
            T0 - dt.timedelta(days=400),
            dt.datetime(2026, 1, 1),
            dt.date(2026, 1, 1),
            dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8))),
            dt.datetime(1, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=8))),
            dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(dt.timedelta(hours=-8))),
        ]
    ),
    st.sampled_from([Decimal("1.5"), Decimal("NaN")]),
    st.sampled_from(list(LifecycleStage) + list(CustomerKind)),
    st.lists(st.sampled_from(["vip", " ", "b2b", "重点客户"]), max_size=3).map(tuple),
    st.lists(cst.phones(), max_size=2).map(tuple),
    st.lists(cst.emails(), max_size=2).map(tuple),
)
_FIELD_NAMES = [f.name for f in attrs.fields(Customer)]


@settings(max_examples=300, deadline=None)
@given(
    customer=cst.customers(),
    changes=st.dictionaries(st.sampled_from(_FIELD_NAMES), _VALUES, min_size=1, max_size=3),
)
def test_replace_agrees_with_evolve(customer: Customer, changes: dict[str, Any]) -> None:
    """For any changes, replace gives evolve's customer or evolve's problems."""
    assert _outcome(replace, customer, dict(changes)) == _outcome(
        attrs.evolve, customer, dict(changes)
    )


@settings(max_examples=300, deadline=None)
@given(value=_VALUES)
def test_fast_type_predicates_agree_with_the_checks(value: Any) -> None:
    """type_accepts says yes exactly when type_checker finds no problem, for every field type."""
    for cls in (Customer, Phone, Email, PostalAddress, OrganisationProfile, PersonName):
        for spec in field_specs(cls):
            assert spec.accepts(value) == (not list(spec.type_check(value, "$"))), (cls, spec.name)


def test_type_accepts_refuses_what_it_cannot_check() -> None:
    """An unsupported annotation is a TypeError, as it is for type_checker."""
    with pytest.raises(TypeError):
        type_accepts(list[int])
    with pytest.raises(TypeError):
        type_checker(list[int])


def _one_by_one(customers: list[Customer], changes: dict[str, Any]) -> tuple[str, Any]:
    """What replace gives one instance at a time: every result, or the first refusal."""
    results = []
    for customer in customers:
        kind, value = _outcome(replace, customer, dict(changes))
        if kind != "ok":
            return kind, value
        results.append(value)
    return "ok", results


@settings(max_examples=200, deadline=None)
@given(
    customers=st.lists(cst.customers(), min_size=1, max_size=4),
    changes=st.dictionaries(st.sampled_from(_FIELD_NAMES), _VALUES, min_size=1, max_size=3),
)
def test_replace_each_agrees_with_replace_one_by_one(
    customers: list[Customer], changes: dict[str, Any]
) -> None:
    """replace_each gives what replace gives per instance, or the first refusal it meets."""
    assert _outcome(replace_each, customers, dict(changes)) == _one_by_one(customers, dict(changes))


def test_replace_each_runs_each_instances_invariants() -> None:
    """The new values are checked once, but invariants run per instance: the second
    customer here was created later than the new updated_at, so it alone is refused."""
    early = _customer()
    late = replace(
        _customer(), created_at=T0 + dt.timedelta(days=2), updated_at=T0 + dt.timedelta(days=2)
    )
    changes = {"updated_at": T0 + dt.timedelta(days=1)}
    assert replace_each([early], **changes)[0].updated_at == changes["updated_at"]
    with pytest.raises(ValidationError) as info:
        replace_each([early, late], **changes)
    assert info.value.codes == ("customer.updated_before_created",)


def test_replace_each_applies_converters_to_every_instance() -> None:
    """Converted values (sorted, unique tags) reach every copy, not only the first."""
    customers = [_customer(), replace(_customer(), id="second")]
    tagged = replace_each(customers, tags=("vip", "b2b", "vip"))
    assert [c.tags for c in tagged] == [("b2b", "vip"), ("b2b", "vip")]
    assert [c.id for c in tagged] == [customers[0].id, "second"]


def test_replace_each_of_nothing() -> None:
    """No instances or no changes: the instances themselves, in a new list."""
    customer = _customer()
    assert replace_each([], version=1) == []
    assert replace_each([customer])[0] is customer


def test_replace_each_with_mixed_classes_goes_one_by_one() -> None:
    """Instances of different classes each get their own class's checks."""
    phone = Phone(number="+8613800138000")
    email = Email(address="zhang@example.cn")
    labelled = replace_each([phone, email], label="work")
    assert [type(x) for x in labelled] == [Phone, Email]
    assert all(x.label == "work" for x in labelled)


_MINTED = iter(range(10**6))


def _mint(value: str) -> str:
    return value or f"minted-{next(_MINTED)}"


@attrs.frozen(kw_only=True)
class _Token(Model):
    name: str
    token: str = attrs.field(default="t", converter=_mint)


def test_replace_each_runs_converters_per_instance() -> None:
    """A converter may give each call its own value; replace_each calls it per instance."""
    tokens = replace_each([_Token(name="x"), _Token(name="y")], token="")
    assert tokens[0].token != tokens[1].token
