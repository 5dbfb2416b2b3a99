"""The merge plan (a dry run): which value of every field survives and why.

:func:`plan_merge` takes two or more customers found to be one and a
:class:`SurvivorshipPolicy`, and returns the merged customer with a
:class:`FieldDecision` for every single-valued field and the lineage of every
contact point. Nothing is written: the store applies a plan atomically later,
re-pointing the merged-away customers' interactions, complaints and purchases
(:attr:`MergePlan.merged_ids` to :attr:`MergePlan.survivor_id`).

Single-valued fields (:data:`MERGE_FIELDS`) take one customer's value, chosen
among the customers that have one (an empty value never wins) by the field's
rule, else the policy's rule; ties go to the survivor, then the older record:

``most_recently_verified``
    the customer whose provenance was verified last (a verified record before an
    unverified one, then the later ``updated_at``); the organisation's credit
    standing by its own ``credit_provenance``;
``most_trusted_source``
    the customer whose provenance has the highest trust score
    (:func:`crmcore.rules.verification.assess_trust`), then as above;
``most_complete``
    the customer with the most fields, contact points, identifiers and facts;
``survivor``
    the survivor's value when it has one.

A :class:`FieldRule` can also name the customer whose value a field takes
(``from_customer``), and ``plan_merge(choose=...)`` takes a Python function per
field for a rule that is not data. ``display_name`` follows the customer whose
name survived, ``person.birthday_calendar`` the customer whose birthday survived.
Everything that holds many values is unioned without repeats:
tags, identifiers, phones (by E.164), emails (case folded), addresses, social
handles, facts, key dates, family members, contact persons; contact persons of
one name are one, each of their single-valued fields (role, title, department,
birthday with its calendar, notes, provenance) taking the first copy's value that is
not empty, with a :class:`FieldDecision` (path
``organisation.contact_persons[<kept id>].<field>``) for each field some copy has;
a repeated contact point keeps the first copy (the survivor's first) with the
opt-outs and consents of every copy, verified if any copy was, and its dropped ids are listed
in :attr:`MergePlan.contact_point_ids`. Notes are joined. Nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from crmcore.errors import Problem, ValidationError, WrongType
from crmcore.models import (
    Calendar,
    ContactPerson,
    ContactPoint,
    Customer,
    DecisionRole,
    Email,
    Model,
    Phone,
    PostalAddress,
    SocialHandle,
)
from crmcore.models.checks import checks, max_length, non_blank, unique
from crmcore.rules.dedupe._features import fold_email, phone_key
from crmcore.rules.dedupe._text import fold
from crmcore.rules.verification import Spec, TrustPolicy, assess_trust

__all__ = [
    "MERGE_FIELDS",
    "FieldDecision",
    "FieldRule",
    "MergePlan",
    "SurvivorChoice",
    "SurvivorRule",
    "SurvivorshipPolicy",
    "plan_merge",
]

MERGE_FIELDS: tuple[str, ...] = (
    "acquired_on", "acquisition_channel", "owner", "lifecycle_stage", "grade", "provenance",
    "person.name", "person.nickname", "person.other_name", "person.gender", "person.birthday",
    "person.birthplace", "person.education", "person.occupation", "person.job_title",
    "person.industry", "person.income_band",
    "organisation.legal_name", "organisation.registration_number",
    "organisation.registered_capital", "organisation.business_scope", "organisation.industry",
    "organisation.size", "organisation.employee_count", "organisation.credit_standing",
    "organisation.founded_on",
)  # fmt: skip
"""The single-valued fields a plan decides, as paths from the customer."""


class SurvivorRule(enum.StrEnum):
    """How the surviving value of a field is chosen (see the module documentation)."""

    MOST_RECENTLY_VERIFIED = "most_recently_verified"
    MOST_TRUSTED_SOURCE = "most_trusted_source"
    MOST_COMPLETE = "most_complete"
    SURVIVOR = "survivor"


class SurvivorChoice(enum.StrEnum):
    """Which customer's id survives the merge."""

    OLDEST = "oldest"
    """The earliest ``created_at`` (then the smallest id): links to it are the oldest."""
    MOST_COMPLETE = "most_complete"
    """The customer with the most data (then the oldest)."""


def _known_field(value: Any) -> Iterable[Problem]:
    if value not in MERGE_FIELDS:
        yield Problem(
            code="dedupe.field_unknown",
            path="$",
            message=f"{value!r} is not a merge field; one of {', '.join(MERGE_FIELDS)}",
        )


