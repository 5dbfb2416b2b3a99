"""Small value objects shared by the models: person names, money, identifiers."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache

import attrs

from crmcore.errors import Problem
from crmcore.models._base import Model
from crmcore.models.checks import checks, non_blank

__all__ = ["Identifier", "IdentifierKind", "Money", "NameOrder", "PersonName", "is_cjk"]

_CURRENCY = re.compile(r"^[A-Z]{3}$")


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
        if is_cjk(self.family + self.given):
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
    def sort_key(self) -> tuple[str, str]:
        """Family name then given name, for rosters sorted by surname."""
        return (self.family.strip(), self.given.strip())


@attrs.frozen(kw_only=True)
class Money(Model):
    """An amount of money: a finite :class:`~decimal.Decimal` and an ISO 4217 currency code.

    >>> Money(amount=Decimal("58900.00"), currency="CNY")
    Money(amount=Decimal('58900.00'), currency='CNY')
    """

    amount: Decimal
    currency: str

    def _invariants(self) -> Iterable[Problem]:
        if not _CURRENCY.match(self.currency):
            yield Problem(
                code="money.currency_invalid",
                path="$.currency",
                message="must be a three-letter ISO 4217 code such as CNY, USD or EUR",
            )

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        """Build money from a string or int amount without float rounding."""
        return cls(amount=Decimal(amount), currency=currency)

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(amount=self.amount + other.amount, currency=self.currency)


class IdentifierKind(enum.StrEnum):
    """What an external identifier of a customer is."""

    NATIONAL_ID = "national_id"
    PASSPORT = "passport"
    TAX_ID = "tax_id"
    BUSINESS_REGISTRATION = "business_registration"
    MEMBERSHIP_CARD = "membership_card"
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
