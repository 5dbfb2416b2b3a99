"""The application API, implemented once on top of any backend.

:class:`Store` wraps a :class:`~crmcore.storage.ports.Backend` and gives every
backend the same behaviour: units of work that roll back unless committed,
version checks, timestamps from an injectable clock, the customer normalisation
pipeline on every write path, change history, and bulk import with a report.

>>> from crmcore.models import Customer
>>> from crmcore.storage import connect
>>> with connect("memory://") as store:
...     with store.unit_of_work(actor="docs") as uow:
...         saved = uow.customers.add(Customer.person_named(family="张", given="伟"))
...         uow.commit()
...     with store.unit_of_work() as uow:
...         uow.customers.get(saved.id).version
1
"""

from __future__ import annotations

import enum
import inspect
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar, cast

import attrs

from crmcore.errors import (
    ConcurrencyConflict,
    DuplicateRecord,
    NotFound,
    Problem,
    ValidationError,
)
from crmcore.models import (
    ChangeOperation,
    ChangeRecord,
    Complaint,
    Customer,
    FieldChange,
    Interaction,
    Purchase,
    replace,
    replace_each,
    utc_now,
)
from crmcore.models._ids import new_id
from crmcore.query import Query
from crmcore.rules.verification import NormalisationPipeline
from crmcore.serialization import from_dict, to_dict
from crmcore.storage.ports import (
    Backend,
    Capabilities,
    CustomerRepository,
    Record,
    RecordKind,
    Repository,
    Transaction,
    UnitOfWork,
)

__all__ = [
    "Clock",
    "ImportOutcome",
    "ImportReport",
    "ImportStatus",
    "Normaliser",
    "Store",
    "StoreCustomerRepository",
    "StoreRepository",
    "StoreUnitOfWork",
    "customer_versions",
    "diff_customers",
    "history_changes",
]

R = TypeVar("R", Customer, Interaction, Complaint, Purchase)

Normaliser = Callable[[Customer], Customer]
"""Turns a customer into its normal form; raises :class:`ValidationError` to reject it."""

Clock = Callable[[], Any]
"""Returns the current time as an aware :class:`datetime.datetime`."""

_BOOKKEEPING = frozenset({"$.version", "$.created_at", "$.updated_at"})


# --------------------------------------------------------------------------- history


def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{path}.{key}", out)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            _flatten(item, f"{path}[{index}]", out)
    else:
        out[path] = value


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_CUSTOMER_FIELDS = tuple(
    f.name for f in attrs.fields(Customer) if f"$.{f.name}" not in _BOOKKEEPING
)


def diff_customers(old: Customer | None, new: Customer | None) -> tuple[FieldChange, ...]:
    """Return the changed leaf values between two versions of a customer, ordered by path.

    Paths are JSONPath-like into the serialised form (:func:`crmcore.serialization.to_dict`),
    one per leaf value: ``$.display_name``, ``$.person.name.family``,
    ``$.phones[0].number``; an empty list or object is itself a leaf (``[]``, ``{}``).
    ``old`` and ``new`` are JSON text, ``None`` where the path does not exist on that
    side. ``version``, ``created_at`` and ``updated_at`` are bookkeeping and not
    diffed. Tuples are compared by position.
    """
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name in _CUSTOMER_FIELDS:
        a = getattr(old, name) if old is not None else _ABSENT
        b = getattr(new, name) if new is not None else _ABSENT
        if a is b or a == b:
            continue
        if a is not _ABSENT:
            _flatten(to_dict(a), f"$.{name}", before)
        if b is not _ABSENT:
            _flatten(to_dict(b), f"$.{name}", after)
    changes = []
    for path in sorted(before.keys() | after.keys()):
        a_text = _json(before[path]) if path in before else None
        b_text = _json(after[path]) if path in after else None
        if a_text != b_text:
            changes.append(FieldChange(path=path, old=a_text, new=b_text))
    return tuple(changes)


_ABSENT: Any = object()


def history_changes(old: Customer | None, new: Customer | None) -> tuple[FieldChange, ...]:
    """Return the changes a :class:`ChangeRecord` holds for one write.

    * An update holds :func:`diff_customers`: one change per changed leaf, with the
      old and the new value.
    * A removal holds one change at ``$`` whose ``old`` is the whole customer as JSON
      (without ``version``, ``created_at`` and ``updated_at``), so nothing is lost.
    * A creation holds no changes: the values it created are those of version 1, which
      :func:`customer_versions` rebuilds from the current customer (or the removal)
      by undoing the recorded updates. Keeping creations small keeps bulk imports fast.
    """
    if new is None and old is not None:
        return (FieldChange(path="$", old=_json(_serialised(old)), new=None),)
    if old is None:
        return ()
    return diff_customers(old, new)


