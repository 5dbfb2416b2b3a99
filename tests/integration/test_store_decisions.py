"""Decisions, imports that match, emails in any case and merged ids, on every backend.

Memory, SQLite, PostgreSQL and MariaDB must answer alike, with the fast paths (the SQL
storage's ``crm_merged_id`` and ``@dedupe.email`` lookups) on and off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.integration._stores import BACKENDS

from crmcore._fastpaths import set_fast_paths
from crmcore.errors import InvalidArgument, ValidationError, WrongType
from crmcore.models import Customer
from crmcore.rules.dedupe import PairExplanation, plan_merge
from crmcore.storage import ImportOutcome, ImportStatus, Store, connect
from crmcore.storage.duplicates import DedupeKeyLookup
from crmcore.storage.ports import MergedIdLookup
from crmcore.testing.data import person
from crmcore.testing.data import sample_match_model as _model

BORN = dt.date(1985, 7, 1)


@pytest.fixture(params=BACKENDS)
def open_store(
    request: pytest.FixtureRequest, sql_database: Callable[[str], str]
) -> Iterator[Callable[..., Store]]:
    """Open stores on the parametrised backend (the same database each time, emptied once)."""
    dialect = str(request.param)
    url = "memory://" if dialect == "memory" else sql_database(dialect)
    opened: list[Store] = []

    def make(**options: Any) -> Store:
        store = connect(url, **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def fast_paths() -> Iterator[Callable[[bool], object]]:
    """Switch fast paths for one test, restored afterwards."""
    from crmcore._fastpaths import fast_paths_enabled

    before = fast_paths_enabled()
    yield set_fast_paths
    set_fast_paths(before)


# ---------------------------------------------------------------- merged ids, history off


def _merge(store: Store, survivor: str, *others: str) -> str:
    with store.unit_of_work() as uow:
        plan = plan_merge(
            [uow.customers.get(survivor), *(uow.customers.get(o) for o in others)],
            survivor_id=survivor,
        )
    return store.merge(plan).id


@pytest.mark.parametrize("fast", [True, False], ids=["indexed", "reference"])
def test_merged_ids_resolve_with_history_off_by_the_index_and_by_the_reference(
    open_store: Callable[..., Store], fast_paths: Callable[[bool], object], fast: bool
) -> None:
    """Chained and undone merges resolve alike by ``crm_merged_id`` and by the merge query."""
    fast_paths(fast)
    plain = open_store(normaliser=None)
    store = Store(plain.backend, normaliser=None, history=False)
    store.import_customers(
        [person(c, "王", "芳", phone=f"+861380013800{i}", born=BORN) for i, c in enumerate("abcd")]
    )
    first = _merge(store, "b", "a")
    _merge(store, "c", "b")
    assert [store.resolve_customer_id(i) for i in "abcd"] == ["c", "c", "c", "d"]
    undone = _merge(store, "d", "c")
    assert store.resolve_customer_id("a") == "d"
    store.undo_merge(undone)
    assert [store.resolve_customer_id(i) for i in "abcd"] == ["c", "c", "c", "d"]
    with store.unit_of_work() as uow:
        tx = uow._tx
        assert isinstance(tx, MergedIdLookup) == (plain.backend.capabilities.persistent)
        record = uow.merges.get(first)
    assert record.merged_ids == ("a",)


# ---------------------------------------------------------------- emails in any case


@pytest.mark.parametrize("fast", [True, False], ids=["indexed", "reference"])
@pytest.mark.parametrize("declared", [True, False], ids=["@dedupe", "plain"])
def test_on_entry_emails_match_in_any_case(
    open_store: Callable[..., Store],
    fast_paths: Callable[[bool], object],
    fast: bool,
    declared: bool,
) -> None:
    """A stored ``Zhang.Wei@Example.com`` is found for a new ``ZHANG.WEI@example.com``."""
    fast_paths(fast)
    store = open_store(indexes=["@dedupe"] if declared else [])
    store.import_customers(
        [
            person("e1", "Zhang", "Wei", email="Zhang.Wei@Example.com", born=None),
            person("e2", "Smith", "Anna", email="anna.smith@example.com", born=None),
            person("e3", "Müller", "Jonas", email="zhang.wei@example.org", born=None),
        ]
    )
    new = person("n1", "张", "伟", email="ZHANG.WEI@example.com", born=None)
    found = store.likely_duplicates(new, model=_model(), threshold=0.0)
    assert [p.right for p in found] == ["e1"]
    assert any(k.startswith("email:") for k in found[0].keys)
    with store.unit_of_work() as uow:
        indexed = isinstance(uow._tx, DedupeKeyLookup)
    assert indexed == store.capabilities.persistent


# ---------------------------------------------------------------- imports that match


def _base(store: Store) -> None:
    report = store.import_customers(
        [
            person("L1", "Li", "Na", phone="+8613800138000", email="Li.Na@example.com", born=BORN),
            person("W1", "Wang", "Fang", phone="+8613900139000", born=BORN),
            person("W2", "Wang", "Fang", phone="+8613900139000", born=dt.date(1990, 1, 1)),
        ]
    )
    assert report.rejected == 0, report


def _rows() -> list[dict[str, Any]]:
    """Import rows: L1 written another way, a Wang Fang matching two, and a new customer."""
    return [
        {
            "kind": "person",
            "display_name": "Na Li",
            "person": {"name": {"family": "Li", "given": "Na"}, "birthday": "1985-07-01"},
            "phones": [{"number": "138 0013 8000", "region": "CN"}],
            "emails": [{"address": "LI.NA@example.com", "primary": True}],
            "tags": ["feed"],
        },
        {
            "kind": "person",
            "display_name": "Wang Fang",
            "person": {"name": {"family": "Wang", "given": "Fang"}, "birthday": "1985-07-01"},
            "phones": [{"number": "+8613900139000"}],
        },
        {
            "id": "N1",
            "kind": "person",
            "display_name": "Schmidt Anna",
            "person": {"name": {"family": "Schmidt", "given": "Anna"}},
            "phones": [{"number": "+4930123456"}],
        },
    ]


def _summary(outcomes: tuple[ImportOutcome, ...]) -> list[tuple[str, str | None, list[str]]]:
    """Status, id and the import's own codes (the normaliser's ``contact.*`` left out)."""
    return [
        (
            o.status.value,
            o.id,
            [p.code for p in (*o.problems, *o.warnings) if not p.code.startswith("contact.")],
        )
        for o in outcomes
    ]


def test_on_duplicate_skip_reports_the_stored_customer(open_store: Callable[..., Store]) -> None:
    """A skipped row writes nothing and names its match; an ambiguous one names the best."""
    store = open_store()
    _base(store)
    report = store.import_customers(_rows(), on_duplicate="skip", duplicate_model=_model())
    summary = _summary(report.outcomes)
    assert summary[0] == ("skipped", "L1", ["import.duplicate_skipped"])
    assert summary[1][0] == "skipped"
    assert summary[1][1] in ("W1", "W2")
    assert summary[2] == ("created", "N1", [])
    assert (report.skipped, report.created, report.total) == (2, 1, 3)
    assert [o.index for o in report.skips()] == [0, 1]
    with store.unit_of_work() as uow:
        assert uow.customers.count() == 4
        assert uow.customers.get("L1").tags == ()


def test_on_duplicate_merge_updates_the_one_match_and_refuses_two(
    open_store: Callable[..., Store],
) -> None:
    """The row merges into its one likely customer; two likely customers reject it."""
    store = open_store()
    _base(store)
    report = store.import_customers(_rows(), on_duplicate="merge", duplicate_model=_model())
    assert _summary(report.outcomes) == [
        ("updated", "L1", ["import.duplicate_merged"]),
        ("rejected", report.outcomes[1].id, ["import.duplicate_ambiguous"]),
        ("created", "N1", []),
    ]
    with store.unit_of_work() as uow:
        merged = uow.customers.get("L1")
    assert merged.tags == ("feed",)
    # one email: the row's is the stored one in another case, so it merged into it
    assert [e.address.casefold() for e in merged.emails] == ["li.na@example.com"]


def test_on_duplicate_callable_chooses_per_row(open_store: Callable[..., Store]) -> None:
    """The callable sees the normalised row and its matches; bad answers reject the row."""
    store = open_store()
    _base(store)
    seen: list[tuple[str, list[str]]] = []

    def choose(row: Customer, matches: tuple[PairExplanation, ...]) -> Any:
        seen.append((row.display_name, [m.right for m in matches]))
        if row.display_name == "Na Li":
            return "create"
        return next(m for m in matches if m.right == "W2")

    report = store.import_customers(_rows(), on_duplicate=choose, duplicate_model=_model())
    summary = _summary(report.outcomes)
    assert summary[0][0::2] == ("created", ["import.duplicate_created"])
    assert summary[1] == ("updated", "W2", ["import.duplicate_merged"])
    assert summary[2] == ("created", "N1", [])
    assert [name for name, _ in seen] == ["Na Li", "Wang Fang"]  # N1 matched nothing
    assert sorted(seen[1][1]) == ["W1", "W2"]

    def unsure(row: Customer, matches: tuple[PairExplanation, ...]) -> Any:
        return "maybe"

    again = store.import_customers(_rows()[1:2], on_duplicate=unsure, duplicate_model=_model())
    assert _summary(again.outcomes)[0][2] == ["import.on_duplicate_invalid"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda matches: "W1", ("updated", "W1", ["import.duplicate_merged"])),
        (lambda matches: "L1", ("rejected", None, ["import.on_duplicate_invalid"])),
        (lambda matches: 7, ("rejected", None, ["import.on_duplicate_invalid"])),
        (lambda matches: None, ("rejected", None, ["import.on_duplicate_invalid"])),
        (lambda matches: matches, ("rejected", None, ["import.on_duplicate_invalid"])),
    ],
    ids=["a-match-id", "another-id", "an-int", "none", "the-tuple"],
)
def test_a_callable_may_answer_a_match_by_its_id_and_a_wrong_answer_is_coded(
    open_store: Callable[..., Store],
    answer: Callable[[tuple[PairExplanation, ...]], object],
    expected: tuple[str, str | None, list[str]],
) -> None:
    """A match's stored id merges like the match; any other answer rejects the row, coded."""
    store = open_store()
    _base(store)
    report = store.import_customers(
        _rows()[1:2],
        on_duplicate=lambda row, matches: answer(matches),  # type: ignore[arg-type,return-value]
        duplicate_model=_model(),
    )
    status, cid, codes = _summary(report.outcomes)[0]
    assert (status, cid if expected[1] else None, codes) == expected
    with store.unit_of_work() as uow:
        assert uow.customers.get("W1").version == (2 if status == "updated" else 1)


