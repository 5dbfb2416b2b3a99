"""The index set and each customer's index entries (storage/indexing.py)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore._fastpaths import set_fast_paths
from crmcore.errors import ValidationError
from crmcore.models import (
    Consent,
    ContactPerson,
    Customer,
    Email,
    FactCategory,
    LifecycleStage,
    OrganisationProfile,
    PersonName,
    Phone,
    ProfileFact,
)
from crmcore.query import resolve_path, sort_value
from crmcore.query.audience import reachable_keys
from crmcore.query.month_days import month_day_of
from crmcore.storage.indexing import (
    ABSENT_SUFFIX,
    DEFAULT_INDEXED_PATHS,
    MONTH_DAY_SUFFIX,
    REACHABLE_PATH,
    EntryRow,
    IndexedPath,
    IndexEntry,
    IndexSet,
    audience_entries,
    index_form,
    month_day,
    utc_text,
)
from crmcore.testing.strategies import aware_datetimes, customers, dates

DEFAULTS = IndexSet.of()


def _sign(a: Any, b: Any) -> int:
    return int(a > b) - int(a < b)


# --------------------------------------------------------------------------- entries


@given(customer=customers())
def test_entries_are_the_non_none_values_in_index_form(customer: Customer) -> None:
    """Each path's entries are its non-None values in index form, at their value positions."""
    entries = DEFAULTS.entries(customer)
    for indexed in DEFAULTS.paths:
        values = resolve_path(Customer, indexed.path).values(customer)
        mine = [e for e in entries if e.path == indexed.path]
        assert [(e.position, e.value) for e in mine] == [
            (position, index_form(value))
            for position, value in enumerate(values)
            if value is not None
        ]
        for entry in mine:
            assert isinstance(entry.value, int if indexed.numeric else str)
    paths = {e.path.removesuffix(MONTH_DAY_SUFFIX) for e in entries} - {REACHABLE_PATH}
    assert paths <= set(DEFAULT_INDEXED_PATHS)


@given(customer=customers())
def test_month_day_entries_follow_their_dates(customer: Customer) -> None:
    """Each date entry has a ``#month_day`` entry at the same position holding its MM-DD."""
    entries = DEFAULTS.entries(customer)
    for indexed in DEFAULTS.paths:
        dates_at = {e.position: e.value for e in entries if e.path == indexed.path}
        days_at = {
            e.position: e.value for e in entries if e.path == indexed.path + MONTH_DAY_SUFFIX
        }
        if not indexed.month_day:
            assert days_at == {}
            continue
        assert set(days_at) == set(dates_at)
        for position, text in dates_at.items():
            assert isinstance(text, str)
            assert days_at[position] == text[5:10]  # "YYYY-MM-DD" -> "MM-DD"


@given(customer=customers())
def test_entries_by_hand(customer: Customer) -> None:
    """Spelled out for a few paths: tags, phone numbers, fact categories, birthdays."""
    entries = DEFAULTS.entries(customer)

    def of(path: str) -> list[tuple[int, str | int]]:
        return [(e.position, e.value) for e in entries if e.path == path]

    assert of("tags") == list(enumerate(customer.tags))
    assert of("phones.number") == [(i, p.number) for i, p in enumerate(customer.phones)]
    assert of("facts.category") == [(i, f.category.value) for i, f in enumerate(customer.facts)]
    birthday = customer.person.birthday if customer.person is not None else None
    assert of("person.birthday") == ([] if birthday is None else [(0, birthday.isoformat())])
    assert of("person.birthday#month_day") == (
        [] if birthday is None else [(0, f"{birthday.month:02d}-{birthday.day:02d}")]
    )


def test_none_values_keep_their_positions() -> None:
    """A contact person without a birthday takes a position but has no entry."""
    people = tuple(
        ContactPerson(id=f"cp{i}", name=PersonName(family="李", given="娜"), birthday=day)
        for i, day in enumerate([None, dt.date(1980, 2, 29), None, dt.date(1975, 12, 31)])
    )
    org = Customer.organisation_named(
        "ACME GmbH",
        organisation=OrganisationProfile(legal_name="ACME GmbH", contact_persons=people),
        phones=(Phone(number="+8613800138000"),),
        facts=(ProfileFact(category=FactCategory.PREFERENCE, key="茶", value="龙井"),),
    )
    entries = DEFAULTS.entries(org)
    assert [e for e in entries if e.path.startswith("organisation.contact_persons.birthday")] == [
        IndexEntry("organisation.contact_persons.birthday", 1, "1980-02-29"),
        IndexEntry("organisation.contact_persons.birthday#month_day", 1, "02-29"),
        IndexEntry("organisation.contact_persons.birthday", 3, "1975-12-31"),
        IndexEntry("organisation.contact_persons.birthday#month_day", 3, "12-31"),
    ]
    assert IndexEntry("facts.category", 0, "preference") in entries
    assert IndexEntry("facts.key", 0, "茶") in entries
    assert not any(e.path.startswith("person.") for e in entries)