def _serialised(customer: Customer) -> dict[str, Any]:
    data: dict[str, Any] = to_dict(customer)
    for key in ("version", "created_at", "updated_at"):
        data.pop(key, None)
    return data


_PATH_TOKEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _tokens(path: str) -> list[str | int]:
    if not path.startswith("$"):
        raise ValueError(f"not a history path: {path!r}")
    tokens: list[str | int] = []
    position = 1
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if match is None:
            raise ValueError(f"not a history path: {path!r}")
        tokens.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    return tokens


def _token_key(path: str) -> list[tuple[bool, str, int]]:
    return [(True, "", t) if isinstance(t, int) else (False, t, 0) for t in _tokens(path)]


def _delete(root: Any, tokens: list[str | int]) -> None:
    """Delete the value at ``tokens``, then every container the deletion left empty."""
    chain: list[tuple[Any, str | int]] = []
    node = root
    for token in tokens:
        chain.append((node, token))
        try:
            node = node[token]
        except (KeyError, IndexError, TypeError):
            return
    for container, token in reversed(chain):
        if isinstance(container, dict):
            container.pop(token, None)
        elif isinstance(container, list) and isinstance(token, int) and token < len(container):
            del container[token]
        if container or container is root:
            return


def _set(root: Any, tokens: list[str | int], value: Any) -> None:
    node = root
    for token, following in itertools.pairwise(tokens):
        fresh: Any = [] if isinstance(following, int) else {}
        if isinstance(node, list):
            assert isinstance(token, int)
            while len(node) <= token:
                node.append(None)
            if not isinstance(node[token], list | dict):
                node[token] = fresh
        elif not isinstance(node.get(token), list | dict):
            node[token] = fresh
        node = node[token]
    last = tokens[-1]
    if isinstance(node, list):
        assert isinstance(last, int)
        while len(node) <= last:
            node.append(None)
    node[last] = value


def _undo(state: dict[str, Any], changes: tuple[FieldChange, ...]) -> dict[str, Any]:
    """Return the state before ``changes`` were applied to ``state``."""
    before: dict[str, Any] = json.loads(_json(state))
    removed = [c for c in changes if c.old is None]
    # deepest and highest indexes first, so deleting list elements keeps others in place
    for change in sorted(removed, key=lambda c: _token_key(c.path), reverse=True):
        _delete(before, _tokens(change.path))
    restored = [c for c in changes if c.old is not None]
    for change in sorted(restored, key=lambda c: _token_key(c.path)):
        _set(before, _tokens(change.path), json.loads(change.old or "null"))
    return before


def customer_versions(
    current: Customer | None, history: Sequence[ChangeRecord]
) -> dict[int, dict[str, Any]]:
    """Rebuild every version of a customer from its history.

    Returns the serialised form (:func:`crmcore.serialization.to_dict`, without
    ``version``, ``created_at`` and ``updated_at``) of each version, by version number.
    ``current`` is the stored customer, or ``None`` when it was removed (the removal's
    record holds its last state). Undoing each update's old values, newest first, gives
    the earlier versions down to version 1, the values it was created with.
    """
    ordered = sorted(history, key=lambda c: (c.version, c.at))
    versions: dict[int, dict[str, Any]] = {}
    state: dict[str, Any] | None = None
    if current is not None:
        state = _serialised(current)
        versions[current.version] = state
    for change in reversed(ordered):
        if change.operation is ChangeOperation.REMOVED:
            whole = next((c for c in change.changes if c.path == "$"), None)
            if whole is not None and whole.old is not None:
                state = json.loads(whole.old)
                versions[change.version - 1] = state
        elif change.operation is ChangeOperation.UPDATED and state is not None:
            versions.setdefault(change.version, state)
            state = _undo(state, change.changes)
            versions[change.version - 1] = state
        elif change.operation is ChangeOperation.CREATED and state is not None:
            versions.setdefault(change.version, state)
    return dict(sorted(versions.items()))


# --------------------------------------------------------------------------- import report


