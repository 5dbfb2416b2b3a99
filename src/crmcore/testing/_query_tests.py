"""Queries and keyset pagination: exactly the reference result, pages without gaps."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.models import (
    Customer,
    Email,
    FactCategory,
    FamilyMember,
    Identifier,
    IdentifierKind,
    PersonName,
    PersonProfile,
    Phone,
    PhoneKind,
    ProfileFact,
)
from crmcore.query import Field, Query
from crmcore.storage.store import Store
from crmcore.testing._fixtures import (
    KIT_SETTINGS,
    BackendFixtures,
    add_all,
    load_sample_data,
)
from crmcore.testing._queries import (
    COMPLAINT_QUERIES,
    CUSTOMER_QUERIES,
    INTERACTION_QUERIES,
    PAGINATION_ORDERS,
    PURCHASE_QUERIES,
    customer_queries,
    document_queries,
    indexed_queries,
)
from crmcore.testing.data import (
    sample_customers,
)
from crmcore.testing.strategies import customers as generated_customers

__all__ = ["PaginationTests", "QueryTests"]


def _check_generated_queries(
    store: Store,
    data: st.DataObject,
    queries: Callable[[Sequence[Customer]], st.SearchStrategy[Query]],
) -> None:
    """Store generated customers, then check three drawn queries' pages and counts.

    Each query's page and count must be what the reference evaluator
    (:meth:`Query.apply`) gives over every stored customer.
    """
    drawn = data.draw(st.lists(generated_customers(), min_size=1, max_size=4))
    # Fresh ids: the store is shared by the examples, and drawn ids repeat.
    batch = [attrs.evolve(c, id=uuid.uuid4().hex) for c in drawn]
    add_all(store, batch)
    with store.unit_of_work() as uow:
        current = list(uow.customers.stream())
        for _ in range(3):
            query = data.draw(queries(batch))
            expected = query.apply(current)
            found = uow.customers.find(query)
            assert [c.id for c in found] == [c.id for c in expected], query
            assert uow.customers.count(query) == len(query.unpaged().apply(current))


class QueryTests(BackendFixtures):
    """Every query returns exactly what :meth:`Query.apply` returns over the same records."""

    @pytest.fixture
    def loaded(self, store: Store) -> dict[str, list[Any]]:
        """Load the sample data set; returns the stored records by repository name."""
        return load_sample_data(store)

    @pytest.mark.parametrize("name", sorted(CUSTOMER_QUERIES))
    def test_customer_query_matches_reference(
        self, store: Store, loaded: dict[str, list[Any]], name: str
    ) -> None:
        """Each named customer query returns the reference result, in the reference order."""
        query = CUSTOMER_QUERIES[name]
        expected = query.apply(loaded["customers"])
        with store.unit_of_work() as uow:
            found = uow.customers.find(query)
            assert [c.id for c in found] == [c.id for c in expected]
            assert found == expected
            assert uow.customers.count(query) == len(query.unpaged().apply(loaded["customers"]))

    @pytest.mark.parametrize(
        ("repository", "name"),
        [
            *(("interactions", n) for n in sorted(INTERACTION_QUERIES)),
            *(("complaints", n) for n in sorted(COMPLAINT_QUERIES)),
            *(("purchases", n) for n in sorted(PURCHASE_QUERIES)),
        ],
    )
    def test_other_queries_match_reference(
        self, store: Store, loaded: dict[str, list[Any]], repository: str, name: str
    ) -> None:
        """Queries on interactions, complaints and purchases return the reference result."""
        query = {
            "interactions": INTERACTION_QUERIES,
            "complaints": COMPLAINT_QUERIES,
            "purchases": PURCHASE_QUERIES,
        }[repository][name]
        expected = query.apply(loaded[repository])
        with store.unit_of_work() as uow:
            found = getattr(uow, repository).find(query)
        assert [r.id for r in found] == [r.id for r in expected]
        assert found == expected

    @KIT_SETTINGS
    @given(query=customer_queries())
    def test_random_queries_match_reference(
        self, store: Store, loaded: dict[str, list[Any]], query: Query
    ) -> None:
        """Random combinations of filters, orderings and limits return the reference result."""
        expected = query.apply(loaded["customers"])
        with store.unit_of_work() as uow:
            found = uow.customers.find(query)
        assert [c.id for c in found] == [c.id for c in expected]

    def test_query_sees_updates(self, store: Store, loaded: dict[str, list[Any]]) -> None:
        """A query reflects updated and removed records."""
        customers = {c.id: c for c in loaded["customers"]}
        with store.unit_of_work() as uow:
            uow.customers.update(
                attrs.evolve(
                    customers["c04"],
                    tags=("vip",),
                    phones=(Phone(number="+8613700000000"),),
                )
            )
            uow.customers.remove(customers["c01"], dependents="remove")
            uow.commit()
        with store.unit_of_work() as uow:
            current = list(uow.customers.stream())
            for query in (
                Query(where=Field("tags") == "vip", order_by=("display_name",)),
                Query(where=Field("phones.number") == "+8613800138000"),
                Query(where=Field("phones.number") == "+8613700000000"),
            ):
                assert uow.customers.find(query) == query.apply(current)

    @settings(KIT_SETTINGS, max_examples=10)
    @given(data=st.data())
    def test_random_indexed_queries_match_reference(
        self, store: Store, data: st.DataObject
    ) -> None:
        """Generated customers, queried on indexed paths, give the reference answer and count."""
        _check_generated_queries(store, data, indexed_queries)

    @settings(KIT_SETTINGS, max_examples=10)
    @given(data=st.data())
    def test_random_document_queries_match_reference(
        self, store: Store, data: st.DataObject
    ) -> None:
        """Generated customers, queried on paths that are not indexed, give the reference answer.

        Leaves on nested fields with defaults, decimals, datetimes in other offsets,
        ``is_null`` on models and tuples, ``month_day`` and plain reachability, with the
        count.
        """
        _check_generated_queries(store, data, document_queries)

    def test_existence_semantics(self, store: Store) -> None:
        """Each leaf asks whether *some* value passes; ``is_null`` whether every value is None."""
        long_value = "9" * 254 + "甲" + "x" * 40
        stored = add_all(
            store,
            [
                Customer.person_named(
                    family="张",
                    given="伟",
                    id="ex-two-phones",
                    tags=("vip", "b2b"),
                    phones=(
                        Phone(id="p1", number="+8613800000001", kind=PhoneKind.MOBILE),
                        Phone(id="p2", number="+8613800000002", kind=PhoneKind.LANDLINE),
                    ),
                    identifiers=(
                        Identifier(kind=IdentifierKind.MEMBERSHIP_CARD, value=long_value),
                    ),
                ),
                Customer.person_named(
                    family="王",
                    given="芳",
                    id="ex-one-phone",
                    tags=("b2b",),
                    phones=(Phone(id="p3", number="+8613800000002", kind=PhoneKind.MOBILE),),
                    emails=(Email(id="m1", address="wf@example.cn"),),
                    facts=(
                        ProfileFact(category=FactCategory.PREFERENCE, key="diet", value="素食"),
                    ),
                ),
                attrs.evolve(
                    Customer.person_named(family="李", given="娜", id="ex-none-values"),
                    person=PersonProfile(
                        name=PersonName(family="李", given="娜"),
                        family_members=(
                            FamilyMember(relation="child"),
                            FamilyMember(relation="spouse", birthday=dt.date(1990, 2, 28)),
                        ),
                    ),
                ),
                attrs.evolve(
                    Customer.person_named(family="赵", given="磊", id="ex-all-none"),
                    person=PersonProfile(
                        name=PersonName(family="赵", given="磊"),
                        family_members=(FamilyMember(relation="child"),),
                    ),
                ),
            ],
        )
        f = Field
        queries = [
            (f("phones.kind") == "landline") & (f("phones.number") == "+8613800000002"),
            (f("phones.kind") == "mobile") & (f("phones.number") == "+8613800000002"),
            f("phones.number") != "+8613800000002",
            ~(f("phones.number") == "+8613800000002"),
            ~(f("tags") == "vip"),
            f("tags") != "vip",
            f("phones").is_null(),
            ~f("phones").is_null(),
            f("emails.address").is_null(),
            f("person.family_members.birthday").is_null(),
            f("person.family_members.birthday") < dt.date(2000, 1, 1),
            ~(f("person.family_members.birthday") < dt.date(2000, 1, 1)),
            f("identifiers.value") == long_value,
            f("identifiers.value") == long_value[:-1],
            f("identifiers.value") < long_value[:255],
            f("identifiers.value") > "9" * 254 + "甲",
            f("identifiers.value").starts_with(long_value[:260]),
            f("identifiers.value").in_([long_value, "x"]),
            f("facts.key").contains("diet") & (f("facts.category") == "preference"),
            ~(f("facts.key") == "diet") & ~f("facts").is_null(),
        ]
        with store.unit_of_work() as uow:
            for where in queries:
                query = Query(where=where, order_by=("person.name.family",))
                expected = query.apply(stored)
                assert [c.id for c in uow.customers.find(query)] == [c.id for c in expected], where
                assert uow.customers.count(query) == len(expected), where

    def test_unknown_field_is_a_validation_error(self, store: Store) -> None:
        """A query on a field the model does not have raises query.unknown_field."""
        with store.unit_of_work() as uow, pytest.raises(ValidationError) as info:
            uow.customers.find(Query(where=Field("person.surname") == "张"))
        assert info.value.codes == ("query.unknown_field",)


class PaginationTests(BackendFixtures):
    """Keyset pages cover the result exactly once: no gaps, no repeats."""

    @pytest.fixture
    def loaded_customers(self, store: Store) -> list[Customer]:
        """Load the sample customers."""
        return add_all(store, sample_customers())

    @pytest.mark.parametrize("order", sorted(PAGINATION_ORDERS))
    @pytest.mark.parametrize("page_size", [1, 4, 7])
    def test_pages_cover_the_result_once(
        self, store: Store, loaded_customers: list[Customer], order: str, page_size: int
    ) -> None:
        """Following cursors page by page yields the reference order exactly once."""
        query = Query(order_by=PAGINATION_ORDERS[order], limit=page_size)
        expected = query.unpaged().apply(loaded_customers)
        seen: list[Customer] = []
        current: Query | None = query
        with store.unit_of_work() as uow:
            for _ in range(len(expected) + 2):
                if current is None:
                    break
                page = uow.customers.find(current)
                assert len(page) <= page_size
                seen.extend(page)
                current = current.next_page(page)
        assert [c.id for c in seen] == [c.id for c in expected]

    def test_pages_with_a_filter(self, store: Store, loaded_customers: list[Customer]) -> None:
        """Paging a filtered, ordered query yields exactly the filtered reference result."""
        query = Query(
            where=Field("lifecycle_stage").in_(["repeat", "client", "prospect"]),
            order_by=("-grade", "display_name"),
            limit=2,
        )
        expected = query.unpaged().apply(loaded_customers)
        seen: list[Customer] = []
        current: Query | None = query
        with store.unit_of_work() as uow:
            while current is not None and len(seen) <= len(expected):
                page = uow.customers.find(current)
                seen.extend(page)
                current = current.next_page(page)
        assert [c.id for c in seen] == [c.id for c in expected]

    def test_cursor_from_any_record(self, store: Store, loaded_customers: list[Customer]) -> None:
        """A cursor made from any record returns exactly the records after it."""
        query = Query(order_by=("grade", "-acquired_on"))
        ordered = query.apply(loaded_customers)
        with store.unit_of_work() as uow:
            for index, record in enumerate(ordered):
                after = uow.customers.find(query.page_after(record))
                assert [c.id for c in after] == [c.id for c in ordered[index + 1 :]]
