"""Email addresses: validate and normalise them exactly as email-validator does.

The raw text, trimmed at both ends, goes to :func:`email_validator.validate_email`, with
``check_deliverability`` as the caller asks (off by default, and always off in
crmcore's tests: it needs DNS). The stored value is the library's ``normalized``
form: the domain lower-cased and in Unicode (IDNA-decoded), the local part
Unicode-normalised (NFC) but otherwise kept, since only the receiving server may
interpret it. crmcore adds no rule of its own.

Policy (:class:`EmailPolicy`): an address the library rejects is an
``email.invalid`` error, kept as entered and flagged invalid; one that is
well-formed but cannot receive mail (only when deliverability is checked) is an
``email.undeliverable`` warning, kept and flagged invalid.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs
import email_validator

from crmcore.errors import Problem
from crmcore.models import Email, replace
from crmcore.rules.verification._spec import Spec, severity_problems
from crmcore.rules.verification._verdict import verdict_changes
from crmcore.rules.verification._zh import email_reason
from crmcore.rules.verification.messages import check_severity, finding

__all__ = ["EmailPolicy", "EmailResult", "normalise_email", "normalise_email_point"]


@attrs.frozen(kw_only=True)
class EmailPolicy(Spec):
    """How the pipeline checks and treats email addresses.

    Attributes:
        check_deliverability: Ask DNS whether the domain accepts mail (network I/O;
            off by default).
        invalid_severity: Severity of ``email.invalid``.
        undeliverable_severity: Severity of ``email.undeliverable``.
    """

    TAG = "email_policy"
    kind: str = "email_policy"
    check_deliverability: bool = False
    invalid_severity: str = "error"
    undeliverable_severity: str = "warning"

    def _spec_invariants(self) -> Iterable[Problem]:
        return severity_problems(self, "invalid_severity", "undeliverable_severity")


_DEFAULT_POLICY = EmailPolicy()


@attrs.frozen(kw_only=True)
class EmailResult:
    """What email-validator made of one raw address.

    Attributes:
        raw: The text as given.
        valid: The library accepted it.
        normalized: The library's normalised form when valid, else ``None``.
        ascii_email: The all-ASCII form when one exists (``None`` for internationalised
            local parts, or when not valid).
        smtputf8: The address needs SMTPUTF8 (an internationalised local part).
        findings: What is wrong, with paths relative to the address (``$``).
    """

    raw: str
    valid: bool
    normalized: str | None
    ascii_email: str | None = None
    smtputf8: bool = False
    findings: tuple[Problem, ...] = ()

    @property
    def stored(self) -> str:
        """The value to store: the normalised form when valid, else the address as entered."""
        return self.normalized if self.normalized is not None else self.raw


def normalise_email(
    raw: str,
    *,
    check_deliverability: bool = False,
    policy: EmailPolicy = _DEFAULT_POLICY,
    locale: str = "en",
) -> EmailResult:
    """Validate and normalise one address with email-validator.

    >>> normalise_email("Zhang.Wei@Example.COM").normalized
    'Zhang.Wei@example.com'
    >>> normalise_email("用户@例子.中国").normalized
    '用户@例子.中国'
    >>> normalise_email("a..b@example.com").findings[0].code
    'email.invalid'
    """
    info = _validate(raw, check_deliverability or policy.check_deliverability, policy, locale)
    if isinstance(info, Problem):
        return EmailResult(raw=raw, valid=False, normalized=None, findings=(info,))
    return EmailResult(
        raw=raw,
        valid=True,
        normalized=info.normalized,
        ascii_email=info.ascii_email,
        smtputf8=bool(info.smtputf8),
    )


def _validate(
    raw: str, check_deliverability: bool, policy: EmailPolicy, locale: str
) -> email_validator.ValidatedEmail | Problem:
    """email-validator's verdict: the validated address, or the finding saying why not.

    The text is trimmed first (spaces, tabs, newlines, ideographic spaces at either
    end), as names and phones are: a padded spreadsheet cell is not a different
    address. Whitespace inside the address is still the library's to refuse.
    """
    try:
        return email_validator.validate_email(
            raw.strip(), check_deliverability=check_deliverability
        )
    except email_validator.EmailUndeliverableError as error:
        return finding(
            "email.undeliverable",
            locale=locale,
            severity=check_severity(policy.undeliverable_severity),
            reason=email_reason(str(error), locale),
        )
    except email_validator.EmailNotValidError as error:
        return finding(
            "email.invalid",
            locale=locale,
            severity=check_severity(policy.invalid_severity),
            reason=email_reason(str(error), locale),
        )


def normalise_email_point(
    email: Email,
    *,
    check_deliverability: bool = False,
    policy: EmailPolicy = _DEFAULT_POLICY,
    locale: str = "en",
) -> tuple[Email, tuple[Problem, ...]]:
    """Normalise an :class:`Email` contact point; findings have paths ``$.address``.

    Returns the same object when the address is already in normal form.
    """
    info = _validate(
        email.address, check_deliverability or policy.check_deliverability, policy, locale
    )
    if not isinstance(info, Problem):
        address = info.normalized
        if not email.invalid_by_pipeline:  # no verdict to withdraw (the common case)
            if address == email.address:
                return email, ()
            return replace(email, address=address), ()
        changes: dict[str, object] = dict(verdict_changes(email, normalised=True))
        if address != email.address:
            changes["address"] = address
        return replace(email, **changes), ()
    findings = (info.under("$.address"),)
    if info.code == "email.undeliverable":
        # a fact observed through DNS at one moment, like a bounce, not a verdict on
        # the text: a pipeline that does not ask DNS could not withdraw it, so it is
        # recorded as a flag of its own that normalising never clears
        return (email if email.invalid else replace(email, invalid=True)), findings
    changes = dict(verdict_changes(email, normalised=False))
    return (replace(email, **changes) if changes else email), findings
