"""The streaming read's fast paths: msgspec parsing (into dicts or into mirror Structs) and
trusted readers specialised per shape.

Each is compared with its reference on every record the test strategies make (CJK
names, full-width digits, every optional part): the trusted read parsed by msgspec
with the one parsed by the json module, and both with the checked read; the
shape-specialised trusted reader with the per-field one; the read through a mirror Struct
with the dict trusted reader and the checked read. A row whose digest matches
but whose document is not one the store writes (a forged or recomputed digest) is
still read checked and reported with its code and its row id.
"""

from __future__ import annotations

import json
import linecache
import sys
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from tests.integration.test_trusted_reads import RECORDS, T0, assert_identical

from crmcore._fastpaths import set_fast_paths
from crmcore.errors import ValidationError
from crmcore.models import (
    Complaint,
    Customer,
    CustomerKind,
    Interaction,
    Model,
    PersonName,
    PersonProfile,
    Phone,
    PostalAddress,
    Purchase,
)
from crmcore.storage.ports import Backend
from crmcore.storage.sqlalchemy import (
    TABLES,
    _backend,
    _codec,
    _shapes,
    _structs,
    _trusted,
)
from crmcore.testing import strategies as cst

msgspec = pytest.importorskip("msgspec")


@pytest.fixture(autouse=True)
def fast_paths_on() -> Iterator[None]:
    """The fast paths are on for every test here (even in CI's run with the switch set)."""
    previous = set_fast_paths(True)
    yield
    set_fast_paths(previous)


def _same_data(a: Any, b: Any) -> None:
    """Equal JSON data with the same Python types throughout (``1 == 1.0 == True`` is not)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _same_data(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same_data(x, y)
    else:
        assert a == b


_PER_FIELD: dict[type, Callable[[Any], Any]] = {}


def _per_field_reader(cls: type) -> Callable[[Any], Any]:
    """The trusted reader of ``cls`` without shapes, its nested models' readers too."""
    if cls in _PER_FIELD:
        return _PER_FIELD[cls]
    made = _codec._trusted._made
    saved = dict(made)
    make = _codec._trusted._make
    try:
        made.clear()
        _codec._trusted._make = lambda c: _codec._generate_trusted(c, shapes=False)
        reader = _PER_FIELD[cls] = _codec._trusted(cls)
        return reader
    finally:
        _codec._trusted._make = make
        made.clear()
        made.update(saved)


# --------------------------------------------------------------------------- parsing


@settings(max_examples=300, deadline=None)
@given(record=RECORDS)
def test_msgspec_parses_every_stored_document_as_the_json_module_does(record: Model) -> None:
    """Same keys in the same order, same values of the same types, for every document."""
    text = _codec.encode(record)
    parse = _trusted.parser()
    assert parse is not None
    _same_data(parse(text), json.loads(text))


@pytest.mark.parametrize(
    "text",
    [
        "1" + "0" * 30,  # orjson: 1e+30, a float
        "-" + "9" * 19,
        "18446744073709551616",
        "[0.1,1e-320,-0.0,1E5,25e9,1]",
        '"\\ud83d\\ude00 王 ０１２"',
        '{"a":1,"a":2}',
    ],
)
def test_msgspec_reads_numbers_and_texts_as_the_json_module(text: str) -> None:
    """Integers of any size stay integers; floats, escapes and repeated keys are alike."""
    parse = _trusted.parser()
    assert parse is not None
    _same_data(parse(text), json.loads(text))


@settings(max_examples=300, deadline=None)
@given(record=RECORDS)
def test_the_trusted_read_is_the_checked_read_with_either_parser(record: Model) -> None:
    """msgspec or the json module's scanner: the record is the checked reader's, type for type.

    Handed the document's UTF-8 bytes (as SQLite's scan does) or its text, every reader
    (the mirror Struct's, msgspec's dicts, the scanner's) builds the same record.
    """
    cls = type(record)
    text = _codec.encode(record)
    checked = _codec.decode(text, cls)
    mark = _trusted.digest(text)
    for document in (text, text.encode()):
        for parse, typed in ((_trusted.parser(), True), (_trusted.parser(), False), (None, True)):
            assert_identical(
                _trusted._make_reader(cls, parse, typed=typed)(document, mark), checked
            )


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(b'{"kind":"person","display_name":"\xff"}', id="not UTF-8"),
        pytest.param(b'{"kind":"person","display_name":"\xed\xa0\x80"}', id="encoded surrogate"),
        pytest.param(b'{"kind":"person","display_name":"x"', id="cut short"),
    ],
)
def test_bytes_no_reader_takes_are_read_checked(document: bytes) -> None:
    """Bytes that are not a document encode() wrote: every reader reports the checked problems."""
    with pytest.raises(ValidationError) as checked:
        _codec.decode(document, Customer)
    for parse, typed in ((_trusted.parser(), True), (_trusted.parser(), False), (None, True)):
        read = _trusted._make_reader(Customer, parse, typed=typed)
        with pytest.raises(ValidationError) as fast:
            read(document, _trusted.digest(document))
        assert fast.value.problems == checked.value.problems


