"""Merging an import row into the stored customer, and matching rows by natural keys.

Used by the customer import run (:mod:`crmcore.storage._customer_import`) in
``mode="merge"`` and with ``match_on=``.

**Which fields a row had** (its *presence*, a tree of the keys it gave):

* a mapping row: its keys, recursively for nested mappings, and per item for lists;
* a :class:`~crmcore.models.Customer` object: the fields whose value differs from the
  field's default, recursively for nested models and per item for tuples of models.
  Fields whose default is made by a factory (``id``, ``created_at``, ``updated_at``)
  count as absent; ``kind`` and ``display_name``, which have no default, are present.

**Merging** (on the serialised form): present fields overwrite the stored ones, absent
ones stay. Nested objects (``person``, ``organisation``, ``person.name``) merge field by
field. The top-level lists of things with an identity merge by identity: a row item
whose identity a stored item has updates that item (its present fields; the stored
id stays), any other row item is appended, and stored items the row does not mention
stay where they are. Identities: phones by their number (E.164 once normalised),
emails by their normalised address compared case-insensitively, facts by category
and key, identifiers by kind and value (and issuer, when the row gives one), social
handles by platform and handle, addresses by every field but the id, key dates by
label and date. Tags are the union of both. Any other list a row gives replaces the stored one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import attrs

from crmcore.errors import Problem, ValidationError
from crmcore.models import Customer, IdentifierKind
from crmcore.query import In, Query
from crmcore.serialization import from_dict, to_dict

__all__ = [
    "MatchKey",
    "adopt_ids",
    "match_keys",
    "merge_into",
    "presence_of_mapping",
    "presence_of_model",
]

Presence = dict[str, Any]
"""Which keys a row gave: ``True`` for a leaf, a dict for an object, a list per item."""

_BOOKKEEPING = frozenset({"id", "version", "created_at", "updated_at"})


def presence_of_mapping(row: Mapping[str, Any]) -> Presence:
    """The keys a mapping row gave, recursively."""
    return {key: _present_value(value) for key, value in row.items()}


def _present_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return presence_of_mapping(value)
    if isinstance(value, list | tuple):
        return [_present_value(item) for item in value]
    return True


def presence_of_model(instance: Any) -> Presence:
    """The fields of an attrs model that differ from their defaults, recursively."""
    present: Presence = {}
    for field in attrs.fields(type(instance)):
        value = getattr(instance, field.name)
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            if field.name in _BOOKKEEPING or default.factory is not tuple:
                continue
            default = ()
        if default is not attrs.NOTHING and value == default:
            continue
        present[field.name] = _present_model_value(value)
    return present


def _present_model_value(value: Any) -> Any:
    if attrs.has(type(value)):
        return presence_of_model(value)
    if isinstance(value, tuple):
        return [_present_model_value(item) for item in value]
    return True


def _casefolded(item: Mapping[str, Any], key: str) -> str:
    return str(item.get(key, "")).casefold()


def _without_id(item: Mapping[str, Any]) -> str:
    return repr(sorted((k, repr(v)) for k, v in item.items() if k != "id"))


def _keyed(key: Callable[[Mapping[str, Any]], object]) -> Callable[[Any, Any], bool]:
    return lambda new, old: key(new) == key(old)


def _same_identifier(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """Same kind and value; a row identifier without an issuer matches any issuer."""
    if (new.get("kind"), new.get("value")) != (old.get("kind"), old.get("value")):
        return False
    return new.get("issuer") is None or new.get("issuer") == old.get("issuer")


_IDENTITY: dict[str, Callable[[Any, Any], bool]] = {
    "phones": _keyed(lambda item: (item.get("number"), item.get("extension"))),
    "emails": _keyed(lambda item: _casefolded(item, "address")),
    "facts": _keyed(lambda item: (item.get("category"), item.get("key"))),
    "identifiers": _same_identifier,
    "social_handles": _keyed(lambda item: (item.get("platform"), _casefolded(item, "handle"))),
    "addresses": _keyed(_without_id),
    # a day kept by the Chinese calendar recurs on other days than the Gregorian one
    "key_dates": _keyed(
        lambda item: (item.get("label"), item.get("date"), item.get("calendar", "gregorian"))
    ),
}
"""When a row's item is a stored item, by list: ``same(row_item, stored_item)``."""


def _overlay(old: Any, new: Any, present: Any) -> Any:
    """``old`` with the present parts of ``new`` written over it."""
    if isinstance(present, dict) and isinstance(old, dict) and isinstance(new, dict):
        merged = dict(old)
        for key, below in present.items():
            if key == "id" or key not in new:
                continue
            merged[key] = _overlay(old.get(key), new[key], below)
        return merged
    return new


def _merge_items(
    same: Callable[[Any, Any], bool], old: list[Any], new: list[Any], present: Any
) -> list[Any]:
    merged = list(old)
    free = list(range(len(old)))
    for position, item in enumerate(new):
        match = next((index for index in free if same(item, old[index])), None)
        if match is None:
            merged.append(item)
            continue
        free.remove(match)
        below = present[position] if isinstance(present, list) and position < len(present) else True
        if not isinstance(below, dict):
            below = dict.fromkeys(item, True)
        merged[match] = _overlay(old[match], item, below)
    return merged


def merge_into(old: Customer, new: Customer, present: Presence) -> Customer:
    """The stored customer ``old`` with the fields ``present`` in the row ``new`` merged in.

    Raises :class:`ValidationError` when the merged customer is not a valid customer
    (a row of the other kind, say).
    """
    before: dict[str, Any] = to_dict(old)
    after: dict[str, Any] = to_dict(new)
    merged = dict(before)
    for key, below in present.items():
        if key in _BOOKKEEPING or key not in after:
            continue
        if key == "tags":
            merged[key] = sorted({*before.get(key, ()), *after[key]})
        elif key in _IDENTITY and isinstance(after[key], list):
            merged[key] = _merge_items(_IDENTITY[key], before.get(key) or [], after[key], below)
        else:
            merged[key] = _overlay(before.get(key), after[key], below)
    result: Customer = from_dict(merged, Customer)
    return result


