"""Imports that do not wipe desk data, on every backend: merge mode, natural keys, the report."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from tests.integration._stores import BACKENDS, open_store

from crmcore.errors import ValidationError
from crmcore.models import (
    ChangeOperation,
    Customer,
    Email,
    FactCategory,
    Identifier,
    IdentifierKind,
    Phone,
    ProfileFact,
)
from crmcore.rules.verification import NormalisationPipeline
from crmcore.storage import ImportOutcome, ImportStatus, Store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, sql_database: Callable[[str], str]) -> Iterator[Store]:
    yield from open_store(
        request, sql_database, normaliser=NormalisationPipeline(default_region="CN")
    )


TABOO = ProfileFact(category=FactCategory.TABOO, key="food", value="不吃猪肉")


def _desk_customer(store: Store) -> Customer:
    """A guest the front desk enriched: an email, a taboo, tags and a labelled phone."""
    guest = Customer.person_named(
        family="张",
        given="伟",
        id="g1",
        tags=("vip", "素食"),
        phones=(Phone(number="+8613800138000", label="手机", primary=True),),
        emails=(Email(address="zhang.wei@example.com", primary=True),),
        facts=(TABOO,),
    )
    with store.unit_of_work(actor="desk") as uow:
        saved = uow.customers.add(guest)
        uow.commit()
    return saved


FEED_ROW = {
    "id": "g1",
    "kind": "person",
    "display_name": "张伟",
    "person": {"name": {"family": "张", "given": "伟"}},
    "phones": [{"number": "138 0013 8000"}, {"number": "010-62345678"}],
}


def test_a_feed_row_keeps_what_the_desk_added(store: Store) -> None:
    """A row with only name and phones keeps the email, taboo, tags and the phone's label."""
    saved = _desk_customer(store)
    report = store.import_customers([FEED_ROW], source="nightly-feed")
    assert report.updated == 1
    with store.unit_of_work() as uow:
        after = uow.customers.get("g1")
        history = uow.customers.history("g1")
    assert after.emails == saved.emails
    assert after.facts == saved.facts
    assert after.tags == saved.tags
    assert after.phones[0] == saved.phones[0]  # same number, by E.164: the stored phone
    assert [p.number for p in after.phones] == ["+8613800138000", "+861062345678"]
    last = history[-1]
    assert last.operation is ChangeOperation.UPDATED
    assert {c.path.split("]")[0] + "]" for c in last.changes} == {"$.phones[1]"}


def test_replace_mode_is_todays_full_replacement(store: Store) -> None:
    """mode="replace" replaces the customer: the desk's email, taboo and tags are gone."""
    _desk_customer(store)
    store.import_customers([FEED_ROW], mode="replace")
    with store.unit_of_work() as uow:
        after = uow.customers.get("g1")
    assert (after.emails, after.facts, after.tags) == ((), (), ())


def test_facts_merge_by_category_and_key_and_tags_unite(store: Store) -> None:
    """A fact with a stored category and key updates it (same id); tags are united."""
    _desk_customer(store)
    row = {
        "id": "g1",
        "kind": "person",
        "display_name": "张伟",
        "person": {"name": {"family": "张", "given": "伟"}},
        "tags": ["常客"],
        "facts": [
            {"category": "taboo", "key": "food", "value": "不吃牛肉"},
            {"category": "preference", "key": "room", "value": "高楼层"},
        ],
        "emails": [{"address": "Zhang.Wei@Example.com"}],
    }
    assert store.import_customers([row]).updated == 1
    with store.unit_of_work() as uow:
        after = uow.customers.get("g1")
    assert [(f.id == TABOO.id, f.key, f.value) for f in after.facts] == [
        (True, "food", "不吃牛肉"),
        (False, "room", "高楼层"),
    ]
    assert set(after.tags) == {"常客", "素食", "vip"}
    assert len(after.emails) == 1  # the same address, in another case


