"""Judging bought data before trusting it (brief, section 6).

Before buying, a company sends each vendor a sample of its own customers and scores
what comes back. :func:`evaluate_vendor` computes, as a :class:`VendorReport`:

* the **overall match rate**: the share of sampled customers the vendor returned a
  record for (a record with at least one requested element);
* the **per-record match rate**: for each sampled customer, requested elements
  returned against requested (:class:`RecordMatch`);
* the **per-element accuracy**: for each element, how often the vendor's value agrees
  with our own data (:class:`ElementAccuracy`): the vendor's age against our birth
  date (within :attr:`VendorEvaluationSpec.age_tolerance_years`), phones and emails
  after normalising both sides with the same pipeline functions, names, gender,
  address parts, and any element our own ``reference`` data holds (the vendor's
  home value against our mortgage data, within a percentage).

Elements for which we hold nothing are counted as returned but not compared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation

import attrs

from crmcore.models import Customer
from crmcore.models.checks import checks, non_negative
from crmcore.rules._items import item_types
from crmcore.rules.verification._arguments import local_date, require_now, require_time_zone
from crmcore.rules.verification._spec import Spec
from crmcore.rules.verification.addresses import country_code
from crmcore.rules.verification.emails import normalise_email
from crmcore.rules.verification.names import normalise_text
from crmcore.rules.verification.phones import normalise_phone, region_problem

__all__ = [
    "ElementAccuracy",
    "RecordMatch",
    "VendorEvaluationSpec",
    "VendorRecord",
    "VendorReport",
    "evaluate_vendor",
]

VendorValue = str | int | None


@attrs.frozen(kw_only=True)
class VendorRecord:
    """What a vendor returned for one of our customers.

    Attributes:
        customer_id: Our customer's id, as sent in the sample.
        elements: Element name to the vendor's value (``{"age": 41, "city": "上海"}``);
            a ``None`` or blank value counts as not returned.
    """

    customer_id: str
    elements: Mapping[str, VendorValue]


@attrs.frozen(kw_only=True)
class VendorEvaluationSpec(Spec):
    """What was requested from the vendor and how values are compared.

    Attributes:
        requested: The element names requested.
        age_tolerance_years: A vendor age within this many years of ours agrees.
        numeric_tolerance_percent: Numbers (employee count, reference values such as
            a home value) within this percentage of ours agree.
        default_region: Region for reading phone numbers without a country code; one
            phonenumbers knows (``value.not_allowed`` otherwise).
    """

    TAG = "vendor_evaluation_spec"
    kind: str = "vendor_evaluation_spec"
    requested: tuple[str, ...] = ("name", "gender", "age", "phone", "email", "city")
    age_tolerance_years: int = attrs.field(default=1, metadata=checks(non_negative))
    numeric_tolerance_percent: int = attrs.field(default=10, metadata=checks(non_negative))
    default_region: str | None = attrs.field(default=None, metadata=checks(region_problem))


_DEFAULT_SPEC = VendorEvaluationSpec()


@attrs.frozen(kw_only=True)
class RecordMatch:
    """Requested against returned elements for one sampled customer."""

    customer_id: str
    requested: int
    returned: int

    @property
    def rate(self) -> float:
        """Returned over requested (0.0 when nothing was requested)."""
        return self.returned / self.requested if self.requested else 0.0


@attrs.frozen(kw_only=True)
class ElementAccuracy:
    """How one element's vendor values compare with ours.

    Attributes:
        element: The element name.
        returned: Records in which the vendor returned it.
        compared: Of those, records where we hold a value to compare against.
        agreed: Of those, records where the values agree.
    """

    element: str
    returned: int
    compared: int
    agreed: int

    @property
    def accuracy(self) -> float | None:
        """Agreed over compared, or ``None`` when nothing could be compared."""
        return self.agreed / self.compared if self.compared else None


@attrs.frozen(kw_only=True)
class VendorReport:
    """The evaluation of one vendor's returned sample.

    Attributes:
        sample_size: Customers sent.
        matched: Customers the vendor returned a record for.
        records: Per-record match, one per sampled customer, in sample order.
        elements: Per-element accuracy, in the order requested.
        unknown_records: Returned records naming a customer not in the sample.
    """

    sample_size: int
    matched: int
    records: tuple[RecordMatch, ...]
    elements: tuple[ElementAccuracy, ...]
    unknown_records: int = 0

    @property
    def match_rate(self) -> float:
        """Overall match rate: matched over sample size."""
        return self.matched / self.sample_size if self.sample_size else 0.0

    @property
    def mean_record_rate(self) -> float:
        """Mean per-record match rate over the matched records."""
        rates = [r.rate for r in self.records if r.returned]
        return sum(rates) / len(rates) if rates else 0.0

    def element(self, name: str) -> ElementAccuracy:
        """Return the accuracy of one element; raise ``KeyError`` if it was not requested."""
        for entry in self.elements:
            if entry.element == name:
                return entry
        raise KeyError(name)


_INT_TEXT_LIMIT = 10**4000
_EXPONENT_LIMIT = 100
"""Numbers are compared only within 1e-100 to 1e100; beyond, a value is not a number."""


def _readable(value: VendorValue) -> VendorValue:
    """``value``, with an integer too long for ``str()`` (Python's 4,300 digits) as its digits."""
    if isinstance(value, int) and not -_INT_TEXT_LIMIT < value < _INT_TEXT_LIMIT:
        return str(Decimal(value))
    return value


def _returned(value: VendorValue) -> bool:
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


def _text(value: object) -> str:
    return normalise_text(str(value)).casefold()


def _number(value: object) -> Decimal | None:
    try:
        number = Decimal(normalise_text(str(value)).replace(",", ""))
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if number and not -_EXPONENT_LIMIT <= number.adjusted() <= _EXPONENT_LIMIT:
        return None
    return number


def _close(ours: Decimal, theirs: Decimal, percent: int) -> bool:
    return abs(ours - theirs) <= abs(ours) * Decimal(percent) / 100


Comparator = Callable[[Customer, VendorValue, "_Context"], bool | None]


@attrs.frozen
class _Context:
    spec: VendorEvaluationSpec
    today: dt.date
    reference: Mapping[str, VendorValue]


def _same_text(ours: Iterable[object], theirs: VendorValue) -> bool | None:
    values = {_text(v) for v in ours if v is not None and str(v).strip()}
    if not values:
        return None
    return _text(theirs) in values


def _names(c: Customer, v: VendorValue, _: _Context) -> bool | None:
    names: list[str] = [c.display_name]
    if c.person is not None:
        if c.person.name is not None:
            names.append(c.person.name.display)
        if c.person.other_name is not None:
            names.append(c.person.other_name.display)
    if c.organisation is not None:
        names.append(c.organisation.legal_name)
    compact = {_text(n).replace(" ", "") for n in names}
    return _text(v).replace(" ", "") in compact


_GENDER_WORDS = {"m": "male", "男": "male", "f": "female", "女": "female"}


def _gender(c: Customer, v: VendorValue, _: _Context) -> bool | None:
    if c.person is None or c.person.gender is None:
        return None
    said = _text(v)
    return _GENDER_WORDS.get(said, said) == c.person.gender.value


def _age(c: Customer, v: VendorValue, ctx: _Context) -> bool | None:
    ours = c.age_on(ctx.today)
    theirs = _number(v)
    if ours is None:
        return None
    if theirs is None:
        return False
    return abs(theirs - ours) <= ctx.spec.age_tolerance_years


def _birthday(c: Customer, v: VendorValue, _: _Context) -> bool | None:
    if c.person is None or c.person.birthday is None:
        return None
    return normalise_text(str(v)) == c.person.birthday.isoformat()


def _phone(c: Customer, v: VendorValue, ctx: _Context) -> bool | None:
    if not c.phones:
        return None
    region = ctx.spec.default_region
    if c.addresses:
        region = country_code(c.addresses[0].country) or region

    def key(raw: str, own_region: str | None) -> str:
        result = normalise_phone(raw, region=own_region)
        return result.e164 or normalise_text(raw)

    ours = {key(p.number, p.region or region) for p in c.phones}
    return key(str(v), region) in ours


def _email(c: Customer, v: VendorValue, _: _Context) -> bool | None:
    if not c.emails:
        return None

    def key(raw: str) -> str:
        return normalise_email(raw).stored.casefold()

    return key(str(v)) in {key(e.address) for e in c.emails}


def _address_part(part: str) -> Comparator:
    def compare(c: Customer, v: VendorValue, _: _Context) -> bool | None:
        if part == "country":
            ours = {country_code(a.country) or a.country for a in c.addresses}
            return (country_code(str(v)) or str(v)) in ours if ours else None
        return _same_text((getattr(a, part) for a in c.addresses), v)

    return compare


def _person_field(name: str) -> Comparator:
    def compare(c: Customer, v: VendorValue, _: _Context) -> bool | None:
        if c.person is None:
            return None
        return _same_text([getattr(c.person, name)], v)

    return compare


def _employees(c: Customer, v: VendorValue, ctx: _Context) -> bool | None:
    if c.organisation is None or c.organisation.employee_count is None:
        return None
    theirs = _number(v)
    ours = Decimal(c.organisation.employee_count)
    return theirs is not None and _close(ours, theirs, ctx.spec.numeric_tolerance_percent)


_COMPARATORS: dict[str, Comparator] = {
    "name": _names,
    "gender": _gender,
    "age": _age,
    "birthday": _birthday,
    "phone": _phone,
    "email": _email,
    "country": _address_part("country"),
    "region": _address_part("region"),
    "city": _address_part("city"),
    "district": _address_part("district"),
    "postal_code": _address_part("postal_code"),
    "education": _person_field("education"),
    "occupation": _person_field("occupation"),
    "job_title": _person_field("job_title"),
    "income_band": _person_field("income_band"),
    "employee_count": _employees,
}


def _compare(element: str, customer: Customer, value: VendorValue, ctx: _Context) -> bool | None:
    value = _readable(value)
    if element in ctx.reference and _returned(ctx.reference[element]):
        ours = _readable(ctx.reference[element])
        ours_n, theirs_n = _number(ours), _number(value)
        if ours_n is not None and theirs_n is not None:
            return _close(ours_n, theirs_n, ctx.spec.numeric_tolerance_percent)
        return _text(ours) == _text(value)
    comparator = _COMPARATORS.get(element)
    if comparator is None:
        return None
    return comparator(customer, value, ctx)


@item_types(ours=Customer, theirs=VendorRecord)
def evaluate_vendor(
    ours: Sequence[Customer],
    theirs: Iterable[VendorRecord],
    *,
    now: dt.datetime,
    spec: VendorEvaluationSpec = _DEFAULT_SPEC,
    reference: Mapping[str, Mapping[str, VendorValue]] | None = None,
    time_zone: str | None = None,
) -> VendorReport:
    """Score a vendor's returned sample against our own records.

    Args:
        ours: The customers sent to the vendor.
        theirs: What the vendor returned, one record per customer it matched.
        now: The time ages are computed at.
        spec: Requested elements and comparison tolerances.
        reference: Our own data held outside the customer records, by customer id
            and element (``{"c1": {"home_value": 350000}}`` from mortgage data).
        time_zone: The IANA zone whose calendar date ages are computed on
            (``"Asia/Shanghai"``); ``None`` for the date of ``now`` as given.
    """
    now = require_now(now)
    zone = require_time_zone(time_zone)
    by_id: dict[str, VendorRecord] = {}
    known = {c.id for c in ours}
    unknown = 0
    for record in theirs:
        if record.customer_id in known:
            by_id[record.customer_id] = record
        else:
            unknown += 1
    requested = spec.requested
    counts = {name: [0, 0, 0] for name in requested}
    records: list[RecordMatch] = []
    matched = 0
    today = local_date(now, zone)
    for customer in ours:
        found = by_id.get(customer.id)
        returned = 0
        if found is not None:
            record = found
            ctx = _Context(spec, today, (reference or {}).get(customer.id, {}))
            for name in requested:
                value = record.elements.get(name)
                if not _returned(value):
                    continue
                returned += 1
                counts[name][0] += 1
                verdict = _compare(name, customer, value, ctx)
                if verdict is not None:
                    counts[name][1] += 1
                    counts[name][2] += int(verdict)
        if returned:
            matched += 1
        records.append(
            RecordMatch(customer_id=customer.id, requested=len(requested), returned=returned)
        )
    return VendorReport(
        sample_size=len(ours),
        matched=matched,
        records=tuple(records),
        elements=tuple(
            ElementAccuracy(element=name, returned=r, compared=c, agreed=a)
            for name, (r, c, a) in counts.items()
        ),
        unknown_records=unknown,
    )
