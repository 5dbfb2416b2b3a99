"""Blocking keys: plain strings computed from one customer, so storage can index them.

A key is ``"<pass>:<value>"``. Two customers are candidates when they share a key;
the SQL storage keeps the keys of every customer in an index table
``(customer_id, key)`` and finds the pairs with one self-join on ``key``. Each
pass is one way records of the same person agree despite the usual damage:

``phone``
    each phone in E.164 (full-width digits and local formats read by phonenumbers).
``email``
    each email address, NFKC and case folded.
``identifier``
    ``<kind>:<value>`` for each identifier (national, tax, membership ids; an
    organisation's registration number), value folded without spaces.
``name``
    the romanised name's words sorted, with the birth year (the postal code
    instead when there is no birthday, as ``name_part`` has): ``Zhang Wei``,
    ``Wei Zhang``, ``张伟`` and (with pinyin) ``張偉``, born in 1990, share
    ``name:wei zhang|1990``; without a birthday or a postal code the key is the
    name alone (``name:wei zhang``). The year or place keeps the blocks of
    common names small (a bare name made most candidate pairs, most of them
    namesakes); a copy that lost its birthday and moved still meets through
    ``postal``, ``address`` and the contact passes.
``name_part``
    each word of the name with the initials of the others and the birth year
    (``zhang|w|1990`` and ``wei|z|1990``; the postal code instead when there is
    no birthday): a typo in one word keeps the other key, and the year or
    place keeps blocks of common names small (they still grow with the base:
    see docs/dedupe.md, "Candidate pairs per pass").
``birth``
    the birth date with day and month sorted (a swapped day and month block
    together) and the name's sorted initials.
``postal``
    country, postal code and the name's sorted initials.
``birth_postal``
    the birth date (day and month sorted) with country and postal code, no name:
    a changed or misspelt family name and given name still meet.
``address``
    country and postal code, the first 8 letters of the street lines and their
    numbers in ASCII digits (a household: ``cn:100080|中关村大街|27``,
    ``de:10115|hauptstr|12``): a changed name without a birth date still meets.
    The house number keeps a long street's block to one building (without it, a
    block grew with the customers).
``address_sorted``
    the ``address`` key with the postal code's characters sorted
    (``au:0568|minchins|11`` for ``6085`` and ``6058`` alike): a copy whose postcode
    has two digits transposed, and whose name was replaced too, still meets its
    original's household.
``identifier_near``
    for each identifier of 5 to 12 characters, ``<kind>:<value>`` and the value
    with each one character left out (a deletion neighbourhood): two values one
    typo apart (a character changed, added or dropped, two neighbours swapped)
    share a key, as the comparison's "one typo" level has it. A longer value
    keys by its two halves (``<kind>:18<first half`` and ``<kind>:18>second
    half``): a changed character or swapped neighbours within one half still meet.
``email_local``
    the local part (before ``@``) of each email address of at least 4
    characters: a typo in the domain, or the same login at another provider.

>>> from crmcore.models import Customer, Phone
>>> c = Customer.person_named(family="Zhang", given="Wei",
...                           phones=(Phone(number="+8613800138000"),))
>>> blocking_keys(c)
('name:wei zhang', 'name_part:wei|z', 'name_part:zhang|w', 'phone:+8613800138000')
"""

from __future__ import annotations

import datetime as dt
import enum
import unicodedata
from collections.abc import Iterable

import attrs

from crmcore.errors import Problem
from crmcore.models import Customer
from crmcore.models.checks import checks, unique
from crmcore.rules.dedupe._features import Features, features
from crmcore.rules.dedupe._text import initial
from crmcore.rules.verification import Spec
from crmcore.rules.verification.phones import region_problem

__all__ = ["BlockingPass", "BlockingSpec", "blocking_keys", "feature_keys", "key_pass"]


