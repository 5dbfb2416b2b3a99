"""Small value objects shared by the models: person names, money, identifiers."""

from __future__ import annotations

import decimal
import enum
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import attrs

from crmcore.errors import Problem, ValidationError
from crmcore.models._base import Model
from crmcore.models.checks import checks, non_blank

__all__ = [
    "CURRENCY_CODES",
    "MONEY_LIMIT",
    "MONEY_PLACES",
    "Identifier",
    "IdentifierKind",
    "Money",
    "NameOrder",
    "PersonName",
    "is_cjk",
    "scaled_micros",
]

_ISO_4217 = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV
    BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK
    DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL
    HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD
    KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV
    MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB
    RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF
    XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW
    ZWG ZWL
"""
CURRENCY_CODES: frozenset[str] = frozenset(_ISO_4217.split())
"""The currency codes :class:`Money` accepts: ISO 4217's list of current currencies and
funds (list one, as amended to 2025), and the codes withdrawn or being withdrawn since
2023 (``HRK``, ``SLL``, ``ZWL``, ``ANG``, ``BGN``) so that records made in them still load."""

_CURRENCY_ALIASES = {
    "RMB": "CNY",  # renminbi, the colloquial name of the Chinese yuan
    "NTD": "TWD",  # New Taiwan dollar
    "RUR": "RUB",  # the pre-1998 rouble, still common in feeds
}


def _currency_suggestion(code: str) -> str | None:
    """The ISO 4217 code probably meant by ``code`` (``RMB`` -> ``CNY``), if one is clear."""
    cleaned = code.strip().upper()
    cleaned = _CURRENCY_ALIASES.get(cleaned, cleaned)
    return cleaned if cleaned in CURRENCY_CODES else None


def is_cjk(text: str) -> bool:
    """True when ``text`` has letters and all of them are Chinese, Japanese or Korean."""
    if text.isascii():
        return False  # no ASCII letter is CJK
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    return all(map(_is_cjk_char, letters))


@lru_cache(maxsize=8192)
def _is_cjk_char(char: str) -> bool:
    name = unicodedata.name(char, "")
    return name.startswith(("CJK ", "HIRAGANA", "KATAKANA", "HANGUL"))


class NameOrder(enum.StrEnum):
    """The order in which a person's name is written."""

    FAMILY_FIRST = "family_first"
    """Chinese, Japanese, Korean, Hungarian, Vietnamese: 张伟, Zhang Wei."""
    GIVEN_FIRST = "given_first"
    """Most Western names: Anna Schmidt."""


@attrs.frozen(kw_only=True)
class PersonName(Model):
    """A structured person name: family name, given name and the order they are written in.

    ``order`` defaults to family-first when the name is written in CJK script and
    given-first otherwise; set it explicitly for romanised Chinese names
    (``PersonName(family="Zhang", given="Wei", order=NameOrder.FAMILY_FIRST)``).

    >>> PersonName(family="张", given="伟").display
    '张伟'
    >>> PersonName(family="Schmidt", given="Anna").display
    'Anna Schmidt'
    """

    family: str = ""
    given: str = ""
    order: NameOrder = attrs.field()

    @order.default
    def _default_order(self) -> NameOrder:
        # a family or given name that is not text is refused by the type checks
        if (
            isinstance(self.family, str)
            and isinstance(self.given, str)
            and is_cjk(self.family + self.given)
        ):
            return NameOrder.FAMILY_FIRST
        return NameOrder.GIVEN_FIRST

    def _invariants(self) -> Iterable[Problem]:
        if not self.family.strip() and not self.given.strip():
            yield Problem(
                code="name.empty", path="$", message="needs a family name or a given name"
            )

    @property
    def display(self) -> str:
        """The name as it is usually written: ``张伟``, ``Zhang Wei``, ``Anna Schmidt``."""
        family, given = self.family.strip(), self.given.strip()
        if not family or not given:
            return family or given
        if self.order is NameOrder.FAMILY_FIRST:
            return family + ("" if is_cjk(family + given) else " ") + given
        return given + " " + family

    @property
    def given_first(self) -> str:
        """The name written given name first, whatever its order: ``伟 张``, ``Wei Zhang``."""
        return " ".join(part for part in (self.given.strip(), self.family.strip()) if part)

    @property
    def sort_key(self) -> tuple[str, str]:
        """Family name then given name, for rosters sorted by surname."""
        return (self.family.strip(), self.given.strip())


MONEY_PLACES = 6
"""The most decimal places a :class:`Money` amount may have (after trailing zeros)."""

MONEY_LIMIT = 10**12
"""Every :class:`Money` amount is strictly between ``-MONEY_LIMIT`` and ``MONEY_LIMIT``."""

_LIMIT = Decimal(MONEY_LIMIT)

_SCALING = decimal.Context(
    prec=40,
    traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow],
    Emin=decimal.MIN_EMIN,
    Emax=decimal.MAX_EMAX,
)
"""Scales an amount below the limit exactly: 40 digits hold 12 before the point and any
six after, so anything rounded (``Inexact``) had more than six places."""


