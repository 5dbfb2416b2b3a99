"""Property tests: agreement with the libraries, idempotence, determinism, spec round trips."""

from __future__ import annotations

import datetime as dt

import email_validator
import phonenumbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmcore.models import Customer, Email, Phone, PostalAddress
from crmcore.rules.verification import (
    SPEC_TYPES,
    AddressPolicy,
    AllowedValues,
    ConflictPolicy,
    EmailPolicy,
    MaxAge,
    NamePolicy,
    NormalisationPipeline,
    PhonePolicy,
    RequiredField,
    ReverificationPolicy,
    TrustPolicy,
    ValidationSpec,
    VendorEvaluationSpec,
    VerificationSpec,
    normalise_email,
    normalise_phone,
)
from crmcore.rules.verification.schedule import FactKind
from crmcore.serialization import from_json, to_json
from crmcore.testing.strategies import texts

REGIONS = ["CN", "US", "DE", "FR", "GB", "JP", "HK", "TW", "IT", "ES", "NL", "IN", "BR", "CA"]
FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.RFC3966,
]
TYPES = [
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
]
FULL_WIDTH = str.maketrans("0123456789+-() ", "０１２３４５６７８９＋－（）\u3000")


@st.composite
def phone_text(draw: st.DrawFn) -> str:
    """Real example numbers in several formats, then perhaps mutated or full-width."""
    region = draw(st.sampled_from(REGIONS))
    example = phonenumbers.example_number_for_type(region, draw(st.sampled_from(TYPES)))
    if example is None:
        example = phonenumbers.example_number(region)
    assert example is not None
    text = phonenumbers.format_number(example, draw(st.sampled_from(FORMATS)))
    mutation = draw(st.sampled_from(["none", "drop", "add", "replace", "ext", "junk"]))
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    if mutation == "drop" and digits:
        i = draw(st.sampled_from(digits))
        text = text[:i] + text[i + 1 :]
    elif mutation == "add":
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from("0123456789")) + text[i:]
    elif mutation == "replace" and digits:
        i = draw(st.sampled_from(digits))
        text = text[:i] + draw(st.sampled_from("0123456789")) + text[i + 1 :]
    elif mutation == "ext":
        text += draw(st.sampled_from([" ext. ", " x", " #", ";ext="])) + draw(
            st.from_regex(r"[0-9]{1,5}", fullmatch=True)
        )
    elif mutation == "junk":
        text = draw(st.text(alphabet="0123456789+-() .abc#*", min_size=1, max_size=20))
    if draw(st.booleans()):
        text = text.translate(FULL_WIDTH)
    return text


REGION_OR_NONE = st.sampled_from([*REGIONS, None])


@settings(max_examples=400, deadline=None)
@given(raw=phone_text(), region=REGION_OR_NONE)
def test_phone_results_agree_with_phonenumbers(raw: str, region: str | None) -> None:
    """Every verdict and form equals what phonenumbers itself gives for the same input."""
    result = normalise_phone(raw, region=region)
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        assert result.parsed is None
        assert not result.valid
        assert not result.possible
        assert [p.severity for p in result.findings] == ["error"]
        return
    assert result.parsed == parsed
    assert result.valid == phonenumbers.is_valid_number(parsed)
    assert result.possible == phonenumbers.is_possible_number(parsed)
    # in the ASCII digits a Phone stores (phonenumbers keeps full-width digits as written)
    expected = phonenumbers.normalize_digits_only(parsed.extension) if parsed.extension else None
    assert result.extension == expected
    if result.valid:
        assert result.e164 == phonenumbers.format_number(
            parsed, phonenumbers.PhoneNumberFormat.E164
        )
        assert result.number_type != "UNKNOWN"
        assert getattr(phonenumbers.PhoneNumberType, result.number_type) == (
            phonenumbers.number_type(parsed)
        )
        assert result.findings == ()
    else:
        assert result.e164 is None
        assert [p.code for p in result.findings] == [
            "phone.invalid" if result.possible else "phone.impossible"
        ]


