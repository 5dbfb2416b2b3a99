"""Duplicate detection over a store: blocking in the database or by the pure rule, the same.

Every backend (memory blocks over a streamed read; SQLite, PostgreSQL and MariaDB
self-join the ``@dedupe`` index entries) must return exactly what the pure rules return
over the same customers: the candidate pairs with their shared keys, the blocking
report with what the cap cut, and the whole batch check (model, explained pairs,
groups). The customers come from the synthetic generator (typos, swapped names,
full-width and local phones, traditional characters and pinyin), with organisations
sharing phones with people and identifiers too long for the index's text column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.integration._stores import BACKENDS
from tests.unit.dedupe._synthetic import generate

from crmcore._fastpaths import set_fast_paths
from crmcore.errors import InvalidArgument
from crmcore.models import (
    Customer,
    Email,
    Identifier,
    IdentifierKind,
    Phone,
    PostalAddress,
    replace,
)
from crmcore.rules import dedupe as rules
from crmcore.rules.dedupe import BlockingPass, BlockingSpec
from crmcore.storage import Store, connect, dedupe
from crmcore.storage.ports import DedupeCandidates

LONG = "Ｘ" + "9" * 300  # a key longer than the index's text_value column


@pytest.fixture(params=BACKENDS)
def make_store(
    request: pytest.FixtureRequest, sql_database: Callable[[str], str]
) -> Iterator[Callable[[list[Customer]], Store]]:
    """Open a new store on the parametrised backend (``@dedupe`` indexed) holding customers."""
    dialect = str(request.param)
    opened: list[Store] = []

    def make(customers: list[Customer]) -> Store:
        while opened:
            opened.pop().close()
        if dialect == "memory":
            store = connect("memory://", normaliser=None)
        else:
            store = connect(sql_database(dialect), normaliser=None, indexes=["@dedupe"])
        opened.append(store)
        report = store.import_customers(customers)
        assert report.rejected == 0, report
        return store

    yield make
    for store in opened:
        store.close()


def _extras(count: int) -> list[Customer]:
    """Organisations sharing a phone with people, people sharing a very long id, near ids,
    households whose postcodes differ by two swapped digits."""
    out = [
        Customer.organisation_named(
            f"北京茶叶有限公司{i % 2}", id=f"o{i}", phones=(Phone(number="+8613800138000"),)
        )
        for i in range(count)
    ]
    long_id = (Identifier(kind=IdentifierKind.MEMBERSHIP_CARD, value=LONG),)
    out += [
        Customer.person_named(family="张", given="伟", id=f"x{i}", identifiers=long_id)
        for i in range(count)
    ]
    out += [
        Customer.person_named(family="Zhang", given="Wei", id=f"y{i}",
                              phones=(Phone(number="+8613800138000"),))
        for i in range(count % 3)
    ]  # fmt: skip
    out += [
        Customer.person_named(
            family=("Gaskin", "Stubbs")[i % 2],
            given="Kirra",
            id=f"z{i}",
            addresses=(
                PostalAddress(
                    country="AU",
                    postal_code=("6085", "6058")[i % 2],
                    street_lines=("Minchin Street 11",),
                ),
            ),
        )
        for i in range(count)
    ]  # fmt: skip  (a postcode with two digits swapped: address_sorted alone)
    near = ("4178304", "4173804", "11010119900307123X", "11010119900307124X")
    out += [
        Customer.person_named(
            family="Tanaka",
            given="Yui",
            id=f"t{i}",
            identifiers=(Identifier(kind=IdentifierKind.NATIONAL_ID, value=near[i % 4]),),
            emails=(Email(address=("yui.tanaka@example.jp", "yui.tanaka@exmaple.jp")[i % 2]),),
        )
        for i in range(count)
    ]  # fmt: skip  (ids one typo apart, an email with a domain typo: the near passes)
    return out


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Customer], BlockingSpec]:
    """Damaged synthetic customers plus extras, and a blocking spec (small caps too)."""
    people = draw(st.integers(0, 25))
    data = generate(people, seed=draw(st.integers(0, 10_000)), dup_rate=0.5)
    customers = [*data.customers, *_extras(draw(st.integers(0, 4)))]
    passes = draw(
        st.lists(st.sampled_from(list(BlockingPass)), min_size=1, unique=True)
        | st.just(list(BlockingPass))
    )
    cap = draw(st.sampled_from([2, 3, 5, 100]))
    return customers, BlockingSpec(passes=tuple(passes), max_block_size=cap)


def _stored(store: Store) -> list[Customer]:
    with store.unit_of_work() as uow:
        return list(uow.customers.stream())


def _pure_candidates(customers: list[Customer], spec: BlockingSpec) -> rules.Candidates:
    keyed = [(c.id, rules.blocking_keys(c, spec=spec)) for c in customers]
    return rules.candidate_pairs(keyed, max_block_size=spec.max_block_size)


def _answers_in_database(store: Store, spec: BlockingSpec) -> bool:
    tx = store.backend.begin()
    try:
        return isinstance(tx, DedupeCandidates) and tx.dedupe_candidates(spec) is not None
    finally:
        tx.rollback()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_candidates_and_batch_check_equal_the_pure_rules(
    make_store: Callable[[list[Customer]], Store], case: tuple[list[Customer], BlockingSpec]
) -> None:
    """Pairs, shared keys, report (cuts included) and the whole result equal the pure rule's."""
    customers, spec = case
    store = make_store(customers)
    stored = _stored(store)
    assert dedupe.candidates(store, spec) == _pure_candidates(stored, spec)
    expected = rules.find_duplicates(stored, blocking=spec, sample_pairs=300, seed=3)
    assert dedupe.find_duplicates(store, blocking=spec, sample_pairs=300, seed=3) == expected


