"""Coded errors for misused storage options, missing files and old schemas; spec codes.

Each reproduces a defect the trial found: a generic ``storage.error`` for
``connect("memory://", indexes=...)``, ``indexes="@dedupe"`` read letter by letter,
an empty SQLite file made by ``declare_index`` and ``current_revision``, a plain
``storage.error`` for a merge on a revision-0005 database, and codes the docs named
differently.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from crmcore.errors import InvalidArgument, SchemaOutdated, ValidationError
from crmcore.models import Customer, Phone
from crmcore.query import Field, Query
from crmcore.rules.dedupe import BlockingSpec, ComparisonSpec, candidate_pairs, plan_merge
from crmcore.storage import Store, connect
from crmcore.storage.sqlalchemy import (
    SqlBackend,
    create_backend,
    current_revision,
    declare_index,
    make_engine,
    upgrade,
)
from crmcore.storage.sqlalchemy._driver_errors import translated


def test_memory_takes_indexes_and_refuses_other_options() -> None:
    """``memory://`` indexes the declared paths; any other option is ``argument.invalid``."""
    with connect("memory://", indexes=["grade", "@dedupe"]) as store:
        store.import_customers([Customer.person_named(family="张", given="伟", id="c1")])
        with store.unit_of_work() as uow:
            assert uow.customers.count(Query(where=Field("grade").is_null())) == 1
    with pytest.raises(InvalidArgument, match="pool_size"):
        connect("memory://", pool_size=3)


@pytest.mark.parametrize("url", ["memory://", "sqlite://"])
def test_a_bare_string_of_indexes_is_refused(url: str) -> None:
    """``indexes="@dedupe"`` is refused, not indexed as ``@``, ``d``, ``e`` ..."""
    with pytest.raises(InvalidArgument) as caught:
        connect(url, indexes="@dedupe")
    assert caught.value.code == "argument.invalid"
    assert "indexes=['@dedupe']" in str(caught.value)


def test_a_refused_index_path_creates_no_database(tmp_path: Path) -> None:
    """``connect(url, indexes=[bad])`` refuses the path before it creates or migrates a file."""
    missing = tmp_path / "crm.db"
    with pytest.raises(ValidationError) as caught:
        connect(f"sqlite:///{missing}", indexes=["person.nmae"])
    assert [p.code for p in caught.value.problems] == ["index.path_invalid"]
    assert not missing.exists()


def test_declare_index_and_current_revision_create_no_file(tmp_path: Path) -> None:
    """Neither makes an empty SQLite file where none was; an existing one is read."""
    missing = tmp_path / "nowhere.db"
    assert current_revision(f"sqlite:///{missing}") is None
    with pytest.raises(SchemaOutdated):
        declare_index(f"sqlite:///{missing}", "@dedupe")
    assert not missing.exists()
    made = tmp_path / "crm.db"
    upgrade(f"sqlite:///{made}")
    assert current_revision(f"sqlite:///{made}") is not None
    assert declare_index(f"sqlite:///{made}", "@dedupe") is True


def test_merges_and_decisions_on_a_revision_0005_database_are_schema_outdated(
    tmp_path: Path,
) -> None:
    """A store opened without migrating on an old schema says so with a stable code."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, revision="0005")
    with pytest.raises(SchemaOutdated):
        create_backend(url, migrate=False)
    store = Store(SqlBackend(make_engine(url)), normaliser=None)
    phone = (Phone(number="+8613800138000"),)
    store.import_customers(
        [
            Customer.person_named(family="王", given="芳", id="a", phones=phone),
            Customer.person_named(family="王", given="芳", id="b", phones=phone),
        ]
    )
    with store.unit_of_work() as uow:
        plan = plan_merge([uow.customers.get("a"), uow.customers.get("b")])
    with pytest.raises(SchemaOutdated) as caught:
        store.merge(plan)
    assert caught.value.code == "storage.schema_outdated"
    assert "crm_merge" in str(caught.value)
    with pytest.raises(SchemaOutdated):
        store.mark_not_duplicate("a", "b")
    with pytest.raises(SchemaOutdated):
        store.resolve_customer_id("gone")
    store.close()


@pytest.mark.parametrize(
    "dialect",
    [
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ],
)
def test_server_dialects_name_a_missing_table_as_schema_outdated(
    dialect: str, request: pytest.FixtureRequest
) -> None:
    """PostgreSQL's and MariaDB's own "no such table" errors become SchemaOutdated."""
    engine = make_engine(str(request.getfixturevalue(f"{dialect}_url")))
    try:
        with (
            engine.connect() as conn,
            pytest.raises(SchemaOutdated, match="crm_not_there"),
            translated(),
        ):
            conn.execute(text("SELECT id FROM crm_not_there"))
    finally:
        engine.dispose()


@pytest.mark.parametrize("cap", [1, 0, -5, 1_000_001])
def test_block_size_codes_are_the_documented_ones(cap: int) -> None:
    """A bad cap is dedupe.block_size_invalid from the spec and from candidate_pairs alike,
    as both error tables say."""
    with pytest.raises(ValidationError) as caught:
        BlockingSpec(max_block_size=cap)
    assert [(p.code, p.path) for p in caught.value.problems] == [
        ("dedupe.block_size_invalid", "$.max_block_size")
    ]
    if cap < 2:
        with pytest.raises(ValidationError) as caught:
            candidate_pairs([("c1", ["name:x"])], max_block_size=cap)
        assert caught.value.problems[0].code == "dedupe.block_size_invalid"
    for page in ("errors.md", "dedupe.md"):
        docs = (Path(__file__).parents[2] / "docs" / page).read_text(encoding="utf-8")
        row = next(line for line in docs.splitlines() if "`dedupe.block_size_invalid`" in line)
        assert "value.out_of_range" not in row
        assert "BlockingSpec" in row


@pytest.mark.parametrize("value", [0.9, 1, "0.9", True])
def test_comparison_thresholds_not_decimal_are_coded(value: object) -> None:
    """A float, int, str or bool threshold is ``type.invalid`` at its path, never a crash."""
    with pytest.raises(ValidationError) as caught:
        ComparisonSpec(name_high=value)  # type: ignore[arg-type]
    assert [(p.code, p.path) for p in caught.value.problems] == [("type.invalid", "$.name_high")]
