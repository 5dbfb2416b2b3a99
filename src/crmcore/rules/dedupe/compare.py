"""Per-field comparison levels of two customers, with rapidfuzz for the fuzzy ones.

Each compared field gives a *level*: ``0`` is "different", higher levels agree
more, and :data:`NULL` (``-1``) means one side has no value, which is no evidence
either way (weight 0, as in splink). The levels of every field, in the order of
:attr:`ComparisonSpec.fields`, are the pair's *comparison vector*; the
Fellegi-Sunter model (:mod:`.model`) is fit from these vectors alone.

=============  ==================================================================
field          levels (0 is always "different")
=============  ==================================================================
``name``       1 one part the same: below ``name_low``, but the family or the
               given name of one side (as written or swapped) the same as, or
               one typo apart from, a part of the other (``raquel lodge`` and
               ``raquel garnett``: a part replaced); 2 Jaro-Winkler >=
               ``name_low``; 3 >= ``name_high``; 4 one typo a part: >=
               ``name_low`` and family and given name (as written or swapped)
               each the same or one typo apart (:func:`_part_typo`); 5 same
               romanisation (traditional and simplified Han, pinyin and Han,
               homophones, swapped romanised parts); 6 family and given swapped;
               7 exact (also when only the split between family and given name
               differs: 欧阳 + 娜娜 and 欧 + 阳娜娜). The best over every name
               form of either side. A person's name without a family or a
               given name reaches 3 ("close") at most.
``birthday``   1 one digit off (``YYYYMMDD`` Levenshtein distance 1); 2 day and
               month swapped; 3 exact.
``phone``      1 the same last 8 digits; 2 one E.164 number in common.
``email``      1 the same local part (before ``@``); 2 at most two edits apart
               (Levenshtein, a typo); 3 one address in common.
``identifier`` 0 a different value of the same kind; 1 one typo apart (one
               character changed, added, dropped, or two neighbours swapped;
               values of at least 5 characters); 2 the same kind and value.
               Null when the two have no kind of identifier in common.
``address``    1 the same postal code; 2 street Jaro-Winkler >= ``street_low``;
               3 house number typo: >= ``street_high`` under the same postal
               code, the street lines one typo apart in the number (``139``
               and ``319``, ``297`` and ``97``; a neighbour's house too, so a
               level of its own); 4 >= ``street_high`` with the same house
               numbers (or none on one side, or one typo apart that is not a
               digit for a digit under the same postal code: ``183`` and
               ``w83``) and no postal codes that differ; 5 street and postal
               code the same. Street lines are compared without their spaces
               for the numbers and for "the same" (``南京路1 98`` is ``南京路 198``).
``gender``     1 the same.
=============  ==================================================================

Jaro-Winkler (rapidfuzz) is taken on the romanised name words both as written and
sorted, whichever is higher, so a swapped and misspelt name still scores.
Comparisons are symmetric: ``compare(a, b)`` has the levels of ``compare(b, a)``.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import NamedTuple

import attrs
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from crmcore._fastpaths import fast_paths_enabled
from crmcore.errors import Problem, WrongType
from crmcore.models.checks import checks, unique
from crmcore.rules.dedupe._features import Address, Features, NameForm
from crmcore.rules.verification import Spec

__all__ = [
    "LEVEL_LABELS",
    "NULL",
    "ComparedField",
    "ComparisonSpec",
    "FieldComparison",
    "compare",
    "compare_levels",
    "level_counts",
    "level_vectors",
]

NULL = -1
"""The level of a field one side has no value for."""


class ComparedField(enum.StrEnum):
    """A field two customers are compared on."""

    NAME = "name"
    BIRTHDAY = "birthday"
    PHONE = "phone"
    EMAIL = "email"
    IDENTIFIER = "identifier"
    ADDRESS = "address"
    GENDER = "gender"


LEVEL_LABELS: Mapping[ComparedField, tuple[str, ...]] = {
    ComparedField.NAME: (
        "different", "one part the same", "similar", "close", "one typo a part",
        "same romanisation", "swapped", "exact",
    ),
    ComparedField.BIRTHDAY: ("different", "one digit off", "day and month swapped", "exact"),
    ComparedField.PHONE: ("different", "same last 8 digits", "exact"),
    ComparedField.EMAIL: ("different", "same local part", "at most two edits", "exact"),
    ComparedField.IDENTIFIER: ("different", "one typo", "exact"),
    ComparedField.ADDRESS: (
        "different", "same postal code", "street similar", "house number typo", "street close",
        "exact",
    ),
    ComparedField.GENDER: ("different", "same"),
}  # fmt: skip
"""Each field's level labels, by level (index 0 is "different")."""


