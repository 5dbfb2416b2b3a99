"""The SQLAlchemy backend at the SPI level, on SQLite, PostgreSQL and MariaDB for real."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal

import attrs
import pytest
from sqlalchemy import select

from crmcore.errors import (
    BackendUnavailable,
    ConcurrencyConflict,
    DuplicateRecord,
    NotFound,
    StorageError,
    UnknownBackend,
)
from crmcore.models import (
    ChangeOperation,
    ChangeRecord,
    Complaint,
    ContactPerson,
    Customer,
    DecisionRole,
    Direction,
    Email,
    FieldChange,
    Interaction,
    InteractionChannel,
    LifecycleStage,
    Money,
    PersonName,
    Phone,
    PostalAddress,
    Provenance,
    Purchase,
    SourceChannel,
)
from crmcore.storage.ports import Backend, Record, RecordKind, Transaction
from crmcore.storage.sqlalchemy import (
    COPY_THRESHOLD,
    create_backend,
    current_revision,
    head_revision,
    make_engine,
    metadata,
    normalise_url,
    upgrade,
)
from crmcore.storage.sqlalchemy import _backend as _backend_module

SQL_DIALECTS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]

BEIJING = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2026, 3, 1, 9, 30, tzinfo=BEIJING)


def zhang_wei(**fields: object) -> Customer:
    seen = Provenance(channel=SourceChannel.HOTLINE, observed_at=T0, customer_initiated=True)
    base: dict[str, object] = {
        "version": 1,
        "created_at": T0,
        "updated_at": T0,
        "tags": ("vip", "北京"),
        "lifecycle_stage": LifecycleStage.REPEAT,
        "phones": (Phone(number="１３８ ００１３ ８０００", region="CN", provenance=seen),),
        "emails": (Email(address="zhang.wei@example.cn", primary=True),),
        "addresses": (
            PostalAddress(
                country="CN",
                region="北京市",
                city="北京",
                district="海淀区",
                street_lines=("中关村大街27号",),
                postal_code="100080",
            ),
        ),
        "notes": "喜欢胡萝卜汁 🥕",
    }
    base.update(fields)
    return Customer.person_named(family="张", given="伟", **base)


def organisation(**fields: object) -> Customer:
    base: dict[str, object] = {"version": 1, "created_at": T0, "updated_at": T0}
    base.update(fields)
    customer = Customer.organisation_named("Müller & Söhne GmbH", **base)
    person = ContactPerson(
        name=PersonName(family="Müller", given="Anna"), role=DecisionRole.DECISION_MAKER
    )
    assert customer.organisation is not None
    profile = attrs.evolve(
        customer.organisation,
        registered_capital=Money.of("5000000.00", "EUR"),
        contact_persons=(person,),
    )
    return attrs.evolve(
        customer,
        organisation=profile,
        addresses=(
            PostalAddress(
                country="DE", city="München", street_lines=("Leopoldstraße 1",), postal_code="80802"
            ),
        ),
    )


def interaction(customer_id: str) -> Interaction:
    return Interaction(
        customer_id=customer_id,
        channel=InteractionChannel.PHONE,
        direction=Direction.INBOUND,
        occurred_at=T0,
        subject="询问会员卡积分",
        version=1,
        created_at=T0,
    )


def complaint(customer_id: str) -> Complaint:
    return Complaint(
        customer_id=customer_id,
        received_at=T0,
        channel=InteractionChannel.EMAIL,
        category="delivery",
        description="快递延误三天",
        version=1,
        created_at=T0,
    )


def purchase(customer_id: str) -> Purchase:
    return Purchase(
        customer_id=customer_id,
        purchased_at=T0,
        amount=Money.of("19.90", "CNY"),
        cost=Money.of("12.35", "CNY"),
        quantity=Decimal("2.5"),
        product="有机胡萝卜汁",
        version=1,
        created_at=T0,
    )


@pytest.fixture
def tx(sql_backend: Backend) -> Iterator[Transaction]:
    transaction = sql_backend.begin()
    try:
        yield transaction
    finally:
        transaction.rollback()


def committed(backend: Backend, work: Callable[[Transaction], object]) -> object:
    transaction = backend.begin()
    try:
        result = work(transaction)
        transaction.commit()
        return result
    except BaseException:
        transaction.rollback()
        raise


# ---------------------------------------------------------------------- round trips


def test_every_kind_round_trips_exactly(sql_backend: Backend) -> None:
    """Records of every kind come back equal, with offsets, decimals and CJK text intact."""
    person, company = zhang_wei(), organisation()
    records: dict[RecordKind, list[Record]] = {
        "customer": [person, company],
        "interaction": [interaction(person.id)],
        "complaint": [complaint(person.id)],
        "purchase": [purchase(company.id)],
    }

    def write(t: Transaction) -> None:
        for kind, items in records.items():
            t.insert(kind, items)

    committed(sql_backend, write)
    t = sql_backend.begin()
    for kind, items in records.items():
        for item in items:
            got = t.get(kind, item.id)
            assert got == item
            assert got.created_at.utcoffset() == item.created_at.utcoffset()
    stored = t.get("purchase", records["purchase"][0].id)
    assert isinstance(stored, Purchase)
    assert stored.amount == Money.of("19.90", "CNY")
    assert str(stored.amount.amount) == "19.90"
    t.rollback()


def test_get_of_a_missing_id_is_none_and_get_many_skips_it(tx: Transaction) -> None:
    """A missing id reads as None, and get_many leaves it out."""
    customer = zhang_wei()
    tx.insert("customer", [customer])
    assert tx.get("customer", "nope") is None
    assert tx.get_many("customer", [customer.id, "nope", customer.id]) == {customer.id: customer}


def test_get_many_reads_more_ids_than_one_in_clause_holds(tx: Transaction) -> None:
    """get_many returns every one of 1,200 stored records in one call."""
    customers = [zhang_wei(id=f"c{i:05d}") for i in range(1200)]
    tx.insert("customer", customers)
    found = tx.get_many("customer", [c.id for c in customers])
    assert len(found) == 1200
    assert found["c00042"] == customers[42]


def test_id_lookups_across_many_chunks_find_every_record(
    sql_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With lookups split into chunks of 7 ids (an IN list, or one array on PostgreSQL),
    get_many finds every stored id and the duplicate a refused insert names is the
    first stored one in id order."""
    monkeypatch.setattr(_backend_module, "_IN_CHUNK", 7)
    monkeypatch.setattr(_backend_module, "_ANY_CHUNK", 7)
    stored = [zhang_wei(id=f"s{i:03d}") for i in range(0, 60, 3)]
    committed(sql_backend, lambda t: t.insert("customer", stored))
    wanted = [f"s{i:03d}" for i in range(60)]
    t = sql_backend.begin()
    assert t.get_many("customer", wanted) == {c.id: c for c in stored}
    with pytest.raises(DuplicateRecord) as caught:
        t.insert("customer", [zhang_wei(id=f"s{i:03d}") for i in range(40, 50)])
    assert caught.value.record_id == "s042"
    t.rollback()