class ImportStatus(enum.StrEnum):
    """What an import did with one input record."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


@attrs.frozen(kw_only=True)
class ImportOutcome:
    """What happened to one input record.

    Attributes:
        index: Position of the record in the input (0-based).
        id: The customer id, when the input had a usable one.
        status: Created, updated, unchanged or rejected.
        version: The stored version after the import (``None`` if rejected).
        problems: Why it was rejected (paths into the input record).
    """

    index: int
    id: str | None
    status: ImportStatus
    version: int | None = None
    problems: tuple[Problem, ...] = ()


@attrs.frozen(kw_only=True)
class ImportReport:
    """What an import did: counts by status, and the outcomes.

    Attributes:
        outcomes: One :class:`ImportOutcome` per input record, in input order; when the
            import was given ``on_outcome``, only the rejected ones (every outcome went
            to the callback instead, so memory stays flat however many records there are).
        created: How many customers were created.
        updated: How many customers were updated.
        unchanged: How many records equalled the stored customer and were not written.
        rejected: How many records were rejected (nothing of them was written).
    """

    outcomes: tuple[ImportOutcome, ...]
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    @property
    def total(self) -> int:
        """How many input records there were."""
        return self.created + self.updated + self.unchanged + self.rejected

    @property
    def ok(self) -> bool:
        """True when no record was rejected."""
        return self.rejected == 0

    def rejections(self) -> tuple[ImportOutcome, ...]:
        """Return the rejected outcomes, with their problems."""
        return tuple(o for o in self.outcomes if o.status is ImportStatus.REJECTED)


# --------------------------------------------------------------------------- repositories


class StoreRepository(Generic[R]):
    """A repository of one kind of record inside a :class:`StoreUnitOfWork`."""

    def __init__(self, uow: StoreUnitOfWork, kind: RecordKind, model: type[R]) -> None:
        self._uow = uow
        self._kind = kind
        self._model: type[R] = model

    def _check(self, record: R) -> None:
        if not isinstance(record, self._model):
            raise TypeError(f"expected a {self._model.__name__}, got {type(record).__name__}")

    def get(self, record_id: str) -> R:
        """The record with ``record_id``; raises :class:`NotFound`."""
        if not isinstance(record_id, str):
            raise ValidationError(
                [
                    Problem(
                        code="type.invalid",
                        path="$.id",
                        message=f"expected a string id, got {type(record_id).__name__}",
                    )
                ],
                subject=self._model.__name__,
            )
        record = self._uow._tx.get(self._kind, record_id)
        if record is None:
            raise NotFound(self._kind, record_id)
        return cast(R, record)

    def _stamp_new(self, record: R) -> R:
        now = self._uow._store._now()
        plain: Record = record
        if isinstance(plain, Customer):
            stamped: Record = attrs.evolve(plain, version=1, created_at=now, updated_at=now)
        else:
            stamped = attrs.evolve(plain, version=1, created_at=now)
        return cast(R, stamped)

    def add(self, record: R) -> R:
        """Add a new record (version 0); returns it as stored, with version 1."""
        self._check(record)
        if record.version != 0:
            raise ValidationError(
                [
                    Problem(
                        code="record.not_new",
                        path="$.version",
                        message=f"a new record has version 0, not {record.version}; "
                        "use update() to save a stored record",
                    )
                ],
                subject=self._model.__name__,
            )
        stored = self._stamp_new(record)
        self._uow._tx.insert(self._kind, [stored])
        return stored

    def update(self, record: R) -> R:
        """Save a record read at ``record.version``; returns it with version + 1."""
        self._check(record)
        stored = attrs.evolve(record, version=record.version + 1)
        self._uow._tx.update(self._kind, stored, expected_version=record.version)
        return stored

    def remove(self, record: R) -> None:
        """Remove a record read at ``record.version``."""
        self._check(record)
        self._uow._tx.delete(self._kind, record.id, expected_version=record.version)

    def find(self, query: Query) -> list[R]:
        """One page of records matching ``query`` (checked against the model first)."""
        query.validate(self._model)
        return cast(list[R], self._uow._tx.query(self._kind, query))

    def count(self, query: Query | None = None) -> int:
        """How many records match ``query``'s filter (all when ``None``)."""
        query = query if query is not None else Query()
        query.validate(self._model)
        return self._uow._tx.count(self._kind, query)

    def stream(self, *, batch_size: int = 1000) -> Iterator[R]:
        """Every record, ordered by id, fetched ``batch_size`` at a time."""
        _check_batch_size(batch_size)
        return cast(Iterator[R], self._uow._tx.scan(self._kind, batch_size=batch_size))