def _share(value: Decimal, path: str) -> Iterable[Problem]:
    if not Decimal(0) < value <= 1:
        yield Problem(
            code="dedupe.threshold_invalid", path=path, message="must be above 0 and at most 1"
        )


@attrs.frozen(kw_only=True)
class ComparisonSpec(Spec):
    """Which fields are compared, and the similarity thresholds of the fuzzy levels.

    Attributes:
        fields: The compared fields, in vector order; each at most once.
        name_high: Jaro-Winkler similarity from which names are "close".
        name_low: Similarity from which names are "similar".
        street_high: Similarity from which street lines are "close".
        street_low: Similarity from which street lines are "similar".
    """

    TAG = "dedupe_comparison"
    kind: str = "dedupe_comparison"
    fields: tuple[ComparedField, ...] = attrs.field(
        default=tuple(ComparedField), metadata=checks(unique())
    )
    name_high: Decimal = Decimal("0.92")
    name_low: Decimal = Decimal("0.80")
    street_high: Decimal = Decimal("0.92")
    street_low: Decimal = Decimal("0.80")

    def _spec_invariants(self) -> Iterable[Problem]:
        if not self.fields:
            yield Problem(
                code="dedupe.fields_empty", path="$.fields", message="compare at least one field"
            )
        for name in ("name_high", "name_low", "street_high", "street_low"):
            yield from _share(getattr(self, name), f"$.{name}")
        for low, high in (("name_low", "name_high"), ("street_low", "street_high")):
            if getattr(self, low) > getattr(self, high):
                yield Problem(
                    code="dedupe.threshold_invalid",
                    path=f"$.{low}",
                    message=f"cannot be above {high}",
                )


@attrs.frozen(kw_only=True)
class FieldComparison:
    """One field's comparison: the level, its label and the values that met.

    Attributes:
        field: The field compared.
        level: The level (:data:`NULL` when a side has no value).
        label: The level's label (``"null"`` for :data:`NULL`).
        left: The left customer's value that decided the level (``None`` if none).
        right: The right customer's value.
    """

    field: ComparedField
    level: int
    label: str
    left: str | None
    right: str | None


_Outcome = tuple[int, str | None, str | None]


def _best(outcomes: Iterable[_Outcome]) -> _Outcome:
    """The highest level; among equal levels the smallest pair of values (deterministic)."""
    best: _Outcome | None = None
    for outcome in outcomes:
        if (
            best is None
            or outcome[0] > best[0]
            or (
                outcome[0] == best[0]
                and (outcome[1] or "", outcome[2] or "") < (best[1] or "", best[2] or "")
            )
        ):
            best = outcome
    return best if best is not None else (NULL, None, None)


class _Limits(NamedTuple):
    """A spec's similarity thresholds as floats that compare exactly as its decimals do."""

    name_high: float
    name_low: float
    street_high: float
    street_low: float


_Thresholds = ComparisonSpec | _Limits
"""What the fuzzy levels read their thresholds from: the spec (the reference) or its floats."""


