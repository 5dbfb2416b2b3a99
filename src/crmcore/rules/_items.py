"""The one check of the lists of models a rule takes: each item its model, or a coded error.

A rule given a list that holds a ``dict`` (plain data not yet read with
:func:`crmcore.serialization.from_dict`) or another model (a ``Customer`` where
purchases belong) would otherwise fail deep inside with a bare ``AttributeError``.
:func:`item_types` declares, on the rule, which of its arguments hold which model;
each call then checks them with :func:`require_items` before the rule's own loop
sees an item, and raises one :class:`~crmcore.errors.ValidationError` with a
``type.invalid`` problem for every wrong item, at its index (``$.purchases[3]``).

The check stays out of the rules' loops: a list or tuple is checked at once, from
the set of its items' types (one C-level pass, no Python code per item); any other
iterable (a generator, a store's streamed read) is checked as it is read, in chunks
of :data:`CHUNK` items each checked the same way, so memory stays flat.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, islice
from typing import Any, TypeVar, cast

from crmcore.errors import Problem, ValidationError

__all__ = ["CHUNK", "DECLARED", "item_types", "require_items"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

CHUNK = 1024
"""How many items of a streamed argument are read and checked at a time."""

DECLARED: dict[Callable[..., Any], dict[str, type]] = {}
"""Every rule :func:`item_types` checks (as it is called), with its arguments' models."""


def _all_of(items: list[Any] | tuple[Any, ...], cls: type) -> bool:
    kinds = set(map(type, items))
    return kinds == {cls} or all(issubclass(kind, cls) for kind in kinds)


def _problem(item: object, cls: type, path: str) -> Problem:
    hint = ""
    if isinstance(item, Mapping):
        hint = "; read plain data with crmcore.serialization.from_dict first"
    return Problem(
        code="type.invalid",
        path=path,
        message=f"expected a {cls.__name__}, got {type(item).__name__}{hint}",
    )


def _wrong(items: Iterable[Any], cls: type, name: str, start: int) -> list[Problem]:
    return [
        _problem(item, cls, f"$.{name}[{index}]")
        for index, item in enumerate(items, start)
        if not isinstance(item, cls)
    ]


def _checked(iterator: Iterator[Any], cls: type, name: str, rule: str) -> Iterator[list[Any]]:
    start = 0
    while chunk := list(islice(iterator, CHUNK)):
        if not _all_of(chunk, cls):
            # every wrong item: this chunk's and the rest's (the rule stops here)
            problems = _wrong(chunk, cls, name, start)
            problems += _wrong(iterator, cls, name, start + len(chunk))
            raise ValidationError(problems, subject=rule)
        yield chunk
        start += len(chunk)


def require_items(items: Iterable[T], cls: type[T], name: str, rule: str) -> Iterable[T]:
    """``items`` to iterate once, every item a ``cls``; else a :class:`ValidationError`.

    A list, a tuple or another sequence is checked now and returned as it is. Any
    other iterable is
    returned as an iterator that checks each chunk as it is read; a wrong item
    raises there, with every wrong item of the rest of the stream. Something that is
    not a collection of items (``None``, a single model, a string, a mapping) is
    ``type.invalid`` at ``$.<name>``.

    Args:
        items: What the caller gave.
        cls: The model every item must be (or subclass).
        name: The argument's name, for the problems' paths.
        rule: The rule's name, the error's subject.
    """
    if type(items) is list or type(items) is tuple:
        if not _all_of(items, cls):
            raise ValidationError(_wrong(items, cls, name, 0), subject=rule)
        return items
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Iterable):
        problem = Problem(
            code="type.invalid",
            path=f"$.{name}",
            message=f"expected an iterable of {cls.__name__}, got {type(items).__name__}",
        )
        raise ValidationError([problem], subject=rule)
    if isinstance(items, Sequence):  # stays a sequence: the rule may index it
        if not _all_of(tuple(items), cls):
            raise ValidationError(_wrong(items, cls, name, 0), subject=rule)
        return items
    return chain.from_iterable(_checked(iter(items), cls, name, rule))


def item_types(**models: type) -> Callable[[F], F]:
    """Declare which arguments of a rule hold which model; each call checks them.

    ``@item_types(purchases=Purchase)`` above ``def summarise_purchases(purchases,
    *, as_of)`` runs :func:`require_items` on ``purchases``, however it is passed, and
    leaves an argument left at its default alone.
    """

    def declare(rule: F) -> F:
        parameters = list(inspect.signature(rule).parameters.values())
        checked = [
            (name, cls, next(i for i, p in enumerate(parameters) if p.name == name))
            for name, cls in models.items()
        ]
        for name, _, index in checked:
            if parameters[index].kind not in (
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                inspect.Parameter.KEYWORD_ONLY,
            ):  # pragma: no cover - a declaration error, caught on import
                raise TypeError(f"{rule.__name__}: {name} is not a named argument")
        title = rule.__name__

        @functools.wraps(rule)
        def checking(*args: Any, **kwargs: Any) -> Any:
            given = list(args)
            for name, cls, index in checked:
                if index < len(given):
                    given[index] = require_items(given[index], cls, name, title)
                elif name in kwargs:
                    kwargs[name] = require_items(kwargs[name], cls, name, title)
            return rule(*given, **kwargs)

        DECLARED[checking] = dict(models)
        return cast(F, checking)

    return declare