def test_a_model_row_merges_the_fields_that_differ_from_the_defaults(store: Store) -> None:
    """A Customer object with only a name and a grade changes the grade and keeps the rest."""
    saved = _desk_customer(store)
    row = Customer.person_named(family="张", given="伟", id="g1", grade="A")
    assert store.import_customers([row]).updated == 1
    with store.unit_of_work() as uow:
        after = uow.customers.get("g1")
    assert after.grade == "A"
    assert (after.phones, after.emails, after.facts, after.tags) == (
        saved.phones,
        saved.emails,
        saved.facts,
        saved.tags,
    )


def test_re_importing_the_same_row_is_unchanged(store: Store) -> None:
    """A merged row that changes nothing is unchanged: no version, no history record."""
    _desk_customer(store)
    store.import_customers([FEED_ROW])
    report = store.import_customers([FEED_ROW])
    assert report.unchanged == 1
    with store.unit_of_work() as uow:
        assert len(uow.customers.history("g1")) == 2


CARD = Identifier(kind=IdentifierKind.MEMBERSHIP_CARD, value="M-0001", issuer="hotel")


def _members(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.customers.add(
            Customer.person_named(family="李", given="娜", id="m1", identifiers=(CARD,))
        )
        uow.customers.add(
            Customer.person_named(
                family="王",
                given="芳",
                id="m2",
                phones=(Phone(number="+8613900139000"),),
                emails=(Email(address="wang@example.com"),),
            )
        )
        uow.commit()


def _row(**fields: object) -> dict[str, object]:
    return {"kind": "person", "display_name": "客人", "person": {}, **fields}


def test_rows_match_stored_customers_by_natural_keys(store: Store) -> None:
    """match_on finds a row's stored customer by membership card, phone or email."""
    _members(store)
    rows = [
        _row(grade="A", identifiers=[{"kind": "membership_card", "value": "M-0001"}]),
        _row(grade="B", phones=[{"number": "139 0013 9000"}]),
        _row(grade="C", emails=[{"address": "wang@example.com"}]),
        _row(grade="D", phones=[{"number": "13700137000"}]),
    ]
    report = store.import_customers(
        rows, match_on=("identifier:membership_card", "phone", "email"), batch_size=2
    )
    assert [(o.status, o.id, o.version) for o in report.outcomes][:3] == [
        (ImportStatus.UPDATED, "m1", 2),
        (ImportStatus.UPDATED, "m2", 2),
        # m2 again, named by a row of the batch before: applied after it
        (ImportStatus.UPDATED, "m2", 3),
    ]
    assert report.outcomes[3].status is ImportStatus.CREATED
    with store.unit_of_work() as uow:
        assert uow.customers.get("m2").grade == "C"
        m1 = uow.customers.get("m1")
        assert m1.grade == "A"
        assert m1.person is not None
        assert m1.person.name is not None
        assert m1.person.name.family == "李"  # absent fields stay
        assert m1.identifiers == (CARD,)
        assert uow.customers.count() == 3


@pytest.mark.parametrize("batch_size", [1, 100])
def test_rows_naming_one_stored_customer_all_apply_in_input_order(
    store: Store, batch_size: int
) -> None:
    """Rows of one import matching one stored customer each apply, in order, each recorded."""
    _members(store)
    rows = [
        _row(grade="B", tags=["早餐"], phones=[{"number": "139 0013 9000"}]),
        _row(grade="C", emails=[{"address": "wang@example.com"}], notes="住店"),
        _row(grade="B", phones=[{"number": "+86 139 0013 9000"}]),  # changes nothing
        _row(grade="D", phones=[{"number": "13900139000"}], version=1),  # stale now
        _row(tags=["晚餐"], phones=[{"number": "13900139000"}]),
    ]
    report = store.import_customers(rows, match_on="phone", batch_size=batch_size)
    assert [(o.status, o.id, o.version) for o in report.outcomes] == [
        (ImportStatus.UPDATED, "m2", 2),
        (ImportStatus.CREATED, report.outcomes[1].id, 1),  # no phone: the email is no key
        (ImportStatus.UNCHANGED, "m2", 2),
        (ImportStatus.REJECTED, "m2", None),
        (ImportStatus.UPDATED, "m2", 3),
    ]
    assert [p.code for p in report.outcomes[3].problems] == ["storage.conflict"]
    with store.unit_of_work() as uow:
        m2 = uow.customers.get("m2")
        history = uow.customers.history("m2")
    assert (m2.version, m2.grade, m2.tags) == (3, "B", ("早餐", "晚餐"))
    assert [(h.operation, h.version) for h in history] == [
        (ChangeOperation.CREATED, 1),
        (ChangeOperation.UPDATED, 2),
        (ChangeOperation.UPDATED, 3),
    ]
    assert {c.path for c in history[1].changes} >= {"$.grade", "$.tags[0]"}
    assert [(c.path, c.new) for c in history[2].changes] == [("$.tags[1]", '"晚餐"')]


def test_an_identifier_key_may_name_its_issuer(store: Store) -> None:
    """identifier:<kind>:<issuer> matches only identifiers of that issuer."""
    _members(store)
    card = [{"kind": "membership_card", "value": "M-0001", "issuer": "shop"}]
    report = store.import_customers(
        [_row(identifiers=card)], match_on="identifier:membership_card:hotel"
    )
    assert report.created == 1


def test_an_ambiguous_match_is_rejected_never_guessed(store: Store) -> None:
    """A phone two stored customers share rejects the row with import.match_ambiguous."""
    with store.unit_of_work() as uow:
        for cid in ("s1", "s2"):
            uow.customers.add(
                Customer.person_named(
                    family="赵", given=cid, id=cid, phones=(Phone(number="+8613800138000"),)
                )
            )
        uow.commit()
    report = store.import_customers(
        [_row(grade="A", phones=[{"number": "13800138000"}])], match_on=["phone"]
    )
    [outcome] = report.outcomes
    assert outcome.status is ImportStatus.REJECTED
    assert [p.code for p in outcome.problems] == ["import.match_ambiguous"]
    with store.unit_of_work() as uow:
        assert {c.grade for c in uow.customers.stream()} == {None}


def test_an_unknown_match_key_is_refused() -> None:
    """match_on="fax" is refused with import.match_key_invalid before anything is read."""
    from crmcore.storage import connect

    with connect("memory://") as store, pytest.raises(ValidationError) as raised:
        store.import_customers([], match_on=["fax"])
    assert raised.value.codes == ("import.match_key_invalid",)


def test_on_outcome_gets_input_order_across_batches(store: Store) -> None:
    """Accepted and rejected records, over several batches, reach on_outcome in input order."""
    rows: list[object] = []
    for i in range(11):
        if i % 3 == 1:
            rows.append({"kind": "robot"})
        else:
            rows.append(_row(id=f"o{i}", phones=[{"number": "13800138000"}]))
    rows.append(_row(id="o0"))  # a repeated id
    seen: list[ImportOutcome] = []
    report = store.import_customers(rows, batch_size=2, on_outcome=seen.append)  # type: ignore[arg-type]
    assert [o.index for o in seen] == list(range(12))
    assert report.total == 12


def test_warnings_reach_the_outcome(store: Store) -> None:
    """A phone kept as typed and flagged invalid is a warning in its record's outcome."""
    report = store.import_customers([_row(id="w1", phones=[{"number": "12345"}])])
    [outcome] = report.outcomes
    assert outcome.status is ImportStatus.CREATED
    assert ("phone.invalid", "$.phones[0].number") in [(w.code, w.path) for w in outcome.warnings]
    assert all(w.severity == "warning" for w in outcome.warnings)


def test_a_merge_giving_an_impossible_customer_is_rejected(store: Store) -> None:
    """A row of the other kind merged into a person is rejected with the model's problems."""
    _desk_customer(store)
    row = {"id": "g1", "kind": "organisation", "organisation": {"legal_name": "星辰"}}
    [outcome] = store.import_customers([row]).outcomes
    assert outcome.status is ImportStatus.REJECTED
    assert outcome.problems
    with store.unit_of_work() as uow:
        assert uow.customers.get("g1").kind.value == "person"