def test_a_large_batch_round_trips(sql_backend: Backend) -> None:
    """A batch above the COPY threshold is stored completely and exactly."""
    customers = [zhang_wei(id=f"bulk{i:05d}") for i in range(COPY_THRESHOLD * 3 + 7)]
    committed(sql_backend, lambda t: t.insert("customer", customers))
    t = sql_backend.begin()
    assert list(t.scan("customer", batch_size=64)) == customers
    t.rollback()


# Text a COPY must carry untouched: its text format's special characters, quotes, a
# non-BMP character, right-to-left and combining marks.
AWKWARD = 'tab\there\nnew\rline back\\slash "quoted" \\N 🥕 مرحبا e\u0301 \x7f'


@pytest.mark.parametrize(
    ("kind", "make"),
    [
        ("customer", lambda i: zhang_wei(id=f"k{i:04d}", notes=AWKWARD, display_name=AWKWARD)),
        ("interaction", lambda i: attrs.evolve(interaction(f"c{i}"), subject=AWKWARD)),
        ("complaint", lambda i: attrs.evolve(complaint(f"c{i}"), description=AWKWARD)),
        ("purchase", lambda i: attrs.evolve(purchase(f"c{i}"), product=AWKWARD)),
    ],
)
def test_every_kind_of_large_batch_round_trips_with_awkward_text(
    sql_backend: Backend, kind: RecordKind, make: Callable[[int], Record]
) -> None:
    """Above the COPY threshold (binary COPY on PostgreSQL) every record kind, with text
    holding tabs, newlines, backslashes and non-BMP characters, comes back exactly."""
    records = sorted((make(i) for i in range(COPY_THRESHOLD + 1)), key=lambda r: r.id)
    committed(sql_backend, lambda t: t.insert(kind, records))
    t = sql_backend.begin()
    assert list(t.scan(kind, batch_size=40)) == records
    t.rollback()