class BlockingPass(enum.StrEnum):
    """One way of blocking customers together (see the module documentation)."""

    PHONE = "phone"
    EMAIL = "email"
    IDENTIFIER = "identifier"
    NAME = "name"
    NAME_PART = "name_part"
    BIRTH = "birth"
    POSTAL = "postal"
    BIRTH_POSTAL = "birth_postal"
    ADDRESS = "address"
    IDENTIFIER_NEAR = "identifier_near"
    EMAIL_LOCAL = "email_local"
    ADDRESS_SORTED = "address_sorted"


_MIN_CAP, _MAX_CAP = 2, 1_000_000
"""The bounds of :attr:`BlockingSpec.max_block_size`."""


@attrs.frozen(kw_only=True)
class BlockingSpec(Spec):
    """Which passes make keys, and how large a block may grow.

    Attributes:
        passes: The passes that make keys; all of them by default.
        max_block_size: A key shared by more customers than this makes no pairs
            (it says little: a common name, a shared switchboard number); the
            blocking report lists it with the pairs it would have made. From 2 to
            1,000,000 (``dedupe.block_size_invalid`` otherwise, as
            :func:`~crmcore.rules.dedupe.candidate_pairs` says of a cap below 2).
        region: ISO 3166 region for phone numbers written without a country code; one
            phonenumbers knows (``value.not_allowed`` otherwise, as the normalisation
            pipeline's ``default_region``).
    """

    TAG = "dedupe_blocking"
    kind: str = "dedupe_blocking"
    passes: tuple[BlockingPass, ...] = attrs.field(
        default=tuple(BlockingPass), metadata=checks(unique())
    )
    max_block_size: int = 100
    region: str | None = attrs.field(default=None, metadata=checks(region_problem))

    def _spec_invariants(self) -> Iterable[Problem]:
        if not self.passes:
            yield Problem(
                code="dedupe.passes_empty", path="$.passes", message="name at least one pass"
            )
        cap = self.max_block_size
        # One code for a bad cap here and in candidate_pairs (a non-integer is type.invalid).
        if type(cap) is int and not _MIN_CAP <= cap <= _MAX_CAP:
            yield Problem(
                code="dedupe.block_size_invalid",
                path="$.max_block_size",
                message=f"must be between {_MIN_CAP} and {_MAX_CAP:,}",
            )


DEFAULT_BLOCKING = BlockingSpec()


_STREET_PREFIX = 8
"""Letters (digits aside) of the street lines an ``address`` key keeps."""

_MIN_STREET = 4
"""The fewest letters and digits a street needs for an ``address`` key."""

_MIN_NEAR_IDENTIFIER = 5
"""The shortest identifier value with ``identifier_near`` keys (the "one typo" level's)."""

_MAX_DELETIONS = 12
"""The longest identifier value keyed by its deletion neighbourhood (longer: its halves)."""

_MIN_EMAIL_LOCAL = 4
"""The shortest email local part with an ``email_local`` key."""


def key_pass(key: str) -> str:
    """The pass a key belongs to: the text before its first colon.

    >>> key_pass("phone:+8613800138000")
    'phone'
    """
    return key.split(":", 1)[0]


def _near_values(value: str) -> tuple[str, ...]:
    """The ``identifier_near`` values of one identifier value (none when it is short).

    Up to :data:`_MAX_DELETIONS` characters: the value and the value with each one
    character left out, so values one edit apart (changed, added, dropped, two
    neighbours swapped) share one. Longer: its two halves, each marked with the length
    and the side, so a changed character or two swapped neighbours within one half
    keep the other (two keys, not one per character).
    """
    size = len(value)
    if size < _MIN_NEAR_IDENTIFIER:
        return ()
    if size <= _MAX_DELETIONS:
        return (value, *(value[:i] + value[i + 1 :] for i in range(size)))
    half = size // 2
    return (f"{size}<{value[:half]}", f"{size}>{value[half:]}")


def _initials(tokens: tuple[str, ...]) -> str:
    return "".join(sorted(initial(t) for t in tokens))