def test_rows_merging_into_one_stored_customer_all_apply(
    open_store: Callable[..., Store],
) -> None:
    """Two rows of one batch likely to be L1 both merge, in input order, with history each."""
    store = open_store()
    _base(store)
    first, second = _rows()[0], {**_rows()[0], "tags": ["second"], "grade": "B"}
    report = store.import_customers([first, second], on_duplicate="merge", duplicate_model=_model())
    assert [(o.status.value, o.id, o.version) for o in report.outcomes] == [
        ("updated", "L1", 2),
        ("updated", "L1", 3),
    ]
    with store.unit_of_work() as uow:
        merged = uow.customers.get("L1")
        history = uow.customers.history("L1")
    assert (merged.version, merged.grade, merged.tags) == (3, "B", ("feed", "second"))
    assert [h.version for h in history] == [1, 2, 3]
    assert [(c.path, c.new) for c in history[2].changes] == [
        ("$.grade", '"B"'),
        ("$.tags[1]", '"second"'),
    ]


def test_a_stored_decision_keeps_an_import_row_apart(open_store: Callable[..., Store]) -> None:
    """A row whose id a decision keeps apart from its likely match is created, not merged."""
    store = open_store()
    _base(store)
    store.import_customers([person("T1", "Li", "Na", phone="+8613800138001", born=BORN)])
    store.mark_not_duplicate("T1", "L1", note="sisters")
    twin = person("T1", "Li", "Na", phone="+8613800138000", email="li.na@example.com", born=BORN)
    with store.unit_of_work() as uow:  # T1 is stored: re-imported by id, never checked
        uow.customers.remove(uow.customers.get("T1"))
        uow.commit()
    report = store.import_customers([twin], on_duplicate="merge", duplicate_model=_model())
    assert report.outcomes[0].status is ImportStatus.CREATED