def test_without_the_fast_extra_the_json_module_parses() -> None:
    """No msgspec installed: parser() is None, and the json module's scanner parses."""
    with mock.patch.dict(sys.modules, {"msgspec": None}):  # import msgspec raises ImportError
        assert _trusted.parser() is None
    assert _trusted.parser() is not None


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"kind":"person","display_name":"\\ud800"}', id="lone surrogate"),
        pytest.param('{"kind":"person","display_name":"\ud800"}', id="raw lone surrogate"),
        pytest.param("[" * 5000 + "]" * 5000, id="nested too deep"),
        pytest.param('{"kind":NaN}', id="NaN"),
    ],
)
def test_text_msgspec_reads_otherwise_is_read_checked(text: str) -> None:
    """Where msgspec and the json module differ, msgspec raises and the checked read decides."""
    read = _trusted._make_reader(Customer, _trusted.parser())
    with pytest.raises(ValidationError) as fast:
        read(text, _trusted.digest(text))
    with pytest.raises(ValidationError) as checked:
        _codec.decode(text, Customer)
    assert fast.value.problems == checked.value.problems


# --------------------------------------------------------------------------- mirror Structs


def test_every_record_kind_has_a_mirror() -> None:
    """Customers, interactions, complaints and purchases are all read through Structs."""
    for cls in (Customer, Interaction, Complaint, Purchase):
        assert _structs.struct_reader(cls) is not None, cls


_BY_CALL: dict[type, tuple[Callable[[str], Any], Callable[[Any], Any]]] = {}


def _copied_by_call(cls: type) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    """The mirror steps of ``cls`` with no nested record inlined (each copied by its own call)."""
    if cls not in _BY_CALL:
        with mock.patch.object(_structs, "MAX_INLINE_DEPTH", 1):
            set_fast_paths(False)
            set_fast_paths(True)  # the mirrors made anew, none inlined
            steps = _structs.struct_steps(cls)
        set_fast_paths(False)
        set_fast_paths(True)
        assert steps is not None
        _BY_CALL[cls] = steps
    return _BY_CALL[cls]


@settings(max_examples=300, deadline=None)
@given(record=RECORDS)
def test_the_struct_read_is_the_dict_trusted_read_and_the_checked_read(record: Model) -> None:
    """Parsed into a mirror Struct and copied: the record is the others', type for type.

    Nested records copied inline in the parent's function are those copied by their own.
    """
    cls = type(record)
    text = _codec.encode(record)
    mark = _trusted.digest(text)
    typed = _trusted._make_reader(cls, _trusted.parser())(text, mark)
    assert_identical(typed, _trusted._make_reader(cls, _trusted.parser(), typed=False)(text, mark))
    assert_identical(typed, _codec.decode(text, cls))
    by_call_decode, by_call_copy = _copied_by_call(cls)
    assert_identical(typed, by_call_copy(by_call_decode(text)))
    assert typed == record


def test_the_copy_inlines_nested_records_and_calls_no_function_of_theirs() -> None:
    """A customer's copy makes its phones, consents and names in its own code."""
    steps = _structs.struct_steps(Customer)
    assert steps is not None
    copy = steps[1]
    called = [v for k, v in copy.__globals__.items() if k.startswith("_c") and callable(v)]
    assert called == []
    assert "o2.__class__" in "".join(linecache.getlines(copy.__code__.co_filename))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d.update(surprise="x"), id="unknown key"),
        pytest.param(lambda d: d.pop("display_name"), id="required key missing"),
        pytest.param(lambda d: d.update(kind="robot"), id="enum"),
        pytest.param(lambda d: d.update(phones={"id": "p1"}), id="object for a list"),
        pytest.param(lambda d: d["phones"][0].update(kind="pager"), id="nested enum"),
        pytest.param(lambda d: d.update(created_at="yesterday"), id="datetime"),
        pytest.param(lambda d: d.update(version="1"), id="text for an integer"),
        pytest.param(lambda d: d.update(tags=[1]), id="number for a text"),
    ],
)
def test_the_struct_reader_refuses_what_encode_does_not_write(
    change: Callable[[dict[str, Any]], object],
) -> None:
    """msgspec raises on such a document, so the row reader reads it checked and reports it."""
    data = json.loads(_codec.encode(_customer()))
    change(data)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    read = _structs.struct_reader(Customer)
    assert read is not None
    with pytest.raises(_trusted.PARSE_ERRORS):
        read(text)
    with pytest.raises(ValidationError):
        _trusted._make_reader(Customer, _trusted.parser())(text, _trusted.digest(text))