def test_the_sql_storage_blocks_inside_the_database(
    make_store: Callable[[list[Customer]], Store],
) -> None:
    """With ``@dedupe`` declared the SQL transaction answers itself; memory falls back."""
    store = make_store(list(generate(30, seed=5).customers))
    in_database = _answers_in_database(store, BlockingSpec())
    assert in_database == (store.backend.__class__.__name__ == "SqlBackend")
    assert not _answers_in_database(store, BlockingSpec(region="CN"))  # keys hold no region


def test_the_reference_path_gives_the_same_answer(
    make_store: Callable[[list[Customer]], Store],
) -> None:
    """With fast paths off every backend streams the customers through the pure rule."""
    store = make_store([*generate(40, seed=9, dup_rate=0.6).customers, *_extras(3)])
    spec = BlockingSpec(max_block_size=4)
    fast = dedupe.find_duplicates(store, blocking=spec, sample_pairs=500)
    previous = set_fast_paths(False)
    try:
        assert dedupe.find_duplicates(store, blocking=spec, sample_pairs=500) == fast
        assert dedupe.candidates(store, spec) == fast_candidates(store, spec)
    finally:
        set_fast_paths(previous)
    assert fast.clustering.groups  # the data has duplicates, and they are found


def fast_candidates(store: Store, spec: BlockingSpec) -> rules.Candidates:
    """The candidates with fast paths on (whatever the switch said before)."""
    previous = set_fast_paths(True)
    try:
        return dedupe.candidates(store, spec)
    finally:
        set_fast_paths(previous)


def test_writes_keep_the_keys_current(make_store: Callable[[list[Customer]], Store]) -> None:
    """An update moves a customer's keys, a delete removes them, in the same transaction."""
    phone = Phone(number="+8613800138000")
    a = Customer.person_named(family="王", given="芳", id="a", phones=(phone,))
    b = Customer.person_named(family="Smith", given="Anna", id="b")
    store = make_store([a, b])
    assert dedupe.candidates(store).pairs == ()
    with store.unit_of_work() as uow:
        stored = uow.customers.get("b")
        phone = Phone(number="１３８ ００１３ ８０００", region="CN")  # full-width, local
        uow.customers.update(replace(stored, phones=(phone,)))
        uow.commit()
    (pair,) = dedupe.candidates(store).pairs
    assert (pair.left, pair.right, pair.keys) == ("a", "b", ("phone:+8613800138000",))
    with store.unit_of_work() as uow:
        uow.customers.remove(uow.customers.get("a"))
        uow.commit()
    found = dedupe.candidates(store)
    assert found.pairs == ()
    assert found.report.customers == 1
    assert found == _pure_candidates(_stored(store), rules.BlockingSpec())


def test_declaring_the_keys_later_backfills_them(sql_database: Callable[[str], str]) -> None:
    """Customers stored before ``@dedupe`` was declared get their keys by the backfill."""
    from crmcore.storage.sqlalchemy import declare_index

    url = sql_database("sqlite")
    customers = list(generate(30, seed=2).customers)
    with connect(url, normaliser=None) as store:
        store.import_customers(customers)
        assert not _answers_in_database(store, BlockingSpec())
        assert declare_index(store.backend, "@dedupe")  # type: ignore[arg-type]
        assert _answers_in_database(store, BlockingSpec())
        assert dedupe.candidates(store) == _pure_candidates(_stored(store), BlockingSpec())
        assert not declare_index(store.backend, "@dedupe")  # type: ignore[arg-type]


def test_bad_arguments_are_refused_with_a_typed_error() -> None:
    """A spec that is not a BlockingSpec, or a batch size below one, is an InvalidArgument."""
    with connect("memory://") as store:
        with pytest.raises(InvalidArgument):
            dedupe.candidates(store, "phone")  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument):
            dedupe.find_duplicates(store, batch_size=0)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_the_dedupe_entries_are_the_blocking_keys(seed: int) -> None:
    """Declared, ``@dedupe`` adds one entry per blocking key (pass in the path); else none."""
    from crmcore.storage.indexing import DEDUPE_PATH, IndexSet

    keyed, plain = IndexSet.of([DEDUPE_PATH]), IndexSet.of()
    assert keyed.declared == (DEDUPE_PATH,)
    assert IndexSet.of(keyed.declared) == keyed
    for customer in generate(3, seed=seed, hard=True).customers:
        entries = keyed.entries(customer)
        assert entries[: len(plain.entries(customer))] == plain.entries(customer)
        found = sorted(
            f"{e.path.removeprefix(DEDUPE_PATH + '.')}:{e.value}"
            for e in entries
            if e.path.startswith(DEDUPE_PATH + ".")
        )
        assert found == list(rules.blocking_keys(customer))
        assert not any(e.path.startswith(DEDUPE_PATH) for e in plain.entries(customer))
