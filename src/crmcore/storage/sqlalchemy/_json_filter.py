"""Filter leaves on document paths compiled to each dialect's JSON SQL.

A path that is neither a key column nor indexed is answered from the stored JSON
document itself (:mod:`crmcore.storage.sqlalchemy._codec`), in SQL, with the reference
evaluator's meaning (:mod:`crmcore.query.evaluate`):

* **Existence over tuples.** Every field of the path that holds a tuple is iterated
  (SQLite ``json_each``, PostgreSQL ``jsonb_array_elements``, MariaDB ``JSON_TABLE``):
  the leaf holds when *some* value reached is not ``None`` and passes the test.
* **Defaults.** The codec leaves out fields holding their default, so an absent field
  *of a present object* stands for its default (``verified`` absent is ``False``,
  ``quantity`` absent is ``1``): whether the default passes is decided in Python when
  the query is planned, and the SQL adds "the field is absent from its object" when it
  does. An absent (or ``null``) optional model yields ``None``, never its fields'
  defaults; JSON ``null`` is ``None``.
* **Typed comparisons**, each exact on every dialect:

  - text, enum values and dates (``YYYY-MM-DD``) compare as text by code point
    (SQLite ``BINARY``, PostgreSQL ``COLLATE "C"``, MariaDB ``utf8mb4_nopad_bin``);
    ``starts_with`` compares the first characters;
  - integers as integers, booleans as ``0``/``1`` (``False < True``);
  - decimals, kept as text such as ``"19.90"`` or ``"1E+3"``, by their sign, adjusted
    exponent and significant digits computed from the text with string functions
    (:func:`decimal_key`), so any precision and scale compares exactly (no float,
    no ``DECIMAL(65,30)`` limit);
  - datetimes, kept as ISO 8601 text with the offset they were given, as UTC
    microseconds since 1970 (:func:`datetime_micros`): the seconds of the local part
    minus the offset (hours, minutes, seconds and microseconds of it), so
    ``10:00+08:00`` equals ``02:00+00:00`` as in Python.

:class:`JsonTest` is one such leaf: a boolean SQL element compiled per dialect when
the statement is (the plan itself stays dialect-free). It is never cached by
SQLAlchemy's statement cache (its test is a Python function), which costs a
compilation per statement, not per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Protocol

import attrs
from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    DateTime,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import TableClause, column

__all__ = [
    "DecimalKey",
    "JsonStep",
    "JsonTest",
    "ReachableTest",
    "Value",
    "datetime_micros",
    "datetime_micros_of",
    "decimal_compare",
    "decimal_key_of",
    "decimal_test",
]

Condition = ColumnElement[bool]

_TEXT = Text()
_INT = BigInteger()
_TIMESTAMP = DateTime()
_DATETIME = DateTime()

_BIG = 2**62
"""Adjusted exponents of operands are clamped to this (no stored decimal comes near)."""


@attrs.frozen
class JsonStep:
    """One field of a document path: its name and whether it holds a tuple."""

    name: str
    many: bool


@attrs.frozen
class DecimalKey:
    """A decimal as ``(sign, adjusted exponent, significant digits)``: compares like it.

    ``sign`` is -1, 0 or 1; for zero the other two are 0 and ``""``. Two non-zero
    decimals of one sign compare by their adjusted exponent (the power of ten of the
    first significant digit), then by their significant digits as text (no trailing
    zeros): ``"12" < "123"`` as 1.2 < 1.23.
    """

    sign: Any
    adjusted: Any
    digits: Any


def decimal_key_of(value: Decimal) -> DecimalKey:
    """The :class:`DecimalKey` of a Python decimal (an operand)."""
    if value == 0:
        return DecimalKey(0, 0, "")
    digits = "".join(map(str, value.as_tuple().digits)).strip("0")
    adjusted = max(-_BIG, min(_BIG, value.adjusted()))
    return DecimalKey(1 if value > 0 else -1, adjusted, digits)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def datetime_micros_of(value: dt.datetime) -> int:
    """UTC microseconds since 1970 of an aware datetime (an operand)."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class Value(Protocol):
    """A JSON value reached by a path, seen through the dialect: typed SQL forms of it."""

    def text(self) -> ColumnElement[Any]:
        """A string's text, comparing by code point."""

    def integer(self) -> ColumnElement[Any]:
        """An integer."""

    def flag(self) -> ColumnElement[Any]:
        """A boolean as 0 or 1."""

    def decimal_test(self, test: Callable[[DecimalKey], Condition]) -> Condition:
        """``test`` of a decimal (kept as text) as its :class:`DecimalKey`."""

    def micros(self) -> ColumnElement[Any]:
        """A datetime (kept as ISO 8601 text) as UTC microseconds since 1970."""