def scaled_micros(amount: Decimal) -> Decimal | None:
    """``amount`` times 10**6 when that is a whole number below 10**18, else ``None``.

    Exact whatever the caller's :mod:`decimal` context (the comparison and the scaling
    use none of it); ``amount`` must be finite.
    """
    if amount.copy_abs() >= _LIMIT:  # compare is exact; abs() would round to the context
        return None
    try:
        scaled = amount.scaleb(MONEY_PLACES, context=_SCALING)
    except decimal.Inexact:
        return None
    return scaled if scaled == scaled.to_integral_value() else None


def _amount_problem(amount: Decimal) -> Problem | None:
    """``money.out_of_range`` unless ``amount`` is a whole number of millionths within the limit."""
    if scaled_micros(amount) is not None:
        return None
    if amount.copy_abs() >= _LIMIT:
        message = f"must be more than -10**12 and less than 10**12, got {amount}"
    else:
        message = f"must have at most {MONEY_PLACES} decimal places, got {amount}"
    return Problem(code="money.out_of_range", path="$.amount", message=message)


@attrs.frozen(kw_only=True)
class Money(Model):
    """An amount of money: a finite :class:`~decimal.Decimal` and an ISO 4217 currency code.

    The amount has at most six decimal places (trailing zeros do not count, so
    ``Decimal("1.500000000")`` is fine) and is less than 10**12 in absolute value;
    anything else is refused with ``money.out_of_range``. Every amount is then a whole
    number of millionths that fits a 64-bit integer, which is how the SQL storage keeps
    it, exactly, on every database.

    >>> Money(amount=Decimal("58900.00"), currency="CNY")
    Money(amount=Decimal('58900.00'), currency='CNY')
    """

    amount: Decimal
    currency: str

    def _invariants(self) -> Iterable[Problem]:
        problem = _amount_problem(self.amount)
        if problem is not None:
            yield problem
        if self.currency not in CURRENCY_CODES:
            suggestion = _currency_suggestion(self.currency)
            hint = f"; did you mean {suggestion!r}?" if suggestion else " such as CNY, USD or EUR"
            yield Problem(
                code="money.currency_invalid",
                path="$.currency",
                message=f"{self.currency!r} is not an ISO 4217 currency code{hint}",
            )

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        """Build money from a string or int amount without float rounding.

        A :class:`~decimal.Decimal` is taken as it is; text is read as written
        (``"19.90"`` keeps its two places; surrounding spaces are ignored). A
        ``float`` is refused with ``type.invalid``: by the time it arrives, ``19.9``
        is already ``19.899999999999998578...``, and guessing the digits meant
        would make ``0.1 + 0.2`` an amount of ``0.30000000000000004``. Pass the
        amount as text instead. Text that is not a number is refused with
        ``decimal.invalid``.

        >>> Money.of("19.90", "CNY")
        Money(amount=Decimal('19.90'), currency='CNY')
        """
        if isinstance(amount, bool) or not isinstance(amount, str | int | Decimal):
            message = f"expected str, int or Decimal, got {type(amount).__name__}"
            hint = f" (pass it as text: Money.of({repr(amount)!r}, ...))"
            if not isinstance(amount, float):
                hint = ""  # a bool or another type: there are no digits to suggest
            raise ValidationError(
                [Problem(code="type.invalid", path="$.amount", message=message + hint)],
                subject=cls.__name__,
            )
        if isinstance(amount, str):
            try:
                value = Decimal(amount.strip())
            except InvalidOperation:
                problem = Problem(
                    code="decimal.invalid",
                    path="$.amount",
                    message=f"{amount!r} is not a decimal number",
                )
                raise ValidationError([problem], subject=cls.__name__) from None
        else:
            value = Decimal(amount)
        return cls(amount=value, currency=currency)

    def __add__(self, other: Money) -> Money:
        """The sum of two amounts in one currency.

        Amounts in two currencies are never converted: their sum raises a
        :class:`~crmcore.errors.ValidationError` coded ``money.currency_mismatch``.
        """
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            problem = Problem(
                code="money.currency_mismatch",
                path="$.currency",
                message=f"cannot add {other.currency} to {self.currency}: amounts are never "
                "converted",
            )
            raise ValidationError([problem], subject=type(self).__name__)
        return Money(amount=self.amount + other.amount, currency=self.currency)


class IdentifierKind(enum.StrEnum):
    """What an external identifier of a customer is."""

    NATIONAL_ID = "national_id"
    PASSPORT = "passport"
    TAX_ID = "tax_id"
    BUSINESS_REGISTRATION = "business_registration"
    MEMBERSHIP_CARD = "membership_card"
    ORDER_NUMBER = "order_number"
    """An order the customer placed, for guests known only by it (anonymous web orders)."""
    EXTERNAL_SYSTEM = "external_system"
    OTHER = "other"


@attrs.frozen(kw_only=True)
class Identifier(Model):
    """An identifier the customer has elsewhere: a national ID, a membership card, an ERP id.

    Attributes:
        kind: What the identifier is.
        value: The identifier itself, as issued.
        issuer: Who issued it, or which system it belongs to (``"SAP"``, ``"CN"``).
    """

    kind: IdentifierKind
    value: str = attrs.field(metadata=checks(non_blank))
    issuer: str | None = attrs.field(default=None, metadata=checks(non_blank))
