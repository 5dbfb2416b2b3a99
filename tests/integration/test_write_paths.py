"""Every write path runs the one normalisation pipeline, and it judges as the libraries do.

Phones are judged by phonenumbers and emails by email-validator themselves; whatever
way a customer is written (add, update, bulk import of models or of raw dicts), the
stored value is the library's normal form, or the write is refused whole.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import email_validator
import phonenumbers
import pytest

from crmcore.errors import ValidationError
from crmcore.models import Customer, Email, Phone
from crmcore.serialization import to_dict
from crmcore.storage import ImportStatus, Store, connect

PHONES: list[tuple[str, str | None]] = [
    ("010-62345678", "CN"),
    ("138 0013 8000", "CN"),
    ("+86 (0)10 6234 5678", None),
    ("１３８００１３８０００", "CN"),
    ("+86 １３９-１２３４-５６７８", None),
    ("(0755) 8888 6666", "CN"),
    ("+1 650-253-0000 ext. 123", None),
    ("(650) 253-0000", "US"),
    ("030 901820", "DE"),
    ("+49 (0) 89 1234567", None),
    ("+44 20 7946 0958", None),
    ("+33 1 42 68 53 00", None),
    ("090-1234-5678", "JP"),
    ("+852 2123 4567", None),
    ("+86 138 0013 800", None),
    ("12345", "CN"),
    ("+1 555 0100", None),
    ("not a number", "CN"),
    ("+999 1234 5678", None),
    ("+86 1", None),
]

EMAILS = [
    "Zhang.Wei@Example.CN",
    "user@例子.中国",
    "用户@例子.广告",
    "jürgen.müller@beispiel.de",
    "o'brien+crm@example.ie",
    "plainaddress",
    "two@@example.com",
    "spaces in@example.com",
    "trailing.dot.@example.com",
    "x@localhost",
]


def _library_phone(raw: str, region: str | None) -> tuple[str, str | None] | None:
    """What phonenumbers makes of a number: (E.164, extension), "keep" or None (refuse)."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_valid_number(number):
        return (
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
            number.extension,
        )
    if phonenumbers.is_possible_number(number):
        return ("keep", None)
    return None


def _library_email(raw: str) -> str | None:
    try:
        return email_validator.validate_email(raw, check_deliverability=False).normalized
    except email_validator.EmailNotValidError:
        return None


def _write_add(store: Store, customer: Customer) -> Customer:
    with store.unit_of_work() as uow:
        saved = uow.customers.add(customer)
        uow.commit()
    return saved


def _write_update(store: Store, customer: Customer) -> Customer:
    bare = attrs.evolve(customer, phones=(), emails=())
    with store.unit_of_work() as uow:
        stored = uow.customers.add(bare)
        uow.commit()
    with store.unit_of_work() as uow:
        saved = uow.customers.update(
            attrs.evolve(stored, phones=customer.phones, emails=customer.emails)
        )
        uow.commit()
    return saved


def _write_import_model(store: Store, customer: Customer) -> Customer:
    report = store.import_customers([customer])
    (outcome,) = report.outcomes
    if outcome.status is ImportStatus.REJECTED:
        raise ValidationError(outcome.problems)
    with store.unit_of_work() as uow:
        return uow.customers.get(customer.id)


def _write_import_dict(store: Store, customer: Customer) -> Customer:
    return _write_import_model_data(store, to_dict(customer), customer.id)


def _write_import_model_data(store: Store, data: dict[str, Any], cid: str) -> Customer:
    report = store.import_customers([data])
    (outcome,) = report.outcomes
    if outcome.status is ImportStatus.REJECTED:
        raise ValidationError(outcome.problems)
    with store.unit_of_work() as uow:
        return uow.customers.get(cid)


WRITE_PATHS: dict[str, Callable[[Store, Customer], Customer]] = {
    "add": _write_add,
    "update": _write_update,
    "import-model": _write_import_model,
    "import-dict": _write_import_dict,
}


def _count(store: Store) -> int:
    with store.unit_of_work() as uow:
        return uow.customers.count()


@pytest.mark.parametrize("path", list(WRITE_PATHS))
@pytest.mark.parametrize(("raw", "region"), PHONES)
def test_phones_are_stored_as_phonenumbers_judges_them(
    path: str, raw: str, region: str | None
) -> None:
    """Valid numbers are stored in E.164, possible ones kept and flagged, the rest refused."""
    store = connect("memory://")
    customer = Customer.person_named(
        family="张", given="伟", phones=(Phone(id="p", number=raw, region=region),)
    )
    expected = _library_phone(raw, region)
    write = WRITE_PATHS[path]
    if expected is None:
        with pytest.raises(ValidationError) as info:
            write(store, customer)
        assert all(p.path.startswith("$.phones[0]") for p in info.value.problems)
        assert _count(store) == (1 if path == "update" else 0), "nothing of it was written"
        return
    (phone,) = write(store, customer).phones
    if expected[0] == "keep":
        assert (phone.number, phone.invalid) == (raw, True)
    else:
        assert (phone.number, phone.extension, phone.invalid) == (*expected, False)


@pytest.mark.parametrize("path", list(WRITE_PATHS))
@pytest.mark.parametrize("raw", EMAILS)
def test_emails_are_stored_as_email_validator_judges_them(path: str, raw: str) -> None:
    """Valid addresses are stored in email-validator's normal form; invalid ones are refused."""
    store = connect("memory://")
    customer = Customer.person_named(
        family="Müller", given="Jürgen", emails=(Email(id="e", address=raw),)
    )
    expected = _library_email(raw)
    write = WRITE_PATHS[path]
    if expected is None:
        with pytest.raises(ValidationError) as info:
            write(store, customer)
        assert {p.path for p in info.value.problems} <= {"$.emails[0].address", "$.emails[0]"}
        return
    (email,) = write(store, customer).emails
    assert email.address == expected


def test_the_same_input_gives_the_same_stored_value_every_time() -> None:
    """Normalising is deterministic and idempotent across stores and repeated writes."""
    customer = Customer.person_named(
        family="王",
        given="芳",
        phones=(Phone(id="p", number="010-62345678", region="CN"),),
        emails=(Email(id="e", address="Wang.Fang@Example.CN"),),
    )
    first = _write_add(connect("memory://"), customer)
    second = _write_add(connect("memory://"), customer)
    again = _write_add(connect("memory://"), attrs.evolve(first, version=0))
    assert first.phones == second.phones == again.phones
    assert first.emails == second.emails == again.emails