def test_declared_paths_add_entries() -> None:
    """A declared path (a fact's value, a boolean) gets entries in its index form."""
    index_set = IndexSet.of(["facts.value", "phones.primary", "lifecycle_stage"])
    assert index_set.declared == ("facts.value", "phones.primary", "lifecycle_stage")
    customer = Customer.person_named(
        family="张",
        given="伟",
        lifecycle_stage=LifecycleStage.REPEAT,
        phones=(Phone(number="+8613800138000", primary=True), Phone(number="+8613900139000")),
        facts=(ProfileFact(category=FactCategory.PREFERENCE, key="茶", value="龙井"),),
    )
    entries = index_set.entries(customer)
    assert [(e.position, e.value) for e in entries if e.path == "phones.primary"] == [
        (0, 1),
        (1, 0),
    ]
    assert [e.value for e in entries if e.path == "lifecycle_stage"] == ["repeat"]
    assert [e.value for e in entries if e.path == "facts.value"] == ["龙井"]
    primary = index_set.get("phones.primary")
    assert primary is not None
    assert primary.numeric
    assert not primary.month_day
    assert index_set.get("phones.label") is None


# --------------------------------------------------------------------------- index form order


@given(a=st.text(), b=st.text())
def test_text_order_is_code_point_order(a: str, b: str) -> None:
    """Text keeps Python's code point order (astral characters after the BMP)."""
    assert _sign(index_form(a), index_form(b)) == _sign(a, b)


def test_text_order_examples() -> None:
    """ "Anna" < "Zoe" < "anna" < "张" < "𠮷" (code points, not a collation, not UTF-16)."""
    words = ["𠮷", "张", "anna", "Zoe", "Anna", "ｱ"]
    assert sorted(words, key=index_form) == ["Anna", "Zoe", "anna", "张", "ｱ", "𠮷"]


@given(a=aware_datetimes(), b=aware_datetimes())
def test_datetimes_compare_as_instants(a: dt.datetime, b: dt.datetime) -> None:
    """Two datetimes in any offsets compare in index form as their instants do."""
    assert _sign(index_form(a), index_form(b)) == _sign(sort_value(a), sort_value(b))
    assert (index_form(a) == index_form(b)) is (a == b)
    assert len(utc_text(a)) == len("2026-03-01T01:00:00.000000")