LeafTest = Callable[[Value], Condition]


# --------------------------------------------------------------------------- dialects


class _Dialect:
    """The JSON and string functions of one dialect (see the subclasses)."""

    NULL = "null"
    OBJECT = "object"

    def root(self, doc: Any) -> Any:
        raise NotImplementedError

    def get(self, handle: Any, names: Sequence[str]) -> Any:
        raise NotImplementedError

    def kind(self, handle: Any) -> ColumnElement[Any]:
        raise NotImplementedError

    def elements(self, handle: Any) -> tuple[Any, Any]:
        """A FROM item iterating the array ``handle``, and the handle of its element."""
        raise NotImplementedError

    def single(self, handle: Any) -> tuple[Any, Any]:
        """A FROM item of one row holding the scalar ``handle`` (none when absent)."""
        raise NotImplementedError

    def value(self, element: Any) -> _Value:
        raise NotImplementedError

    # string functions
    def instr(self, text: Any, needle: str) -> ColumnElement[Any]:
        return func.instr(text, needle)

    def length(self, text: Any) -> ColumnElement[Any]:
        return func.length(text)

    def ltrim0(self, text: Any) -> ColumnElement[Any]:
        return func.ltrim(text, "0")

    def rtrim0(self, text: Any) -> ColumnElement[Any]:
        return func.rtrim(text, "0")

    def to_int(self, text: Any) -> ColumnElement[Any]:
        return cast(text, BigInteger)

    def epoch(self, text: Any) -> ColumnElement[Any]:
        """Seconds since 1970 of a naive ``YYYY-MM-DDTHH:MM:SS`` text."""
        raise NotImplementedError

    _lets = 0

    def let(self, values: Sequence[tuple[str, Any, Any]]) -> _Let:
        """A one-row table of ``values`` (name, expression, type), each computed once."""
        self._lets += 1
        return _Let(f"crm_let_{self._lets}", values)


class _Value:
    def __init__(self, dialect: _Dialect, text: Any, raw: Any, flag: Any) -> None:
        self._dialect = dialect
        self._text = text
        self._raw = raw
        self._flag = flag

    def text(self) -> ColumnElement[Any]:
        return self._text  # type: ignore[no-any-return]

    def integer(self) -> ColumnElement[Any]:
        return self._raw  # type: ignore[no-any-return]

    def flag(self) -> ColumnElement[Any]:
        return self._flag  # type: ignore[no-any-return]

    def decimal_test(self, test: Callable[[DecimalKey], Condition]) -> Condition:
        return decimal_test(self._dialect, self._text, test)

    def micros(self) -> ColumnElement[Any]:
        return datetime_micros(self._dialect, self._text)


@attrs.frozen
class _SqlitePath:
    base: Any
    path: str


class _Sqlite(_Dialect):
    """SQLite: ``json_each`` and ``json_type`` over the document text."""

    def root(self, doc: Any) -> Any:
        return _SqlitePath(doc, "$")

    def get(self, handle: Any, names: Sequence[str]) -> Any:
        if not isinstance(handle, _SqlitePath):  # an element of json_each
            handle = _SqlitePath(handle.c.value, "$")
        return _SqlitePath(handle.base, ".".join([handle.path, *names]))

    def kind(self, handle: Any) -> ColumnElement[Any]:
        if isinstance(handle, _SqlitePath):
            return func.json_type(handle.base, handle.path)
        return handle.c.type  # type: ignore[no-any-return]

    def elements(self, handle: Any) -> tuple[Any, Any]:
        each = func.json_each(handle.base, handle.path).table_valued("value", "type").alias()
        return each, each

    def single(self, handle: Any) -> tuple[Any, Any]:
        # json_each of a primitive is one row holding it (none when the path is absent)
        return self.elements(handle)

    def value(self, element: Any) -> _Value:
        raw = element.c.value
        return _Value(self, raw, raw, raw)

    def epoch(self, text: Any) -> ColumnElement[Any]:
        return cast(func.strftime("%s", text), BigInteger)