# ---------------------------------------------------------------------- duplicates


def test_inserting_an_existing_id_raises_duplicate_and_writes_nothing(sql_backend: Backend) -> None:
    """A batch with one existing id is refused whole; the transaction stays usable."""
    first = zhang_wei()
    committed(sql_backend, lambda t: t.insert("customer", [first]))
    fresh = [organisation(id=f"org{i}") for i in range(COPY_THRESHOLD + 1)]
    t = sql_backend.begin()
    with pytest.raises(DuplicateRecord) as caught:
        t.insert("customer", [*fresh, attrs.evolve(first, notes="again")])
    assert caught.value.record_id == first.id
    assert caught.value.kind == "customer"
    assert t.get("customer", fresh[0].id) is None
    t.insert("customer", fresh[:1])
    t.commit()
    t = sql_backend.begin()
    assert t.get("customer", first.id) == first
    assert t.get("customer", fresh[0].id) == fresh[0]
    assert t.get("customer", fresh[1].id) is None
    t.rollback()


def test_an_id_twice_in_one_batch_is_a_duplicate(tx: Transaction) -> None:
    """The same id twice in one insert raises DuplicateRecord naming it."""
    customer = zhang_wei(id="twice")
    with pytest.raises(DuplicateRecord) as caught:
        tx.insert("customer", [customer, customer])
    assert caught.value.record_id == "twice"
    assert tx.get("customer", "twice") is None


# ---------------------------------------------------------------------- versions


def test_update_with_the_stored_version_replaces_the_record(sql_backend: Backend) -> None:
    """An update based on the stored version is saved."""
    customer = zhang_wei()
    committed(sql_backend, lambda t: t.insert("customer", [customer]))
    changed = attrs.evolve(customer, display_name="张伟 (VIP)", version=2)
    committed(sql_backend, lambda t: t.update("customer", changed, expected_version=1))
    t = sql_backend.begin()
    assert t.get("customer", customer.id) == changed
    t.rollback()


def test_a_stale_update_raises_conflict_and_changes_nothing(sql_backend: Backend) -> None:
    """An update based on an old version raises ConcurrencyConflict; the row is untouched."""
    customer = zhang_wei()
    committed(sql_backend, lambda t: t.insert("customer", [customer]))
    t = sql_backend.begin()
    with pytest.raises(ConcurrencyConflict) as caught:
        t.update("customer", attrs.evolve(customer, notes="stale", version=5), expected_version=4)
    assert (caught.value.expected_version, caught.value.actual_version) == (4, 1)
    t.commit()
    t = sql_backend.begin()
    assert t.get("customer", customer.id) == customer
    t.rollback()


def test_update_and_delete_of_a_missing_record_raise_not_found(tx: Transaction) -> None:
    """Updating or deleting an id that is not stored raises NotFound (a LookupError)."""
    with pytest.raises(NotFound):
        tx.update("customer", zhang_wei(id="ghost", version=2), expected_version=1)
    with pytest.raises(LookupError):
        tx.delete("interaction", "ghost", expected_version=1)


def test_delete_checks_the_version(sql_backend: Backend) -> None:
    """A stale delete is refused; a current one removes the record."""
    item = interaction("c1")
    committed(sql_backend, lambda t: t.insert("interaction", [item]))
    t = sql_backend.begin()
    with pytest.raises(ConcurrencyConflict):
        t.delete("interaction", item.id, expected_version=2)
    t.delete("interaction", item.id, expected_version=1)
    assert t.get("interaction", item.id) is None
    t.commit()
    t = sql_backend.begin()
    assert t.get("interaction", item.id) is None
    t.rollback()


# ---------------------------------------------------------------------- transactions


def test_rollback_discards_every_change(sql_backend: Backend) -> None:
    """Nothing written in a rolled-back transaction remains, history included."""
    keep = zhang_wei()
    committed(sql_backend, lambda t: t.insert("customer", [keep]))
    t = sql_backend.begin()
    t.insert("customer", [organisation()])
    t.update("customer", attrs.evolve(keep, notes="changed", version=2), expected_version=1)
    t.append_history([change(keep.id, 2)])
    t.rollback()
    t = sql_backend.begin()
    assert list(t.scan("customer", batch_size=10)) == [keep]
    assert t.history(keep.id) == []
    t.rollback()


