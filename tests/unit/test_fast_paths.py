"""Fast paths: generated through one helper, equal to their references, switched off by one switch.

Each fast path and the test proving it equal to its reference (see docs/architecture.md):

* type predicates / the full checks: tests/unit/test_field_types.py
* ``replace`` / ``attrs.evolve``: tests/unit/test_replace.py::test_replace_agrees_with_evolve
* ``replace_each`` / ``replace`` one by one:
  tests/unit/test_replace.py::test_replace_each_agrees_with_replace_one_by_one
* the generated JSON writer / ``unstructure`` + the json module:
  tests/integration/test_sqlalchemy_codec.py::test_the_generated_json_writer_matches_the_json_module
  and :func:`test_the_writer_gives_the_same_text_with_fast_paths_off` here
* the generated reader / ``from_dict``: :func:`test_the_reader_agrees_with_from_dict` here
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import os
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crmcore
import crmcore.models._replace as replace_module
from crmcore._codegen import generate
from crmcore._fastpaths import ENV_VAR, fast_paths_enabled, set_fast_paths
from crmcore.errors import Problem, ValidationError
from crmcore.models import Complaint, Customer, Interaction, Model, Purchase, replace, replace_each
from crmcore.models._atoms import ATOM_KINDS
from crmcore.models._types import Atom, Child, FieldType, register_field_type, type_test
from crmcore.serialization import from_dict
from crmcore.storage.sqlalchemy import _codec
from crmcore.testing import strategies as cst

SRC = Path(crmcore.__file__).parent
RECORDS = st.one_of(cst.customers(), cst.interactions(), cst.complaints(), cst.purchases())
T1 = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def fast_paths_off() -> Iterator[None]:
    """The fast paths are off for the test, and restored afterwards."""
    previous = set_fast_paths(False)
    yield
    set_fast_paths(previous)


@pytest.fixture
def fast_paths_on() -> Iterator[None]:
    """The fast paths are on for the test (even in CI's run with the switch set)."""
    previous = set_fast_paths(True)
    yield
    set_fast_paths(previous)


# --------------------------------------------------------------------------- codegen


def test_exec_appears_only_in_the_codegen_helper() -> None:
    """All run-time code generation goes through crmcore._codegen: no other module execs."""
    users = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "exec(" in path.read_text(encoding="utf-8")
    )
    assert users == ["_codegen.py"]


def test_a_generated_function_s_traceback_shows_its_source_line() -> None:
    """Generated source is registered in linecache: tracebacks print the failing line."""
    boom = generate("def boom(x):\n    return 1 // x\n", "boom", {}, what="test boom")
    with pytest.raises(ZeroDivisionError) as caught:
        boom(0)
    text = "".join(traceback.format_exception(caught.value))
    assert "<crmcore generated" in text
    assert "return 1 // x" in text


def test_a_generated_replacer_shows_its_lines_in_a_traceback(fast_paths_on: None) -> None:
    """A converter failing inside a generated replacer is traced to the generated line."""

    class Unreadable:
        """Tags whose iteration fails, so the tags converter raises."""

        def __iter__(self) -> Iterator[str]:
            raise RuntimeError("unreadable tags")

    customer = Customer.person_named(family="张")
    with pytest.raises(RuntimeError) as caught:
        replace(customer, tags=Unreadable())
    frames = traceback.extract_tb(caught.value.__traceback__)
    generated = [f for f in frames if f.filename.startswith("<crmcore generated")]
    assert generated
    assert "replace tags of Customer" in generated[0].filename
    assert generated[0].line == "v0 = convert_0(changes['tags'])"


def test_generated_codec_functions_have_source(fast_paths_on: None) -> None:
    """inspect.getsource works on the codec's generated writer and reader."""
    assert "def to_json(o):" in inspect.getsource(_codec._writers(Customer))
    assert "def read(d):" in inspect.getsource(_codec._readers(Customer))


# --------------------------------------------------------------------------- reader fallback


class Opaque:
    """A field type of the test-local model below, read by a deliberately broken node."""


@attrs.frozen
class _BrokenReader(FieldType):
    """A node whose JSON parser has a bug (raises TypeError)."""

    @property
    def annotation(self) -> Any:
        return Opaque

    def diagnose(self, value: Any, path: str) -> Iterator[Problem]:
        return iter(())

    def to_json(self, value: Any, child: Child) -> Any:
        return None

    def from_json(self, data: Any, child: Child) -> Any:
        raise TypeError("a bug in a reader")


@attrs.frozen(kw_only=True)
class Holder(Model):
    """A test-local model with a field read by the broken node."""

    thing: Opaque | None = None


@pytest.fixture
def broken_reader() -> Iterator[None]:
    """The grammar reads Opaque fields with _BrokenReader during the test."""
    unregister = register_field_type(lambda tp: _BrokenReader() if tp is Opaque else None)
    yield
    unregister()


