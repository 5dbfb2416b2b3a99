"""What a backend indexes of each customer: the index set and its entries.

Queries filter customers by parts that hold many values (phones, emails, tags,
identifiers, address parts, key dates, facts): a backend answers them from an index
instead of reading every customer. This module says, without any storage, *what* is
indexed and *which entries* a customer contributes, so every backend indexes the same
thing: the SQL storage writes the entries as rows of an index table in the same
transaction as the customer, the in-memory backend keeps them in dictionaries.

An :class:`IndexSet` is :data:`DEFAULT_INDEXED_PATHS` plus the paths an application
declares (``IndexSet.of(["facts.value"])``). :meth:`IndexSet.entries` returns one
:class:`IndexEntry` per non-``None`` value a customer holds on each path, in the order
:meth:`~crmcore.query.ResolvedPath.values` yields them (``position``), with the value in
its *index form* (:func:`index_form`): text for strings, enums, dates and datetimes
(UTC, fixed width, so text order is time order), an integer for integers and booleans.
A date path also contributes its month and day (``"MM-DD"``) under the entry path
``<path>#month_day``, for birthday and anniversary windows, and every customer its
consent audience keys with a purpose under ``@reachable`` (:data:`REACHABLE_PATH`).
A set that declares :data:`DEDUPE_PATH` (opt-in: it costs a feature extraction per
write) also holds each customer's duplicate-blocking keys
(:func:`crmcore.rules.dedupe.blocking_keys`), one entry per key under
``@dedupe.<pass>`` (:func:`dedupe_entries`), which the SQL storage self-joins to find
candidate pairs inside the database (:mod:`crmcore.storage.dedupe`).

The index form keeps the reference evaluator's meaning: two values compare in index
form exactly as their comparable values compare in Python (code point order for text).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from crmcore._codegen import generate
from crmcore._fastpaths import fast_paths_enabled
from crmcore.errors import Problem, ValidationError
from crmcore.models import Customer
from crmcore.query.audience import CHANNEL_POINTS, reachable_keys
from crmcore.query.paths import ResolvedPath, resolve_path

__all__ = [
    "ABSENT_SUFFIX",
    "DEDUPE_PATH",
    "DEFAULT_INDEXED_PATHS",
    "MONTH_DAY_SUFFIX",
    "REACHABLE_PATH",
    "EntryRow",
    "EntryTuple",
    "IndexEntry",
    "IndexSet",
    "IndexedPath",
    "audience_entries",
    "dedupe_entries",
    "dedupe_entry_path",
    "index_form",
    "month_day",
    "utc_text",
]

DEFAULT_INDEXED_PATHS: tuple[str, ...] = (
    "tags",
    "phones.number",
    "emails.address",
    "identifiers.kind",
    "identifiers.value",
    "addresses.country",
    "addresses.region",
    "addresses.city",
    "addresses.postal_code",
    "person.birthday",
    "person.family_members.birthday",
    "organisation.contact_persons.birthday",
    "key_dates.date",
    "facts.category",
    "facts.key",
    # Single-valued fields people filter and order by (one entry at position 0, or none).
    "owner",
    "grade",
    "acquisition_channel",
    "person.name.family",
    "person.gender",
    "organisation.legal_name",
    "organisation.registration_number",
    "organisation.size",
    "organisation.credit_standing",
    "organisation.employee_count",
    "organisation.founded_on",
)
"""The customer paths every backend indexes: what the documented queries filter and order by.

