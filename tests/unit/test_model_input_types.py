"""Models given values of the wrong type refuse them with coded problems, never a raw error."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crmcore.errors import ValidationError
from crmcore.models import Customer, PersonName

BAD: list[tuple[Callable[[], object], list[str]]] = [
    (lambda: Customer.person_named(family="张", given="伟", tags="vip"), ["$.tags"]),
    (lambda: Customer.person_named(family="张", tags=(1, "a")), ["$.tags[0]"]),
    (lambda: Customer.person_named(family=1, given="x"), ["$.family"]),  # type: ignore[arg-type]
    (lambda: PersonName(family=1), ["$.family"]),  # type: ignore[arg-type]
    (lambda: Customer.person_named(family=None, given=None), ["$.family", "$.given"]),  # type: ignore[arg-type]
    (lambda: Customer.person_named(family="a", given=["b"]), ["$.given"]),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("build", "paths"), BAD)
def test_a_wrongly_typed_value_is_a_type_problem_at_its_path(
    build: Callable[[], object], paths: list[str]
) -> None:
    """tags="vip" is not split into letters; a name that is not text is not concatenated."""
    with pytest.raises(ValidationError) as raised:
        build()
    assert set(raised.value.codes) == {"type.invalid"}
    assert [p.path for p in raised.value.problems] == paths


def test_any_collection_of_tags_is_still_sorted_and_unique() -> None:
    """Lists, sets and generators of tags keep working as before."""
    assert Customer.person_named(family="张", tags=["vip", "北京", "vip"]).tags == ("vip", "北京")
    assert Customer.person_named(family="张", tags=(t for t in "ba")).tags == ("a", "b")