@settings(max_examples=300, deadline=None)
@given(raw=phone_text(), region=REGION_OR_NONE)
def test_phone_normalisation_is_idempotent(raw: str, region: str | None) -> None:
    """Normalising the stored value again gives the same stored value and verdict."""
    once = normalise_phone(raw, region=region)
    twice = normalise_phone(once.stored, region=region)
    assert twice.stored == once.stored
    assert twice.valid == once.valid
    assert twice.kind == once.kind


LOCAL = st.text(alphabet=st.sampled_from("abcXYZ019._+-!#用户ñü"), min_size=0, max_size=12)
DOMAIN = st.sampled_from(
    [
        "example.com",
        "EXAMPLE.org",
        "例子.中国",
        "xn--fsqu00a.xn--fiqs8s",
        "ñandú.es",
        "localhost",
        "exa_mple.com",
        "sub.example.co.uk",
        "",
        "example",
        "-bad.com",
        "bücher.DE",
    ]
)


@settings(max_examples=400, deadline=None)
@given(local=LOCAL, domain=DOMAIN, at=st.sampled_from(["@", "@@", "", " @"]))
def test_email_results_agree_with_email_validator(local: str, domain: str, at: str) -> None:
    """Validity and normalised form equal email-validator's own, without deliverability."""
    raw = f"{local}{at}{domain}"
    result = normalise_email(raw)
    try:
        expected = email_validator.validate_email(raw, check_deliverability=False)
    except email_validator.EmailNotValidError:
        assert not result.valid
        assert [p.code for p in result.findings] == ["email.invalid"]
        return
    assert result.valid
    assert result.normalized == expected.normalized
    again = normalise_email(expected.normalized)
    assert again.normalized == expected.normalized


NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


@st.composite
def customers(draw: st.DrawFn) -> Customer:
    phones = tuple(
        Phone(
            number=draw(phone_text().filter(str.strip)),  # a Phone needs a non-blank number
            region=draw(REGION_OR_NONE),
            primary=i == 0,
        )
        for i in range(draw(st.integers(0, 3)))
    )
    emails = tuple(
        Email(address=f"{draw(LOCAL)}@{draw(DOMAIN)}", primary=i == 0)
        for i in range(draw(st.integers(0, 2)))
    )
    addresses = tuple(
        PostalAddress(
            country=draw(st.sampled_from(["CN", "中国", "de", "Deutschland", "USA", "Narnia"])),
            postal_code=draw(st.sampled_from([None, "100080", "１０００８０", " 94043 ", "abc"])),
            primary=i == 0,
        )
        for i in range(draw(st.integers(0, 2)))
    )
    family = draw(st.sampled_from(["张", "欧阳", "Schmidt", "", "王 "]))
    given = draw(st.sampled_from(["伟", "娜娜", "Anna", "张伟", "Ｍａｒｉａ"]))
    return Customer.person_named(
        family=family,
        given=given,
        phones=phones,
        emails=emails,
        addresses=addresses,
        created_at=NOW,
        updated_at=NOW,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customer=customers(), region=REGION_OR_NONE)
def test_pipeline_is_idempotent_and_deterministic(customer: Customer, region: str | None) -> None:
    """Normalising twice equals normalising once; the same input gives the same output."""
    pipeline = NormalisationPipeline(default_region=region)
    once = pipeline.check(customer)
    again = pipeline.check(customer)
    assert again == once
    twice = pipeline.check(once.customer)
    assert twice.customer == once.customer
    assert [
        p for p in twice.findings if p.code.startswith(("phone.invalid", "phone.imp", "email"))
    ] == [p for p in once.findings if p.code.startswith(("phone.invalid", "phone.imp", "email"))]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(customers(), max_size=6), region=REGION_OR_NONE)
def test_a_batch_gives_what_each_customer_gives_alone(
    batch: list[Customer], region: str | None
) -> None:
    """check_many works a stage at a time across the batch; no customer's result (its
    normalised form, findings, their order and paths) depends on the others."""
    pipeline = NormalisationPipeline(default_region=region)
    alone = [pipeline.check(customer, now=NOW) for customer in batch]
    assert pipeline.check_many(batch, now=NOW) == alone
    assert pipeline.check_many(reversed(batch), now=NOW) == alone[::-1]