class _Postgres(_Dialect):
    """PostgreSQL: the document cast to ``jsonb``, ``->`` and ``jsonb_array_elements``."""

    def root(self, doc: Any) -> Any:
        return cast(doc, JSONB)

    def get(self, handle: Any, names: Sequence[str]) -> Any:
        if not isinstance(handle, ColumnElement):
            handle = handle.c.value
        for name in names:
            handle = handle.op("->", return_type=JSONB)(literal(name))
        return handle

    def kind(self, handle: Any) -> ColumnElement[Any]:
        if not isinstance(handle, ColumnElement):
            handle = handle.c.value
        return func.jsonb_typeof(handle)

    def elements(self, handle: Any) -> tuple[Any, Any]:
        # lax: the document is parsed once (no NULL or type test repeating it)
        path: ColumnElement[Any] = literal_column("'lax $[*]'")
        each = func.jsonb_path_query(handle, path).table_valued("value").render_derived()
        return each, each

    def single(self, handle: Any) -> tuple[Any, Any]:
        one = (
            func.jsonb_path_query(handle, literal_column("'strict $'"))
            .table_valued("value")
            .render_derived()
        )
        return one, one

    def value(self, element: Any) -> _Value:
        raw = element.c.value
        text = raw.op("#>>", return_type=_TEXT)(literal_column("'{}'")).collate("C")
        return _Value(self, text, cast(raw, BigInteger), case((text == "true", 1), else_=0))

    def instr(self, text: Any, needle: str) -> ColumnElement[Any]:
        return func.strpos(text, needle)

    def length(self, text: Any) -> ColumnElement[Any]:
        return func.char_length(text)

    def epoch(self, text: Any) -> ColumnElement[Any]:
        return cast(func.extract("epoch", cast(text, _TIMESTAMP)), BigInteger)


class _Let(TableClause):
    """A one-row table of computed columns: ``(SELECT e1 AS c1, ...) AS name``.

    MariaDB has no outer references in derived tables, so there it is
    ``JSON_TABLE(JSON_ARRAY(e1, ...), '$' COLUMNS (c1 ... PATH '$[0]', ...))``.
    """

    inherit_cache = False

    def __init__(self, name: str, values: Sequence[tuple[str, Any, Any]]) -> None:
        super().__init__(name, *(column(n, t) for n, _, t in values))
        self.values = tuple(values)


@compiles(_Let)
def _let(element: _Let, compiler: SQLCompiler, **kw: Any) -> str:
    name = compiler.preparer.quote(element.name)
    if not kw.pop("asfrom", False):
        return name
    kw.pop("from_linter", None)
    if compiler.dialect.name in ("mysql", "mariadb"):
        exprs = ", ".join(compiler.process(e, **kw) for _, e, _ in element.values)
        columns = ", ".join(
            f"{n} {'BIGINT' if t is _INT else 'LONGTEXT'} PATH '$[{i}]'"
            for i, (n, _, t) in enumerate(element.values)
        )
        return f"JSON_TABLE(JSON_ARRAY({exprs}), '$' COLUMNS ({columns})) AS {name}"
    exprs = ", ".join(f"{compiler.process(e, **kw)} AS {n}" for n, e, _ in element.values)
    return f"(SELECT {exprs}) AS {name}"


class _JsonTable(TableClause):
    """MariaDB's ``JSON_TABLE(source, path COLUMNS (value JSON PATH '$')) AS name``."""

    inherit_cache = False

    def __init__(self, name: str, source: Any, path: str) -> None:
        super().__init__(name, column("value"))
        self.source = source
        self.json_path = path


@compiles(_JsonTable)
def _json_table(element: _JsonTable, compiler: SQLCompiler, **kw: Any) -> str:
    name = compiler.preparer.quote(element.name)
    if not kw.pop("asfrom", False):
        return name
    kw.pop("from_linter", None)
    source = compiler.process(element.source, **kw)
    return f"JSON_TABLE({source}, '{element.json_path}' COLUMNS (value JSON PATH '$')) AS {name}"