Multi-valued parts (phones, emails, tags, identifiers, address parts, key dates, facts)
and the single-valued fields that are not key columns of every backend (owner, grade,
names, gender, the organisation's fields).
"""

REACHABLE_PATH = "@reachable"
"""The entry path of a customer's consent audience keys: the keys of
:func:`~crmcore.query.reachable_keys` with a purpose (``"sms:marketing"``), which answer
:class:`~crmcore.query.Reachable` with a purpose."""

DEDUPE_PATH = "@dedupe"
"""Declared (``IndexSet.of(["@dedupe"])``, ``declare_index(url, "@dedupe")``) to index
every customer's duplicate-blocking keys under ``@dedupe.<pass>`` (:func:`dedupe_entries`)."""

MONTH_DAY_SUFFIX = "#month_day"
"""Appended to a date path to name its month-day entries (``"person.birthday#month_day"``)."""

ABSENT_SUFFIX = "#absent"
"""Appended to a single-valued path to name its absence markers (``"person.name.family#absent"``).

:meth:`IndexSet.entry_rows` (what the SQL storage writes, not :meth:`IndexSet.entries`)
gives a customer without a value for a single-valued path one row of this path, at
position 0, whose text is the customer's kind (``"person"``, ``"organisation"``): the
customers *without* a value, of one kind, are then a range of the text index too, so
an ordering that puts them first reads only its own rows. A path inside a kind's
profile (:attr:`IndexedPath.profile_kind`) has markers on that kind only: the other
kind lacks it by its kind alone."""


def dedupe_entry_path(pass_name: str) -> str:
    """The entry path of one blocking pass's keys: ``"@dedupe.phone"``."""
    return f"{DEDUPE_PATH}.{pass_name}"


def dedupe_entries(customer: Customer) -> list[IndexEntry]:
    """The blocking keys of ``customer`` as index entries, pass by pass.

    Each key ``"<pass>:<value>"`` of :func:`crmcore.rules.dedupe.blocking_keys` (every
    pass, no default phone region) becomes an entry of path ``@dedupe.<pass>`` holding
    ``<value>``; positions count the pass's keys in key order.
    """
    from crmcore.rules.dedupe.keys import blocking_keys

    found: list[IndexEntry] = []
    last = ""
    position = 0
    for key in blocking_keys(customer):
        name, value = key.split(":", 1)
        if name != last:
            last, position = name, 0
        found.append(IndexEntry(dedupe_entry_path(name), position, value))
        position += 1
    return found


def utc_text(value: dt.datetime) -> str:
    """The index form of an aware datetime: UTC ``YYYY-MM-DDTHH:MM:SS.ffffff``."""
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def month_day(value: dt.date) -> str:
    """The month and day of a date as ``"MM-DD"`` (``"02-29"`` stays ``"02-29"``)."""
    return f"{value.month:02d}-{value.day:02d}"


def index_form(value: Any) -> str | int:
    """The index form of a stored value or a comparable query operand.

    Strings stay strings, an enum member becomes its value string, a date its ISO
    text, an aware datetime :func:`utc_text`, an integer or boolean an integer
    (``True`` is ``1``, as in Python's comparisons).
    """
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        return utc_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"no index form for {type(value).__name__}")  # pragma: no cover


EntryTuple = tuple[str, int, str | int]
"""One index entry as ``(path, position, value)`` (see :meth:`IndexSet.entry_tuples`)."""

EntryRow = tuple[str, str, int, str | None, str | None, int | None]
"""One index entry of one customer as a storage row (see :meth:`IndexSet.entry_rows`):
``(customer_id, path, position, text, full_text, number)``. A text value is ``text``,
cut to the row's text limit, and, only when longer, whole in ``full_text``; an integer
(or boolean) value is ``number``."""

_CONSENT_FIELDS: tuple[str, ...] = tuple(
    dict.fromkeys(name for names in CHANNEL_POINTS.values() for name in names)
)
"""The customer fields whose contact points :func:`~crmcore.query.reachable_keys` reads."""


def audience_entries(customer: Customer) -> list[EntryTuple]:
    """The ``@reachable`` entries of ``customer``: its audience keys with a purpose, sorted.

    Only the consent keys (``"sms:marketing"``): plain reachability (``"sms"``) is
    nearly every customer's, and would cost rows on every write for filters that select
    almost everyone anyway; those run in Python. A key with a purpose needs a consent
    decision on one of the customer's contact points, so a customer without any
    (most of them) has none, and :func:`~crmcore.query.reachable_keys` is not asked.
    """
    if not _has_consents(customer):
        return []
    keys = sorted(key for key in reachable_keys(customer) if ":" in key)
    return [(REACHABLE_PATH, position, key) for position, key in enumerate(keys)]