def test_same_instant_in_two_offsets_is_one_entry() -> None:
    """09:00+08:00 and 20:00-05:00 the day before are one instant and one index text."""
    beijing = dt.datetime(2026, 3, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    new_york = dt.datetime(2026, 2, 28, 20, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert index_form(beijing) == index_form(new_york) == "2026-03-01T01:00:00.000000"
    later = dt.datetime(2026, 3, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert utc_text(later) > utc_text(beijing)  # 13:00Z: later, though 08:00 < 09:00


@given(a=dates(), b=dates())
def test_dates_compare_as_dates(a: dt.date, b: dt.date) -> None:
    """Dates keep date order in ISO text."""
    assert _sign(index_form(a), index_form(b)) == _sign(a, b)


@given(
    a=st.integers(min_value=-(10**18), max_value=10**18) | st.booleans(),
    b=st.integers(min_value=-(10**18), max_value=10**18) | st.booleans(),
)
def test_integers_and_booleans_compare_as_python(a: int, b: int) -> None:
    """Integers stay integers; True is 1 and False is 0, as in Python's comparisons."""
    assert type(index_form(a)) is int
    assert _sign(index_form(a), index_form(b)) == _sign(a, b)
    assert (index_form(a) == index_form(b)) is (a == b)


@given(a=st.sampled_from(list(LifecycleStage)), b=st.sampled_from(list(FactCategory)))
def test_enums_are_their_value_strings(a: enum.Enum, b: enum.Enum) -> None:
    """An enum member is its value string, as the evaluator compares it."""
    assert index_form(a) == sort_value(a) == a.value
    assert _sign(index_form(a), index_form(b)) == _sign(sort_value(a), sort_value(b))


@given(day=dates())
def test_month_day_is_the_queries_month_day(day: dt.date) -> None:
    """indexing.month_day writes what the month_day filter compares (MM-DD)."""
    assert month_day(day) == month_day_of(day) == day.strftime("%m-%d")


# --------------------------------------------------------------------------- the set


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("person.surname", "has no field"),
        ("tag", "has no field"),
        ("organisation.registered_capital.amount", "Decimal"),
        ("person", "PersonProfile"),
        ("phones", "Phone"),
        ("organisation.registered_capital", "Money"),
        ("phones.number.digits", "has no fields"),
    ],
)
def test_paths_that_cannot_be_indexed(path: str, why: str) -> None:
    """An unknown path, a Decimal path or a model path is index.path_invalid at $.path."""
    with pytest.raises(ValidationError) as info:
        IndexSet.of([path])
    [problem] = info.value.problems
    assert (problem.code, problem.path) == ("index.path_invalid", "$.path")
    assert path in problem.message
    assert why in problem.message
    assert not problem.message.startswith(f"{path!r}: {path!r}")  # named once, not twice
    with pytest.raises(ValidationError):
        IndexedPath.of(path)


def test_one_string_is_not_a_list_of_paths() -> None:
    """IndexSet.of("facts.value") is type.invalid (it would be a list of characters)."""
    with pytest.raises(ValidationError) as info:
        IndexSet.of("facts.value")
    assert info.value.codes == ("type.invalid",)


def test_defaults_come_first_and_repeats_are_ignored() -> None:
    """The default paths come first, in order; a declared default or repeat is not added twice."""
    index_set = IndexSet.of(["tags", "facts.value", "facts.value", "notes"])
    assert tuple(p.path for p in index_set.paths) == (
        *DEFAULT_INDEXED_PATHS,
        "facts.value",
        "notes",
    )
    assert index_set.declared == ("facts.value", "notes")
    assert IndexSet.of() == DEFAULTS
    assert DEFAULTS.declared == ()


def test_the_defaults_are_indexable_with_the_right_kinds() -> None:
    """Every default path resolves; dates have month-day entries; ints and bools are numeric."""
    for path in DEFAULT_INDEXED_PATHS:
        indexed = DEFAULTS.get(path)
        assert indexed is not None
        assert indexed.path == path
        leaf = resolve_path(Customer, path).leaf
        assert indexed.month_day is (leaf is dt.date)
        assert indexed.numeric is (leaf in (int, bool))
    dated = {p.path for p in DEFAULTS.paths if p.month_day}
    assert dated == {
        "person.birthday",
        "person.family_members.birthday",
        "organisation.contact_persons.birthday",
        "organisation.founded_on",
        "key_dates.date",
    }


def test_a_datetime_path_has_no_month_day() -> None:
    """created_at is indexed as UTC text, without month-day entries."""
    index_set = IndexSet.of(["created_at"])
    customer = Customer.person_named(
        family="张",
        given="伟",
        created_at=dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        updated_at=dt.datetime(2027, 1, 2, tzinfo=dt.UTC),
    )
    assert [(e.path, e.value) for e in index_set.entries(customer) if "created" in e.path] == [
        ("created_at", "2027-01-01T04:30:00.000000")
    ]


def test_entries_do_not_depend_on_an_unrelated_change() -> None:
    """Changing a field no indexed path reads leaves the entries as they were."""
    customer = Customer.person_named(family="张", given="伟", tags=("vip", "重点客户"))
    assert DEFAULTS.entries(attrs.evolve(customer, notes="改了备注")) == DEFAULTS.entries(customer)


WIDE = IndexSet.of(
    [
        "facts.value",
        "phones.verified",
        "phones.consents.recorded_at",
        "organisation.contact_persons.phones.number",
        "organisation.contact_persons.emails.verified",
        "person.family_members.name.family",
    ]
)


@settings(max_examples=150, deadline=None)
@given(customer=customers())
def test_the_generated_walker_equals_the_path_resolver(customer: Customer) -> None:
    """The fast path's entries are the reference's, in order, for nested and optional paths."""
    previous = set_fast_paths(True)
    try:
        fast = [e for e in WIDE.entries(customer) if e.path != REACHABLE_PATH]
    finally:
        set_fast_paths(previous)
    reference = WIDE.reference_entries(customer)
    assert fast == reference
    assert [type(e.value) for e in fast] == [type(e.value) for e in reference]


@settings(max_examples=150, deadline=None)
@given(customer=customers())
def test_the_audience_entries_are_the_purpose_keys_of_reachable_keys(customer: Customer) -> None:
    """Skipping customers without any consent decision loses no ``@reachable`` entry."""
    keys = sorted(key for key in reachable_keys(customer) if ":" in key)
    assert audience_entries(customer) == [
        (REACHABLE_PATH, position, key) for position, key in enumerate(keys)
    ]
    assert [e for e in DEFAULTS.entries(customer) if e.path == REACHABLE_PATH] == [
        IndexEntry(REACHABLE_PATH, position, key) for position, key in enumerate(keys)
    ]


def test_a_consent_on_an_email_alone_gives_its_audience_entry() -> None:
    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    granted = Email(
        address="wang.fang@example.cn",
        consents=(Consent(purpose="marketing", granted=True, recorded_at=at),),
    )
    guest = Customer.person_named(family="王", given="芳", emails=(granted,))
    assert audience_entries(guest) == [(REACHABLE_PATH, 0, "email:marketing")]
    assert audience_entries(attrs.evolve(guest, emails=())) == []


@settings(max_examples=100, deadline=None)
@given(customer=customers())
def test_entry_tuples_are_the_entries_with_fast_paths_on_and_off(customer: Customer) -> None:
    """What the SQL storage writes (tuples) is the entries, by the walker and by the reference."""
    previous = set_fast_paths(True)
    try:
        fast = WIDE.entry_tuples(customer)
    finally:
        set_fast_paths(previous)
    set_fast_paths(False)
    try:
        reference = WIDE.entry_tuples(customer)
    finally:
        set_fast_paths(previous)
    assert fast == reference
    assert fast == [(e.path, e.position, e.value) for e in WIDE.entries(customer)]


WIDE_DEDUPE = IndexSet.of([*WIDE.declared, "@dedupe"])


@settings(max_examples=100, deadline=None)
@given(customer=customers(), limit=st.sampled_from([1, 3, 255]))
def test_entry_rows_are_the_entries_with_fast_paths_on_and_off(
    customer: Customer, limit: int
) -> None:
    """The generated rows are the entries, cut at the text limit, numbers apart, in order."""
    for index_set in (WIDE, WIDE_DEDUPE):
        previous = set_fast_paths(True)
        try:
            fast = index_set.entry_rows([customer, customer], limit)
        finally:
            set_fast_paths(previous)
        set_fast_paths(False)
        try:
            reference = index_set.entry_rows([customer, customer], limit)
        finally:
            set_fast_paths(previous)
        expected: list[EntryRow] = []
        for entry in index_set.entries(customer):
            value = entry.value
            if isinstance(value, int):
                expected.append((customer.id, entry.path, entry.position, None, None, value))
            elif len(value) > limit:
                row = (customer.id, entry.path, entry.position, value[:limit], value, None)
                expected.append(row)
            else:
                expected.append((customer.id, entry.path, entry.position, value, None, None))
        assert fast == reference
        assert [r for r in fast if not r[1].endswith(ABSENT_SUFFIX)] == expected * 2
        present = {entry.path for entry in index_set.entries(customer)}
        absent = [
            (customer.id, p.path + ABSENT_SUFFIX, 0, customer.kind.value, None, None)
            for p in index_set.paths
            if not p.resolved.many
            and p.path not in present
            and p.profile_kind in (None, customer.kind.value)
        ]
        assert [r for r in fast if r[1].endswith(ABSENT_SUFFIX)] == absent * 2
        assert [type(v) for row in fast for v in row] == [type(v) for row in reference for v in row]


def test_entry_rows_cut_a_long_cjk_text_and_keep_it_whole() -> None:
    long_tag = "重点客户" * 100  # 400 characters
    customer = Customer.person_named(family="王", given="芳", tags=("vip", long_tag))
    previous = set_fast_paths(True)
    try:
        rows = [r for r in DEFAULTS.entry_rows([customer], 255) if r[1] == "tags"]
    finally:
        set_fast_paths(previous)
    assert rows == [
        (customer.id, "tags", 0, "vip", None, None),
        (customer.id, "tags", 1, long_tag[:255], long_tag, None),
    ]


def test_entry_rows_mark_each_absent_single_valued_path_where_its_entry_would_be() -> None:
    """An organisation has no family name: a marker row; a person with one has none."""
    organisation = Customer.organisation_named("上海华通贸易有限公司")
    person = Customer.person_named(family="王", given="芳")
    for fast in (True, False):
        previous = set_fast_paths(fast)
        try:
            org_rows = DEFAULTS.entry_rows([organisation], 255)
            person_rows = DEFAULTS.entry_rows([person], 255)
        finally:
            set_fast_paths(previous)
        # The organisation has no person profile: no marker, its kind says it all.
        assert not any(r[1] == "person.name.family" + ABSENT_SUFFIX for r in org_rows)
        assert (organisation.id, "grade#absent", 0, "organisation", None, None) in org_rows
        assert not any(r[1] == "tags" + ABSENT_SUFFIX for r in org_rows)
        assert (person.id, "person.name.family", 0, "王", None, None) in person_rows
        assert not any(r[1] == "person.name.family" + ABSENT_SUFFIX for r in person_rows)
        assert (person.id, "grade#absent", 0, "person", None, None) in person_rows
        assert not any(r[1] == "organisation.legal_name#absent" for r in person_rows)
