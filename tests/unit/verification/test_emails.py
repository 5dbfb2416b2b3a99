"""Email normalisation is email-validator's judgement, never deliverability in tests."""

from __future__ import annotations

import email_validator
import pytest

from crmcore.models import Email
from crmcore.rules.verification import EmailPolicy, normalise_email, normalise_email_point


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("Zhang.Wei@Example.COM", "Zhang.Wei@example.com"),
        ("用户@例子.中国", "用户@例子.中国"),
        ("user@xn--fsqu00a.xn--fiqs8s", "user@例子.中国"),
        ("ñoño@ñandú.es", "ñoño@ñandú.es"),
        ("anna.schmidt+crm@Beispiel.DE", "anna.schmidt+crm@beispiel.de"),
        ("李雷@mail.example.cn", "李雷@mail.example.cn"),
    ],
)
def test_valid_addresses_take_the_library_form(raw: str, normalized: str) -> None:
    """Valid addresses, internationalised ones included, take email-validator's normalised form."""
    result = normalise_email(raw)
    assert result.valid
    assert result.normalized == normalized
    expected = email_validator.validate_email(raw, check_deliverability=False).normalized
    assert result.normalized == expected


@pytest.mark.parametrize(
    "raw",
    [
        "a..b@example.com",
        "no-at-sign.example.com",
        "zhang@",
        "@example.com",
        "zhang@example",
        "zhang wei@example.com",
        "zhang@exa_mple.com",
    ],
)
def test_malformed_addresses_are_errors(raw: str) -> None:
    """Addresses email-validator rejects are email.invalid errors and are kept as entered."""
    result = normalise_email(raw)
    assert not result.valid
    assert [(p.code, p.severity) for p in result.findings] == [("email.invalid", "error")]
    assert result.stored == raw
    with pytest.raises(email_validator.EmailNotValidError):
        email_validator.validate_email(raw, check_deliverability=False)


def test_invalid_email_point_is_flagged_not_dropped() -> None:
    """An invalid email contact point keeps its address and is flagged invalid."""
    email, found = normalise_email_point(Email(address="bad..x@example.com"))
    assert (email.address, email.invalid) == ("bad..x@example.com", True)
    assert [p.path for p in found] == ["$.address"]


def test_already_normal_email_point_is_the_same_object() -> None:
    """A normalised address is returned unchanged (the same object)."""
    original = Email(address="zhang@example.com")
    email, found = normalise_email_point(original)
    assert email is original
    assert found == ()


def test_email_policy_severity() -> None:
    """The email policy sets the severity of invalid addresses."""
    result = normalise_email("a..b@example.com", policy=EmailPolicy(invalid_severity="warning"))
    assert result.findings[0].severity == "warning"


def test_chinese_message_keeps_code() -> None:
    """The Chinese message differs, the code does not."""
    en = normalise_email("a..b@example.com").findings[0]
    zh = normalise_email("a..b@example.com", locale="zh").findings[0]
    assert en.code == zh.code == "email.invalid"
    assert zh.message.startswith("不是有效的电子邮件地址")