def _has_consents(customer: Customer) -> bool:
    """Whether any contact point :func:`~crmcore.query.reachable_keys` reads has a consent."""
    for name in _CONSENT_FIELDS:
        for point in getattr(customer, name):
            if point.consents:
                return True
    return False


_TEXT_LEAVES: tuple[type, ...] = (str, dt.date, dt.datetime)
_NUMBER_LEAVES: tuple[type, ...] = (int, bool)


@attrs.frozen
class IndexedPath:
    """One indexed customer path.

    Attributes:
        path: The dotted path, as queries write it.
        resolved: The path checked against :class:`~crmcore.models.Customer`.
        numeric: Its entries are integers (an ``int`` or ``bool`` leaf); otherwise text.
        month_day: A date leaf: it also has ``<path>#month_day`` entries.
    """

    path: str
    resolved: ResolvedPath
    numeric: bool
    month_day: bool

    @classmethod
    def of(cls, path: str) -> IndexedPath:
        """Check ``path`` and return it; raises ``index.path_invalid`` if it cannot be indexed."""
        try:
            resolved = resolve_path(Customer, path)
        except ValidationError as error:
            raise _invalid(path, error.problems[0].message) from None
        leaf = resolved.leaf
        if isinstance(leaf, type) and issubclass(leaf, enum.Enum):
            numeric = False
        elif leaf in _NUMBER_LEAVES:
            numeric = True
        elif leaf in _TEXT_LEAVES:
            numeric = False
        else:
            name = getattr(leaf, "__name__", repr(leaf))
            raise _invalid(path, f"a {name} path cannot be indexed (text, enum, date, int or bool)")
        return cls(
            path=path,
            resolved=resolved,
            numeric=numeric,
            month_day=leaf is dt.date,
        )

    @property
    def profile_kind(self) -> str | None:
        """The customer kind whose profile holds the path (``"person"`` for ``person.*``).

        A customer of the other kind has no such profile (the model's invariant), so
        the path is absent there by its kind alone: it gets no absence marker
        (:data:`ABSENT_SUFFIX`). ``None`` for a path outside the two profiles.
        """
        first = self.resolved.steps[0].name
        return first if first in _PROFILE_KINDS else None


_PROFILE_KINDS = frozenset({"person", "organisation"})
"""The :class:`~crmcore.models.Customer` fields that are a kind's profile, named as its kind."""


def _invalid(path: str, message: str) -> ValidationError:
    named = message if message.startswith(f"{path!r}:") else f"{path!r}: {message}"
    return ValidationError([Problem(code="index.path_invalid", path="$.path", message=named)])


@attrs.frozen
class IndexEntry:
    """One indexed value of one customer.

    Attributes:
        path: The indexed path, or ``<path>#month_day`` for a date's month and day.
        position: Where the value is among the path's values on the customer (0 is the
            first, the one an ordering by the path uses); ``None`` values take a
            position but have no entry.
        value: The value in index form (:func:`index_form`).
    """

    path: str
    position: int
    value: str | int


