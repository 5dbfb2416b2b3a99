"""The contact-point normalisers' short cuts: an already normal point is kept as it is."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.models import Email, Phone, PhoneKind
from crmcore.rules.verification import normalise_email
from crmcore.rules.verification.emails import normalise_email_point
from crmcore.rules.verification.phones import normalise_phone_point

ADDRESSES = [
    "zhang@example.com",
    "Zhang@Example.COM",
    " li@example.org ",
    "用户@例子.中国",
    "a..b@x.com",
]


def test_a_normal_unflagged_point_is_returned_itself() -> None:
    """A valid phone and email already in normal form come back as the same objects."""
    phone = Phone(number="+8613800138000", kind=PhoneKind.MOBILE)
    email = Email(address="zhang@example.com")
    assert normalise_phone_point(phone, region="CN")[0] is phone
    assert normalise_email_point(email)[0] is email


def test_a_normal_value_loses_the_pipelines_flag() -> None:
    """A value already in normal form but flagged by the pipeline earlier is unflagged."""
    phone = Phone(
        number="+8613800138000", kind=PhoneKind.MOBILE, invalid=True, invalid_by_pipeline=True
    )
    email = Email(address="zhang@example.com", invalid=True, invalid_by_pipeline=True)
    for point in (normalise_phone_point(phone, region="CN")[0], normalise_email_point(email)[0]):
        assert (point.invalid, point.invalid_by_pipeline) == (False, False)


@settings(max_examples=60, deadline=None)
@given(
    address=st.sampled_from(ADDRESSES),
    invalid=st.booleans(),
    by_pipeline=st.booleans(),
)
def test_an_email_point_stores_what_the_library_says(
    address: str, invalid: bool, by_pipeline: bool
) -> None:
    """Valid: email-validator's normal form, flags cleared only if the pipeline set them."""
    email = Email(address=address, invalid=invalid, invalid_by_pipeline=by_pipeline and invalid)
    point, findings = normalise_email_point(email)
    result = normalise_email(address)
    if result.valid:
        assert (point.address, findings) == (result.normalized, ())
        assert point.invalid == (invalid and not email.invalid_by_pipeline)
        assert not point.invalid_by_pipeline
    else:
        assert point.address == address
        assert point.invalid
        assert point.invalid_by_pipeline == (not invalid or email.invalid_by_pipeline)