@attrs.frozen(kw_only=True)
class FieldRule(Model):
    """The rule of one field: a survivor rule, or the customer whose value it takes.

    Attributes:
        path: A field of :data:`MERGE_FIELDS` (``"person.birthday"``).
        rule: The rule for this field.
        from_customer: Take this customer's value (when it has one) before any rule.
    """

    path: str = attrs.field(metadata=checks(non_blank))
    rule: SurvivorRule = SurvivorRule.MOST_RECENTLY_VERIFIED
    from_customer: str | None = attrs.field(default=None, metadata=checks(max_length(64)))

    def _invariants(self) -> Iterable[Problem]:
        for problem in _known_field(self.path):
            yield problem.under("$.path")


@attrs.frozen(kw_only=True)
class SurvivorshipPolicy(Spec):
    """How a merge chooses the surviving id and each field's value.

    Attributes:
        rule: The rule of every field without a :class:`FieldRule`.
        fields: Per-field rules, each field at most once.
        survivor: Which id survives (unless ``plan_merge(survivor_id=...)``).
        trust: The trust policy of ``most_trusted_source``.
    """

    TAG = "dedupe_survivorship"
    kind: str = "dedupe_survivorship"
    rule: SurvivorRule = SurvivorRule.MOST_RECENTLY_VERIFIED
    fields: tuple[FieldRule, ...] = attrs.field(
        default=(), metadata=checks(unique(lambda r: r.path))
    )
    survivor: SurvivorChoice = SurvivorChoice.OLDEST
    trust: TrustPolicy = attrs.field(factory=TrustPolicy)


@attrs.frozen(kw_only=True)
class FieldDecision:
    """Which customer's value of one field survives, and why.

    Attributes:
        path: The field.
        source_id: The customer the value comes from (``None`` when no one has one).
        value: The surviving value as text (``None`` when empty).
        rule: The rule that decided (``most_recently_verified``, ``from_customer``,
            ``only_value``, ``same_value``, ``caller``, ``follows_name``, ``none``; for a
            contact person's field also ``first_copy``, the first copy in survivor
            order when copies differ, and ``any_copy`` for ``key_person``).
        reason: The decision in one sentence.
        candidates: ``(customer_id, value as text)`` of every customer with a value.
    """

    path: str
    source_id: str | None
    value: str | None
    rule: str
    reason: str
    candidates: tuple[tuple[str, str], ...] = ()


@attrs.frozen(kw_only=True)
class MergePlan:
    """A dry run of a merge.

    Attributes:
        survivor_id: The id the merged customer keeps.
        merged_ids: The ids merged away; their records are re-pointed to the survivor
            and the ids stay resolvable to it.
        customer: The merged customer, as it would be stored.
        fields: One decision per single-valued field of the customers' kind, then one
            per field of each merged contact person that some copy has.
        contact_point_ids: ``(dropped id, kept id)`` for each repeated contact point,
            contact person, fact or other unioned item, so references can follow.
        unions: For each unioned field, ``(field, items before, items after)``.
        versions: ``(customer id, version)`` of every customer as planned, survivor
            first: applying the plan refuses (a conflict) when one was changed since.
    """

    survivor_id: str
    merged_ids: tuple[str, ...]
    customer: Customer
    fields: tuple[FieldDecision, ...]
    contact_point_ids: tuple[tuple[str, str], ...] = ()
    unions: tuple[tuple[str, int, int], ...] = ()
    versions: tuple[tuple[str, int], ...] = ()


_Chooser = Callable[[Sequence[tuple[Customer, Any]]], str]
T = TypeVar("T")


def _refuse(code: str, path: str, message: str) -> ValidationError:
    return ValidationError([Problem(code=code, path=path, message=message)], subject="merge")


def _get(customer: Customer, path: str) -> Any:
    value: Any = customer
    for part in path.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def _empty(path: str, value: Any) -> bool:
    if value is None or value == "" or value == ():
        return True
    return path == "organisation.credit_standing" and value.value == "unknown"


def _text(value: Any) -> str:
    if hasattr(value, "display") and isinstance(value.display, str):
        return str(value.display)
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "amount") and hasattr(value, "currency"):
        return f"{value.amount} {value.currency}"
    if hasattr(value, "channel") and hasattr(value, "observed_at"):
        verified = f", verified {value.verified_at.isoformat()}" if value.verified_at else ""
        return f"{value.channel.value}, observed {value.observed_at.isoformat()}{verified}"
    return str(value)