@settings(max_examples=150, deadline=None)
@given(customer=customers(), region=REGION_OR_NONE)
def test_pipeline_phones_agree_with_phonenumbers(customer: Customer, region: str | None) -> None:
    """Through the pipeline, each stored phone is phonenumbers' E.164 or the number as entered."""
    result = NormalisationPipeline(default_region=region, infer_region_from_address=False).check(
        customer
    )
    for before, after in zip(customer.phones, result.customer.phones, strict=True):
        used = before.region or region
        try:
            parsed = phonenumbers.parse(before.number, used.upper() if used else None)
        except phonenumbers.NumberParseException:
            assert after.number == before.number
            assert after.invalid
            continue
        if phonenumbers.is_valid_number(parsed):
            assert after.number == phonenumbers.format_number(
                parsed, phonenumbers.PhoneNumberFormat.E164
            )
        else:
            assert after.number == before.number
            assert after.invalid


SEVERITY = st.sampled_from(["error", "warning", "info"])
SPECS = st.one_of(
    st.builds(
        PhonePolicy,
        invalid_severity=SEVERITY,
        impossible_severity=SEVERITY,
        unparseable_severity=SEVERITY,
        fill_kind=st.booleans(),
    ),
    st.builds(EmailPolicy, check_deliverability=st.booleans(), invalid_severity=SEVERITY),
    st.builds(NamePolicy, correct_cjk_order=st.booleans(), split_cjk_full_names=st.booleans()),
    st.builds(AddressPolicy, unknown_country_severity=SEVERITY, postal_code_severity=SEVERITY),
    st.builds(
        ValidationSpec,
        required=st.lists(
            st.builds(
                RequiredField,
                path=st.sampled_from(["phones", "person.birthday"]),
                severity=SEVERITY,
            ),
            max_size=3,
        ).map(tuple),
        allowed=st.lists(
            st.builds(
                AllowedValues,
                path=st.just("tags"),
                values=st.lists(texts(max_size=5), max_size=3).map(tuple),
            ),
            max_size=2,
        ).map(tuple),
        min_age=st.none() | st.integers(0, 18),
        max_age=st.none() | st.integers(60, 150),
        primary_missing_severity=st.sampled_from(["error", "warning", "info", "off"]),
    ),
    st.builds(
        ReverificationPolicy,
        max_ages=st.lists(
            st.builds(MaxAge, fact=st.sampled_from(FactKind), days=st.integers(1, 5000)),
            unique_by=lambda m: m.fact,
        ).map(tuple),
    ),
    st.builds(TrustPolicy, customer_initiated_bonus=st.integers(0, 100)),
    st.builds(ConflictPolicy, trust_margin=st.integers(0, 100)),
    st.builds(
        VendorEvaluationSpec,
        requested=st.lists(st.sampled_from(["name", "age", "phone", "city"]), unique=True).map(
            tuple
        ),
        default_region=st.none() | st.sampled_from(REGIONS),
    ),
    st.builds(
        NormalisationPipeline, default_region=REGION_OR_NONE, locale=st.sampled_from(["en", "zh"])
    ),
)


@settings(max_examples=200, deadline=None)
@given(spec=SPECS)
def test_specs_round_trip_as_json(spec: object) -> None:
    """Every spec survives JSON through the converter, chosen by its kind tag."""
    text = to_json(spec)
    assert from_json(text, VerificationSpec) == spec  # type: ignore[arg-type]
    assert from_json(text, type(spec)) == spec


def test_every_spec_type_round_trips_with_defaults() -> None:
    """Each spec class, with its defaults, round-trips through the tagged union."""
    from crmcore.rules.verification import TRADITIONAL_PROFILE

    for kind, cls in SPEC_TYPES.items():
        spec = TRADITIONAL_PROFILE if kind == "profile_template" else cls()
        assert spec.kind == kind  # type: ignore[attr-defined]
        assert from_json(to_json(spec), VerificationSpec) == spec  # type: ignore[arg-type]