def _at_least(threshold: Decimal) -> float:
    """The smallest float not below ``threshold``.

    For any float ``x``, ``x >= _at_least(t)`` exactly when ``x >= t``.

    A float compared with a ``Decimal`` is compared exactly, but slowly (a Decimal
    conversion each time); this float gives the same answer at float speed.

    >>> _at_least(Decimal("0.92")) == 0.92, _at_least(Decimal("0.5"))
    (True, 0.5)
    """
    value = float(threshold)
    if Decimal(value) < threshold:
        value = math.nextafter(value, math.inf)
    return value


_last_limits: tuple[ComparisonSpec, _Limits] | None = None


def _limits(spec: ComparisonSpec) -> _Limits:
    """``spec``'s thresholds as :func:`_at_least` floats (the last spec's kept)."""
    global _last_limits
    last = _last_limits
    if last is not None and last[0] is spec:
        return last[1]
    limits = _Limits(
        _at_least(spec.name_high),
        _at_least(spec.name_low),
        _at_least(spec.street_high),
        _at_least(spec.street_low),
    )
    _last_limits = (spec, limits)
    return limits


def _jaro_winkler(a: str, b: str) -> float:
    return max(JaroWinkler.similarity(a, b), JaroWinkler.similarity(b, a))


def _name_level(a: NameForm, b: NameForm, spec: _Thresholds) -> int:
    if (a.family == b.family and a.given == b.given) or a.joined == b.joined:
        return 7
    if a.given and b.given and a.family == b.given and a.given == b.family:
        return 6
    if a.tokens == b.tokens:
        return 5
    similarity = max(_jaro_winkler(a.written, b.written), _jaro_winkler(a.token_text, b.token_text))
    if similarity < spec.name_low:
        return 1 if _one_part(a, b) else 0
    if a.given and b.given and _typo_parts(a, b):
        return 4
    return 3 if similarity >= spec.name_high else 2


def _one_part(a: NameForm, b: NameForm) -> bool:
    """Whether a family or given name of ``a`` is a part of ``b`` (the same or one typo apart).

    Either part against either part, so a copy whose other part was replaced, or
    whose parts were swapped as well, still shows what it kept.
    """
    x_parts = ((a.roman_family, a.latin_family), (a.roman_given, a.latin_given))
    y_parts = ((b.roman_family, b.latin_family), (b.roman_given, b.latin_given))
    return any(
        x and y and _part_typo(x, x_latin, y, y_latin)
        for x, x_latin in x_parts
        for y, y_latin in y_parts
    )


def _typo_parts(a: NameForm, b: NameForm) -> bool:
    """Whether family and given name, as written or swapped, are each one typo apart at most."""
    return (
        _part_typo(a.roman_family, a.latin_family, b.roman_family, b.latin_family)
        and _part_typo(a.roman_given, a.latin_given, b.roman_given, b.latin_given)
    ) or (
        _part_typo(a.roman_family, a.latin_family, b.roman_given, b.latin_given)
        and _part_typo(a.roman_given, a.latin_given, b.roman_family, b.latin_family)
    )


_MIN_TYPO_NAME = 4


def _part_typo(x: str, x_latin: bool, y: str, y_latin: bool) -> bool:
    """Whether two romanised name parts are the same or one typo apart.

    One typo: one character changed, added, dropped, or two neighbours swapped
    (optimal string alignment distance 1), the longer part at least
    ``_MIN_TYPO_NAME`` characters, and at least one side written in Latin letters:
    two Han names one letter apart in pinyin (``weiming``, ``weimin``) are other
    characters, not a typo.
    """
    if x == y:
        return True
    if not (x_latin or y_latin) or abs(len(x) - len(y)) > 1:
        return False
    return max(len(x), len(y)) >= _MIN_TYPO_NAME and OSA.distance(x, y, score_cutoff=1) <= 1


_CLOSE = 3


def _partial(form: NameForm) -> bool:
    return not (form.family and form.given)