_EPOCH = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


def _recency(customer: Customer, path: str) -> tuple[bool, dt.datetime, dt.datetime]:
    provenance = customer.provenance
    if path == "organisation.credit_standing" and customer.organisation is not None:
        provenance = customer.organisation.credit_provenance or provenance
    verified = provenance.verified_at if provenance is not None else None
    return (verified is not None, verified or _EPOCH, customer.updated_at)


def _completeness(customer: Customer) -> int:
    filled = sum(not _empty(p, _get(customer, p)) for p in MERGE_FIELDS)
    return (
        filled
        + len(customer.contact_points)
        + len(customer.identifiers)
        + len(customer.facts)
        + len(customer.tags)
    )


def _older(customer: Customer) -> tuple[dt.datetime, str]:
    return (customer.created_at, customer.id)


def _decide(
    path: str,
    order: Sequence[Customer],
    policy: SurvivorshipPolicy,
    choose: Mapping[str, _Chooser],
) -> FieldDecision:
    having = [(c, v) for c in order if not _empty(path, v := _get(c, path))]
    candidates = tuple((c.id, _text(v)) for c, v in having)
    if not having:
        return FieldDecision(
            path=path, source_id=None, value=None, rule="none", reason="no customer has a value"
        )
    field_rule = next((r for r in policy.fields if r.path == path), None)
    if path in choose:
        chosen_id = choose[path](having)
        picked = next(((c, v) for c, v in having if c.id == chosen_id), None)
        if picked is None:
            raise _refuse(
                "dedupe.choice_invalid",
                f"$.choose[{path!r}]",
                f"chose {chosen_id!r}, which has no value for {path}",
            )
        return _decision(path, picked, candidates, "caller", "chosen by the caller's rule")
    if len(having) == 1:
        return _decision(path, having[0], candidates, "only_value", "the only customer with one")
    if all(v == having[0][1] for _, v in having):
        return _decision(path, having[0], candidates, "same_value", "every value is the same")
    if field_rule is not None and field_rule.from_customer is not None:
        for item in having:
            if item[0].id == field_rule.from_customer:
                return _decision(
                    path, item, candidates, "from_customer", "the field rule names this customer"
                )
    rule = field_rule.rule if field_rule is not None else policy.rule
    rank = {c.id: i for i, c in enumerate(order)}
    if rule is SurvivorRule.SURVIVOR:
        best = having[0]
        reason = "the survivor's value" if best[0] is order[0] else "the survivor has none"
    elif rule is SurvivorRule.MOST_TRUSTED_SOURCE:
        scores = {
            c.id: assess_trust(c.provenance, policy=policy.trust).score if c.provenance else -1
            for c, _ in having
        }
        best = max(
            having, key=lambda cv: (scores[cv[0].id], _recency(cv[0], path), -rank[cv[0].id])
        )
        reason = f"its source has the highest trust score ({scores[best[0].id]})"
    elif rule is SurvivorRule.MOST_COMPLETE:
        sizes = {c.id: _completeness(c) for c, _ in having}
        best = max(having, key=lambda cv: (sizes[cv[0].id], _recency(cv[0], path), -rank[cv[0].id]))
        reason = f"the most complete record ({sizes[best[0].id]} values)"
    else:
        best = max(having, key=lambda cv: (_recency(cv[0], path), -rank[cv[0].id]))
        verified, at, updated = _recency(best[0], path)
        reason = (
            f"verified most recently ({at.isoformat()})"
            if verified
            else f"no value is verified; updated most recently ({updated.isoformat()})"
        )
    return _decision(path, best, candidates, rule.value, reason)


def _decision(
    path: str,
    picked: tuple[Customer, Any],
    candidates: tuple[tuple[str, str], ...],
    rule: str,
    reason: str,
) -> FieldDecision:
    return FieldDecision(
        path=path,
        source_id=picked[0].id,
        value=_text(picked[1]),
        rule=rule,
        reason=reason,
        candidates=candidates,
    )