@attrs.frozen
class IndexSet:
    """The paths a backend indexes: :data:`DEFAULT_INDEXED_PATHS` plus declared ones.

    >>> IndexSet.of(["facts.value"]).get("facts.value").numeric
    False
    """

    paths: tuple[IndexedPath, ...]
    audience: bool = False
    """Also the ``@reachable`` entries (:data:`REACHABLE_PATH`); :meth:`of` sets it."""
    dedupe: bool = False
    """Also the ``@dedupe.<pass>`` blocking keys (:data:`DEDUPE_PATH` declared)."""
    _walker: Callable[[Any], list[EntryTuple]] | None = attrs.field(
        default=None, init=False, eq=False, repr=False
    )
    """The generated walker of :attr:`paths`, once :meth:`entry_tuples` made it."""

    @classmethod
    def of(cls, declared: Iterable[str] = ()) -> IndexSet:
        """The default paths plus ``declared`` (each checked; repeats are ignored)."""
        if isinstance(declared, str):
            raise ValidationError(
                [
                    Problem(
                        code="type.invalid",
                        path="$.paths",
                        message="expected a list of paths, not one string",
                    )
                ]
            )
        names = list(dict.fromkeys((*DEFAULT_INDEXED_PATHS, *declared)))
        dedupe = DEDUPE_PATH in names
        return cls(
            paths=tuple(IndexedPath.of(name) for name in names if name != DEDUPE_PATH),
            audience=True,
            dedupe=dedupe,
        )

    @property
    def declared(self) -> tuple[str, ...]:
        """The paths beyond the defaults, in declaration order (:data:`DEDUPE_PATH` last)."""
        found = tuple(p.path for p in self.paths if p.path not in DEFAULT_INDEXED_PATHS)
        return (*found, DEDUPE_PATH) if self.dedupe else found

    def get(self, path: str) -> IndexedPath | None:
        """The indexed path named ``path`` (``None`` when it is not indexed)."""
        return _lookup(self).get(path)

    def entries(self, customer: Customer) -> list[IndexEntry]:
        """Every index entry of ``customer``, path by path, in value order.

        The entries of :meth:`entry_tuples`, as :class:`IndexEntry` objects.
        """
        return [
            IndexEntry(path, position, value)
            for path, position, value in self.entry_tuples(customer)
        ]

    def entry_tuples(self, customer: Customer) -> list[EntryTuple]:
        """Every index entry of ``customer`` as a ``(path, position, value)`` tuple.

        What a backend writes (the SQL storage makes its index rows of these, without
        building an :class:`IndexEntry` for each). A fast path: a function generated
        for this set of paths walks the customer's fields directly
        (:func:`_generated_walker`); the reference, with fast paths off, is
        :meth:`reference_entries`. A property test proves them equal. Then the
        ``@reachable`` keys with a purpose (:func:`audience_entries`) and, with
        :attr:`dedupe`, the blocking keys (:func:`dedupe_entries`).
        """
        if fast_paths_enabled():
            walker = self._walker
            if walker is None:
                walker = _walker(self.paths)
                object.__setattr__(self, "_walker", walker)
            found = walker(customer)
        else:
            found = [(e.path, e.position, e.value) for e in self.reference_entries(customer)]
        if self.audience:
            found.extend(audience_entries(customer))
        if self.dedupe:
            found.extend((e.path, e.position, e.value) for e in dedupe_entries(customer))
        return found

    def entry_rows(
        self, customers: Iterable[Customer], text_limit: int, *, into: list[EntryRow] | None = None
    ) -> list[EntryRow]:
        """Every index entry of ``customers`` as an :data:`EntryRow` (appended to ``into``).

        Text values longer than ``text_limit`` characters are cut, and whole in
        ``full_text``. What the SQL storage writes. A fast path: a function generated
        for this set of paths and limit appends the rows as it walks the customer's
        fields; the reference, with fast paths off, makes each row of
        :meth:`entry_tuples`. A property test proves them equal. Each single-valued
        path without an entry has an absence marker instead (:data:`ABSENT_SUFFIX`),
        where its entry would be.
        """
        rows: list[EntryRow] = [] if into is None else into
        add = rows.append
        if not fast_paths_enabled():
            for customer in customers:
                cid = customer.id
                entries = self.entry_tuples(customer)
                present = {entry[0] for entry in entries}
                at = 0
                for indexed in self.paths:  # the entries are path by path, in this order
                    name = indexed.path
                    own = (name, name + MONTH_DAY_SUFFIX)
                    while at < len(entries) and entries[at][0] in own:
                        rows.append(_entry_row(cid, entries[at], text_limit))
                        at += 1
                    kind = customer.kind.value
                    if (
                        not indexed.resolved.many
                        and name not in present
                        and indexed.profile_kind in (None, kind)
                    ):
                        rows.append((cid, name + ABSENT_SUFFIX, 0, kind, None, None))
                rows.extend(_entry_row(cid, entry, text_limit) for entry in entries[at:])
            return rows
        walk = _row_walker(self.paths, text_limit)
        audience, dedupe = self.audience, self.dedupe
        for customer in customers:
            cid = customer.id
            walk(customer, cid, add)
            if audience and _has_consents(customer):
                rows.extend(_entry_row(cid, e, text_limit) for e in audience_entries(customer))
            if dedupe:
                rows.extend(
                    _entry_row(cid, (e.path, e.position, e.value), text_limit)
                    for e in dedupe_entries(customer)
                )
        return rows

    def reference_entries(self, customer: Customer) -> list[IndexEntry]:
        """The entries of the paths (not the audience keys), by the path resolver itself."""
        found: list[IndexEntry] = []
        for indexed in self.paths:
            name = indexed.path
            md_name = name + MONTH_DAY_SUFFIX
            for position, value in enumerate(indexed.resolved.values(customer)):
                if value is None:
                    continue
                found.append(IndexEntry(name, position, index_form(value)))
                if indexed.month_day:
                    found.append(IndexEntry(md_name, position, month_day(value)))
        return found


