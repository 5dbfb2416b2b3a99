"""Spec field paths go through the query path resolver: misspellings are refused, coded."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.models import Customer
from crmcore.query import Field, Query, resolve_path
from crmcore.rules.verification import (
    BASIC_TEMPLATE,
    ORGANISATION_PROFILE,
    TRADITIONAL_PROFILE,
    AllowedValues,
    ProfileTemplate,
    QualitySpec,
    RequiredField,
    TemplateField,
)
from crmcore.rules.verification._paths import resolve
from crmcore.rules.verification.specs import SPEC_TYPES
from crmcore.serialization import from_json, to_json
from crmcore.testing import strategies as cst

SHIPPED = (TRADITIONAL_PROFILE, BASIC_TEMPLATE, ORGANISATION_PROFILE)
SHIPPED_PATHS = sorted({p for t in SHIPPED for f in t.fields for p in f.paths})
DOTTED = [p for p in SHIPPED_PATHS if ":" not in p] + [
    "person.name.family",
    "addresses.postal_code",
    "organisation.contact_persons.phones",
    "organisation.contact_persons.name.given",
    "phones.number",
    "tags",
]


def _problem(error: pytest.ExceptionInfo[ValidationError]) -> tuple[str, str]:
    (problem,) = error.value.problems
    return problem.code, problem.path


def test_a_misspelt_required_field_is_refused_like_a_misspelt_query_path() -> None:
    """RequiredField(path="person.brithday") is spec.unknown_field, with the resolver's message."""
    with pytest.raises(ValidationError) as spec_error:
        RequiredField(path="person.brithday")
    with pytest.raises(ValidationError) as query_error:
        Query(where=Field("person.brithday").is_null()).validate(Customer)
    assert _problem(spec_error) == ("spec.unknown_field", "$.path")
    assert _problem(query_error) == ("query.unknown_field", "$.where.path")
    assert spec_error.value.problems[0].message == query_error.value.problems[0].message


@pytest.mark.parametrize(
    ("document", "path"),
    [
        (
            {"kind": "validation_spec", "required": [{"path": "person.brithday"}]},
            "$.required[0].path",
        ),
        (
            {"kind": "validation_spec", "allowed": [{"path": "gradee", "values": ["a"]}]},
            "$.allowed[0].path",
        ),
        (
            {
                "kind": "profile_template",
                "name": "t",
                "fields": [{"label": "x", "paths": ["phones", "person.brithday"], "weight": 1}],
            },
            "$.fields[0].paths[1]",
        ),
        (
            {
                "kind": "quality_spec",
                "template": {
                    "kind": "profile_template",
                    "name": "t",
                    "fields": [{"label": "x", "paths": ["facts:hobyy"], "weight": 1}],
                },
            },
            "$.template.fields[0].paths[0]",
        ),
    ],
)
def test_decoding_a_spec_with_a_misspelt_path_is_refused_where_it_occurs(
    document: dict[str, object], path: str
) -> None:
    """A JSON spec naming no field is refused with spec.unknown_field at the path's $.path."""
    with pytest.raises(ValidationError) as error:
        from_json(json.dumps(document), SPEC_TYPES[str(document["kind"])])
    assert _problem(error) == ("spec.unknown_field", path)


@pytest.mark.parametrize(
    "build",
    [
        lambda: AllowedValues(path="person.education.level", values=("a",)),
        lambda: TemplateField(label="x", paths=("facts:hobbies",), weight=1),
        lambda: TemplateField(label="x", paths=("related:",), weight=1),
        lambda: RequiredField(path="display_name.upper"),
    ],
)
def test_paths_through_scalars_unknown_fact_categories_and_unnamed_relations_are_refused(
    build: Callable[[], object],
) -> None:
    """Going past a scalar, an unknown facts: category and a bare related: are all refused."""
    with pytest.raises(ValidationError) as error:
        build()
    assert error.value.codes == ("spec.unknown_field",)


def test_blank_paths_report_only_value_blank() -> None:
    """A blank path is value.blank, not also spec.unknown_field."""
    with pytest.raises(ValidationError) as error:
        RequiredField(path=" ")
    assert error.value.codes == ("value.blank",)


def test_every_shipped_template_path_resolves() -> None:
    """Every dotted path of the shipped templates resolves on Customer; they round-trip."""
    assert SHIPPED_PATHS
    for path in SHIPPED_PATHS:
        if ":" not in path:
            resolve_path(Customer, path)
    for template in SHIPPED:
        assert from_json(to_json(template), ProfileTemplate) == template
    assert from_json(to_json(QualitySpec()), QualitySpec) == QualitySpec()
    ProfileTemplate(name="copy", fields=TRADITIONAL_PROFILE.fields)


def _reference_resolve(customer: Customer, path: str) -> list[tuple[str, object]]:
    """The attribute walk resolve() did before it used the checked resolver."""
    found: list[tuple[str, object]] = [("$", customer)]
    parts = path.split(".")
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        step: list[tuple[str, object]] = []
        for where, value in found:
            child = getattr(value, part, None)
            if child is None:
                continue
            here = f"{where}.{part}"
            if isinstance(child, tuple) and not last:
                step.extend((f"{here}[{i}]", item) for i, item in enumerate(child))
            else:
                step.append((here, child))
        found = step
    return found


@settings(max_examples=150, deadline=None)
@given(customer=cst.customers(), path=st.sampled_from(DOTTED))
def test_resolve_reads_what_the_attribute_walk_read(customer: Customer, path: str) -> None:
    """On valid paths, resolve() yields the same values and $.paths as the plain walk."""
    assert resolve(customer, path) == _reference_resolve(customer, path)


def test_resolve_refuses_a_path_that_names_no_field() -> None:
    """resolve() on a misspelt dotted path raises spec.unknown_field instead of finding nothing."""
    with pytest.raises(ValidationError) as error:
        resolve(Customer.person_named(family="张", given="伟"), "person.brithday")
    assert _problem(error) == ("spec.unknown_field", "$.path")