class _Ids:
    """Keeps the ids of unioned items unique, deterministically, and records lineage."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.moved: list[tuple[str, str]] = []

    def fresh(self, item_id: str, owner: str) -> str:
        if item_id not in self.used:
            self.used.add(item_id)
            return item_id
        digest = hashlib.sha256(f"{owner}\x00{item_id}".encode()).hexdigest()[:12]
        new = f"{item_id[:48]}-{digest}"
        self.used.add(new)
        self.moved.append((item_id, new))
        return new


_P = TypeVar("_P", bound=ContactPoint)


def _point_key(point: ContactPoint) -> tuple[str, ...]:
    if isinstance(point, Phone):
        return (
            "phone",
            phone_key(point.number, point.region) or point.number,
            point.extension or "",
        )
    if isinstance(point, Email):
        return ("email", fold_email(point.address))
    if isinstance(point, PostalAddress):
        return (
            "address", fold(point.country), fold(point.postal_code or ""),
            fold(" ".join(point.street_lines)), fold(point.city or ""), fold(point.region or ""),
            fold(point.district or ""), fold(point.recipient or ""),
        )  # fmt: skip
    assert isinstance(point, SocialHandle)
    return ("social", point.platform.casefold(), point.handle.strip().casefold())


def _union_points(groups: Sequence[tuple[str, Sequence[_P]]], ids: _Ids) -> tuple[_P, ...]:
    kept: dict[tuple[str, ...], _P] = {}
    primary_seen = False
    for owner, points in groups:
        for point in points:
            key = _point_key(point)
            if key in kept:
                first = kept[key]
                kept[key] = attrs.evolve(
                    first,
                    verified=first.verified or point.verified,
                    opt_outs=tuple(dict.fromkeys((*first.opt_outs, *point.opt_outs))),
                    consents=tuple(dict.fromkeys((*first.consents, *point.consents))),
                )
                ids.moved.append((point.id, first.id))
                continue
            primary = point.primary and not primary_seen
            primary_seen = primary_seen or primary
            kept[key] = attrs.evolve(point, id=ids.fresh(point.id, owner), primary=primary)
    return tuple(kept.values())


def _union(items: Iterable[T], key: Callable[[T], Any]) -> tuple[T, ...]:
    kept: dict[Any, T] = {}
    for item in items:
        kept.setdefault(key(item), item)
    return tuple(kept.values())


_PERSON_FIELDS: tuple[str, ...] = (
    "role", "title", "department", "birthday", "notes", "provenance", "key_person",
)  # fmt: skip
"""The single-valued fields of a contact person a plan decides when copies merge."""


def _person_value(person: ContactPerson, name: str) -> Any:
    """A contact person's value of ``name`` (``None`` when empty); a birthday with its calendar."""
    if name == "birthday":
        return None if person.birthday is None else (person.birthday, person.birthday_calendar)
    value = getattr(person, name)
    if value is None or value == "" or value is False or value is DecisionRole.OTHER:
        return None
    return value


def _person_text(value: Any) -> str:
    if isinstance(value, tuple):  # a birthday and its calendar
        day, calendar = value
        return (
            day.isoformat() if calendar is Calendar.GREGORIAN else f"{day.isoformat()} ({calendar})"
        )
    return _text(value)


def _decide_person(
    kept_id: str, copies: Sequence[tuple[str, ContactPerson]], name: str
) -> tuple[FieldDecision, Any] | None:
    """The surviving value of one field of a contact person's copies, and its decision."""
    having = [(o, v) for o, p in copies if (v := _person_value(p, name)) is not None]
    if not having:
        return None
    candidates = tuple((o, _person_text(v)) for o, v in having)
    owner, value = having[0]
    if name == "key_person":
        rule, reason = "any_copy", "a key person in any copy"
    elif len(having) == 1:
        rule, reason = "only_value", "the only copy with one"
    elif all(v == value for _, v in having):
        rule, reason = "same_value", "every value is the same"
    else:
        rule = "first_copy"
        reason = "first in survivor order; the others' values are in the candidates"
    decision = FieldDecision(
        path=f"organisation.contact_persons[{kept_id}].{name}",
        source_id=owner,
        value=_person_text(value),
        rule=rule,
        reason=reason,
        candidates=candidates,
    )
    return decision, value