@attrs.frozen(kw_only=True)
class MatchKey:
    """A natural key an import matches stored customers by (``match_on=``).

    Attributes:
        on: ``"phone"`` (a phone number, as normalised: E.164), ``"email"`` (an email
            address, as normalised, compared exactly), or ``"identifier"``.
        identifier_kind: For ``"identifier"``: the identifier's kind
            (``membership_card``, ``tax_id``, ...).
        issuer: For ``"identifier"``: the issuer the identifier must have, or ``None``
            for any issuer (the value must still be the same).
    """

    on: str
    identifier_kind: IdentifierKind | None = None
    issuer: str | None = None

    @classmethod
    def parse(cls, spec: str | MatchKey) -> MatchKey:
        """Read a key: ``"phone"``, ``"email"``, ``"identifier:<kind>[:<issuer>]"``.

        Raises :class:`ValidationError` (``import.match_key_invalid``) for anything else.
        """
        if isinstance(spec, MatchKey):
            return spec
        if not isinstance(spec, str):
            raise _bad_key(spec)
        head, _, rest = spec.partition(":")
        if head in ("phone", "email") and not rest:
            return cls(on=head)
        if head == "identifier" and rest:
            kind, _, issuer = rest.partition(":")
            if kind in IdentifierKind.__members__.values():
                return cls(
                    on="identifier", identifier_kind=IdentifierKind(kind), issuer=issuer or None
                )
        raise _bad_key(spec)

    @property
    def path(self) -> str:
        """The query path of the key's values."""
        return {"phone": "phones.number", "email": "emails.address"}.get(
            self.on, "identifiers.value"
        )

    def values(self, customer: Customer) -> set[str]:
        """The key's values on ``customer``."""
        if self.on == "phone":
            return {phone.number for phone in customer.phones}
        if self.on == "email":
            return {email.address for email in customer.emails}
        return {
            identifier.value
            for identifier in customer.identifiers
            if identifier.kind is self.identifier_kind
            and (self.issuer is None or identifier.issuer == self.issuer)
        }

    def __str__(self) -> str:
        if self.on != "identifier":
            return self.on
        assert self.identifier_kind is not None
        issuer = f":{self.issuer}" if self.issuer is not None else ""
        return f"identifier:{self.identifier_kind.value}{issuer}"


def _bad_key(spec: object) -> ValidationError:
    return ValidationError(
        [
            Problem(
                code="import.match_key_invalid",
                path="$.match_on",
                message=f"{spec!r} is not a match key: use 'phone', 'email', "
                "'identifier:<kind>' or 'identifier:<kind>:<issuer>'",
            )
        ],
        subject="import",
    )


def match_keys(specs: Sequence[str | MatchKey] | str | None) -> tuple[MatchKey, ...]:
    """The parsed ``match_on`` argument (a single string is one key)."""
    if specs is None:
        return ()
    if isinstance(specs, str | MatchKey):
        specs = (specs,)
    return tuple(MatchKey.parse(spec) for spec in specs)


def stored_matches(
    lookup: Callable[[Query], Sequence[Customer]], key: MatchKey, rows: Sequence[Customer]
) -> dict[str, set[str]]:
    """Stored customer ids by key value, for the values ``rows`` have: one query."""
    wanted = sorted({value for row in rows for value in key.values(row)})
    found: dict[str, set[str]] = {}
    if not wanted:
        return found
    for stored in lookup(Query(where=In(path=key.path, values=tuple(wanted)))):
        for value in key.values(stored):
            found.setdefault(value, set()).add(stored.id)
    return found


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


_ITEM = TypeVar("_ITEM", bound=_Identified)
_ITEM_LISTS = ("phones", "emails", "addresses", "social_handles", "facts")


def _adopt(stored: tuple[_ITEM, ...], incoming: tuple[_ITEM, ...]) -> tuple[_ITEM, ...] | None:
    """Give incoming items that equal a stored item apart from their id the stored id."""
    stored_ids = {item.id for item in stored}
    incoming_ids = {item.id for item in incoming}
    free = [item for item in stored if item.id not in incoming_ids]
    adopted: list[_ITEM] = []
    changed = False
    for item in incoming:
        if item.id not in stored_ids:
            for candidate in free:
                if attrs.evolve(item, id=candidate.id) == candidate:  # type: ignore[misc]
                    item = candidate
                    free.remove(candidate)
                    changed = True
                    break
        adopted.append(item)
    return tuple(adopted) if changed else None


def adopt_ids(old: Customer, new: Customer) -> Customer:
    """Keep the stored ids of contact points, facts and contact persons an import repeats.

    Imported data rarely carries the ids crmcore gave its contact points, so each import
    would otherwise mint new ones and every re-import of the same data would look like a
    change. A contact point (fact, contact person) equal to a stored one in everything
    but its id *is* that one, and keeps its id.
    """
    changes: dict[str, Any] = {}
    for name in _ITEM_LISTS:
        adopted = _adopt(getattr(old, name), getattr(new, name))
        if adopted is not None:
            changes[name] = adopted
    if old.organisation is not None and new.organisation is not None:
        persons = _adopt(old.organisation.contact_persons, new.organisation.contact_persons)
        if persons is not None:
            changes["organisation"] = attrs.evolve(new.organisation, contact_persons=persons)
    return attrs.evolve(new, **changes) if changes else new