# --------------------------------------------------------------------------- shapes


@settings(max_examples=300, deadline=None)
@given(records=st.lists(RECORDS, min_size=1, max_size=6))
def test_the_shape_reader_builds_what_the_per_field_reader_builds(records: list[Model]) -> None:
    """Documents of many shapes, read one after another by one reader: identical records."""
    for record in records:
        data = json.loads(_codec.encode(record))
        shaped = _codec.trusted_reader(type(record))(data)
        assert_identical(shaped, _per_field_reader(type(record))(data))
        assert shaped == record


@settings(max_examples=30, deadline=None)
@given(customers=st.lists(cst.customers(), min_size=3, max_size=12))
def test_past_max_shapes_documents_are_read_field_by_field(
    customers: list[Customer],
) -> None:
    """A reader that met MAX_SHAPES shapes reads documents of new shapes right all the same."""
    with mock.patch.object(_shapes, "MAX_SHAPES", 1):
        set_fast_paths(False)
        set_fast_paths(True)  # generated anew, with one shape per class
        read = _codec.trusted_reader(Customer)
        for customer in customers:
            text = _codec.encode(customer)
            assert_identical(read(json.loads(text)), _codec.decode(text, Customer))
    set_fast_paths(False)
    set_fast_paths(True)


SHAPE_ERRORS = [
    pytest.param(lambda d: d.update(surprise="x"), id="unknown key"),
    pytest.param(lambda d: d.pop("display_name"), id="required key missing"),
    pytest.param(lambda d: d.update(kind="robot"), id="enum"),
    pytest.param(lambda d: d.update(phones={"id": "p1"}), id="object for a list"),
    pytest.param(lambda d: d["phones"][0].update(kind="pager"), id="nested enum"),
]


def _customer() -> Customer:
    return Customer(
        kind=CustomerKind.PERSON,
        id="c-王小明",
        display_name="王小明",
        created_at=T0,
        person=PersonProfile(name=PersonName(family="王", given="小明")),
        phones=(Phone(id="p1", number="+86 138 ０００１ ２３４５"),),
        addresses=(
            PostalAddress(id="a1", country="CN", city="北京", street_lines=("中关村大街1号",)),
        ),
    )


@pytest.mark.parametrize("change", SHAPE_ERRORS)
def test_a_document_of_no_written_shape_raises_a_trusted_error(
    change: Callable[[dict[str, Any]], object],
) -> None:
    """The trusted reader never builds a record from a document encode() does not write."""
    data = json.loads(_codec.encode(_customer()))
    change(data)
    read = _codec.trusted_reader(Customer)
    for _ in range(2):  # the second time, the shape is known (or known not to be one)
        with pytest.raises(_codec.TRUSTED_ERRORS):
            read(data)


@pytest.mark.parametrize("change", SHAPE_ERRORS)
def test_a_forged_digest_over_a_bad_document_is_reported_naming_the_row(
    sql_backend: Backend, change: Callable[[dict[str, Any]], object]
) -> None:
    """A hand edit whose digest was recomputed to match: the stream reports it, with its id."""
    customer = _customer()
    t = sql_backend.begin()
    t.insert("customer", [customer])
    t.commit()
    data = json.loads(_codec.encode(customer))
    change(data)
    doc = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    table = TABLES["customer"]
    assert isinstance(sql_backend, _backend.SqlBackend)
    with sql_backend.engine.begin() as connection:
        connection.execute(
            update(table)
            .where(table.c.id == customer.id)
            .values(doc=doc, doc_digest=_trusted.digest(doc))
        )
    t = sql_backend.begin()
    try:
        with pytest.raises(ValidationError) as caught:
            list(t.scan("customer", batch_size=10))
        assert caught.value.subject == f"Customer {customer.id!r} (stored customer row)"
        assert caught.value.codes
    finally:
        t.rollback()
