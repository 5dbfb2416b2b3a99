"""Birthday windows and consent audiences: exactly the reference, and the answers we know.

:class:`QueryAudienceTests` stores :func:`audience_customers`, customers built to make a
backend's index disagree with the reference evaluator (a withdrawal recorded after a
grant, consents listed out of time order, a grant on one phone and the SMS opt-out on
another, a contact point opted out of ``all``, an invalid point, a contact person's
consent, birthdays on 29 February and across the year end) and checks each named query
of :data:`AUDIENCE_QUERIES` against both the reference result and the ids it is known
to return, then random month-day and audience queries over generated customers.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmcore.models import (
    ContactPerson,
    Customer,
    Email,
    FamilyMember,
    KeyDate,
    OptOut,
    OrganisationProfile,
    PersonName,
    PersonProfile,
    Phone,
    SocialHandle,
)
from crmcore.models.contact import Consent
from crmcore.query import AnyFilter, Field, MonthDay, Not, Query, Reachable, upcoming
from crmcore.query.audience import CHANNELS
from crmcore.storage.store import Store
from crmcore.testing._fixtures import KIT_SETTINGS, BackendFixtures, add_all
from crmcore.testing.strategies import customers

__all__ = ["AUDIENCE_QUERIES", "QueryAudienceTests", "audience_customers"]

_T1 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
# Later as an instant, earlier as local time: ordering consents by their text is wrong.
_T2 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))


def _grant(purpose: str = "marketing", at: dt.datetime = _T1) -> Consent:
    return Consent(purpose=purpose, granted=True, recorded_at=at)


def _withdraw(purpose: str = "marketing", at: dt.datetime = _T2) -> Consent:
    return Consent(purpose=purpose, granted=False, recorded_at=at)


def _person(cid: str, given: str, *, birthday: dt.date | None = None, **fields: Any) -> Customer:
    members = fields.pop("family_members", ())
    profile = PersonProfile(
        name=PersonName(family="王", given=given), birthday=birthday, family_members=members
    )
    return Customer.person_named(family="王", given=given, id=cid, person=profile, **fields)


def audience_customers() -> list[Customer]:
    """The customers :data:`AUDIENCE_QUERIES` are written for (ids ``a01``..)."""
    phone = Phone
    return [
        _person(
            "a01", "一", phones=(phone(id="a01p", number="+8613800000001", consents=(_grant(),)),)
        ),
        # the withdrawal comes after the grant: not in the marketing audience
        _person(
            "a02",
            "二",
            phones=(phone(id="a02p", number="+8613800000002", consents=(_grant(), _withdraw())),),
        ),
        # the same, listed newest first
        _person(
            "a03",
            "三",
            phones=(phone(id="a03p", number="+8613800000003", consents=(_withdraw(), _grant())),),
        ),
        # withdrawn, then granted again
        _person(
            "a04",
            "四",
            phones=(
                phone(
                    id="a04p",
                    number="+8613800000004",
                    consents=(_withdraw(at=_T1), _grant(at=_T2)),
                ),
            ),
        ),
        # opted out of everything on its only phone
        _person(
            "a05",
            "五",
            phones=(
                phone(
                    id="a05p",
                    number="+8613800000005",
                    opt_outs=(OptOut.ALL,),
                    consents=(_grant(),),
                ),
            ),
        ),
        # no SMS, but calls for marketing are fine
        _person(
            "a06",
            "六",
            phones=(
                phone(
                    id="a06p",
                    number="+8613800000006",
                    opt_outs=(OptOut.SMS,),
                    consents=(_grant(),),
                ),
            ),
        ),
        # the granted phone is invalid; the valid one has no consent
        _person(
            "a07",
            "七",
            phones=(
                phone(id="a07p", number="+8613800000007", invalid=True, consents=(_grant(),)),
                phone(id="a07q", number="+8613800000017"),
            ),
        ),
        # the grant on one phone, the SMS opt-out on it, another phone allows SMS
        _person(
            "a08",
            "八",
            phones=(
                phone(
                    id="a08p",
                    number="+8613800000008",
                    opt_outs=(OptOut.SMS,),
                    consents=(_grant(),),
                ),
                phone(id="a08q", number="+8613800000018"),
            ),
        ),
        _person(
            "a09",
            "九",
            emails=(Email(id="a09e", address="jiu@example.cn", consents=(_grant("newsletter"),)),),
            birthday=dt.date(1990, 12, 26),
        ),
        _person(
            "a10",
            "十",
            social_handles=(
                SocialHandle(id="a10s", platform="wechat", handle="wang_shi", consents=(_grant(),)),
            ),
            birthday=dt.date(2000, 2, 29),
        ),
        _person("a11", "十一", birthday=dt.date(1999, 2, 28)),
        _person("a12", "十二", birthday=dt.date(1985, 3, 1)),
        _person(
            "a13",
            "十三",
            birthday=dt.date(1970, 1, 7),
            family_members=(
                FamilyMember(relation="子女", birthday=dt.date(2001, 1, 3)),
                FamilyMember(relation="配偶", birthday=None),
            ),
        ),
        Customer.organisation_named(
            "北京星辰科技有限公司",
            id="a14",
            organisation=OrganisationProfile(
                legal_name="北京星辰科技有限公司",
                contact_persons=(
                    ContactPerson(
                        id="a14c",
                        name=PersonName(family="李", given="娜"),
                        birthday=dt.date(1980, 12, 25),
                        phones=(phone(id="a14p", number="+8613800000014", consents=(_grant(),)),),
                    ),
                ),
            ),
            key_dates=(KeyDate(label="成立纪念日", date=dt.date(2010, 2, 28)),),
        ),
        _person("a15", "十五"),
    ]


def _md(path: str, start: str, end: str) -> MonthDay:
    return Field(path).month_day_between(start, end)


_SMS_MARKETING = Reachable(channel=OptOut.SMS, purpose="marketing")

AUDIENCE_QUERIES: dict[str, tuple[Query, frozenset[str]]] = {
    name: (query, frozenset(ids))
    for name, query, ids in [
        ("sms_marketing", Query(where=_SMS_MARKETING), {"a01", "a04"}),
        (
            "not_sms_marketing",
            Query(where=~_SMS_MARKETING),
            {f"a{n:02d}" for n in range(1, 16)} - {"a01", "a04"},
        ),
        ("sms", Query(where=Reachable(channel="sms")), {"a01", "a02", "a03", "a04", "a07", "a08"}),
        (
            "call_marketing",
            Query(where=Reachable(channel="call", purpose="marketing")),
            {"a01", "a04", "a06", "a08"},
        ),
        (
            "email_newsletter",
            Query(where=Reachable(channel="email", purpose="newsletter")),
            {"a09"},
        ),
        ("email_marketing", Query(where=Reachable(channel="email", purpose="marketing")), set()),
        (
            "messaging_marketing",
            Query(where=Reachable(channel="messaging", purpose="marketing")),
            {"a01", "a04", "a06", "a08", "a10"},
        ),
        ("mail", Query(where=Reachable(channel="mail")), set()),
        ("winter", Query(where=_md("person.birthday", "12-25", "01-07")), {"a09", "a13"}),
        (
            "family_winter",
            Query(where=_md("person.family_members.birthday", "12-25", "01-07")),
            {"a13"},
        ),
        (
            "contact_person_winter",
            Query(where=_md("organisation.contact_persons.birthday", "12-20", "01-10")),
            {"a14"},
        ),
        ("feb_to_28", Query(where=_md("person.birthday", "02-20", "02-28")), {"a11"}),
        ("feb_to_29", Query(where=_md("person.birthday", "02-20", "02-29")), {"a10", "a11"}),
        ("leap_day", Query(where=_md("person.birthday", "02-29", "02-29")), {"a10"}),
        ("march_first", Query(where=_md("person.birthday", "03-01", "03-01")), {"a12"}),
        (
            "upcoming_2027",
            Query(where=_md("person.birthday", *upcoming(7, dt.date(2027, 2, 22)))),
            {"a10", "a11"},
        ),
        (
            "upcoming_2028",
            Query(where=_md("person.birthday", *upcoming(7, dt.date(2028, 2, 22)))),
            {"a11"},
        ),
        ("key_dates", Query(where=_md("key_dates.date", "02-28", "02-28")), {"a14"}),
        (
            "whole_year",
            Query(where=_md("person.birthday", "01-01", "12-31")),
            {"a09", "a10", "a11", "a12", "a13"},
        ),
        (
            "wrap_everything_but_one_day",
            Query(where=_md("person.birthday", "12-27", "12-25")),
            {"a10", "a11", "a12", "a13"},
        ),
        (
            "not_winter",
            Query(where=~_md("person.birthday", "12-25", "01-07")),
            {f"a{n:02d}" for n in range(1, 16)} - {"a09", "a13"},
        ),
        (
            "newsletter_and_winter",
            Query(
                where=_md("person.birthday", "12-25", "01-07")
                & Reachable(channel="email", purpose="newsletter"),
                order_by=("display_name",),
            ),
            {"a09"},
        ),
        (
            "audience_or_birthday_paged",
            Query(
                where=_SMS_MARKETING | _md("person.birthday", "02-28", "03-01"),
                order_by=("-display_name",),
                limit=3,
            ),
            {"a04", "a12", "a11"},
        ),
    ]
}
"""Named queries over :func:`audience_customers`, with the ids each one returns."""


@st.composite
def _audience_filters(draw: st.DrawFn) -> AnyFilter:
    kind = draw(st.sampled_from(["reachable", "month_day", "not", "and", "or"]))
    if kind == "reachable":
        return Reachable(
            channel=draw(st.sampled_from(CHANNELS)),
            purpose=draw(st.sampled_from([None, "marketing", "newsletter", "营销短信"])),
        )
    if kind == "month_day":
        start, end = draw(st.tuples(_month_days, _month_days))
        path = draw(
            st.sampled_from(
                [
                    "person.birthday",
                    "person.family_members.birthday",
                    "organisation.contact_persons.birthday",
                    "key_dates.date",
                    "acquired_on",
                ]
            )
        )
        return MonthDay(path=path, start=start, end=end)
    inner = draw(st.lists(_audience_filters(), min_size=1, max_size=2))
    if kind == "not":
        return Not(filter=inner[0])
    left = inner[0]
    for right in inner[1:]:
        left = (left & right) if kind == "and" else (left | right)
    return left


_month_days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2000, 12, 31)).map(
    lambda d: f"{d.month:02d}-{d.day:02d}"
)


class QueryAudienceTests(BackendFixtures):
    """Month-day windows and consent audiences return the reference result on every backend."""

    @pytest.fixture
    def audience(self, store: Store) -> list[Customer]:
        """Store :func:`audience_customers`; returns them as stored."""
        return add_all(store, audience_customers())

    @pytest.mark.parametrize("name", sorted(AUDIENCE_QUERIES))
    def test_audience_query(self, store: Store, audience: list[Customer], name: str) -> None:
        """Each named query returns its known ids, in the reference order, and counts them."""
        query, ids = AUDIENCE_QUERIES[name]
        expected = query.apply(audience)
        assert {c.id for c in expected} == ids
        with store.unit_of_work() as uow:
            found = uow.customers.find(query)
            assert [c.id for c in found] == [c.id for c in expected]
            assert found == expected
            assert uow.customers.count(query) == len(query.unpaged().apply(audience))

    def test_withdrawal_after_grant_leaves_the_audience(
        self, store: Store, audience: list[Customer]
    ) -> None:
        """Recording a withdrawal after a grant removes the customer; a new grant brings it back."""
        query = Query(where=_SMS_MARKETING)
        first = next(c for c in audience if c.id == "a01")
        point = first.phones[0]
        later = _T2 + dt.timedelta(days=1)
        withdrawn = attrs.evolve(
            first, phones=(attrs.evolve(point, consents=(*point.consents, _withdraw(at=later))),)
        )
        with store.unit_of_work() as uow:
            uow.customers.update(withdrawn)
            uow.commit()
        with store.unit_of_work() as uow:
            assert "a01" not in {c.id for c in uow.customers.find(query)}
            current = uow.customers.get("a01")
        again = attrs.evolve(
            current,
            phones=(
                attrs.evolve(
                    current.phones[0],
                    consents=(
                        *current.phones[0].consents,
                        _grant(at=later + dt.timedelta(hours=1)),
                    ),
                ),
            ),
        )
        with store.unit_of_work() as uow:
            uow.customers.update(again)
            uow.commit()
        with store.unit_of_work() as uow:
            assert {c.id for c in uow.customers.find(query)} == {"a01", "a04"}
            assert uow.customers.count(query) == 2

    def test_opting_out_of_all_leaves_every_audience(
        self, store: Store, audience: list[Customer]
    ) -> None:
        """A customer opting out of ``all`` on its only phone is reachable on no channel."""
        first = next(c for c in audience if c.id == "a04")
        with store.unit_of_work() as uow:
            uow.customers.update(
                attrs.evolve(first, phones=(attrs.evolve(first.phones[0], opt_outs=(OptOut.ALL,)),))
            )
            uow.commit()
        with store.unit_of_work() as uow:
            for channel in ("call", "sms", "messaging"):
                for purpose in (None, "marketing"):
                    found = uow.customers.find(
                        Query(where=Reachable(channel=channel, purpose=purpose))
                    )
                    assert "a04" not in {c.id for c in found}

    def test_a_moved_birthday_moves_the_customer(
        self, store: Store, audience: list[Customer]
    ) -> None:
        """Changing a birthday changes which windows find the customer."""
        query = Query(where=_md("person.birthday", "12-25", "01-07"))
        customer = next(c for c in audience if c.id == "a12")
        assert customer.person is not None
        moved = attrs.evolve(
            customer, person=attrs.evolve(customer.person, birthday=dt.date(1985, 12, 30))
        )
        with store.unit_of_work() as uow:
            uow.customers.update(moved)
            uow.commit()
        with store.unit_of_work() as uow:
            assert {c.id for c in uow.customers.find(query)} == {"a09", "a12", "a13"}

    @KIT_SETTINGS
    @given(
        batch=st.lists(customers(), min_size=1, max_size=4),
        where=_audience_filters(),
    )
    def test_random_audiences_match_reference(
        self, store: Store, batch: list[Customer], where: AnyFilter
    ) -> None:
        """Random month-day and audience filters over generated customers give the reference."""
        add_all(store, [attrs.evolve(c, id=uuid.uuid4().hex) for c in batch])
        query = Query(where=where, order_by=("display_name",))
        with store.unit_of_work() as uow:
            everyone = list(uow.customers.stream())
            found = uow.customers.find(query)
            assert [c.id for c in found] == [c.id for c in query.apply(everyone)]
            assert uow.customers.count(query) == len(query.apply(everyone))