def _names(a: Features, b: Features, spec: ComparisonSpec) -> _Outcome:
    # A person's name with the family or the given name missing agrees on one part
    # at most: "close", never "swapped" or "exact" (a lone "emily" is no full name).
    person = a.kind == "person" and b.kind == "person"
    return _best(
        (
            min(level, _CLOSE) if person and (_partial(x) or _partial(y)) else level,
            x.display,
            y.display,
        )
        for x in a.names
        for y in b.names
        for level in (_name_level(x, y, spec),)
    )


def _birthdays(a: Features, b: Features, spec: ComparisonSpec) -> _Outcome:
    if a.birthday is None or b.birthday is None:
        return (NULL, None, None)
    x, y = a.birthday, b.birthday
    shown = (x.isoformat(), y.isoformat())
    if x == y:
        return (3, *shown)
    if x.year == y.year and x.month == y.day and x.day == y.month:
        return (2, *shown)
    if Levenshtein.distance(_digits(x), _digits(y)) <= 1:
        return (1, *shown)
    return (0, *shown)


def _digits(day: dt.date) -> str:
    """``YYYYMMDD`` (the year always four digits)."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _last8(phone: str) -> str:
    return phone[-8:]


def _phones(a: Features, b: Features, spec: ComparisonSpec) -> _Outcome:
    if not a.phones or not b.phones:
        return (NULL, None, None)
    common = sorted(a.phones & b.phones)
    if common:
        return (2, common[0], common[0])
    return _best(
        (1 if _last8(x) == _last8(y) and len(x) >= 8 else 0, x, y)
        for x in sorted(a.phones)
        for y in sorted(b.phones)
    )


def _emails(a: Features, b: Features, spec: ComparisonSpec) -> _Outcome:
    if not a.emails or not b.emails:
        return (NULL, None, None)
    common = sorted(a.emails & b.emails)
    if common:
        return (3, common[0], common[0])
    return _best((_email_level(x, y), x, y) for x in sorted(a.emails) for y in sorted(b.emails))


def _email_level(x: str, y: str) -> int:
    if Levenshtein.distance(x, y, score_cutoff=2) <= 2:
        return 2
    return 1 if x.rpartition("@")[0] == y.rpartition("@")[0] else 0


def _identifiers(a: Features, b: Features, spec: ComparisonSpec) -> _Outcome:
    kinds = {k for k, _ in a.identifiers} & {k for k, _ in b.identifiers}
    if not kinds:
        return (NULL, None, None)
    return _best(
        (_identifier_level(x, y), f"{kx}:{x}", f"{ky}:{y}")
        for kx, x in sorted(a.identifiers)
        for ky, y in sorted(b.identifiers)
        if kx == ky and kx in kinds
    )


_MIN_TYPO_IDENTIFIER = 5


def _identifier_level(x: str, y: str) -> int:
    if x == y:
        return 2
    if min(len(x), len(y)) >= _MIN_TYPO_IDENTIFIER and OSA.distance(x, y, score_cutoff=1) <= 1:
        return 1
    return 0


_NUMBER = re.compile(r"\d+")


def _numbers_agree(a: str, b: str) -> bool:
    """Whether two street lines have the same numbers (house, building), or one has none."""
    x, y = _NUMBER.findall(a), _NUMBER.findall(b)
    return not x or not y or x == y


def _typo(a: str, b: str) -> bool:
    """Whether two street lines are one edit apart and the edit is not a digit for a digit.

    ``Hauptstrasse 183`` and ``Hauptstrasse w83`` (a letter typed for a digit) or
    ``Hauptstrasse 2s63`` are one typo apart; ``12`` and ``13``, or ``12`` and ``112``,
    are other house numbers.
    """
    if Levenshtein.distance(a, b, score_cutoff=1) != 1:
        return False
    (edit,) = Levenshtein.editops(a, b)
    i, j = edit.src_pos, edit.dest_pos
    op = edit.tag
    touched = (a[i],) if op == "delete" else (b[j],) if op == "insert" else (a[i], b[j])
    return not all(c.isdigit() for c in touched)


def _address_level(x: Address, y: Address, spec: _Thresholds) -> int:
    same_code = bool(x.postal_code) and x.postal_code == y.postal_code and x.country == y.country
    if x.street and y.street:
        # spaces are layout, not place: "Nanjing Road 1 98" is "Nanjing Road 198"
        a, b = x.squeezed, y.squeezed
        if a == b and (same_code or not (x.postal_code or y.postal_code)):
            return 5
        similarity = _jaro_winkler(x.street, y.street)
        # "Nanjing Road 12" and "Nanjing Road 13" are close as strings, not as
        # places: street lines with other house numbers, or postal codes that
        # differ, are below "close"; under the same postal code, house numbers
        # one typo apart (139 and 319, 297 and 97) are a level of their own
        differ = bool(x.postal_code and y.postal_code) and not same_code
        agree = _numbers_agree(a, b) or (same_code and _typo(a, b))
        if similarity >= spec.street_high:
            if not differ and agree:
                return 4
            if same_code and OSA.distance(a, b, score_cutoff=1) <= 1:
                return 3
        if similarity >= spec.street_low:
            return 2
    return 1 if same_code else 0


def _shown(address: Address) -> str:
    return " ".join(p for p in (address.postal_code, address.city, address.street) if p)


def _addresses(a: Features, b: Features, spec: ComparisonSpec) -> _Outcome:
    return _best(
        (_address_level(x, y, spec), _shown(x), _shown(y)) for x in a.addresses for y in b.addresses
    )


def _genders(a: Features, b: Features, spec: ComparisonSpec) -> _Outcome:
    if a.gender is None or b.gender is None:
        return (NULL, None, None)
    return (1 if a.gender == b.gender else 0, a.gender, b.gender)


_COMPARATORS: Mapping[ComparedField, Callable[[Features, Features, ComparisonSpec], _Outcome]] = {
    ComparedField.NAME: _names,
    ComparedField.BIRTHDAY: _birthdays,
    ComparedField.PHONE: _phones,
    ComparedField.EMAIL: _emails,
    ComparedField.IDENTIFIER: _identifiers,
    ComparedField.ADDRESS: _addresses,
    ComparedField.GENDER: _genders,
}

DEFAULT_COMPARISON = ComparisonSpec()


def compare(
    left: Features, right: Features, *, spec: ComparisonSpec = DEFAULT_COMPARISON
) -> tuple[FieldComparison, ...]:
    """Compare two customers' features field by field, in the order of ``spec.fields``.

    Raises:
        WrongType: ``left`` or ``right`` is not :class:`Features` (pass
            ``features(customer)``, not the customer).
    """
    for side in (left, right):
        if not isinstance(side, Features):
            raise WrongType(
                f"expected Features, got {type(side).__name__}: pass features(customer)"
            )
    result = []
    for field in spec.fields:
        level, left_value, right_value = _COMPARATORS[field](left, right, spec)
        label = "null" if level == NULL else LEVEL_LABELS[field][level]
        result.append(
            FieldComparison(
                field=field, level=level, label=label, left=left_value, right=right_value
            )
        )
    return tuple(result)


def compare_levels(
    left: Features, right: Features, *, spec: ComparisonSpec = DEFAULT_COMPARISON
) -> tuple[int, ...]:
    """The comparison vector of two customers: each field's level, in ``spec.fields`` order.

    The levels of :func:`compare` (its reference); with fast paths on (the default)
    they come from level-only comparators that skip the values an explanation
    shows (``tests/unit/dedupe/test_lazy_scoring.py`` proves them equal).
    """
    if fast_paths_enabled():
        limits = _limits(spec)
        return tuple([_LEVELS[f](left, right, limits) for f in spec.fields])
    return tuple(_COMPARATORS[f](left, right, spec)[0] for f in spec.fields)


def level_vectors(
    items: Mapping[str, Features],
    pairs: Iterable[tuple[str, str]],
    *,
    spec: ComparisonSpec = DEFAULT_COMPARISON,
) -> list[tuple[int, ...]]:
    """The comparison vector of each ``(left, right)`` pair of ids, in order.

    ``[compare_levels(items[l], items[r], spec=spec) for l, r in pairs]``; with fast
    paths on, the comparators and thresholds are looked up once for the batch and
    equal vectors are one shared tuple.
    """
    if not fast_paths_enabled():
        return [compare_levels(items[left], items[right], spec=spec) for left, right in pairs]
    limits = _limits(spec)
    comparators = [_LEVELS[f] for f in spec.fields]
    shared: dict[tuple[int, ...], tuple[int, ...]] = {}
    vectors = []
    for left, right in pairs:
        a, b = items[left], items[right]
        vector = tuple([level(a, b, limits) for level in comparators])
        vectors.append(shared.setdefault(vector, vector))
    return vectors


# Level-only comparators: the level of each ``_COMPARATORS`` entry without the values
# that decided it (the best level is the highest; the tie-break only picks values).


def _names_level(a: Features, b: Features, spec: _Thresholds) -> int:
    person = a.kind == "person" and b.kind == "person"
    best = NULL
    for x in a.names:
        for y in b.names:
            level = _name_level(x, y, spec)
            if level > _CLOSE and person and (_partial(x) or _partial(y)):
                level = _CLOSE
            if level > best:
                best = level
    return best


def _birthdays_level(a: Features, b: Features, spec: _Thresholds) -> int:
    x, y = a.birthday, b.birthday
    if x is None or y is None:
        return NULL
    if x == y:
        return 3
    if x.year == y.year and x.month == y.day and x.day == y.month:
        return 2
    return 1 if Levenshtein.distance(_digits(x), _digits(y), score_cutoff=1) <= 1 else 0


def _phones_level(a: Features, b: Features, spec: _Thresholds) -> int:
    if not a.phones or not b.phones:
        return NULL
    if not a.phones.isdisjoint(b.phones):
        return 2
    ends = {_last8(x) for x in a.phones if len(x) >= 8}
    return 1 if any(_last8(y) in ends for y in b.phones) else 0


def _emails_level(a: Features, b: Features, spec: _Thresholds) -> int:
    if not a.emails or not b.emails:
        return NULL
    if not a.emails.isdisjoint(b.emails):
        return 3
    return max(_email_level(x, y) for x in a.emails for y in b.emails)


def _identifiers_level(a: Features, b: Features, spec: _Thresholds) -> int:
    if not a.identifiers or not b.identifiers:
        return NULL
    if not a.identifiers.isdisjoint(b.identifiers):
        return 2
    best = NULL
    for kx, x in a.identifiers:
        for ky, y in b.identifiers:
            if kx == ky:
                best = max(best, _identifier_level(x, y))
    return best


def _addresses_level(a: Features, b: Features, spec: _Thresholds) -> int:
    best = NULL
    for x in a.addresses:
        for y in b.addresses:
            level = _address_level(x, y, spec)
            if level > best:
                best = level
    return best


def _genders_level(a: Features, b: Features, spec: _Thresholds) -> int:
    if a.gender is None or b.gender is None:
        return NULL
    return 1 if a.gender == b.gender else 0


_LEVELS: Mapping[ComparedField, Callable[[Features, Features, _Thresholds], int]] = {
    ComparedField.NAME: _names_level,
    ComparedField.BIRTHDAY: _birthdays_level,
    ComparedField.PHONE: _phones_level,
    ComparedField.EMAIL: _emails_level,
    ComparedField.IDENTIFIER: _identifiers_level,
    ComparedField.ADDRESS: _addresses_level,
    ComparedField.GENDER: _genders_level,
}


def level_counts(spec: ComparisonSpec) -> Sequence[int]:
    """How many levels (``0`` up) each compared field has, in ``spec.fields`` order."""
    return [len(LEVEL_LABELS[f]) for f in spec.fields]