class _Maria(_Dialect):
    """MariaDB: ``JSON_EXTRACT``, ``JSON_TYPE`` and ``JSON_TABLE`` over the document text."""

    NULL = "NULL"
    OBJECT = "OBJECT"

    def __init__(self) -> None:
        self._tables = 0

    def root(self, doc: Any) -> Any:
        return doc

    def get(self, handle: Any, names: Sequence[str]) -> Any:
        if isinstance(handle, _JsonTable):
            handle = handle.c.value
        return func.json_extract(handle, "$." + ".".join(names))

    def kind(self, handle: Any) -> ColumnElement[Any]:
        if isinstance(handle, _JsonTable):
            handle = handle.c.value
        return func.json_type(handle)

    def _table(self, handle: Any, path: str) -> tuple[Any, Any]:
        self._tables += 1
        table = _JsonTable(f"crm_json_{self._tables}", handle, path)
        return table, table

    def elements(self, handle: Any) -> tuple[Any, Any]:
        return self._table(handle, "$[*]")

    def single(self, handle: Any) -> tuple[Any, Any]:
        return self._table(handle, "$")

    def value(self, element: Any) -> _Value:
        raw = element.c.value
        text = func.json_unquote(raw).collate("utf8mb4_nopad_bin")
        return _Value(self, text, cast(raw, BigInteger), case((raw == "true", 1), else_=0))

    def length(self, text: Any) -> ColumnElement[Any]:
        return func.char_length(text)

    def ltrim0(self, text: Any) -> ColumnElement[Any]:
        return _Trim("LEADING", text)

    def rtrim0(self, text: Any) -> ColumnElement[Any]:
        return _Trim("TRAILING", text)

    def epoch(self, text: Any) -> ColumnElement[Any]:
        return func.timestampdiff(
            literal_column("SECOND"), literal_column("'1970-01-01 00:00:00'"), cast(text, _DATETIME)
        )


class _Trim(ColumnElement[str]):
    """MariaDB's ``TRIM(LEADING|TRAILING '0' FROM text)``."""

    inherit_cache = False

    def __init__(self, side: str, text: Any) -> None:
        self.side = side
        self.text = text
        self.type = self.text.type


@compiles(_Trim)
def _trim(element: _Trim, compiler: SQLCompiler, **kw: Any) -> str:
    return f"TRIM({element.side} '0' FROM {compiler.process(element.text, **kw)})"


def _dialect_of(compiler: SQLCompiler) -> _Dialect:
    name = compiler.dialect.name
    if name == "sqlite":
        return _Sqlite()
    if name == "postgresql":
        return _Postgres()
    if name in ("mysql", "mariadb"):
        return _Maria()
    raise NotImplementedError(f"document queries are not compiled for {name}")


# --------------------------------------------------------------------------- typed forms