def test_match_on_comes_before_on_duplicate(open_store: Callable[..., Store]) -> None:
    """A row a natural key matched is updated by it; only unmatched rows are checked."""
    store = open_store()
    _base(store)
    row = _rows()[1]
    report = store.import_customers(
        [row], match_on=["phone"], on_duplicate="merge", duplicate_model=_model()
    )
    assert _summary(report.outcomes)[0][2] == ["import.match_ambiguous"]


def test_outcomes_are_the_same_with_one_and_two_workers(tmp_path: Any) -> None:
    """workers=2 normalises elsewhere; the matching and its outcomes stay here, in order."""
    results = []
    for workers in (1, 2):
        with connect(f"sqlite:///{tmp_path / f'w{workers}.db'}") as store:
            _base(store)
            rows = _rows() * 3
            for i, row in enumerate(rows):
                rows[i] = {**row, "id": f"r{i}"}
            got: list[ImportOutcome] = []
            report = store.import_customers(
                rows,
                on_duplicate="skip",
                duplicate_model=_model(),
                workers=workers,
                batch_size=2,
                on_outcome=got.append,
            )
            results.append((_summary(tuple(got)), report.skipped, report.created))
    assert results[0] == results[1]
    # the first Anna Schmidt is created; her later copies find her (an earlier batch)
    assert [s[0] for s in results[0][0]] == ["skipped", "skipped", "created", *["skipped"] * 6]


def test_on_duplicate_arguments_are_refused_with_codes() -> None:
    """A choice that is none, no model, a wrong model or threshold: coded, nothing read."""
    store = connect("memory://")
    rows = iter(_rows())
    with pytest.raises(InvalidArgument):
        store.import_customers(rows, on_duplicate="merge")
    with pytest.raises(InvalidArgument):
        store.import_customers(rows, on_duplicate="update", duplicate_model=_model())  # type: ignore[arg-type]
    with pytest.raises(WrongType):
        store.import_customers(rows, on_duplicate="skip", duplicate_model="model")  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as caught:
        store.import_customers(
            rows, on_duplicate="skip", duplicate_model=_model(), duplicate_threshold=2
        )
    assert [(p.code, p.path) for p in caught.value.problems] == [
        ("dedupe.threshold_invalid", "$.duplicate_threshold")
    ]
    assert len(list(rows)) == 3  # nothing was read