def _form_expression(leaf: Any, var: str) -> str:
    """Python source of :func:`index_form` of ``var`` for values of type ``leaf``."""
    if isinstance(leaf, type) and issubclass(leaf, enum.Enum):
        return f"str({var}.value)"
    if leaf is bool:
        return f"int({var})"
    if leaf is dt.datetime:
        return f"utc_text({var})"
    if leaf is dt.date:
        return f"{var}.isoformat()"
    return var  # str and int are their own index form


def _generated_walker(
    paths: tuple[IndexedPath, ...], text_limit: int | None = None
) -> Callable[..., Any]:
    """Generate the entries of ``paths`` as nested loops over the customer's fields.

    Each path walks its steps as :meth:`~crmcore.query.ResolvedPath.values` does: a
    ``None`` model yields one ``None`` value (it takes a position, it has no entry), a
    tuple yields its items, any other field its value. A single-valued step is an
    assignment (it yields exactly one value), a tuple a loop; a path without a tuple
    has one value, at position 0.

    With ``text_limit``, the function is ``walk(c, cid, add)`` and passes ``add`` each
    entry as the :data:`EntryRow` of customer id ``cid`` (see
    :meth:`IndexSet.entry_rows`); each path's kind (text or number) is known here, so
    only a text value's length is looked at. Without, ``walk(c)`` returns the
    :data:`EntryTuple` list.
    """
    rows = text_limit is not None
    if rows:
        lines = ["def walk(c, cid, add):"]
    else:
        lines = ["def walk(c):", "    found = []", "    add = found.append"]
    for number, indexed in enumerate(paths):
        steps = indexed.resolved.steps
        many = any(step.many for step in steps)
        lines.append(f"    # {indexed.path}")
        if many:
            lines.append("    pos = 0")
        indent = "    "
        parent = "c"
        for depth, step in enumerate(steps):
            var = f"x{depth}"
            field = f"{parent}.{step.name}"
            if step.many:
                source = field if depth == 0 else f"(None,) if {parent} is None else {field}"
                lines.append(f"{indent}for {var} in {source}:")
                indent += "    "
            else:
                value = field if depth == 0 else f"None if {parent} is None else {field}"
                lines.append(f"{indent}{var} = {value}")
            parent = var
        pos = "pos" if many else "0"
        lines.append(f"{indent}if {parent} is not None:")
        form = _form_expression(indexed.resolved.leaf, parent)
        text = f'f"{{{parent}.month:02d}}-{{{parent}.day:02d}}"'
        if not rows:
            lines.append(f"{indent}    add((P{number}, {pos}, {form}))")
            if indexed.month_day:
                lines.append(f"{indent}    add((M{number}, {pos}, {text}))")
        elif indexed.numeric:
            lines.append(f"{indent}    add((cid, P{number}, {pos}, None, None, {form}))")
        else:
            lines.append(f"{indent}    v = {form}")
            lines.append(f"{indent}    if len(v) > LIMIT:")
            lines.append(f"{indent}        add((cid, P{number}, {pos}, v[:LIMIT], v, None))")
            lines.append(f"{indent}    else:")
            lines.append(f"{indent}        add((cid, P{number}, {pos}, v, None, None))")
            if indexed.month_day and (text_limit or 0) >= len("MM-DD"):  # never longer
                lines.append(f"{indent}    add((cid, M{number}, {pos}, {text}, None, None))")
            elif indexed.month_day:
                lines.append(f"{indent}    v = {text}")
                lines.append(f"{indent}    add((cid, M{number}, {pos}, v[:LIMIT], v, None))")
        if rows and not many:  # a single value: no entry is an absence marker
            # (not on the other kind, which has no such profile: x0 is None there)
            other = "else:" if indexed.profile_kind is None else "elif x0 is not None:"
            lines.append(f"{indent}{other}")
            lines.append(f"{indent}    add((cid, A{number}, 0, c.kind.value, None, None))")
        if many:
            lines.append(f"{indent}pos += 1")
    lines.append("    return None" if rows else "    return found")
    env: dict[str, Any] = {"utc_text": utc_text, "LIMIT": text_limit}
    for number, indexed in enumerate(paths):
        env[f"P{number}"] = indexed.path
        env[f"M{number}"] = indexed.path + MONTH_DAY_SUFFIX
        env[f"A{number}"] = indexed.path + ABSENT_SUFFIX
    what = "index rows" if rows else "index entries"
    walker: Callable[..., Any] = generate(
        "\n".join(lines), "walk", env, what=f"{what} of {len(paths)} paths"
    )
    return walker