def test_uncommitted_writes_are_invisible_to_other_transactions(sql_backend: Backend) -> None:
    """Another transaction does not see a write before its commit, and sees it after."""
    customer = zhang_wei()
    writer = sql_backend.begin()
    writer.insert("purchase", [purchase(customer.id)])
    record_id = next(iter(writer.scan("purchase", batch_size=5))).id
    reader = sql_backend.begin()
    assert reader.get("purchase", record_id) is None
    reader.rollback()
    writer.commit()
    reader = sql_backend.begin()
    assert reader.get("purchase", record_id) is not None
    reader.rollback()


def test_a_transaction_is_reusable_after_commit(sql_backend: Backend) -> None:
    """After commit, the same transaction object starts a new transaction on next use."""
    t = sql_backend.begin()
    first, second = zhang_wei(), organisation()
    t.insert("customer", [first])
    t.commit()
    t.insert("customer", [second])
    t.rollback()
    t = sql_backend.begin()
    assert t.get("customer", first.id) == first
    assert t.get("customer", second.id) is None
    t.rollback()


def test_two_threads_racing_on_one_customer_exactly_one_wins(sql_backend: Backend) -> None:
    """Two writers update the same version concurrently: one commits, one gets a conflict."""
    if not sql_backend.capabilities.concurrent_writers:
        pytest.skip("backend does not support concurrent writers")
    customer = zhang_wei()
    committed(sql_backend, lambda t: t.insert("customer", [customer]))
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def writer(name: str) -> None:
        t = sql_backend.begin()
        try:
            stored = t.get("customer", customer.id)
            assert isinstance(stored, Customer)
            barrier.wait(timeout=10)
            changed = attrs.evolve(stored, notes=f"by {name}", version=stored.version + 1)
            t.update("customer", changed, expected_version=stored.version)
            t.commit()
            outcomes[name] = "won"
        except ConcurrencyConflict as conflict:
            t.rollback()
            outcomes[name] = conflict
        except BaseException as error:  # pragma: no cover - reported below
            t.rollback()
            outcomes[name] = error

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [name for name, outcome in outcomes.items() if outcome == "won"]
    losers = [o for o in outcomes.values() if isinstance(o, ConcurrencyConflict)]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1, outcomes
    t = sql_backend.begin()
    final = t.get("customer", customer.id)
    t.rollback()
    assert isinstance(final, Customer)
    assert final.version == 2
    assert final.notes == f"by {winners[0]}"


# ---------------------------------------------------------------------- scan and history


def test_scan_streams_every_record_in_id_order(tx: Transaction) -> None:
    """scan yields all records ordered by id, whatever the batch size."""
    ids = ["b", "a", "张", "Z", "é", "a0", "ａ"]
    tx.insert("interaction", [attrs.evolve(interaction("c"), id=i) for i in ids])
    for batch_size in (1, 2, 7, 100):
        assert [r.id for r in tx.scan("interaction", batch_size=batch_size)] == sorted(ids)


def change(customer_id: str, version: int, *, at: dt.datetime = T0) -> ChangeRecord:
    return ChangeRecord(
        customer_id=customer_id,
        operation=ChangeOperation.UPDATED,
        at=at,
        version=version,
        actor="李娜",
        source="import:2026-03.csv",
        changes=(FieldChange(path="$.notes", old='"旧"', new='"新"'),),
    )


def test_history_is_per_customer_and_oldest_first(sql_backend: Backend) -> None:
    """History comes back per customer ordered by time (across offsets), then version."""
    utc = dt.UTC
    records = [
        change("c1", 3, at=dt.datetime(2026, 3, 1, 2, 0, tzinfo=utc)),
        change("c1", 1, at=dt.datetime(2026, 3, 1, 9, 0, tzinfo=BEIJING)),  # 01:00 UTC
        change("c2", 1),
        change("c1", 2, at=dt.datetime(2026, 3, 1, 9, 0, tzinfo=BEIJING)),
    ]
    committed(sql_backend, lambda t: t.append_history(records))
    t = sql_backend.begin()
    assert [r.version for r in t.history("c1")] == [1, 2, 3]
    assert t.history("c1")[0] == records[1]
    assert t.history("c2") == [records[2]]
    assert t.history("nobody") == []
    t.rollback()