def decimal_test(
    dialect: _Dialect, text: Any, test: Callable[[DecimalKey], Condition]
) -> Condition:
    """``test`` of the :class:`DecimalKey` of decimal text (``-12.50``, ``1.2E+7``), in SQL.

    With the unsigned text split at ``E`` into the mantissa (integer part ``ip``,
    fraction ``fp``) and exponent ``e``, and ``d`` the digits ``ip || fp`` without
    leading zeros: the value is ``d * 10^(e - len(fp))``, its adjusted exponent
    ``e + len(d) - len(fp) - 1`` and its significant digits ``d`` without trailing zeros.
    Each stage is computed once, as the columns of a one-row table (:class:`_Let`), so
    the SQL stays small.
    """
    minus = func.substr(text, 1, 1) == "-"
    unsigned = case((minus, func.substr(text, 2)), else_=text)
    e_at = dialect.instr(unsigned, "E")
    first = dialect.let(
        [
            ("neg", case((minus, 1), else_=0), _INT),
            ("m", case((e_at > 0, func.substr(unsigned, 1, e_at - 1)), else_=unsigned), _TEXT),
            ("e", case((e_at > 0, dialect.to_int(func.substr(unsigned, e_at + 1))), else_=0), _INT),
        ]
    )
    mantissa = first.c.m
    dot = dialect.instr(mantissa, ".")
    whole = type_coerce(case((dot > 0, func.substr(mantissa, 1, dot - 1)), else_=mantissa), _TEXT)
    fraction = type_coerce(case((dot > 0, func.substr(mantissa, dot + 1)), else_=""), _TEXT)
    second = dialect.let(
        [
            ("d", dialect.ltrim0(whole + fraction), _TEXT),
            ("lf", dialect.length(fraction), _INT),
            ("e", first.c.e, _INT),
            ("neg", first.c.neg, _INT),
        ]
    )
    digits = second.c.d
    third = dialect.let(
        [
            ("s", case((dialect.length(digits) == 0, 0), (second.c.neg == 1, -1), else_=1), _INT),
            ("adj", second.c.e + dialect.length(digits) - second.c.lf - 1, _INT),
            ("dg", dialect.rtrim0(digits), _TEXT),
        ]
    )
    key = DecimalKey(third.c.s, third.c.adj, third.c.dg)
    inner = exists(select(literal(1)).select_from(third).where(test(key)))
    middle = exists(select(literal(1)).select_from(second).where(inner))
    return exists(select(literal(1)).select_from(first).where(middle))


def datetime_micros(dialect: _Dialect, text: Any) -> ColumnElement[Any]:
    """UTC microseconds since 1970 of ISO 8601 text ``YYYY-MM-DDTHH:MM:SS[.ffffff]±HH:MM``.

    The offset may carry seconds and microseconds (``+05:30:15.000001``), as Python's
    ``isoformat`` writes them.
    """
    fractional = func.substr(text, 20, 1) == "."
    micros = case((fractional, dialect.to_int(func.substr(text, 21, 6))), else_=0)
    offset = case((fractional, func.substr(text, 27)), else_=func.substr(text, 20))
    width = dialect.length(offset)
    sign = case((func.substr(offset, 1, 1) == "-", -1), else_=1)
    offset_seconds = (
        dialect.to_int(func.substr(offset, 2, 2)) * 3600
        + dialect.to_int(func.substr(offset, 5, 2)) * 60
        + case((width >= 9, dialect.to_int(func.substr(offset, 8, 2))), else_=0)
    )
    offset_micros = offset_seconds * 1_000_000 + case(
        (width >= 16, dialect.to_int(func.substr(offset, 11, 6))), else_=0
    )
    local = dialect.epoch(func.substr(text, 1, 19)) * 1_000_000 + micros
    return local - sign * offset_micros


def _mag_less(a: DecimalKey, b: DecimalKey) -> Condition:
    """``|a| < |b|`` for two non-zero keys."""
    return or_(a.adjusted < b.adjusted, and_(a.adjusted == b.adjusted, a.digits < b.digits))


def decimal_compare(op: str, value: DecimalKey, operand: Decimal) -> Condition:
    """``value <op> operand`` (``eq ne lt le gt ge``) for a stored decimal, exactly."""
    x = decimal_key_of(operand)
    if op in ("eq", "ne"):
        if x.sign == 0:
            equal: Condition = value.sign == 0
        else:
            equal = and_(
                value.sign == x.sign, value.adjusted == x.adjusted, value.digits == x.digits
            )
        return equal if op == "eq" else ~equal
    if op in ("le", "ge"):
        strict = decimal_compare("lt" if op == "le" else "gt", value, operand)
        return or_(strict, decimal_compare("eq", value, operand))
    operand_key = DecimalKey(literal(x.sign), literal(x.adjusted), literal(x.digits))
    # v < x, or v > x read as x < v
    low, high = (value, operand_key) if op == "lt" else (operand_key, value)
    low_sign = value.sign if op == "lt" else x.sign
    high_sign = x.sign if op == "lt" else value.sign
    return or_(
        low_sign < high_sign,
        and_(low_sign == high_sign, low_sign == 1, _mag_less(low, high)),
        and_(low_sign == high_sign, low_sign == -1, _mag_less(high, low)),
    )


# --------------------------------------------------------------------------- the element