class StoreCustomerRepository(StoreRepository[Customer]):
    """Customers: normalised on every write, with their change history."""

    def _history(
        self, operation: ChangeOperation, old: Customer | None, new: Customer | None, version: int
    ) -> None:
        store = self._uow._store
        if not store._record_history:
            return
        subject = new if new is not None else old
        assert subject is not None
        change = ChangeRecord(
            customer_id=subject.id,
            operation=operation,
            at=store._now(),
            version=version,
            actor=self._uow.actor,
            source=self._uow.source,
            changes=history_changes(old, new),
        )
        self._uow._tx.append_history([change])

    def add(self, record: Customer) -> Customer:
        """Normalise and add a new customer; returns it as stored, with version 1."""
        self._check(record)
        stored = super().add(self._uow._store._normalise(record))
        self._history(ChangeOperation.CREATED, None, stored, stored.version)
        return stored

    def update(self, record: Customer) -> Customer:
        """Normalise and save a customer read at ``record.version``; returns version + 1."""
        self._check(record)
        tx = self._uow._tx
        old = tx.get("customer", record.id)
        if old is None:
            raise NotFound("customer", record.id)
        if old.version != record.version:
            raise ConcurrencyConflict(
                "customer",
                record.id,
                expected_version=record.version,
                actual_version=old.version,
            )
        normal = self._uow._store._normalise(record)
        now = self._uow._store._now()
        stored = attrs.evolve(
            normal,
            version=record.version + 1,
            created_at=old.created_at,
            updated_at=max(now, old.created_at),
        )
        tx.update("customer", stored, expected_version=record.version)
        self._history(ChangeOperation.UPDATED, cast(Customer, old), stored, stored.version)
        return stored

    def remove(self, record: Customer) -> None:
        """Remove a customer read at ``record.version``; its history is kept."""
        self._check(record)
        tx = self._uow._tx
        old = tx.get("customer", record.id)
        super().remove(record)
        self._history(
            ChangeOperation.REMOVED, cast(Customer, old) or record, None, record.version + 1
        )

    def history(self, customer_id: str) -> list[ChangeRecord]:
        """Every recorded change to a customer, oldest first (empty if none)."""
        return self._uow._tx.history(customer_id)


# --------------------------------------------------------------------------- unit of work


class StoreUnitOfWork:
    """A business transaction across all repositories (a :class:`~crmcore.storage.UnitOfWork`).

    The backend transaction starts on first use; :meth:`commit` ends it and the next
    use starts a new one. Leaving the ``with`` block rolls back whatever was not
    committed, also on an exception.

    Attributes:
        actor: Who makes the changes (recorded in history).
        source: Where the data comes from (recorded in history).
    """

    def __init__(self, store: Store, *, actor: str | None, source: str | None) -> None:
        self._store = store
        self.actor = actor
        self.source = source
        self._current: Transaction | None = None
        self.customers = StoreCustomerRepository(self, "customer", Customer)
        self.interactions: StoreRepository[Interaction] = StoreRepository(
            self, "interaction", Interaction
        )
        self.complaints: StoreRepository[Complaint] = StoreRepository(self, "complaint", Complaint)
        self.purchases: StoreRepository[Purchase] = StoreRepository(self, "purchase", Purchase)

    @property
    def _tx(self) -> Transaction:
        if self._current is None:
            self._current = self._store._backend.begin()
        return self._current

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> None:
        """Save every change made since the last commit, atomically."""
        if self._current is None:
            return
        tx, self._current = self._current, None
        tx.commit()

    def rollback(self) -> None:
        """Discard every uncommitted change."""
        if self._current is None:
            return
        tx, self._current = self._current, None
        tx.rollback()


# --------------------------------------------------------------------------- store


def _check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")


def _takes_now(normaliser: Normaliser) -> bool:
    """Whether ``normaliser`` accepts the write time as a ``now=`` keyword."""
    try:
        parameters = inspect.signature(normaliser).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        or (p.name == "now" and p.kind is not inspect.Parameter.POSITIONAL_ONLY)
        for p in parameters
    )


def _runs_batches(normaliser: NormalisationPipeline) -> bool:
    """Whether ``check_many`` of this pipeline does what calling it does."""
    cls = type(normaliser)
    return (
        cls.__call__ is NormalisationPipeline.__call__
        and cls.check is NormalisationPipeline.check
        and cls.check_many is NormalisationPipeline.check_many
    )


def _rejected(index: int, record_id: str | None, problems: Iterable[Problem]) -> ImportOutcome:
    return ImportOutcome(
        index=index, id=record_id, status=ImportStatus.REJECTED, problems=tuple(problems)
    )