# ---------------------------------------------------------------------- schema


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_migrations_create_then_upgrade_idempotently(
    dialect: str, fresh_sql_url: Callable[[str], str]
) -> None:
    """A new database has no revision; upgrade brings it to head; upgrading again is a no-op."""
    url = fresh_sql_url(dialect)
    assert current_revision(url) is None
    with pytest.raises(StorageError):
        create_backend(url, migrate=False)
    upgrade(url)
    assert current_revision(url) == head_revision()
    upgrade(url)
    store = create_backend(url, migrate=False)
    try:
        assert current_revision(store.engine) == head_revision()
        committed(store, lambda t: t.insert("customer", [zhang_wei()]))
    finally:
        store.close()


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_migrated_schema_matches_the_table_definitions(
    dialect: str, fresh_sql_url: Callable[[str], str]
) -> None:
    """Alembic finds no difference between the migrated database and the metadata."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    url = fresh_sql_url(dialect)
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            diff = [
                d
                for d in compare_metadata(context, metadata)
                if not (d[0] == "remove_table" and d[1].name == "crmcore_alembic_version")
            ]
    finally:
        engine.dispose()
    assert diff == []


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_key_columns_sort_by_code_point_like_python(
    dialect: str, sql_database: Callable[[str], str]
) -> None:
    """SQL orders display names exactly as Python sorts the strings (code point order)."""
    names = [
        "a",
        "B",
        "b",
        "a ",
        "a\t",
        "é",
        "e",
        "张伟",
        "张",
        "Ａ",
        "😀",
        "Zoë",
        "zoe",
        "10",
        "9",
    ]
    store = create_backend(sql_database(dialect))
    try:
        committed(
            store,
            lambda t: t.insert(
                "customer", [zhang_wei(id=f"n{i:02d}", display_name=n) for i, n in enumerate(names)]
            ),
        )
        from crmcore.storage.sqlalchemy import TABLES

        table = TABLES["customer"]
        with store.engine.connect() as connection:
            got = connection.execute(
                select(table.c.display_name).order_by(table.c.display_name)
            ).scalars()
            assert list(got) == sorted(names)
            equal = connection.execute(
                select(table.c.id).where(table.c.display_name == "a")
            ).scalars()
            assert list(equal) == ["n00"]
    finally:
        store.close()


# ---------------------------------------------------------------------- URLs and errors


def test_plain_scheme_urls_use_crmcores_drivers() -> None:
    """postgresql:// means psycopg 3 and mysql:// PyMySQL with utf8mb4."""
    assert normalise_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalise_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    mysql = normalise_url("mysql://u@h/db")
    assert mysql.drivername == "mysql+pymysql"
    assert mysql.query["charset"] == "utf8mb4"
    assert normalise_url("sqlite:///crm.db").drivername == "sqlite"


def test_a_missing_driver_gives_an_install_hint() -> None:
    """A URL naming a driver that is not installed raises BackendUnavailable."""
    with pytest.raises(BackendUnavailable, match="install"):
        make_engine("mysql+mysqldb://u@h/db")


def test_not_a_database_url_is_an_unknown_backend() -> None:
    """Garbage and unknown schemes raise UnknownBackend."""
    with pytest.raises(UnknownBackend):
        create_backend("not a url")
    with pytest.raises(UnknownBackend):
        create_backend("nosuchdb://x/y")


def test_an_unreachable_server_is_a_storage_error() -> None:
    """Connection failures surface as StorageError with the driver error chained."""
    with pytest.raises(StorageError) as caught:
        create_backend("postgresql://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 2})
    assert caught.value.__cause__ is not None


def test_an_in_memory_sqlite_database_works_but_is_not_persistent() -> None:
    """sqlite:// gives a working, non-persistent store in one shared connection."""
    store = create_backend("sqlite://")
    try:
        assert not store.capabilities.persistent
        customer = zhang_wei()
        committed(store, lambda t: t.insert("customer", [customer]))
        t = store.begin()
        assert t.get("customer", customer.id) == customer
        t.rollback()
    finally:
        store.close()


def test_sql_text_is_parameterised_against_injection(tx: Transaction) -> None:
    """Ids with quotes and SQL fragments are stored and found as plain text."""
    evil = "x'; DROP TABLE crm_customer; --"
    tx.insert("customer", [zhang_wei(id=evil)])
    assert tx.get("customer", evil) is not None


def test_backend_satisfies_the_port_protocols(sql_backend: Backend) -> None:
    """SqlBackend and its transactions are runtime instances of the port protocols."""
    assert isinstance(sql_backend, Backend)
    t = sql_backend.begin()
    assert isinstance(t, Transaction)
    t.rollback()
