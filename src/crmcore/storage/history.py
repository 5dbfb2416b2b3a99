"""Change history of customers: what a write changed, and every earlier version.

A :class:`~crmcore.models.ChangeRecord` holds what :func:`history_changes` returns for
its write; :func:`customer_versions` rebuilds every version of a customer from the
stored one (or its removal) by undoing the recorded updates, newest first.

>>> from crmcore.models import Customer
>>> old = Customer.person_named(family="张", given="伟")
>>> new = Customer.person_named(family="张", given="薇", id=old.id)
>>> [(c.path, c.old, c.new) for c in diff_customers(old, new)]
[('$.display_name', '"张伟"', '"张薇"'), ('$.person.name.given', '"伟"', '"薇"')]
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from typing import Any

import attrs

from crmcore.models import ChangeOperation, ChangeRecord, Customer, FieldChange
from crmcore.serialization import to_dict

__all__ = ["customer_lives", "customer_versions", "diff_customers", "history_changes"]

_BOOKKEEPING = frozenset({"$.version", "$.created_at", "$.updated_at"})


def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{path}.{key}", out)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            _flatten(item, f"{path}[{index}]", out)
    else:
        out[path] = value


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_CUSTOMER_FIELDS = tuple(
    f.name for f in attrs.fields(Customer) if f"$.{f.name}" not in _BOOKKEEPING
)


def diff_customers(old: Customer | None, new: Customer | None) -> tuple[FieldChange, ...]:
    """Return the changed leaf values between two versions of a customer, ordered by path.

    Paths are JSONPath-like into the serialised form (:func:`crmcore.serialization.to_dict`),
    one per leaf value: ``$.display_name``, ``$.person.name.family``,
    ``$.phones[0].number``; an empty list or object is itself a leaf (``[]``, ``{}``).
    ``old`` and ``new`` are JSON text, ``None`` where the path does not exist on that
    side. ``version``, ``created_at`` and ``updated_at`` are bookkeeping and not
    diffed. Tuples are compared by position.
    """
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name in _CUSTOMER_FIELDS:
        a = getattr(old, name) if old is not None else _ABSENT
        b = getattr(new, name) if new is not None else _ABSENT
        if a is b or a == b:
            continue
        if a is not _ABSENT:
            _flatten(to_dict(a), f"$.{name}", before)
        if b is not _ABSENT:
            _flatten(to_dict(b), f"$.{name}", after)
    changes = []
    for path in sorted(before.keys() | after.keys()):
        a_text = _json(before[path]) if path in before else None
        b_text = _json(after[path]) if path in after else None
        if a_text != b_text:
            changes.append(FieldChange(path=path, old=a_text, new=b_text))
    return tuple(changes)


_ABSENT: Any = object()


def same_apart_from_bookkeeping(new: Customer, old: Customer) -> bool:
    """Whether ``new`` equals ``old`` apart from ``version``, ``created_at`` and ``updated_at``.

    Such a write changes nothing a history record would hold: the store does not make it.
    """
    return (
        attrs.evolve(new, version=old.version, created_at=old.created_at, updated_at=old.updated_at)
        == old
    )


def history_changes(old: Customer | None, new: Customer | None) -> tuple[FieldChange, ...]:
    """Return the changes a :class:`ChangeRecord` holds for one write.

    * An update holds :func:`diff_customers`: one change per changed leaf, with the
      old and the new value.
    * A removal holds one change at ``$`` whose ``old`` is the whole customer as JSON
      (without ``version``, ``created_at`` and ``updated_at``), so nothing is lost.
    * A creation holds no changes: the values it created are those of version 1, which
      :func:`customer_versions` rebuilds from the current customer (or the removal)
      by undoing the recorded updates. Keeping creations small keeps bulk imports fast.
    """
    if new is None and old is not None:
        return (FieldChange(path="$", old=_json(_serialised(old)), new=None),)
    if old is None:
        return ()
    return diff_customers(old, new)


def _serialised(customer: Customer) -> dict[str, Any]:
    data: dict[str, Any] = to_dict(customer)
    for key in ("version", "created_at", "updated_at"):
        data.pop(key, None)
    return data


_PATH_TOKEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _tokens(path: str) -> list[str | int]:
    if not path.startswith("$"):
        raise ValueError(f"not a history path: {path!r}")
    tokens: list[str | int] = []
    position = 1
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if match is None:
            raise ValueError(f"not a history path: {path!r}")
        tokens.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    return tokens


def _token_key(path: str) -> list[tuple[bool, str, int]]:
    return [(True, "", t) if isinstance(t, int) else (False, t, 0) for t in _tokens(path)]


def _delete(root: Any, tokens: list[str | int]) -> None:
    """Delete the value at ``tokens``, then every container the deletion left empty."""
    chain: list[tuple[Any, str | int]] = []
    node = root
    for token in tokens:
        chain.append((node, token))
        try:
            node = node[token]
        except (KeyError, IndexError, TypeError):
            return
    for container, token in reversed(chain):
        if isinstance(container, dict):
            container.pop(token, None)
        elif isinstance(container, list) and isinstance(token, int) and token < len(container):
            del container[token]
        if container or container is root:
            return


def _set(root: Any, tokens: list[str | int], value: Any) -> None:
    node = root
    for token, following in itertools.pairwise(tokens):
        fresh: Any = [] if isinstance(following, int) else {}
        if isinstance(node, list):
            assert isinstance(token, int)
            while len(node) <= token:
                node.append(None)
            if not isinstance(node[token], list | dict):
                node[token] = fresh
        elif not isinstance(node.get(token), list | dict):
            node[token] = fresh
        node = node[token]
    last = tokens[-1]
    if isinstance(node, list):
        assert isinstance(last, int)
        while len(node) <= last:
            node.append(None)
    node[last] = value


def _undo(state: dict[str, Any], changes: tuple[FieldChange, ...]) -> dict[str, Any]:
    """Return the state before ``changes`` were applied to ``state``."""
    before: dict[str, Any] = json.loads(_json(state))
    removed = [c for c in changes if c.old is None]
    # deepest and highest indexes first, so deleting list elements keeps others in place
    for change in sorted(removed, key=lambda c: _token_key(c.path), reverse=True):
        _delete(before, _tokens(change.path))
    restored = [c for c in changes if c.old is not None]
    for change in sorted(restored, key=lambda c: _token_key(c.path)):
        _set(before, _tokens(change.path), json.loads(change.old or "null"))
    return before


def customer_versions(
    current: Customer | None, history: Sequence[ChangeRecord]
) -> dict[int, dict[str, Any]]:
    """Rebuild every version of a customer's latest life from its history.

    Returns the serialised form (:func:`crmcore.serialization.to_dict`, without
    ``version``, ``created_at`` and ``updated_at``) of each version, by version number.
    ``current`` is the stored customer, or ``None`` when it was removed (the removal's
    record holds its last state). Undoing each update's old values, newest first, gives
    the earlier versions down to version 1, the values it was created with.

    An id that was removed and then created again has several lives, each numbered
    from version 1; this is the latest one: the stored customer's, or, when
    ``current`` is ``None``, the life its last removal ended. :func:`customer_lives`
    gives every life.
    """
    lives = customer_lives(current, history)
    return lives[-1] if lives else {}


def customer_lives(
    current: Customer | None, history: Sequence[ChangeRecord]
) -> tuple[dict[int, dict[str, Any]], ...]:
    """Rebuild every life of a customer id, oldest first, each as :func:`customer_versions`.

    A life runs from a creation to the removal that ends it (or to ``current``, the
    stored customer, for the last life when the id is stored). ``history`` is the
    id's history as a repository returns it, oldest first (by ``at``, then
    ``version``, then the order it was written in); records are assigned to lives in
    that order, so lives are told apart even when every record has the same ``at``.
    """
    lives: list[list[ChangeRecord]] = []
    open_lives: list[list[ChangeRecord]] = []
    for change in sorted(history, key=lambda c: (c.at, c.version)):
        if change.operation is ChangeOperation.CREATED or not open_lives:
            life: list[ChangeRecord] = []
            lives.append(life)
            open_lives.append(life)
        else:
            life = next(
                (o for o in open_lives if o[-1].version == change.version - 1), open_lives[0]
            )
        life.append(change)
        if change.operation is ChangeOperation.REMOVED:
            open_lives.remove(life)
    last_open = bool(lives) and lives[-1] in open_lives
    if current is not None and not last_open:
        lives.append([])  # a life whose records were not kept (history turned off)
    rebuilt = [
        _rebuild(current if index == len(lives) - 1 else None, records)
        for index, records in enumerate(lives)
    ]
    return tuple(versions for versions in rebuilt if versions)


_ENDS = frozenset({ChangeOperation.REMOVED, ChangeOperation.MERGED})
_DIFFS = frozenset({ChangeOperation.UPDATED, ChangeOperation.MERGED, ChangeOperation.UNMERGED})
_STARTS = frozenset({ChangeOperation.CREATED, ChangeOperation.UNMERGED})


def _rebuild(current: Customer | None, records: list[ChangeRecord]) -> dict[int, dict[str, Any]]:
    """Every version of one life, from its last state (``current`` or its removal) back."""
    ordered = sorted(records, key=lambda c: c.version)
    versions: dict[int, dict[str, Any]] = {}
    state: dict[str, Any] | None = None
    if current is not None:
        state = _serialised(current)
        versions[current.version] = state
    for change in reversed(ordered):
        whole = next((c for c in change.changes if c.path == "$"), None)
        if change.operation in _ENDS and whole is not None:
            # a removal, or a merge that removed this customer: its last state
            if whole.old is not None:
                state = json.loads(whole.old)
                versions[change.version - 1] = state
        elif change.operation in _DIFFS and whole is None and state is not None:
            versions.setdefault(change.version, state)
            state = _undo(state, change.changes)
            versions[change.version - 1] = state
        elif change.operation in _STARTS and state is not None:
            # a creation, or an undone merge restoring this customer as it was
            versions.setdefault(change.version, state)
    return dict(sorted(versions.items()))
