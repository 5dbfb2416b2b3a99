"""The query spec's reference semantics: Query.matches and Query.apply."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.models import (
    ContactPerson,
    Customer,
    DecisionRole,
    Email,
    Interaction,
    LifecycleStage,
    Money,
    OrganisationProfile,
    PersonName,
    Phone,
    Purchase,
)
from crmcore.query import (
    And,
    Compare,
    Field,
    IsNull,
    Not,
    Op,
    Or,
    Order,
    Query,
    Search,
    decode_cursor,
    normalise_text,
    resolve_path,
    search_document,
)
from crmcore.serialization import from_dict, from_json, to_dict, to_json
from crmcore.testing import CUSTOMER_QUERIES, customer_queries
from crmcore.testing import strategies as cst
from crmcore.testing.data import sample_customers, sample_purchases

CN = dt.timezone(dt.timedelta(hours=8))


def person(cid: str, family: str = "张", given: str = "伟", **fields: object) -> Customer:
    return Customer.person_named(family=family, given=given, id=cid, **fields)


def ids(records: list[Customer]) -> list[str]:
    return [r.id for r in records]


# --------------------------------------------------------------------------- paths


def test_paths_are_checked_against_the_model() -> None:
    """An unknown field anywhere on a path is query.unknown_field, naming the known fields."""
    for path in ("surname", "person.name.surname", "phones.numbr", "display_name.x", ""):
        with pytest.raises(ValidationError) as info:
            Query(where=Compare(op=Op.EQ, path=path or "x.", value="a")).validate(Customer)
        assert info.value.codes == ("query.unknown_field",), path
    with pytest.raises(ValidationError) as info:
        Query(where=Field("person.nam") == "x").validate(Customer)
    assert "name" in str(info.value)
    assert info.value.problems[0].path == "$.where.path"


def test_resolved_paths_know_where_they_cross_tuples() -> None:
    """resolve_path reports tuple crossings and the leaf type."""
    assert not resolve_path(Customer, "person.name.family").many
    assert resolve_path(Customer, "person.name.family").leaf is str
    assert resolve_path(Customer, "tags").many
    role = resolve_path(Customer, "organisation.contact_persons.role")
    assert role.many
    assert role.leaf is DecisionRole
    assert resolve_path(Customer, "organisation.registered_capital.amount").leaf is Decimal


def test_comparing_a_model_is_refused() -> None:
    """Comparing a path that ends on a model is query.not_scalar; is_null is allowed."""
    with pytest.raises(ValidationError) as info:
        Query(where=Field("person.name") == "张伟").validate(Customer)
    assert info.value.codes == ("query.not_scalar",)
    Query(where=Field("person").is_null()).validate(Customer)


def test_operand_types_are_checked() -> None:
    """An operand of the wrong type for the field is query.value_invalid."""
    for where in (
        Field("display_name") == 3,
        Field("organisation.employee_count") == "many",
        Field("acquired_on") > "yesterday",
        Field("lifecycle_stage") == "astronaut",
        Field("phones.verified") == "yes",
        Field("person.birthday") == dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    ):
        with pytest.raises(ValidationError) as info:
            Query(where=where).validate(Customer)
        assert info.value.codes == ("query.value_invalid",), where


def test_operators_are_checked_against_the_field() -> None:
    """starts_with needs a string field and contains a path that crosses a tuple."""
    for where in (
        Field("organisation.employee_count").starts_with("1"),
        Field("display_name").contains("张"),
    ):
        with pytest.raises(ValidationError) as info:
            Query(where=where).validate(Customer)
        assert info.value.codes == ("query.operator_invalid",)


def test_none_and_floats_are_not_operands() -> None:
    """Compare refuses None (use IsNull) and floats (use Decimal)."""
    with pytest.raises(ValidationError):
        Compare(op=Op.EQ, path="grade", value=None)
    with pytest.raises(ValidationError):
        Field("organisation.employee_count") == 1.5  # noqa: B015
    with pytest.raises(ValidationError):
        Field("created_at") > dt.datetime(2020, 1, 1)  # noqa: B015  naive


def test_field_operators_build_filters() -> None:
    """Python operators on Field build the filter nodes; == None means is_null."""
    assert (Field("grade") == None) == IsNull(path="grade")  # noqa: E711
    assert (Field("grade") != None) == Not(filter=IsNull(path="grade"))  # noqa: E711
    a, b, c = Field("a") == 1, Field("b") == 2, Field("c") == 3
    assert (a & b & c) == And(filters=(a, b, c))
    assert (a | b | c) == Or(filters=(a, b, c))
    assert ~a == Not(filter=a)
    assert (Field("x") <= dt.date(2020, 1, 2)) == Compare(op=Op.LE, path="x", value="2020-01-02")


# --------------------------------------------------------------------------- semantics


def test_comparisons_with_none_values_are_false() -> None:
    """A None value satisfies no comparison (not even ne); only is_null matches it."""
    c = person("c1", grade=None)
    for where in (
        Field("grade") == "A",
        Field("grade") != "A",
        Field("grade") < "Z",
        Field("grade").in_(["A"]),
    ):
        assert not Query(where=where).matches(c), where
    assert Query(where=Field("grade").is_null()).matches(c)
    assert Query(where=~(Field("grade") == "A")).matches(c)


def test_paths_through_tuples_are_existential() -> None:
    """A comparison on a path crossing a tuple is true when any element satisfies it."""
    c = person("c1", phones=(Phone(number="+1"), Phone(number="+2")), tags=("a", "b"))
    assert Query(where=Field("phones.number") == "+2").matches(c)
    assert Query(where=Field("phones.number") != "+2").matches(c)
    assert not Query(where=~(Field("phones.number") == "+2")).matches(c)
    assert Query(where=Field("tags").contains("b")).matches(c)
    assert not Query(where=Field("tags").contains("c")).matches(c)
    empty = person("c2")
    assert Query(where=Field("tags").is_null()).matches(empty)
    assert Query(where=Field("phones.number").is_null()).matches(empty)
    assert not Query(where=Field("phones.number") != "+2").matches(empty)


def test_absent_models_yield_none() -> None:
    """A path through a None model (a person's organisation) yields None."""
    c = person("c1")
    assert Query(where=Field("organisation.contact_persons.role").is_null()).matches(c)
    assert not Query(where=Field("organisation.employee_count") < 10).matches(c)


def test_strings_compare_by_code_point() -> None:
    """Strings order by code point: uppercase before lowercase, Latin before CJK."""
    names = ["张伟", "Zoë", "anna", "Anna", "Émile", "Zoe", "王芳", "ＡＣＭＥ"]
    customers = [person(f"c{i}", display_name=n) for i, n in enumerate(names)]
    ordered = Query(order_by=("display_name",)).apply(customers)
    assert [c.display_name for c in ordered] == sorted(names)
    assert [c.display_name for c in ordered][:4] == ["Anna", "Zoe", "Zoë", "anna"]


def test_datetimes_compare_as_instants() -> None:
    """Datetimes in different offsets compare and sort by their UTC instant."""
    from crmcore.models import Provenance, SourceChannel

    def seen(cid: str, when: dt.datetime) -> Customer:
        return person(cid, provenance=Provenance(channel=SourceChannel.SURVEY, observed_at=when))

    a = seen("a", dt.datetime(2024, 1, 1, 9, tzinfo=CN))  # 01:00 UTC
    b = seen("b", dt.datetime(2024, 1, 1, 2, tzinfo=dt.UTC))
    c = seen("c", dt.datetime(2023, 12, 31, 20, tzinfo=dt.timezone(dt.timedelta(hours=-5))))
    ordered = Query(order_by=("provenance.observed_at",)).apply([a, b, c])
    assert ids(ordered) == ["a", "c", "b"]
    one_utc = dt.datetime(2024, 1, 1, 1, tzinfo=dt.UTC)
    assert Query(where=Field("provenance.observed_at") == one_utc).matches(a)
    assert Query(where=Field("provenance.observed_at") == "2024-01-01T01:00:00Z").matches(a)


def test_decimals_compare_numerically() -> None:
    """Decimals compare by value, whatever their exponent or the operand's form."""
    p = sample_purchases()[2]  # 19.90 EUR
    assert Query(where=Field("amount.amount") == Decimal("19.9")).matches(p)
    assert Query(where=Field("amount.amount") == "19.900").matches(p)
    assert Query(where=Field("amount.amount") > 19).matches(p)
    assert not Query(where=Field("amount.amount") > Decimal("19.90")).matches(p)


def test_enums_compare_by_value_string() -> None:
    """Enums compare and sort by their value string; members and strings are both accepted."""
    stages = [LifecycleStage.REPEAT, LifecycleStage.CLIENT, LifecycleStage.ADVOCATE]
    customers = [person(f"c{i}", lifecycle_stage=s) for i, s in enumerate(stages)]
    ordered = Query(order_by=("lifecycle_stage",)).apply(customers)
    assert [c.lifecycle_stage for c in ordered] == sorted(stages, key=lambda s: s.value)
    assert Query(where=Field("lifecycle_stage") == LifecycleStage.CLIENT).apply(customers) == [
        customers[1]
    ]
    assert Query(where=Field("lifecycle_stage") < "d").apply(customers) == [
        customers[1],
        customers[2],
    ]


def test_none_sorts_first_ascending_and_last_descending() -> None:
    """None sorts before every value ascending and after every value descending."""
    customers = [person("c1", grade="B"), person("c2"), person("c3", grade="A")]
    assert ids(Query(order_by=("grade",)).apply(customers)) == ["c2", "c3", "c1"]
    assert ids(Query(order_by=("-grade",)).apply(customers)) == ["c1", "c3", "c2"]


def test_id_breaks_ties() -> None:
    """Records equal on every ordering key come in ascending id order."""
    customers = [person(cid, grade="A") for cid in ("c3", "c1", "c2")]
    assert ids(Query(order_by=("-grade",)).apply(customers)) == ["c1", "c2", "c3"]


def test_ordering_across_a_tuple_is_refused() -> None:
    """Ordering by a path that crosses a tuple is query.order_invalid."""
    with pytest.raises(ValidationError) as info:
        Query(order_by=("phones.number",)).validate(Customer)
    assert info.value.codes == ("query.order_invalid",)


def test_order_strings() -> None:
    """'-path' orders descending, 'path' and '+path' ascending."""
    query = Query(order_by=("-a", "b", "+c"))
    assert query.order_by == (
        Order(path="a", descending=True),
        Order(path="b"),
        Order(path="c"),
    )


# --------------------------------------------------------------------------- search


def test_search_finds_phone_numbers_from_any_spelling() -> None:
    """Spaced, dashed and full-width digits find an E.164 number."""
    c = person("c1", phones=(Phone(number="+8613800138000"),))
    for text in ("138 0013 8000", "１３８００１３８０００", "138-0013-8000", "+86 138", "8000"):
        assert Query(where=Search(text=text)).matches(c), text
    assert not Query(where=Search(text="139 0013 8000")).matches(c)


def test_search_finds_chinese_names_from_their_characters_in_order() -> None:
    """A Chinese name is found from any of its characters, in order."""
    c = person("c1", family="张", given="伟明")
    for text in ("张伟", "张伟明", "伟明", "张明", "明", "张 伟"):
        assert Query(where=Search(text=text)).matches(c), text
    for text in ("明伟", "张三", "王"):
        assert not Query(where=Search(text=text)).matches(c), text


def test_search_is_case_and_width_insensitive() -> None:
    """Search folds case and full-width forms (NFKC + casefold)."""
    org = Customer.organisation_named(
        "Ａｃｍｅ Straße GmbH",
        id="o1",
        emails=(Email(address="Info@ACME.example"),),
        organisation=OrganisationProfile(
            legal_name="Ａｃｍｅ Straße GmbH",
            contact_persons=(
                ContactPerson(name=PersonName(family="Weber", given="Jonas"), id="p1"),
            ),
        ),
    )
    for text in ("acme", "ACME STRASSE", "info@acme", "jonas weber", "WEBER"):
        assert Query(where=Search(text=text)).matches(org), text


def test_search_document() -> None:
    """The search document holds normalised names and emails, and phone digit strings."""
    c = person(
        "c1",
        phones=(Phone(number="+86 138 0013 8000"),),
        emails=(Email(address="Zhang@Example.CN"),),
    )
    doc = search_document(c)
    assert "张伟" in doc.texts
    assert "zhang@example.cn" in doc.texts
    assert doc.digits == ("8613800138000",)
    assert normalise_text(" Ａ b\u3000C ") == "abc"


def test_search_is_for_customers_only() -> None:
    """Searching interactions is query.search_unsupported."""
    with pytest.raises(ValidationError) as info:
        Query(where=Search(text="x")).validate(Interaction)
    assert info.value.codes == ("query.search_unsupported",)


@settings(max_examples=50, deadline=None)
@given(
    digits=st.text(st.sampled_from("0123456789"), min_size=9, max_size=9),
    start=st.integers(min_value=0, max_value=8),
    length=st.integers(min_value=3, max_value=11),
    spelling=st.sampled_from(["plain", "spaced", "dashed", "fullwidth"]),
)
def test_search_finds_any_run_of_a_numbers_digits(
    digits: str, start: int, length: int, spelling: str
) -> None:
    """Any run of a mobile number's digits, however written, finds it."""
    number = f"+861{3}{digits}"
    national = number[3:]
    part = national[start : start + length]
    text = {
        "plain": part,
        "spaced": " ".join(part),
        "dashed": "-".join([part[:3], part[3:]]).strip("-"),
        "fullwidth": part.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    }[spelling]
    c = person("c1", phones=(Phone(number=number),))
    assert Query(where=Search(text=text)).matches(c)


@settings(max_examples=50, deadline=None)
@given(name=cst.cjk_names(), data=st.data())
def test_search_finds_cjk_names_from_subsequences(name: PersonName, data: st.DataObject) -> None:
    """Every in-order selection of a Chinese name's characters finds it."""
    full = name.display
    chosen = data.draw(st.lists(st.booleans(), min_size=len(full), max_size=len(full)))
    text = "".join(ch for ch, keep in zip(full, chosen, strict=True) if keep) or full[0]
    c = Customer.person_named(family=name.family, given=name.given, id="c1")
    assert Query(where=Search(text=text)).matches(c)


# --------------------------------------------------------------------------- apply and pages


@settings(max_examples=50, deadline=None)
@given(query=customer_queries())
def test_apply_is_filter_then_order_then_limit(query: Query) -> None:
    """apply() keeps exactly the matching records, totally ordered, cut at the limit."""
    customers = sample_customers()
    result = query.apply(customers)
    matching = [c for c in customers if query.matches(c)]
    compiled = query.compile(Customer)
    assert set(ids(result)) <= set(ids(matching))
    keys = [(*compiled.order_values(c), c.id) for c in result]
    assert all(compiled.compare(a, b) < 0 for a, b in itertools.pairwise(keys))
    expected_size = len(matching) if query.limit is None else min(query.limit, len(matching))
    assert len(result) == expected_size


@settings(max_examples=50, deadline=None)
@given(query=customer_queries())
def test_not_and_or_are_boolean(query: Query) -> None:
    """Not is the complement, And all, Or any, over every record."""
    if query.where is None:
        return
    where = query.where
    for c in sample_customers():
        base = Query(where=where).matches(c)
        assert Query(where=Not(filter=where)).matches(c) is (not base)
        assert Query(where=And(filters=(where, where))).matches(c) is base
        assert Query(where=Or(filters=(where,))).matches(c) is base


@settings(max_examples=50, deadline=None)
@given(query=customer_queries(), size=st.integers(min_value=1, max_value=6))
def test_pages_partition_the_result(query: Query, size: int) -> None:
    """Following cursors yields the unpaged result exactly once, in order."""
    customers = sample_customers()
    expected = query.unpaged().apply(customers)
    current: Query | None = attrs.evolve(query, limit=size, after=None)
    seen: list[Customer] = []
    while current is not None:
        page = current.apply(customers)
        seen.extend(page)
        current = current.next_page(page)
        assert len(seen) <= len(expected) + size
    assert ids(seen) == ids(expected)


def test_cursor_round_trip_and_validation() -> None:
    """A cursor decodes to its record's sort values; foreign or garbled cursors are refused."""
    query = Query(order_by=("-grade", "acquired_on"))
    record = sample_customers()[0]
    cursor = query.cursor_for(record)
    assert decode_cursor(attrs.evolve(query, after=cursor), Customer) == (
        "A",
        dt.date(2019, 3, 1),
        "c01",
    )
    for bad in ("garbage!", Query().cursor_for(record), "e30"):
        with pytest.raises(ValidationError) as info:
            attrs.evolve(query, after=bad).validate(Customer)
        assert info.value.codes == ("query.cursor_invalid",)


def test_limit_must_be_positive() -> None:
    """A limit of zero or less is refused when the query is built."""
    with pytest.raises(ValidationError):
        Query(limit=0)


def test_queries_on_other_models() -> None:
    """Queries work on any record model, with its own fields."""
    purchases = sample_purchases()
    refunds = Query(where=Field("amount.amount") < 0).apply(purchases)
    assert [p.id for p in refunds] == ["u02"]
    assert Query(where=Field("cost").is_null()).matches(
        Purchase(
            customer_id="c",
            purchased_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
            amount=Money.of("1", "CNY"),
            product="x",
        )
    )


# --------------------------------------------------------------------------- serialisation


@pytest.mark.parametrize("name", sorted(CUSTOMER_QUERIES))
def test_named_queries_round_trip_through_json(name: str) -> None:
    """Every query survives to_json/from_json unchanged (a tagged union on 'op')."""
    query = CUSTOMER_QUERIES[name]
    assert from_json(to_json(query), Query) == query


@settings(max_examples=50, deadline=None)
@given(query=customer_queries())
def test_random_queries_round_trip_through_dicts(query: Query) -> None:
    """Random queries survive to_dict/from_dict and mean the same afterwards."""
    again = from_dict(to_dict(query), Query)
    assert again == query
    customers = sample_customers()
    assert again.apply(customers) == query.apply(customers)


def test_malformed_query_data_is_a_validation_error() -> None:
    """Structuring a filter with an unknown op or missing fields is a ValidationError."""
    for data in (
        {"where": {"op": "like", "path": "x", "value": "y"}},
        {"where": {"op": "eq", "path": "x"}},
        {"order_by": [{"path": 3}]},
        {"limit": "ten"},
    ):
        with pytest.raises(ValidationError):
            from_dict(data, Query)
