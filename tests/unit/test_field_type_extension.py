"""A new kind of field type is one node class registered with the grammar, nothing else.

This module adds ``Literal[...]`` fields (which crmcore's models do not use) through
:func:`crmcore.models._types.register_field_type` alone, then shows that model
checks, the fast predicate, the converter and the SQL codec all handle them.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Iterator
from typing import Any, Literal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import Problem, ValidationError
from crmcore.models import Model, replace
from crmcore.models._types import Child, FieldType, field_types, register_field_type, type_test
from crmcore.serialization import from_dict, from_json, to_dict, to_json
from crmcore.storage.sqlalchemy._codec import decode, encode


@attrs.frozen
class LiteralType(FieldType):
    """``Literal[a, b, ...]``: exactly one of the listed values (of the same type)."""

    values: tuple[Any, ...]

    @property
    def annotation(self) -> Any:
        return Literal[self.values]

    @property
    def name(self) -> str:
        return " | ".join(repr(v) for v in self.values)

    def _allowed(self, value: Any) -> bool:
        return any(type(value) is type(v) and value == v for v in self.values)

    def diagnose(self, value: Any, path: str) -> Iterator[Problem]:
        if not self._allowed(value):
            yield Problem(code="value.not_allowed", path=path, message=f"must be {self.name}")

    def fast_accepts(self) -> Callable[[Any], bool]:
        allowed = frozenset((type(v), v) for v in self.values)

        def accepts(value: Any) -> bool:
            try:
                return (type(value), value) in allowed
            except TypeError:  # unhashable: not one of the values
                return False

        return accepts

    def to_json(self, value: Any, child: Child) -> Any:
        return value

    def from_json(self, data: Any, child: Child) -> Any:
        if not self._allowed(data):
            raise ValidationError(
                [Problem(code="value.not_allowed", message=f"must be {self.name}")]
            )
        return data


def _literal(annotation: Any) -> FieldType | None:
    if typing.get_origin(annotation) is Literal:
        return LiteralType(typing.get_args(annotation))
    return None


@pytest.fixture(autouse=True, scope="module")
def _literal_fields() -> Iterator[None]:
    """Literal fields are known to the grammar while this module's tests run."""
    unregister = register_field_type(_literal)
    yield
    unregister()


Colour = Literal["red", "amber", "green"]


@attrs.frozen(kw_only=True)
class Signal(Model):
    """A test-local model with Literal fields."""

    colour: Colour
    history: tuple[Colour, ...] = ()
    blink: Literal[0, 1, 2] | None = None


def test_the_grammar_parses_literal_fields_through_the_registered_kind() -> None:
    """field_types gives the registered node, nested inside tuples and optionals too."""
    nodes = field_types(Signal)
    assert nodes["colour"] == LiteralType(("red", "amber", "green"))
    assert nodes["history"].children() == (LiteralType(("red", "amber", "green")),)


def test_model_checks_use_the_new_kind() -> None:
    """Construction and replace refuse a value outside the literal, with every problem."""
    assert Signal(colour="red", history=("amber",), blink=1).blink == 1
    with pytest.raises(ValidationError) as caught:
        Signal(colour="blue", history=("red", "pink"), blink=True)  # type: ignore[arg-type]
    assert [(p.code, p.path) for p in caught.value.problems] == [
        ("value.not_allowed", "$.colour"),
        ("value.not_allowed", "$.history[1]"),
        ("value.not_allowed", "$.blink"),
    ]
    with pytest.raises(ValidationError):
        replace(Signal(colour="red"), colour="violet")


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.text(max_size=6), st.integers(-2, 3), st.booleans(), st.none()))
def test_the_new_kind_s_predicate_agrees_with_its_check(value: Any) -> None:
    """The registered node's fast predicate says yes exactly when its check finds nothing."""
    for node in field_types(Signal).values():
        assert type_test(node).accepts(value) == (not list(node.diagnose(value, "$")))


SIGNALS = st.builds(
    Signal,
    colour=st.sampled_from(["red", "amber", "green"]),
    history=st.lists(st.sampled_from(["red", "amber", "green"]), max_size=3).map(tuple),
    blink=st.sampled_from([None, 0, 1, 2]),
)


@settings(max_examples=100, deadline=None)
@given(signal=SIGNALS)
def test_the_converter_and_the_codec_round_trip_the_new_kind(signal: Signal) -> None:
    """to_dict/from_dict, to_json/from_json and encode/decode give the same model back."""
    assert from_dict(to_dict(signal), Signal) == signal
    assert from_json(to_json(signal), Signal) == signal
    assert decode(encode(signal), Signal) == signal
    assert json.loads(encode(signal)) == {
        k: v for k, v in to_dict(signal).items() if v not in ((), [], None)
    }


def test_a_document_with_a_value_outside_the_literal_is_refused_with_its_path() -> None:
    """The converter and the codec's reader both report value.not_allowed at the field."""
    text = '{"colour": "blue", "history": ["red", 3]}'
    for read in (from_json, decode):
        with pytest.raises(ValidationError) as caught:
            read(text, Signal)
        assert [(p.code, p.path) for p in caught.value.problems] == [
            ("value.not_allowed", "$.colour"),
            ("value.not_allowed", "$.history[1]"),
        ]