class JsonTest(ColumnElement[bool]):
    """True when some value on a document path passes ``test`` (see the module).

    Args:
        doc: The document column.
        steps: The path's fields.
        test: The condition on one reached value; ``None`` asks only that a value
            that is not ``None`` is reached (the negation of ``is_null``).
        default_passes: The leaf field's default passes the test, so a leaf absent
            from its object counts.
    """

    inherit_cache = False
    type = Boolean()

    def __init__(
        self,
        doc: Any,
        steps: Sequence[JsonStep],
        test: LeafTest | None,
        *,
        default_passes: bool,
    ) -> None:
        self.doc = doc
        self.steps = tuple(steps)
        self.test = test
        self.default_passes = default_passes

    def build(self, dialect: _Dialect) -> Condition:
        """The condition in ``dialect``'s SQL."""
        handle = dialect.root(self.doc)
        froms: list[Any] = []
        pending: list[str] = []
        for step in self.steps[:-1]:
            pending.append(step.name)
            if step.many:
                item, handle = dialect.elements(dialect.get(handle, pending))
                froms.append(item)
                pending = []
        parent = dialect.get(handle, pending) if pending else handle
        leaf = self.steps[-1]
        field = dialect.get(parent, [leaf.name])
        if leaf.many:
            item, element = dialect.elements(field)
            tests = [dialect.kind(element) != dialect.NULL]
            if self.test is not None:
                tests.append(self.test(dialect.value(element)))
            found: Condition = exists(select(literal(1)).select_from(item).where(*tests))
        elif self.test is None:
            found = and_(dialect.kind(field).is_not(None), dialect.kind(field) != dialect.NULL)
        else:
            item, element = dialect.single(field)
            found = exists(
                select(literal(1))
                .select_from(item)
                .where(dialect.kind(element) != dialect.NULL, self.test(dialect.value(element)))
            )
        if self.default_passes and not leaf.many:
            absent = and_(
                dialect.kind(field).is_(None),
                func.coalesce(dialect.kind(parent), "") == dialect.OBJECT,
            )
            found = or_(found, absent)
        if froms:
            joined = froms[0]
            for item in froms[1:]:  # each iterates an element of the one before
                joined = joined.join(item, true())
            return exists(select(literal(1)).select_from(joined).where(found))
        return found  # two-valued: every part is EXISTS or guarded by IS NOT NULL


@compiles(JsonTest)
def _json_test(element: JsonTest, compiler: SQLCompiler, **kw: Any) -> str:
    condition = element.build(_dialect_of(compiler))
    return f"({compiler.process(condition, **kw)})"


class ReachableTest(ColumnElement[bool]):
    """Plain reachability on a channel, from the document (no purpose).

    True when some contact point of ``fields`` (the customer's own points the channel
    reaches) is not ``invalid`` and has no opt-out of ``channel`` nor of ``all``: the
    rule of :func:`crmcore.query.audience.is_reachable` without a purpose.
    """

    inherit_cache = False
    type = Boolean()

    def __init__(self, doc: Any, fields: Sequence[str], channel: str, everything: str) -> None:
        self.doc = doc
        self.fields = tuple(fields)
        self.channel = channel
        self.everything = everything

    def build(self, dialect: _Dialect) -> Condition:
        """The condition in ``dialect``'s SQL."""
        root = dialect.root(self.doc)
        found: list[Condition] = []
        for name in self.fields:
            item, point = dialect.elements(dialect.get(root, [name]))
            flag_item, flag = dialect.single(dialect.get(point, ["invalid"]))
            invalid = exists(
                select(literal(1))
                .select_from(flag_item)
                .where(dialect.kind(flag) != dialect.NULL, dialect.value(flag).flag() == 1)
            )
            outs_item, out = dialect.elements(dialect.get(point, ["opt_outs"]))
            opted_out = exists(
                select(literal(1))
                .select_from(outs_item)
                .where(dialect.value(out).text().in_([self.channel, self.everything]))
            )
            found.append(exists(select(literal(1)).select_from(item).where(~invalid, ~opted_out)))
        return or_(*found)


@compiles(ReachableTest)
def _reachable_test(element: ReachableTest, compiler: SQLCompiler, **kw: Any) -> str:
    condition = element.build(_dialect_of(compiler))
    return f"({compiler.process(condition, **kw)})"