def _street_key(street: str) -> str | None:
    """A street's ``address`` value: its first letters and its numbers (``None``: too short).

    ``"Hauptstraße 12a"`` (folded) is ``hauptstr|12``; ``"12 High Street, Flat 3"`` is
    ``highstre|12-3``. Numbers are runs of decimal digits, in order.
    """
    letters: list[str] = []
    numbers: list[str] = []
    run = ""
    for char in street:
        if char.isdecimal():
            run += char if char.isascii() else str(unicodedata.decimal(char))
            continue
        if run:
            numbers.append(run)
            run = ""
        if char.isalnum():
            letters.append(char)
    if run:
        numbers.append(run)
    digits = sum(len(n) for n in numbers)
    if not letters or len(letters) + digits < _MIN_STREET:
        return None
    return "".join(letters[:_STREET_PREFIX]) + "|" + "-".join(numbers)


def _birth_date(day: dt.date) -> str:
    """A birth date with day and month sorted: a swapped day and month write it alike."""
    low, high = sorted((day.month, day.day))
    return f"{day.year:04d}-{low:02d}-{high:02d}"


def feature_keys(
    item: Features, *, passes: Iterable[BlockingPass] = tuple(BlockingPass)
) -> tuple[str, ...]:
    """The blocking keys of already normalised features, sorted and each once."""
    wanted = frozenset(passes)
    keys: set[str] = set()
    if BlockingPass.PHONE in wanted:
        keys.update(f"phone:{p}" for p in item.phones)
    if BlockingPass.EMAIL in wanted:
        keys.update(f"email:{e}" for e in item.emails)
    if BlockingPass.IDENTIFIER in wanted:
        keys.update(f"identifier:{k}:{v}" for k, v in item.identifiers)
    if BlockingPass.IDENTIFIER_NEAR in wanted:
        for kind, value in item.identifiers:
            keys.update(f"identifier_near:{kind}:{near}" for near in _near_values(value))
    if BlockingPass.EMAIL_LOCAL in wanted:
        for email in item.emails:
            local = email.rpartition("@")[0]
            if len(local) >= _MIN_EMAIL_LOCAL:
                keys.add(f"email_local:{local}")
    initials: set[str] = set()
    born = None if item.birthday is None else _birth_date(item.birthday)
    place = ""
    if any(a.postal_code for a in item.addresses):
        place = "|" + min(f"{a.country}:{a.postal_code}" for a in item.addresses if a.postal_code)
    context = place if born is None else f"|{born[:4]}"
    for form in item.names:
        tokens = form.tokens
        if not tokens:
            continue
        initials.add(_initials(tokens))
        if BlockingPass.NAME in wanted:
            keys.add(f"name:{form.token_text}{context}")
        if BlockingPass.NAME_PART in wanted and len(tokens) > 1:
            for index, token in enumerate(tokens):
                others = tokens[:index] + tokens[index + 1 :]
                keys.add(f"name_part:{token}|{_initials(others)}{context}")
    if BlockingPass.BIRTH in wanted and born is not None:
        keys.update(f"birth:{born}|{i}" for i in initials)
    for address in item.addresses:
        if not address.postal_code:
            continue
        where = f"{address.country}:{address.postal_code}"
        if BlockingPass.POSTAL in wanted:
            keys.update(f"postal:{where}|{i}" for i in initials)
        if BlockingPass.BIRTH_POSTAL in wanted and born is not None:
            keys.add(f"birth_postal:{born}|{where}")
        street = _street_key(address.street)
        if street is None:
            continue
        if BlockingPass.ADDRESS in wanted:
            keys.add(f"address:{where}|{street}")
        if BlockingPass.ADDRESS_SORTED in wanted:
            jumbled = "".join(sorted(address.postal_code))
            keys.add(f"address_sorted:{address.country}:{jumbled}|{street}")
    return tuple(sorted(keys))


def blocking_keys(customer: Customer, *, spec: BlockingSpec = DEFAULT_BLOCKING) -> tuple[str, ...]:
    """The blocking keys of one customer, sorted and each once (a pure function)."""
    return feature_keys(features(customer, region=spec.region), passes=spec.passes)