def test_a_bug_inside_the_reader_propagates(broken_reader: None, fast_paths_on: None) -> None:
    """The reader's fallback catches only its own signal and ValidationError, not a TypeError."""
    with pytest.raises(TypeError, match="a bug in a reader"):
        _codec.decode('{"thing": 1}', Holder)


def test_what_the_reader_does_not_handle_falls_back_to_from_dict(fast_paths_on: None) -> None:
    """A document the reader leaves (an int amount, a missing field) is from_dict's to judge."""
    data = json.loads(_codec.encode(Customer.person_named(family="张")))
    del data["display_name"]
    with pytest.raises(ValidationError) as caught:
        _codec.structure(data, Customer)
    assert ("field.required", "$.display_name") in [(p.code, p.path) for p in caught.value.problems]


def _outcome(read: Callable[[Any, type], Any], data: Any, cls: type) -> tuple[str, Any]:
    try:
        return "ok", read(data, cls)
    except ValidationError as error:
        return "invalid", error.problems


_MUTATIONS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=4),
    st.sampled_from(["2026-01-01", "2026-01-01T00:00:00", "2026-01-01T00:00:00+08:00", "1.5", ""]),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(record=RECORDS, data=st.data())
def test_the_reader_agrees_with_from_dict(record: Any, data: st.DataObject) -> None:
    """For documents and corrupted documents, the generated reader gives from_dict's
    record or from_dict's problems."""
    previous = set_fast_paths(True)
    try:
        document = json.loads(_codec.encode(record))
        keys = [*document, *(f.name for f in attrs.fields(type(record))), "surprise"]
        minted = {  # a missing field with a factory default gets a new value each time
            f.name for f in attrs.fields(type(record)) if hasattr(f.default, "factory")
        }
        for key in data.draw(st.lists(st.sampled_from(keys), max_size=2)):
            if data.draw(st.booleans()) and key not in minted:
                document.pop(key, None)
            else:
                document[key] = data.draw(_MUTATIONS)
        assert _outcome(_codec.structure, document, type(record)) == _outcome(
            from_dict, document, type(record)
        )
    finally:
        set_fast_paths(previous)


@settings(max_examples=100, deadline=None)
@given(record=RECORDS)
def test_the_writer_gives_the_same_text_with_fast_paths_off(
    record: Customer | Interaction | Complaint | Purchase,
) -> None:
    """The generated JSON writer and its reference write the same text."""
    previous = set_fast_paths(True)
    try:
        fast = _codec.encode(record)
        set_fast_paths(False)
        assert _codec.encode(record) == fast
        assert _codec.decode(fast, type(record)) == record
    finally:
        set_fast_paths(previous)


# --------------------------------------------------------------------------- the switch


def test_the_switch_is_read_from_the_environment_at_import() -> None:
    """CRMCORE_NO_FAST_PATHS=1 turns the fast paths off; unset or 0 leaves them on."""
    code = "from crmcore._fastpaths import fast_paths_enabled; print(fast_paths_enabled())"
    for value, expected in (("1", "False"), ("0", "True"), ("", "True")):
        env = {**os.environ, ENV_VAR: value}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == expected


def _spy(calls: list[str], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, noting ``name`` in ``calls`` at each call."""

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return fn(*args, **kwargs)

    return spy


def test_with_the_switch_set_the_codec_uses_its_references(
    fast_paths_off: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """encode goes through unstructure and the json module, structure through from_dict."""
    used: list[str] = []
    monkeypatch.setattr(_codec, "unstructure", _spy(used, "unstructure", _codec.unstructure))
    monkeypatch.setattr(_codec, "from_dict", _spy(used, "from_dict", from_dict))
    customer = Customer.person_named(family="张")
    assert _codec.decode(_codec.encode(customer), Customer) == customer
    assert used[0] == "unstructure"  # then once per nested model
    assert used.count("from_dict") == 1
    assert not fast_paths_enabled()


def test_with_the_switch_set_replace_is_evolve(
    fast_paths_off: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """replace goes through attrs.evolve, replace_each through replace one by one."""
    calls: list[str] = []
    monkeypatch.setattr(attrs, "evolve", _spy(calls, "evolve", attrs.evolve))
    monkeypatch.setattr(replace_module, "replace", _spy(calls, "replace", replace_module.replace))
    people = [Customer.person_named(family=f) for f in ("张", "李")]
    assert [c.updated_at for c in replace_each(people, updated_at=T1)] == [T1, T1]
    assert calls == ["replace", "evolve", "replace", "evolve"]


def test_with_the_switch_set_predicates_are_the_checks(fast_paths_off: None) -> None:
    """Type predicates are built from the reference checks, not the fast atom predicates."""
    accepts = type_test(Atom(str)).accepts
    assert accepts is not ATOM_KINDS[str].accepts
    assert accepts("abc")
    assert not accepts("a\x00")
    assert not accepts("\ud800")


def test_with_fast_paths_on_the_fast_predicates_are_used(fast_paths_on: None) -> None:
    """With the switch unset, the atoms' own fast predicates are what models run."""
    assert type_test(Atom(str)).accepts is ATOM_KINDS[str].accepts