def _union_persons(
    order: Sequence[Customer], ids: _Ids, decisions: list[FieldDecision]
) -> tuple[ContactPerson, ...]:
    """Contact persons of one name are one, with every copy's points.

    Each single-valued field takes the first copy's value (survivor order) that is not
    empty, so a copy missing a title takes another copy's; when copies differ, the
    first one's stays and ``decisions`` gets a :class:`FieldDecision` with every copy's
    value among its candidates. A birthday travels with its calendar.
    """
    groups: dict[str, list[tuple[str, ContactPerson]]] = {}
    for customer in order:
        assert customer.organisation is not None
        for person in customer.organisation.contact_persons:
            groups.setdefault(fold(person.name.display), []).append((customer.id, person))
    persons = []
    for copies in groups.values():
        owner, first = copies[0]
        kept_id = ids.fresh(first.id, owner)
        for _, other in copies[1:]:
            ids.moved.append((other.id, kept_id))
        changes: dict[str, Any] = {}
        if len(copies) > 1:
            for name in _PERSON_FIELDS:
                decided = _decide_person(kept_id, copies, name)
                if decided is None:
                    continue
                decisions.append(decided[0])
                if name == "birthday":
                    changes["birthday"], changes["birthday_calendar"] = decided[1]
                else:
                    changes[name] = decided[1]
        persons.append(
            attrs.evolve(
                first,
                **changes,
                id=kept_id,
                phones=_union_points([(o, p.phones) for o, p in copies], ids),
                emails=_union_points([(o, p.emails) for o, p in copies], ids),
            )
        )
    return tuple(persons)


def _set_path(changes: dict[str, dict[str, Any]], path: str, value: Any) -> None:
    head, _, tail = path.partition(".")
    if tail:
        changes.setdefault(head, {})[tail] = value
    else:
        changes.setdefault("", {})[head] = value


def _check(customers: Sequence[Customer], survivor_id: str | None) -> None:
    if len(customers) < 2:
        raise _refuse("dedupe.merge_too_few", "$", "a merge needs two or more customers")
    seen: set[str] = set()
    for index, customer in enumerate(customers):
        if not isinstance(customer, Customer):
            raise _refuse("type.invalid", f"$[{index}]", "expected a Customer")
        if customer.id in seen:
            raise _refuse("dedupe.duplicate_id", f"$[{index}].id", f"{customer.id!r} given twice")
        seen.add(customer.id)
    if len({c.kind for c in customers}) > 1:
        raise _refuse("dedupe.kind_mixed", "$", "a person and an organisation cannot be merged")
    if survivor_id is not None and survivor_id not in seen:
        raise _refuse("dedupe.survivor_unknown", "$.survivor_id", f"{survivor_id!r} is not merged")