class _ImportRun:
    """One :meth:`Store.import_customers` call.

    Records are read as they come; a pipeline normaliser then runs on chunks of
    ``batch_size`` read records (:meth:`NormalisationPipeline.check_many`), any other
    normaliser on each record as it is read. The normalised records are decided in
    input order, exactly as if each were normalised on reading: refused, a repeated
    id, or accepted; every ``batch_size`` accepted records are written as one batch.
    So outcomes reach ``record`` in the same order, and batches hold the same
    records, whichever way the normaliser runs.
    """

    def __init__(
        self,
        store: Store,
        batch_size: int,
        actor: str | None,
        source: str | None,
        upsert: bool,
        record: Callable[[Iterable[ImportOutcome]], None],
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.actor, self.source, self.upsert = actor, source, upsert
        self.record = record
        normaliser = store._normaliser
        # a pipeline that runs batches, or None: the normaliser then runs as records are read
        self.pipeline = (
            normaliser
            if isinstance(normaliser, NormalisationPipeline) and _runs_batches(normaliser)
            else None
        )
        self.chunk = batch_size if self.pipeline is not None else 1
        # read records waiting for the normaliser: (index, customer, input id, outcome)
        self.pending: list[tuple[int, Customer | None, str | None, ImportOutcome | None]] = []
        self.waiting = 0  # how many of them are customers
        self.ready: list[tuple[int, Customer]] = []
        self.seen: set[str] = set()
        # Until a batch meets a stored id, batches are inserted without looking their
        # ids up first (the insert itself refuses a stored id; see Store._import_batch).
        self.optimistic = True

    def add(self, index: int, item: Customer | Mapping[str, Any]) -> None:
        customer, record_id, outcome = self.store._read(index, item)
        if self.chunk == 1:  # normalised as it is read, decided at once
            if outcome is not None:
                self.record([outcome])
                return
            assert customer is not None
            try:
                result: Customer | ValidationError = self.store._normalise(customer)
            except ValidationError as error:
                result = error
            self._accept(index, result, record_id)
            return
        if outcome is not None and not self.pending:
            self.record([outcome])  # nothing read earlier is still undecided
            return
        self.pending.append((index, customer, record_id, outcome))
        if customer is not None:
            self.waiting += 1
            if self.waiting >= self.chunk:
                self._decide()

    def finish(self) -> None:
        if self.pending:
            self._decide()
        if self.ready:
            self._write()

    def _decide(self) -> None:
        pending, self.pending, self.waiting = self.pending, [], 0
        customers = [customer for _, customer, _, _ in pending if customer is not None]
        normalised = iter(self._check_many(customers))
        for index, _, record_id, outcome in pending:
            if outcome is not None:
                self.record([outcome])
            else:
                self._accept(index, next(normalised), record_id)

    def _check_many(self, customers: list[Customer]) -> list[Customer | ValidationError]:
        """Each customer normalised by the pipeline, or the error refusing it."""
        assert self.pipeline is not None
        try:
            results = self.pipeline.check_many(customers, now=self.store._now())
        except ValidationError as error:  # a clock giving a naive time: refuse each
            return [error] * len(customers)
        return [
            r.customer if r.ok else ValidationError(r.errors, subject="Customer") for r in results
        ]

    def _accept(
        self, index: int, result: Customer | ValidationError, record_id: str | None
    ) -> None:
        """Decide one normalised record: refused, a repeated id, or ready to write."""
        if isinstance(result, ValidationError):
            # the id the input gave, never one minted for an input without one
            self.record([_rejected(index, record_id, result.problems)])
        elif result.id in self.seen:
            problem = Problem(
                code="import.duplicate_id",
                path="$.id",
                message="this id appears earlier in the same import",
            )
            self.record([_rejected(index, result.id, (problem,))])
        else:
            self.seen.add(result.id)
            self.ready.append((index, result))
            if len(self.ready) >= self.batch_size:
                self._write()

    def _write(self) -> None:
        batch, self.ready = self.ready, []
        self.record(
            self.store._import_batch(
                batch, self, actor=self.actor, source=self.source, upsert=self.upsert
            )
        )


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


_ITEM = TypeVar("_ITEM", bound=_Identified)
_ITEM_LISTS = ("phones", "emails", "addresses", "social_handles", "facts")


def _adopt(stored: tuple[_ITEM, ...], incoming: tuple[_ITEM, ...]) -> tuple[_ITEM, ...] | None:
    """Give incoming items that equal a stored item apart from their id the stored id."""
    stored_ids = {item.id for item in stored}
    incoming_ids = {item.id for item in incoming}
    free = [item for item in stored if item.id not in incoming_ids]
    adopted: list[_ITEM] = []
    changed = False
    for item in incoming:
        if item.id not in stored_ids:
            for candidate in free:
                if attrs.evolve(item, id=candidate.id) == candidate:  # type: ignore[misc]
                    item = candidate
                    free.remove(candidate)
                    changed = True
                    break
        adopted.append(item)
    return tuple(adopted) if changed else None


def _adopt_ids(old: Customer, new: Customer) -> Customer:
    """Keep the stored ids of contact points, facts and contact persons an import repeats.

    Imported data rarely carries the ids crmcore gave its contact points, so each import
    would otherwise mint new ones and every re-import of the same data would look like a
    change. A contact point (fact, contact person) equal to a stored one in everything
    but its id *is* that one, and keeps its id.
    """
    changes: dict[str, Any] = {}
    for name in _ITEM_LISTS:
        adopted = _adopt(getattr(old, name), getattr(new, name))
        if adopted is not None:
            changes[name] = adopted
    if old.organisation is not None and new.organisation is not None:
        persons = _adopt(old.organisation.contact_persons, new.organisation.contact_persons)
        if persons is not None:
            changes["organisation"] = attrs.evolve(new.organisation, contact_persons=persons)
    return attrs.evolve(new, **changes) if changes else new


DEFAULT_NORMALISER = NormalisationPipeline()
"""The normaliser a store runs unless told otherwise: the verification rules' default pipeline."""


class Store:
    """crmcore's storage API over any backend.

    Args:
        backend: The backend holding the data.
        normaliser: Applied to every customer on every write path (add, update,
            import); may raise :class:`ValidationError` to reject it. Defaults to
            :data:`DEFAULT_NORMALISER`, the one
            :class:`crmcore.rules.verification.NormalisationPipeline` (phones to
            E.164, emails, names and addresses to their normal form). Pass a
            configured pipeline (``NormalisationPipeline(default_region="CN")``), or
            ``None`` to store customers exactly as given (for storage tests and
            benchmarks; nothing is then normalised).
        clock: Returns the current aware datetime; used for timestamps and history.
        history: Record change history (default). Turning it off is for
            benchmarks and one-off migrations only.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        normaliser: Normaliser | None = DEFAULT_NORMALISER,
        clock: Clock | None = None,
        history: bool = True,
    ) -> None:
        self._backend = backend
        self._normaliser = normaliser
        self._normaliser_takes_now = normaliser is not None and _takes_now(normaliser)
        self._clock: Clock = clock if clock is not None else utc_now
        self._record_history = history

    @property
    def backend(self) -> Backend:
        """The backend this store runs on."""
        return self._backend

    @property
    def capabilities(self) -> Capabilities:
        """The backend's capabilities."""
        return self._backend.capabilities

    def _now(self) -> Any:
        return self._clock()

    def _normalise(self, customer: Customer) -> Customer:
        if self._normaliser is None:
            return customer
        if self._normaliser_takes_now:
            # the store's clock, so plausibility rules judge the write's own time
            result = self._normaliser(customer, now=self._now())  # type: ignore[call-arg]
        else:
            result = self._normaliser(customer)
        if not isinstance(result, Customer):
            raise TypeError(f"the normaliser returned a {type(result).__name__}, not a Customer")
        return result

    def unit_of_work(
        self, *, actor: str | None = None, source: str | None = None
    ) -> StoreUnitOfWork:
        """A new unit of work; use it as a context manager and call ``commit()``."""
        return StoreUnitOfWork(self, actor=actor, source=source)

    def stream_customers(self, *, batch_size: int = 1000) -> Iterator[Customer]:
        """Every customer, ordered by id, ``batch_size`` at a time, in one read transaction."""
        _check_batch_size(batch_size)
        tx = self._backend.begin()
        try:
            for record in tx.scan("customer", batch_size=batch_size):
                yield cast(Customer, record)
        finally:
            tx.rollback()

    def import_customers(
        self,
        records: Iterable[Customer | Mapping[str, Any]],
        *,
        batch_size: int = 1000,
        actor: str | None = None,
        source: str | None = None,
        upsert: bool = True,
        on_outcome: Callable[[ImportOutcome], None] | None = None,
    ) -> ImportReport:
        """Create and update many customers, batched, with one outcome per input record.

        Mappings are structured with :func:`crmcore.serialization.from_dict`; every
        customer goes through the normaliser. A customer whose id is not stored is
        created (version 1). One whose id is stored is updated when ``upsert`` (the
        default), or left ``unchanged`` when it equals the stored one apart from
        version and timestamps; an input with ``version`` > 0 claims to be based on that
        version and is rejected (``storage.conflict``) when the stored one differs;
        with ``upsert=False`` a stored id is rejected (``storage.duplicate``). An id
        repeated in the input is rejected (``import.duplicate_id``).

        A rejected record writes nothing; each batch of accepted records is written
        and committed together, with its history. Problem paths are rooted at the
        input record (``$.phones[0].number``). A batch is normalised together (with
        ``check_many`` when the normaliser is a
        :class:`~crmcore.rules.verification.NormalisationPipeline`), and inserted
        without looking its ids up until the import meets a stored id (the
        backend's insert refuses stored ids; docs/storage.md, "Bulk import").

        Outcomes are collected in the report, in input order. For very large imports
        pass ``on_outcome``: each outcome goes to it as soon as its batch is decided
        (rejections of unreadable records first), and the report keeps only the counts
        and the rejections, so memory does not grow with the input (apart from the
        set of ids seen, which detects repeated ids).
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        kept: list[ImportOutcome] = []
        counts = dict.fromkeys(ImportStatus, 0)

        def record(outcomes: Iterable[ImportOutcome]) -> None:
            for outcome in outcomes:
                counts[outcome.status] += 1
                if on_outcome is None or outcome.status is ImportStatus.REJECTED:
                    kept.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)

        run = _ImportRun(self, batch_size, actor, source, upsert, record)
        for index, item in enumerate(records):
            run.add(index, item)
        run.finish()
        kept.sort(key=lambda o: o.index)
        return ImportReport(
            outcomes=tuple(kept),
            created=counts[ImportStatus.CREATED],
            updated=counts[ImportStatus.UPDATED],
            unchanged=counts[ImportStatus.UNCHANGED],
            rejected=counts[ImportStatus.REJECTED],
        )

    def _read(
        self, index: int, item: Customer | Mapping[str, Any]
    ) -> tuple[Customer | None, str | None, ImportOutcome | None]:
        """The input record as a customer, the id the input gave (if any), or its rejection."""
        if isinstance(item, Customer):
            return item, item.id, None
        raw_id = item.get("id") if isinstance(item, Mapping) else getattr(item, "id", None)
        record_id = raw_id if isinstance(raw_id, str) else None
        if not isinstance(item, Mapping):
            problem = Problem(
                code="type.invalid",
                message=f"expected a Customer or a mapping, got {type(item).__name__}",
            )
            return None, record_id, _rejected(index, record_id, (problem,))
        try:
            return from_dict(item, Customer), record_id, None
        except ValidationError as error:
            return None, record_id, _rejected(index, record_id, error.problems)

    def _import_batch(
        self,
        batch: list[tuple[int, Customer]],
        state: _ImportRun,
        *,
        actor: str | None,
        source: str | None,
        upsert: bool,
    ) -> list[ImportOutcome]:
        """Write one batch in one transaction; retried when a concurrent writer interferes.

        While no stored id has been met, the batch is first inserted as it is: a fresh
        import then needs no lookup of its ids. The backend's insert refuses any
        stored id (:class:`DuplicateRecord`, part of the backend contract); the
        transaction is then rolled back, and this batch and the next ones look their
        ids up first, until a batch finds none of its ids stored.
        """
        now = self._now()
        if state.optimistic:
            try:
                return self._create_batch(batch, actor, source, now)
            except (DuplicateRecord, ConcurrencyConflict):
                # a stored id (or a concurrent writer's, found at commit): go carefully
                state.optimistic = False
        for attempt in range(5):
            try:
                # a retry after a concurrent writer reads the clock again
                when = now if attempt == 0 else self._now()
                outcomes = self._write_batch(batch, actor, source, upsert, when)
            except (ConcurrencyConflict, DuplicateRecord):
                continue  # someone wrote the same customers meanwhile: read them again
            state.optimistic = all(o.status is ImportStatus.CREATED for o in outcomes)
            return outcomes
        problem = Problem(
            code="storage.conflict",
            path="$",
            message="kept conflicting with concurrent writers; nothing was written, try again",
        )
        return [_rejected(i, c.id, (problem,)) for i, c in batch]

    def _change_template(self, now: Any, actor: str | None, source: str | None) -> ChangeRecord:
        """One checked change record per batch, copied for each of its customers.

        Building it checks the clock's time, the actor and the source once.
        """
        return ChangeRecord(
            customer_id="-",
            operation=ChangeOperation.CREATED,
            at=now,
            version=1,
            actor=actor,
            source=source,
        )

    def _create_batch(
        self, batch: list[tuple[int, Customer]], actor: str | None, source: str | None, now: Any
    ) -> list[ImportOutcome]:
        """Insert a batch of customers none of which is stored; DuplicateRecord if one is."""
        tx = self._backend.begin()
        try:
            template = self._change_template(now, actor, source)
            stored = replace_each(
                [customer for _, customer in batch], version=1, created_at=now, updated_at=now
            )
            tx.insert("customer", stored)
            if self._record_history:
                tx.append_history(
                    [replace(template, customer_id=c.id, id=new_id()) for c in stored]
                )
            tx.commit()
        except BaseException:
            tx.rollback()
            raise
        created = ImportStatus.CREATED
        return [
            ImportOutcome(index=index, id=customer.id, status=created, version=1)
            for (index, _), customer in zip(batch, stored, strict=True)
        ]

    def _write_batch(
        self,
        batch: list[tuple[int, Customer]],
        actor: str | None,
        source: str | None,
        upsert: bool,
        now: Any,
    ) -> list[ImportOutcome]:
        tx = self._backend.begin()
        try:
            existing = tx.get_many("customer", [c.id for _, c in batch])
            template = self._change_template(now, actor, source)
            inserts: list[Record] = []
            changes: list[ChangeRecord] = []
            outcomes: list[ImportOutcome] = []
            updates: list[tuple[int, Customer, Customer]] = []
            for index, customer in batch:
                old = cast(Customer | None, existing.get(customer.id))
                if old is None:
                    stored = replace(customer, version=1, created_at=now, updated_at=now)
                    inserts.append(stored)
                    outcomes.append(
                        ImportOutcome(
                            index=index, id=stored.id, status=ImportStatus.CREATED, version=1
                        )
                    )
                    if self._record_history:
                        changes.append(replace(template, customer_id=stored.id, id=new_id()))
                    continue
                problem = None
                if not upsert:
                    problem = Problem(
                        code="storage.duplicate",
                        path="$.id",
                        message="a customer with this id already exists (upsert=False)",
                    )
                elif customer.version not in (0, old.version):
                    problem = Problem(
                        code="storage.conflict",
                        path="$.version",
                        message=f"based on version {customer.version}, "
                        f"but the stored version is {old.version}",
                    )
                if problem is not None:
                    outcomes.append(_rejected(index, customer.id, (problem,)))
                    continue
                candidate = replace(
                    _adopt_ids(old, customer),
                    version=old.version,
                    created_at=old.created_at,
                    updated_at=old.updated_at,
                )
                if candidate == old:
                    outcomes.append(
                        ImportOutcome(
                            index=index,
                            id=old.id,
                            status=ImportStatus.UNCHANGED,
                            version=old.version,
                        )
                    )
                    continue
                stored = replace(
                    candidate, version=old.version + 1, updated_at=max(now, old.created_at)
                )
                updates.append((index, old, stored))
            if inserts:
                tx.insert("customer", inserts)
            for index, old, stored in updates:
                tx.update("customer", stored, expected_version=old.version)
                outcomes.append(
                    ImportOutcome(
                        index=index,
                        id=stored.id,
                        status=ImportStatus.UPDATED,
                        version=stored.version,
                    )
                )
                if not self._record_history:
                    continue
                changes.append(
                    replace(
                        template,
                        customer_id=stored.id,
                        id=new_id(),
                        operation=ChangeOperation.UPDATED,
                        version=stored.version,
                        changes=history_changes(old, stored),
                    )
                )
            if changes and self._record_history:
                tx.append_history(changes)
            tx.commit()
            return outcomes
        except BaseException:
            tx.rollback()
            raise

    def close(self) -> None:
        """Close the backend."""
        self._backend.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


if TYPE_CHECKING:  # static proof that the classes implement the port's protocols

    def _is_unit_of_work(uow: StoreUnitOfWork) -> UnitOfWork:
        return uow

    def _is_customer_repository(repo: StoreCustomerRepository) -> CustomerRepository:
        return repo

    def _is_repository(repo: StoreRepository[Purchase]) -> Repository[Purchase]:
        return repo