_WALKERS: dict[tuple[str, ...], Callable[[Any], list[EntryTuple]]] = {}
_ROW_WALKERS: dict[tuple[tuple[str, ...], int], Callable[[Any, str, Any], None]] = {}


def _walker(paths: tuple[IndexedPath, ...]) -> Callable[[Any], list[EntryTuple]]:
    key = tuple(p.path for p in paths)
    walker = _WALKERS.get(key)
    if walker is None:
        walker = _WALKERS[key] = _generated_walker(paths)
    return walker


def _row_walker(paths: tuple[IndexedPath, ...], limit: int) -> Callable[[Any, str, Any], None]:
    key = (tuple(p.path for p in paths), limit)
    walker = _ROW_WALKERS.get(key)
    if walker is None:
        walker = _ROW_WALKERS[key] = _generated_walker(paths, limit)
    return walker


def _entry_row(cid: str, entry: EntryTuple, limit: int) -> EntryRow:
    """The :data:`EntryRow` of one entry tuple (the reference of the generated rows)."""
    path, position, value = entry
    if isinstance(value, int):  # booleans are integers in index form
        return (cid, path, position, None, None, value)
    if len(value) > limit:
        return (cid, path, position, value[:limit], value, None)
    return (cid, path, position, value, None, None)


_LOOKUPS: dict[tuple[str, ...], dict[str, IndexedPath]] = {}


def _lookup(index_set: IndexSet) -> dict[str, IndexedPath]:
    key = tuple(p.path for p in index_set.paths)
    table = _LOOKUPS.get(key)
    if table is None:
        table = _LOOKUPS[key] = {p.path: p for p in index_set.paths}
    return table
