"""Rules given a list holding the wrong item raise a coded error at the item's index."""

from __future__ import annotations

import datetime as dt
import inspect
import re
import typing
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import attrs
import pytest

from crmcore.errors import ValidationError
from crmcore.models import Customer, Money, Purchase
from crmcore.rules import segmentation, signals
from crmcore.rules import verification as verification_rules
from crmcore.rules._items import CHUNK, DECLARED, require_items
from crmcore.rules.segmentation import RfmSpec, rfm, summarise_purchases
from crmcore.rules.signals import upcoming_dates

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
CUSTOMER = Customer.person_named(id="c1", family="李", given="伟")
PURCHASE = Purchase(
    customer_id="c1",
    product="tea",
    purchased_at=NOW - dt.timedelta(days=3),
    amount=Money(amount=Decimal("10"), currency="CNY"),
)


def _rules() -> list[tuple[str, Callable[..., Any]]]:
    found: list[tuple[str, Callable[..., Any]]] = []
    for module in (segmentation, signals, verification_rules):
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isfunction(value):
                found.append((f"{module.__name__}.{name}", value))
    return found


def _model_lists(rule: Callable[..., Any]) -> dict[str, type]:
    """The arguments of ``rule`` annotated as an iterable of attrs models."""
    hints = typing.get_type_hints(inspect.unwrap(rule))
    found = {}
    for name, hint in hints.items():
        if name == "return" or typing.get_origin(hint) is None:
            continue
        origin = getattr(typing.get_origin(hint), "__name__", "")
        (inner, *_) = typing.get_args(hint) or (None,)
        if origin in ("Iterable", "Iterator", "Sequence") and attrs.has(inner):
            found[name] = inner
    return found


def test_every_rule_taking_a_list_of_models_checks_its_items() -> None:
    """Each public rule with an Iterable[Model] argument declares it with item_types."""
    missing = {
        title: models
        for title, rule in _rules()
        if (models := _model_lists(rule)) and DECLARED.get(rule) != models
    }
    assert missing == {}


def _call(rule: Callable[..., Any], name: str, value: object) -> None:
    """Call ``rule`` with ``value`` as argument ``name``, ``[]`` for its other lists, else None."""
    parameters = inspect.signature(rule).parameters.values()
    lists = DECLARED[rule]
    args: list[object] = []
    kwargs: dict[str, object] = {}
    for p in parameters:
        given = value if p.name == name else [] if p.name in lists else None
        if p.kind is p.POSITIONAL_OR_KEYWORD:
            args.append(given)
        elif p.name == name or p.default is p.empty:
            kwargs[p.name] = given
    rule(*args, **kwargs)


_DECLARED = sorted(
    (
        (rule.__name__, name, cls, rule)
        for rule, models in DECLARED.items()
        for name, cls in models.items()
    ),
    key=lambda row: (row[0], row[1]),
)


@pytest.mark.parametrize(
    ("title", "name", "cls", "rule"), _DECLARED, ids=[f"{r[0]}-{r[1]}" for r in _DECLARED]
)
def test_a_wrong_item_is_type_invalid_at_its_index(
    title: str, name: str, cls: type, rule: Callable[..., Any]
) -> None:
    """A dict and another model among the items: one problem each, at its index."""
    good = {Customer: CUSTOMER, Purchase: PURCHASE}.get(cls)
    wrong = PURCHASE if cls is Customer else CUSTOMER
    items = [good, {"id": "x"}, wrong] if good is not None else [{"id": "x"}, wrong]
    first = 1 if good is not None else 0
    with pytest.raises(ValidationError) as caught:
        _call(rule, name, items)
    problems = caught.value.problems
    assert [(p.code, p.path) for p in problems] == [
        ("type.invalid", f"$.{name}[{first}]"),
        ("type.invalid", f"$.{name}[{first + 1}]"),
    ]
    assert f"expected a {cls.__name__}, got dict" in problems[0].message
    assert "from_dict" in problems[0].message
    assert caught.value.subject == title


def test_a_streamed_argument_reports_every_wrong_item_of_the_stream() -> None:
    """A generator is checked as it is read: the wrong items of every chunk are reported."""

    def stream() -> Iterator[object]:
        for index in range(3 * CHUNK):
            yield CUSTOMER if index in (5, CHUNK + 7, 3 * CHUNK - 1) else PURCHASE

    with pytest.raises(ValidationError) as caught:
        summarise_purchases(stream(), as_of=NOW)  # type: ignore[arg-type]
    assert [p.path for p in caught.value.problems] == [
        "$.purchases[5]",
        f"$.purchases[{CHUNK + 7}]",
        f"$.purchases[{3 * CHUNK - 1}]",
    ]


@pytest.mark.parametrize("value", [None, CUSTOMER, "c1", {"c1": CUSTOMER}, 7])
def test_something_that_is_no_list_of_items_is_type_invalid_at_the_argument(value: object) -> None:
    """A single customer, a string, a mapping or None in place of the list: one problem."""
    with pytest.raises(ValidationError) as caught:
        upcoming_dates(value, now=NOW)  # type: ignore[arg-type]
    [problem] = caught.value.problems
    assert (problem.code, problem.path) == ("type.invalid", "$.customers")
    assert "expected an iterable of Customer" in problem.message


def test_right_items_give_the_same_answer_in_a_list_and_a_stream() -> None:
    """The check changes no result: a list, a tuple and a generator answer alike."""
    purchases = [
        attrs.evolve(
            PURCHASE, id=f"p{i}", customer_id=f"c{i % 7}", purchased_at=NOW - dt.timedelta(days=i)
        )
        for i in range(2 * CHUNK + 3)
    ]
    expected = summarise_purchases(purchases, as_of=NOW)
    assert summarise_purchases(tuple(purchases), as_of=NOW) == expected
    assert summarise_purchases((p for p in purchases), as_of=NOW) == expected
    assert rfm(RfmSpec(), iter(expected)) == rfm(RfmSpec(), expected)


def test_a_list_is_returned_as_it_is_and_a_subclass_passes() -> None:
    """require_items hands a list back unchanged; an item of a subclass is its model."""

    class Special(Purchase):
        pass

    items = [
        PURCHASE,
        Special(**{f.name: getattr(PURCHASE, f.name) for f in attrs.fields(Purchase)}),
    ]
    assert require_items(items, Purchase, "purchases", "rule") is items


def test_the_documented_subject_names_the_rule() -> None:
    """The error's message starts with the rule's name and counts the problems."""
    with pytest.raises(ValidationError, match=re.escape("roster: 1 problem")):
        segmentation.roster([PURCHASE])  # type: ignore[list-item]


def test_a_sequence_argument_stays_a_sequence() -> None:
    """A sequence other than a list or tuple is checked at once and handed on as it is."""

    class Customers(Sequence[Customer]):
        def __init__(self, *items: Customer) -> None:
            self.items = items

        def __len__(self) -> int:
            return len(self.items)

        def __getitem__(self, index: Any) -> Any:
            return self.items[index]

    given = Customers(CUSTOMER)
    assert require_items(given, Customer, "ours", "rule") is given
    with pytest.raises(ValidationError) as caught:
        require_items(Customers(CUSTOMER, PURCHASE), Customer, "ours", "rule")  # type: ignore[arg-type]
    assert [p.path for p in caught.value.problems] == ["$.ours[1]"]