def plan_merge(
    customers: Sequence[Customer],
    *,
    policy: SurvivorshipPolicy | None = None,
    survivor_id: str | None = None,
    choose: Mapping[str, _Chooser] | None = None,
) -> MergePlan:
    """Plan the merge of ``customers`` into one under ``policy`` (module docs).

    ``choose`` maps a field path to a function given ``(customer, value)`` for
    each customer with a value, returning the id whose value survives.
    """
    policy = policy or SurvivorshipPolicy()
    if not isinstance(policy, SurvivorshipPolicy):
        raise WrongType(f"policy: expected a SurvivorshipPolicy, got {type(policy).__name__}")
    choose = dict(choose or {})
    customers = list(customers)
    _check(customers, survivor_id)
    for path in choose:
        if path not in MERGE_FIELDS:
            raise _refuse("dedupe.field_unknown", f"$.choose[{path!r}]", "not a merge field")
    if survivor_id is None:
        if policy.survivor is SurvivorChoice.MOST_COMPLETE:
            survivor = max(customers, key=lambda c: (_completeness(c), _neg(_older(c))))
        else:
            survivor = min(customers, key=_older)
        survivor_id = survivor.id
    order = sorted(customers, key=lambda c: (c.id != survivor_id, _older(c)))
    survivor = order[0]
    prefix = "person." if survivor.person is not None else "organisation."
    paths = [p for p in MERGE_FIELDS if "." not in p or p.startswith(prefix)]
    decisions = [_decide(path, order, policy, choose) for path in paths]
    changes: dict[str, dict[str, Any]] = {}
    by_id = {c.id: c for c in order}
    for decision in decisions:
        value = (
            None if decision.source_id is None else _get(by_id[decision.source_id], decision.path)
        )
        if decision.path == "lifecycle_stage" and value is None:
            value = survivor.lifecycle_stage
        if decision.path == "organisation.credit_standing" and value is None:
            value = survivor.organisation.credit_standing  # type: ignore[union-attr]
        _set_path(changes, decision.path, value)
        if decision.path == "organisation.credit_standing" and decision.source_id is not None:
            source = by_id[decision.source_id].organisation
            _set_path(changes, "organisation.credit_provenance", source.credit_provenance)  # type: ignore[union-attr]
        if decision.path == "person.birthday" and decision.source_id is not None:
            born = by_id[decision.source_id].person
            _set_path(changes, "person.birthday_calendar", born.birthday_calendar)  # type: ignore[union-attr]
    name_path = "person.name" if survivor.person is not None else "organisation.legal_name"
    name_decision = next(d for d in decisions if d.path == name_path)
    name_source = by_id[name_decision.source_id or survivor.id]
    decisions.append(
        FieldDecision(
            path="display_name",
            source_id=name_source.id,
            value=name_source.display_name,
            rule="follows_name",
            reason=f"the display name of the customer whose {name_path} survived",
            candidates=tuple((c.id, c.display_name) for c in order),
        )
    )
    ids = _Ids()
    unions: list[tuple[str, int, int]] = []

    def points(name: str) -> tuple[Any, ...]:
        groups = [(c.id, getattr(c, name)) for c in order]
        merged = _union_points(groups, ids)
        unions.append((name, sum(len(g) for _, g in groups), len(merged)))
        return merged

    def many(name: str, items: list[Any], key: Callable[[Any], Any]) -> tuple[Any, ...]:
        merged = _union(items, key)
        unions.append((name, len(items), len(merged)))
        return merged

    facts = []
    for customer in order:
        for fact in customer.facts:
            facts.append(attrs.evolve(fact, id=ids.fresh(fact.id, customer.id)))
    top = changes.get("", {})
    top.update(
        display_name=name_source.display_name,
        created_at=min(c.created_at for c in order),
        updated_at=max(c.updated_at for c in order),
        tags=tuple(sorted({t for c in order for t in c.tags})),
        identifiers=many(
            "identifiers",
            [i for c in order for i in c.identifiers],
            lambda i: (i.kind, "".join(fold(i.value).split()), i.issuer),
        ),
        phones=points("phones"),
        emails=points("emails"),
        addresses=points("addresses"),
        social_handles=points("social_handles"),
        facts=many("facts", facts, lambda f: (f.category, fold(f.key), fold(f.value))),
        key_dates=many(  # one day by two calendars is two anniversaries
            "key_dates",
            [k for c in order for k in c.key_dates],
            lambda k: (fold(k.label), k.date, k.calendar),
        ),
        notes="\n\n".join(
            dict.fromkeys(c.notes.strip() for c in order if c.notes and c.notes.strip())
        )
        or None,
    )
    for fact in facts:  # a repeated fact's id follows the kept one
        kept = next(
            f for f in top["facts"] if (f.category, fold(f.key), fold(f.value))
            == (fact.category, fold(fact.key), fold(fact.value))
        )  # fmt: skip
        if kept.id != fact.id:
            ids.moved.append((fact.id, kept.id))
    if survivor.person is not None:
        members = many(
            "family_members",
            [m for c in order if c.person for m in c.person.family_members],
            lambda m: (
                fold(m.relation),
                fold(m.name.display) if m.name else "",
                m.birthday,
                m.birthday_calendar,
            ),
        )
        person = attrs.evolve(survivor.person, **changes.get("person", {}), family_members=members)
        top["person"] = person
    else:
        assert survivor.organisation is not None
        persons = _union_persons(order, ids, decisions)
        before = sum(len(c.organisation.contact_persons) for c in order if c.organisation)
        unions.append(("contact_persons", before, len(persons)))
        top["organisation"] = attrs.evolve(
            survivor.organisation, **changes.get("organisation", {}), contact_persons=persons
        )
    try:
        merged = attrs.evolve(survivor, **top)
    except ValidationError as error:  # pragma: no cover - every piece was valid before
        raise error
    return MergePlan(
        survivor_id=survivor.id,
        merged_ids=tuple(c.id for c in order[1:]),
        customer=merged,
        fields=tuple(decisions),
        contact_point_ids=tuple(ids.moved),
        unions=tuple(unions),
        versions=tuple((c.id, c.version) for c in order),
    )


def _neg(key: tuple[dt.datetime, str]) -> tuple[float, tuple[int, ...]]:
    """A key that sorts the older record last, for ``max`` with ties to the oldest."""
    return (-key[0].timestamp(), tuple(-ord(c) for c in key[1]))
