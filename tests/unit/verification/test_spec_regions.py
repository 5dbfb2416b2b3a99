"""Every spec that reads phone numbers refuses a region phonenumbers does not know."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crmcore.errors import ValidationError
from crmcore.rules.dedupe import BlockingSpec
from crmcore.rules.verification import NormalisationPipeline, VendorEvaluationSpec
from crmcore.rules.verification._spec import Spec
from crmcore.serialization import from_json, to_json

SPECS: list[tuple[Callable[..., Spec], str]] = [
    (BlockingSpec, "region"),
    (NormalisationPipeline, "default_region"),
    (VendorEvaluationSpec, "default_region"),
]


@pytest.mark.parametrize(("spec", "field"), SPECS)
@pytest.mark.parametrize("region", ["ZZ", "cn", "XX", "CHN", ""])
def test_unknown_region_is_refused_with_its_path(
    spec: Callable[..., Spec], field: str, region: str
) -> None:
    """An unknown region is value.not_allowed at the spec's region field."""
    with pytest.raises(ValidationError) as caught:
        spec(**{field: region})
    assert [(p.code, p.path) for p in caught.value.problems] == [
        ("value.not_allowed", f"$.{field}")
    ]


@pytest.mark.parametrize(("spec", "field"), SPECS)
def test_known_region_and_none_are_kept(spec: Callable[..., Spec], field: str) -> None:
    """A region phonenumbers knows, and no region, are accepted as given."""
    assert getattr(spec(**{field: "CN"}), field) == "CN"
    assert getattr(spec(**{field: None}), field) is None


def test_blocking_spec_json_with_unknown_region_is_refused() -> None:
    """A stored BlockingSpec whose region is unknown is refused when read, with its path."""
    text = to_json(BlockingSpec(region="DE")).replace('"DE"', '"ZZ"')
    with pytest.raises(ValidationError) as caught:
        from_json(text, BlockingSpec)
    assert ("value.not_allowed", "$.region") in [(p.code, p.path) for p in caught.value.problems]
