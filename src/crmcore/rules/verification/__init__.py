"""Verification rules: normalise, validate, score and keep customer data true.

Pure rules over :mod:`crmcore.models`: no storage, no clock (time is ``now=``),
no I/O (email deliverability, which needs DNS, only when a caller asks for it).
The same input always gives the same output.

* :class:`NormalisationPipeline`: the one pipeline every write path runs;
  ``pipeline(customer)`` returns the stored form or raises
  :class:`crmcore.errors.ValidationError`; ``pipeline.check(customer)`` reports.
* Lower-level normalisers: :func:`normalise_phone` (phonenumbers),
  :func:`normalise_email` (email-validator), :func:`normalise_name`,
  :func:`normalise_address`.
* :func:`validate` with a :class:`ValidationSpec`.
* :func:`score_quality` against a :class:`ProfileTemplate`
  (:data:`TRADITIONAL_PROFILE`, :data:`BASIC_TEMPLATE`, :data:`ORGANISATION_PROFILE`).
* :func:`due_for_reverification` with a :class:`ReverificationPolicy`.
* :func:`assess_trust` and :func:`resolve_conflict`.
* :func:`evaluate_vendor`.

Findings are :class:`crmcore.errors.Problem` (:data:`Finding`) with codes listed in
:data:`CATALOGUE` and docs/finding-codes.md, messages in English and Chinese.
"""

from crmcore.rules.verification.addresses import (
    AddressPolicy,
    country_code,
    normalise_address,
    postal_code_matches,
)
from crmcore.rules.verification.cells import blank_to_none, read_date
from crmcore.rules.verification.emails import (
    EmailPolicy,
    EmailResult,
    normalise_email,
    normalise_email_point,
)
from crmcore.rules.verification.messages import (
    CATALOGUE,
    LOCALES,
    CodeInfo,
    Finding,
    Locale,
    finding,
    message_for,
    render_finding_codes,
)
from crmcore.rules.verification.names import (
    NamePolicy,
    normalise_name,
    normalise_text,
    split_full_name,
)
from crmcore.rules.verification.phones import (
    PhonePolicy,
    PhoneResult,
    kind_for_number_type,
    normalise_phone,
    normalise_phone_point,
)
from crmcore.rules.verification.pipeline import NormalisationPipeline, NormalisationResult
from crmcore.rules.verification.quality import (
    BASIC_TEMPLATE,
    ORGANISATION_PROFILE,
    TRADITIONAL_PROFILE,
    ProfileTemplate,
    QualityScore,
    QualitySpec,
    TemplateField,
    TemplateGap,
    score_quality,
)
from crmcore.rules.verification.schedule import (
    DueItem,
    FactKind,
    MaxAge,
    ReverificationPolicy,
    VerificationItem,
    due_for_reverification,
    verification_items,
)
from crmcore.rules.verification.specs import SPEC_TYPES, Spec, VerificationSpec, spec_type
from crmcore.rules.verification.trust import (
    ChannelScore,
    ConflictPolicy,
    Resolution,
    SourcedValue,
    TrustAssessment,
    TrustLevel,
    TrustPolicy,
    assess_trust,
    resolve_conflict,
)
from crmcore.rules.verification.validation import (
    AllowedValues,
    RequiredField,
    ValidationSpec,
    validate,
)
from crmcore.rules.verification.vendor import (
    ElementAccuracy,
    RecordMatch,
    VendorEvaluationSpec,
    VendorRecord,
    VendorReport,
    evaluate_vendor,
)

__all__ = [
    "BASIC_TEMPLATE",
    "CATALOGUE",
    "LOCALES",
    "ORGANISATION_PROFILE",
    "SPEC_TYPES",
    "TRADITIONAL_PROFILE",
    "AddressPolicy",
    "AllowedValues",
    "ChannelScore",
    "CodeInfo",
    "ConflictPolicy",
    "DueItem",
    "ElementAccuracy",
    "EmailPolicy",
    "EmailResult",
    "FactKind",
    "Finding",
    "Locale",
    "MaxAge",
    "NamePolicy",
    "NormalisationPipeline",
    "NormalisationResult",
    "PhonePolicy",
    "PhoneResult",
    "ProfileTemplate",
    "QualityScore",
    "QualitySpec",
    "RecordMatch",
    "RequiredField",
    "Resolution",
    "ReverificationPolicy",
    "SourcedValue",
    "Spec",
    "TemplateField",
    "TemplateGap",
    "TrustAssessment",
    "TrustLevel",
    "TrustPolicy",
    "ValidationSpec",
    "VendorEvaluationSpec",
    "VendorRecord",
    "VendorReport",
    "VerificationItem",
    "VerificationSpec",
    "assess_trust",
    "blank_to_none",
    "country_code",
    "due_for_reverification",
    "evaluate_vendor",
    "finding",
    "kind_for_number_type",
    "message_for",
    "normalise_address",
    "normalise_email",
    "normalise_email_point",
    "normalise_name",
    "normalise_phone",
    "normalise_phone_point",
    "normalise_text",
    "postal_code_matches",
    "read_date",
    "render_finding_codes",
    "resolve_conflict",
    "score_quality",
    "spec_type",
    "split_full_name",
    "validate",
    "verification_items",
]
