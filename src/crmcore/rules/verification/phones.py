"""Phone numbers: parse, judge and format them exactly as phonenumbers does.

Every judgement comes from the phonenumbers library (Google's libphonenumber
metadata); crmcore adds no rules of its own about what a number is:

* the raw text goes to :func:`phonenumbers.parse` unchanged with the region
  (upper-cased, since ISO 3166 codes are case-insensitive); phonenumbers itself
  reads full-width digits, ``(0)`` trunk prefixes, ``ext.``/``x``/``#`` extensions.
  The one thing crmcore adds is reading the extensions Chinese numbers are written
  with, which phonenumbers does not: ``转``, ``分机`` (``010-62345678转123``), and a
  last ``-123`` after a valid landline (``010-62345678-123``), see :func:`_read`;
* a number is *valid* exactly when :func:`phonenumbers.is_valid_number` says so,
  *possible* exactly when :func:`phonenumbers.is_possible_number` says so;
* a valid number is stored as :func:`phonenumbers.format_number` in E.164 and its
  kind comes from :func:`phonenumbers.number_type`.

Validity is read from the number type: phonenumbers' own ``is_valid_number(n)`` is
``number_type(n) != UNKNOWN`` (both look up the region with
``region_code_for_number`` and match the national number against that region's
metadata), so crmcore computes the type once and derives validity from it, rather
than matching every pattern twice. A property test pins the equivalence.

Policy for what is not valid (:class:`PhonePolicy`, all configurable):

============================  ===================  ================================
library verdict               finding (default)    stored value
============================  ===================  ================================
valid                         none                 E.164, kind, extension split out
parses, possible, not valid   ``phone.invalid``    as entered, ``invalid=True``
                              (warning)
parses, not possible          ``phone.impossible`` as entered, ``invalid=True``
                              (error)
does not parse                ``phone.not_a_number``, ``phone.too_short``, ...
                              (error)              as entered, ``invalid=True``
============================  ===================  ================================

Nothing is ever dropped: the number entered stays in the record when it cannot be
normalised, and an error finding makes the pipeline refuse the write instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING

import attrs

from crmcore._fastpaths import fast_paths_enabled
from crmcore.errors import Problem
from crmcore.models import Phone, PhoneKind, replace
from crmcore.rules.verification._spec import Spec, severity_problems
from crmcore.rules.verification._verdict import verdict_changes
from crmcore.rules.verification._zh import IMPOSSIBLE_REASONS, NUMBER_TYPES, PHONE_KINDS, word
from crmcore.rules.verification.messages import check_severity, finding

if TYPE_CHECKING:  # phonenumbers is imported on first use, not with crmcore
    from phonenumbers import NumberParseException, PhoneNumber

__all__ = [
    "PhonePolicy",
    "PhoneResult",
    "kind_for_number_type",
    "normalise_phone",
    "normalise_phone_point",
    "region_problem",
    "supported_regions",
]


@attrs.frozen
class _Tables:
    """crmcore's readings of phonenumbers' constants, built on first use."""

    e164: int
    unknown: int
    kinds: Mapping[int, PhoneKind]
    type_names: Mapping[int, str]
    parse_codes: Mapping[int, str]
    impossible_reasons: Mapping[int, str]
    possible: frozenset[int]
    landline_types: frozenset[int]
    regions: frozenset[str]
    # the library and the functions every number calls, read once: the hot paths take
    # them from here rather than run an import statement on each call
    lib: ModuleType
    parse: Callable[[str, str | None], PhoneNumber]
    number_type: Callable[[PhoneNumber], int]
    format_number: Callable[[PhoneNumber, int], str]
    parse_error: type[NumberParseException]


_LOADED: _Tables | None = None


def _tables() -> _Tables:
    """The constants and functions of phonenumbers, loaded on first use (see :func:`_load`).

    Hot paths read the module global ``_LOADED`` first (``_LOADED or _tables()``):
    a global read instead of a call.
    """
    global _LOADED
    if _LOADED is None:
        _LOADED = _load()
    return _LOADED


def _load() -> _Tables:
    """Import phonenumbers (tens of milliseconds, so not with crmcore); read its constants."""
    import phonenumbers
    from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

    # Keep every compiled metadata pattern: numbers from many regions otherwise keep
    # recompiling patterns that fell out of the re module's small cache. This changes
    # speed only, never a result.
    phonenumbers.enable_pattern_cache()
    t = PhoneNumberType
    v = ValidationResult
    return _Tables(
        e164=phonenumbers.PhoneNumberFormat.E164,
        unknown=t.UNKNOWN,
        kinds={
            t.FIXED_LINE: PhoneKind.LANDLINE,
            t.MOBILE: PhoneKind.MOBILE,
            t.FIXED_LINE_OR_MOBILE: PhoneKind.UNKNOWN,
            t.TOLL_FREE: PhoneKind.TOLL_FREE,
            t.PREMIUM_RATE: PhoneKind.OTHER,
            t.SHARED_COST: PhoneKind.OTHER,
            t.VOIP: PhoneKind.VOIP,
            t.PERSONAL_NUMBER: PhoneKind.OTHER,
            t.PAGER: PhoneKind.OTHER,
            t.UAN: PhoneKind.OTHER,
            t.VOICEMAIL: PhoneKind.OTHER,
            t.UNKNOWN: PhoneKind.UNKNOWN,
        },
        type_names={
            value: name
            for name, value in vars(t).items()
            if name.isupper() and isinstance(value, int)
        },
        parse_codes={
            NumberParseException.INVALID_COUNTRY_CODE: "phone.invalid_country_code",
            NumberParseException.NOT_A_NUMBER: "phone.not_a_number",
            NumberParseException.TOO_SHORT_AFTER_IDD: "phone.too_short",
            NumberParseException.TOO_SHORT_NSN: "phone.too_short",
            NumberParseException.TOO_LONG: "phone.too_long",
        },
        impossible_reasons={
            v.INVALID_COUNTRY_CODE: "invalid country code",
            v.TOO_SHORT: "too short",
            v.TOO_LONG: "too long",
            v.INVALID_LENGTH: "invalid length",
        },
        possible=frozenset({v.IS_POSSIBLE, v.IS_POSSIBLE_LOCAL_ONLY}),
        # number types that are switchboard lines, where "-123" is an extension
        landline_types=frozenset(
            {t.FIXED_LINE, t.FIXED_LINE_OR_MOBILE, t.TOLL_FREE, t.SHARED_COST, t.UAN}
        ),
        regions=frozenset(phonenumbers.SUPPORTED_REGIONS),
        lib=phonenumbers,
        parse=phonenumbers.parse,
        number_type=phonenumbers.number_type,
        format_number=phonenumbers.format_number,
        parse_error=NumberParseException,
    )


def supported_regions() -> frozenset[str]:
    """The regions phonenumbers has metadata for (ISO 3166 codes such as ``CN``)."""
    return (_LOADED or _tables()).regions


def region_problem(value: object) -> Problem | None:
    """The problem with ``value`` as a spec's phone region, or ``None`` (also for ``None``).

    A region must be one phonenumbers has metadata for (:func:`supported_regions`, ISO
    3166 codes such as ``CN``, upper case): an unknown one (``"ZZ"``, ``"cn"``) would
    read no number written without a country code, silently. The one check of every
    spec's region (``value.not_allowed``; the spec's field check roots the path).
    """
    if value is not None and value not in supported_regions():
        return Problem(
            code="value.not_allowed",
            message=f"{value!r} is not a region phonenumbers knows (an ISO 3166 code such as CN)",
        )
    return None


def kind_for_number_type(number_type: int) -> PhoneKind:
    """Map a :class:`phonenumbers.PhoneNumberType` to crmcore's :class:`PhoneKind`.

    ``FIXED_LINE_OR_MOBILE`` (common in North America) maps to ``UNKNOWN``: the
    metadata cannot tell, so a kind the user entered is kept.
    """
    return (_LOADED or _tables()).kinds.get(number_type, PhoneKind.UNKNOWN)


@attrs.frozen(kw_only=True)
class PhonePolicy(Spec):
    """How the pipeline treats numbers phonenumbers does not accept.

    Attributes:
        invalid_severity: Severity of ``phone.invalid`` (parses and has a possible
            length, but matches no number range of its region).
        impossible_severity: Severity of ``phone.impossible`` (wrong length for its
            country).
        unparseable_severity: Severity of the parse failures (``phone.not_a_number``,
            ``phone.invalid_country_code``, ``phone.too_short``, ``phone.too_long``).
        fill_kind: Set the phone's kind from the numbering plan.
    """

    TAG = "phone_policy"
    kind: str = "phone_policy"
    invalid_severity: str = "warning"
    impossible_severity: str = "error"
    unparseable_severity: str = "error"
    fill_kind: bool = True

    def _spec_invariants(self) -> Iterable[Problem]:
        return severity_problems(
            self, "invalid_severity", "impossible_severity", "unparseable_severity"
        )


_DEFAULT_POLICY = PhonePolicy()


@attrs.frozen(kw_only=True)
class PhoneResult:
    """What phonenumbers made of one raw number.

    Attributes:
        raw: The text as given.
        region: The region used to read numbers written without a country code.
        parsed: phonenumbers' parsed number, or ``None`` when it did not parse.
        valid: ``phonenumbers.is_valid_number``.
        possible: ``phonenumbers.is_possible_number`` (``False`` when not parsed).
        e164: The E.164 form when valid, else ``None``.
        number_type: The name of phonenumbers' type (``"MOBILE"``, ``"FIXED_LINE"``,
            ``"FIXED_LINE_OR_MOBILE"``, ...); ``"UNKNOWN"`` when not valid.
        kind: crmcore's kind for ``number_type``.
        extension: The extension phonenumbers split off, if any, in ASCII digits (as
            the :class:`Phone` stores it; phonenumbers keeps full-width digits as written).
        findings: What is wrong, with paths relative to the number (``$``).
    """

    raw: str
    region: str | None
    parsed: PhoneNumber | None
    valid: bool
    possible: bool
    e164: str | None
    number_type: str
    kind: PhoneKind
    extension: str | None
    findings: tuple[Problem, ...] = ()

    @property
    def number_region(self) -> str | None:
        """The region the number belongs to (``phonenumbers.region_code_for_number``)."""
        if self.parsed is None:
            return None
        import phonenumbers

        return phonenumbers.region_code_for_number(self.parsed)

    @property
    def stored(self) -> str:
        """The value to store: E.164 when valid, else the number as entered."""
        return self.e164 if self.e164 is not None else self.raw


def _region(region: str | None) -> str | None:
    if region is None or region in (_LOADED or _tables()).regions:
        return region
    region = region.strip().upper()
    return region or None


def normalise_phone(
    raw: str,
    *,
    region: str | None,
    policy: PhonePolicy = _DEFAULT_POLICY,
    locale: str = "en",
) -> PhoneResult:
    """Parse, judge and format one phone number with phonenumbers.

    >>> normalise_phone("010-62345678", region="CN").e164
    '+861062345678'
    >>> r = normalise_phone("+1 650-253-0000 ext. 123", region=None)
    >>> r.e164, r.extension, r.number_type
    ('+16502530000', '123', 'FIXED_LINE_OR_MOBILE')
    """
    tables = _LOADED or _tables()
    used = _region(region)
    try:
        number, number_type = _read(raw, used, tables)
    except tables.parse_error as error:
        return _unparseable(raw, used, error, policy, locale)
    return _judge(raw, used, number, number_type, policy, locale)


# 转 ("transfer to"), 分机 / 分机号 ("extension"), 转分机, with an optional colon or 号
_CN_EXTENSION = re.compile(r"\s*(?:转分机|分机号?|转)\s*(?:号|[:：])?\s*(?=\d)")
# a last group of digits after a hyphen or dash (ASCII, full-width, en or em dash)
_DASH_GROUP = re.compile(r"^(.*\d)\s*[-－‐‑–—]\s*(\d{1,6})\s*$")
# a full Chinese landline: area code and local number, 10 or 11 digits without the 0
_CN_FULL_LANDLINE = 10


def _read(raw: str, region: str | None, tables: _Tables) -> tuple[PhoneNumber, int]:
    """Phonenumbers' parse and number type of ``raw``, reading Chinese extension markers.

    ``转``, ``分机``, ``分机号`` and ``转分机`` are read as phonenumbers' own ``ext.``
    (which it does not recognise in Chinese). When the whole text is not a valid
    number but ends in ``-digits`` after a full Chinese landline (area code and
    local number, ``010-62345678-123``; not a mobile, not a short service number),
    the last group is the extension: the way Chinese switchboard numbers are
    written. Raises :class:`NumberParseException`.
    """
    text = raw
    if not raw.isascii() and ("转" in raw or "分机" in raw):
        text = _CN_EXTENSION.sub(" ext. ", raw, count=1)
    number = tables.parse(text, region)
    number_type = tables.number_type(number)
    if number_type == tables.unknown and not number.extension:
        dashed = _DASH_GROUP.match(text)
        if dashed is not None:
            try:
                head = tables.parse(dashed.group(1), region)
            except tables.parse_error:
                return number, number_type
            head_type = tables.number_type(head)
            if (
                head_type in tables.landline_types
                and head.country_code == 86
                and len(str(head.national_number)) >= _CN_FULL_LANDLINE
            ):
                head.extension = dashed.group(2)
                return head, head_type
    return number, number_type


def _unparseable(
    raw: str, used: str | None, error: NumberParseException, policy: PhonePolicy, locale: str
) -> PhoneResult:
    code = (_LOADED or _tables()).parse_codes.get(error.error_type, "phone.not_a_number")
    return PhoneResult(
        raw=raw,
        region=used,
        parsed=None,
        valid=False,
        possible=False,
        e164=None,
        number_type="UNKNOWN",
        kind=PhoneKind.UNKNOWN,
        extension=None,
        findings=(
            finding(
                code,
                locale=locale,
                severity=check_severity(policy.unparseable_severity),
                raw=raw,
            ),
        ),
    )


def _judge(
    raw: str,
    used: str | None,
    number: PhoneNumber,
    number_type: int,
    policy: PhonePolicy,
    locale: str,
) -> PhoneResult:
    tables = _LOADED or _tables()
    phonenumbers = tables.lib
    if number_type != tables.unknown:
        # A valid number matched a number type's pattern *and* its possible lengths,
        # so phonenumbers' is_possible_number holds for it (pinned by a property test).
        return PhoneResult(
            raw=raw,
            region=used,
            parsed=number,
            valid=True,
            possible=True,
            e164=phonenumbers.format_number(number, tables.e164),
            number_type=tables.type_names.get(number_type, "UNKNOWN"),
            kind=kind_for_number_type(number_type),
            extension=_ascii_digits(number.extension, tables),
        )
    reason = phonenumbers.is_possible_number_with_reason(number)
    possible = reason in tables.possible
    where = used or phonenumbers.region_code_for_country_code(number.country_code or 0)
    if possible:
        problem = finding(
            "phone.invalid",
            locale=locale,
            severity=check_severity(policy.invalid_severity),
            region=where,
        )
    else:
        problem = finding(
            "phone.impossible",
            locale=locale,
            severity=check_severity(policy.impossible_severity),
            region=where,
            reason=word(
                IMPOSSIBLE_REASONS, tables.impossible_reasons.get(reason, "impossible"), locale
            ),
        )
    return PhoneResult(
        raw=raw,
        region=used,
        parsed=number,
        valid=False,
        possible=possible,
        e164=None,
        number_type="UNKNOWN",
        kind=PhoneKind.UNKNOWN,
        extension=_ascii_digits(number.extension, tables),
        findings=(problem,),
    )


def _ascii_digits(extension: str | None, tables: _Tables) -> str | None:
    """An extension phonenumbers split off, in the ASCII digits a Phone stores."""
    if not extension:
        return None
    return str(tables.lib.normalize_digits_only(extension))


def _clean_extension(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def normalise_phone_point(
    phone: Phone,
    *,
    region: str | None,
    policy: PhonePolicy = _DEFAULT_POLICY,
    locale: str = "en",
) -> tuple[Phone, tuple[Problem, ...]]:
    """Normalise a :class:`Phone` contact point; findings have paths below the phone (``$.number``).

    The phone's own ``region`` wins over ``region``. Returns the phone unchanged
    (the same object) when it is already in normal form.
    """
    tables = _LOADED or _tables()
    used = phone.region or region
    if used is not None and used not in tables.regions:
        used = _region(used)
    try:
        number, number_type = _read(phone.number, used, tables)
    except tables.parse_error as error:
        return _keep_as_entered(phone, _unparseable(phone.number, used, error, policy, locale))
    if number_type == tables.unknown:
        return _keep_as_entered(
            phone, _judge(phone.number, used, number, number_type, policy, locale)
        )
    # Valid. Fast path: the values normalise_phone() gives, without building its
    # PhoneResult; the reference (CRMCORE_NO_FAST_PATHS=1) asks normalise_phone's judge.
    if fast_paths_enabled():
        e164: str | None = tables.format_number(number, tables.e164)
        found = number.extension or None
    else:
        judged = _judge(phone.number, used, number, number_type, policy, locale)
        e164, found = judged.e164, judged.extension
    findings: list[Problem] = []
    changes: dict[str, object] = {}
    if phone.extension is not None or found is not None:
        extension = _resolve_extension(phone.extension, found, findings, locale, tables)
        if findings and findings[-1].code == "phone.extension_conflict":
            # Two different extensions: keep both as entered rather than drop one.
            return phone, tuple(findings)
        if extension != phone.extension:
            changes["extension"] = extension
    if e164 != phone.number:
        changes["number"] = e164
    if phone.invalid_by_pipeline:  # else the verdict changes nothing (the common case)
        changes.update(verdict_changes(phone, normalised=True))
    if policy.fill_kind:
        kind = _resolve_kind(phone.kind, number_type, findings, locale)
        if kind is not phone.kind:
            changes["kind"] = kind
    if not changes:
        return phone, tuple(findings)
    return replace(phone, **changes), tuple(findings)


def _keep_as_entered(phone: Phone, result: PhoneResult) -> tuple[Phone, tuple[Problem, ...]]:
    """Keep a number that is not valid as entered: flag it and record the region used."""
    changes: dict[str, object] = {}
    # Recording the region it was read with makes normalising again read it the
    # same way, whatever the defaults are then.
    if phone.region is None and result.region is not None:
        changes["region"] = result.region
    changes.update(verdict_changes(phone, normalised=False))
    findings = tuple(p.under("$.number") for p in result.findings)
    return (replace(phone, **changes) if changes else phone), findings


def _resolve_extension(
    given: str | None, found: str | None, findings: list[Problem], locale: str, tables: _Tables
) -> str | None:
    if found is not None:
        # phonenumbers returns the extension's digits as written (full-width too);
        # its own normalize_digits_only gives the ASCII digits the model stores.
        found = tables.lib.normalize_digits_only(found)
    if given is None:
        return found
    cleaned = _clean_extension(given)
    if found is not None:
        if cleaned != found:
            findings.append(
                finding(
                    "phone.extension_conflict",
                    "$.extension",
                    locale=locale,
                    found=found,
                    given=given,
                )
            )
            return given
        return found
    if cleaned.isdecimal() and cleaned.isascii():
        return cleaned
    findings.append(finding("phone.extension_invalid", "$.extension", locale=locale, given=given))
    return given


def _resolve_kind(
    entered: PhoneKind, number_type: int, findings: list[Problem], locale: str
) -> PhoneKind:
    library = kind_for_number_type(number_type)
    if library is PhoneKind.UNKNOWN or entered is library:
        return entered
    if entered is PhoneKind.UNKNOWN:
        return library
    if entered is PhoneKind.FAX and library is PhoneKind.LANDLINE:
        return entered
    findings.append(
        finding(
            "phone.kind_conflict",
            "$.kind",
            locale=locale,
            entered=word(PHONE_KINDS, entered.value, locale),
            library=word(NUMBER_TYPES, _tables().type_names.get(number_type, "UNKNOWN"), locale),
            kept=word(PHONE_KINDS, library.value, locale),
        )
    )
    return library
