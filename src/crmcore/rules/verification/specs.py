"""Every rule spec of the verification rules, by its ``kind`` tag.

Specs are data: frozen attrs classes whose ``kind`` field names them, so a spec
travels as JSON and another service can load and run the same rule. With
:mod:`crmcore.serialization`::

    from crmcore.serialization import from_json, to_json
    text = to_json(ValidationSpec(max_age=120))
    spec = from_json(text, VerificationSpec)   # dispatches on "kind"
"""

from __future__ import annotations

from collections.abc import Mapping

from crmcore.rules.verification._spec import Spec
from crmcore.rules.verification.addresses import AddressPolicy
from crmcore.rules.verification.emails import EmailPolicy
from crmcore.rules.verification.names import NamePolicy
from crmcore.rules.verification.phones import PhonePolicy
from crmcore.rules.verification.pipeline import NormalisationPipeline
from crmcore.rules.verification.quality import ProfileTemplate, QualitySpec
from crmcore.rules.verification.schedule import ReverificationPolicy
from crmcore.rules.verification.trust import ConflictPolicy, TrustPolicy
from crmcore.rules.verification.validation import ValidationSpec
from crmcore.rules.verification.vendor import VendorEvaluationSpec

__all__ = ["SPEC_TYPES", "Spec", "VerificationSpec", "spec_type"]

VerificationSpec = (
    NormalisationPipeline
    | PhonePolicy
    | EmailPolicy
    | NamePolicy
    | AddressPolicy
    | ValidationSpec
    | ProfileTemplate
    | QualitySpec
    | ReverificationPolicy
    | TrustPolicy
    | ConflictPolicy
    | VendorEvaluationSpec
)
"""Any verification spec; structure JSON into it and the ``kind`` tag picks the class."""

SPEC_TYPES: Mapping[str, type[Spec]] = {
    cls.TAG: cls
    for cls in (
        NormalisationPipeline,
        PhonePolicy,
        EmailPolicy,
        NamePolicy,
        AddressPolicy,
        ValidationSpec,
        ProfileTemplate,
        QualitySpec,
        ReverificationPolicy,
        TrustPolicy,
        ConflictPolicy,
        VendorEvaluationSpec,
    )
}
"""Each spec class by its ``kind`` tag."""


def spec_type(kind: str) -> type[Spec]:
    """Return the spec class for a ``kind`` tag; raise ``KeyError`` when unknown."""
    return SPEC_TYPES[kind]
