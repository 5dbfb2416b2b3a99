"""Imports that match: which stored customer a row is (``match_on=``, ``on_duplicate=``).

A row whose id is not stored is first looked up by the import's natural keys
(:func:`match_by_keys`, ``match_on=``); then, for ``on_duplicate=``, by what
``import_customers`` does with a likely duplicate.

When a row's id is not stored and no ``match_on`` key found its customer, the import
asks which stored customers the row probably is
(:func:`crmcore.storage.duplicates.likely_of_normalised`, with the import's fitted
model and threshold, respecting stored "not a duplicate" decisions) and then, by
``on_duplicate``:

* ``"create"`` (the default): no check; the row creates a customer.
* ``"skip"``: a row with a likely duplicate writes nothing; its outcome is
  ``skipped``, its ``id`` the strongest match's, with the warning
  ``import.duplicate_skipped`` naming every match.
* ``"merge"``: the row updates its one likely duplicate (by the import's ``mode``), as a
  row matched by ``match_on`` does; the outcome (``updated`` or ``unchanged``) carries
  the warning ``import.duplicate_merged``. Two or more likely duplicates reject the row
  (``import.duplicate_ambiguous``), never a guess.
* a callable ``choose(row, matches)``: ``row`` is the normalised customer, ``matches``
  the :class:`~crmcore.rules.dedupe.PairExplanation` objects (strongest first, the row
  on the left); it returns ``"create"`` (warning ``import.duplicate_created``),
  ``"skip"`` (as above), or one of ``matches`` to merge the row into that customer
  (warning ``import.duplicate_merged``), or that match's stored id (``match.right``),
  which merges alike. Anything else rejects the row (``import.on_duplicate_invalid``),
  never raises. It is called in this process, in input order.

The check runs when a batch is written, in the importing process, against the
customers stored then: so outcomes are the same with ``workers=1`` and ``workers=N``.
Two new rows of one batch are not compared with each other (a later batch's rows are
compared with the customers earlier batches created).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

import attrs

from crmcore.errors import InvalidArgument, Problem, WrongType
from crmcore.models import Customer
from crmcore.rules.dedupe import MatchModel, PairExplanation
from crmcore.rules.dedupe.cluster import check_threshold
from crmcore.storage._merge import MatchKey, stored_matches
from crmcore.storage.duplicates import likely_of_normalised, standing_decisions

if TYPE_CHECKING:
    from crmcore.storage.ports import Record, Transaction

__all__ = ["DuplicateCheck", "OnDuplicate", "Skipped", "duplicate_check", "match_by_keys"]

DuplicateChoice = Literal["create", "skip"] | PairExplanation
"""What an ``on_duplicate`` callable returns: create, skip, or the match to merge into."""

OnDuplicate = (
    Literal["create", "skip", "merge"]
    | Callable[[Customer, tuple[PairExplanation, ...]], DuplicateChoice]
)
"""What ``import_customers(on_duplicate=...)`` accepts."""

_CHOICES = ("create", "skip", "merge")


@attrs.frozen
class Skipped:
    """A row not written because it is likely a stored customer."""

    id: str
    warning: Problem


def _names(matches: Sequence[PairExplanation]) -> str:
    return ", ".join(f"{m.right} (p={m.probability:.3f})" for m in matches)


def _warning(code: str, message: str) -> Problem:
    return Problem(code=code, path="$", message=message, severity="warning")


@attrs.define
class DuplicateCheck:
    """The ``on_duplicate`` choice of one import, with its model and threshold."""

    choice: OnDuplicate
    model: MatchModel
    threshold: float

    def decide(
        self,
        tx: Transaction,
        rows: Sequence[tuple[int, Customer]],
        existing: dict[str, Record],
        decided: dict[int, Any],
    ) -> dict[int, Problem]:
        """Decide each row whose id is not stored and that no match key decided.

        Adds to ``decided`` (index to the stored id to merge into, a :class:`Problem`
        rejecting the row, or :class:`Skipped`), reads the customers to merge into into
        ``existing``, and returns the warnings to add to the rows' outcomes.
        """
        warnings: dict[int, Problem] = {}
        todo = [(i, c) for i, c in rows if c.id not in existing and i not in decided]
        if not todo:
            return warnings
        decisions = standing_decisions(tx)
        for index, customer in todo:
            matches = likely_of_normalised(tx, customer, self.model, self.threshold, decisions)
            if matches:
                self._one(index, customer, matches, decided, warnings)
        targets = sorted({t for t in decided.values() if isinstance(t, str)} - set(existing))
        if targets:
            existing.update(tx.get_many("customer", targets))
        return warnings

    def _one(
        self,
        index: int,
        customer: Customer,
        matches: tuple[PairExplanation, ...],
        decided: dict[int, Any],
        warnings: dict[int, Problem],
    ) -> None:
        choice: object = self.choice
        if callable(choice):
            answer = choice(customer, matches)
            if isinstance(answer, str) and answer == "create":
                warnings[index] = _warning(
                    "import.duplicate_created",
                    f"likely a stored customer ({_names(matches)}); created as chosen",
                )
                return
            chosen = _chosen(answer, matches)
            if isinstance(chosen, Problem):
                decided[index] = chosen
                return
            choice, matches = ("skip", matches) if chosen is None else ("merge", chosen)
        if choice == "skip":
            decided[index] = Skipped(
                id=matches[0].right,
                warning=_warning(
                    "import.duplicate_skipped",
                    f"likely a stored customer ({_names(matches)}); nothing was written",
                ),
            )
            return
        stored = sorted({m.right for m in matches})
        if len(stored) > 1:
            decided[index] = Problem(
                code="import.duplicate_ambiguous",
                path="$",
                message=f"likely {len(stored)} stored customers ({_names(matches)}); "
                "nothing was written",
            )
            return
        decided[index] = stored[0]
        warnings[index] = _warning(
            "import.duplicate_merged", f"likely the stored customer {_names(matches[:1])}; merged"
        )


def _chosen(
    answer: object, matches: tuple[PairExplanation, ...]
) -> tuple[PairExplanation, ...] | Problem | None:
    """A callable's answer other than ``"create"``: None to skip, the match to merge into.

    The match may be given as one of ``matches`` or as its stored id (``match.right``);
    anything else is the row's problem (``import.on_duplicate_invalid``), never a raised
    error.
    """
    if isinstance(answer, str):
        if answer == "skip":
            return None
        by_id = tuple(m for m in matches if m.right == answer)
        if by_id:
            return by_id[:1]
        why = f"{answer!r} is not the id of one of the matches"
    elif isinstance(answer, PairExplanation):
        if answer in matches:
            return (answer,)
        why = "it returned a pair that is not one of the matches"
    else:
        why = f"not {type(answer).__name__} {answer!r}"
    return Problem(
        code="import.on_duplicate_invalid",
        path="$",
        message='on_duplicate must return "create", "skip", one of the matches or its '
        f"stored id; {why}",
    )


def match_by_keys(
    tx: Transaction,
    keys: Sequence[MatchKey],
    rows: Sequence[tuple[int, Customer]],
    existing: dict[str, Record],
) -> dict[int, Any]:
    """For rows whose id is not stored: the stored id a natural key names, or a problem.

    One query per match key and batch (``Query`` on the key's path, ``In`` its
    values), for the rows still unmatched; a key naming two stored customers is a
    problem (``import.match_ambiguous``), never a guess. Reads the customers named
    into ``existing``.
    """
    decided: dict[int, Any] = {}
    unmatched = [(index, customer) for index, customer in rows if customer.id not in existing]
    for key in keys:
        if not unmatched:
            break
        found = stored_matches(
            lambda query: cast(list[Customer], tx.query("customer", query)),
            key,
            [customer for _, customer in unmatched],
        )
        still: list[tuple[int, Customer]] = []
        for index, customer in unmatched:
            ids = {i for value in key.values(customer) for i in found.get(value, ())}
            if len(ids) > 1:
                decided[index] = Problem(
                    code="import.match_ambiguous",
                    path="$",
                    message=f"{key} matches {len(ids)} stored customers "
                    f"({', '.join(sorted(ids))}); nothing was written",
                )
            elif ids:
                decided[index] = ids.pop()
            else:
                still.append((index, customer))
        unmatched = still
    targets = sorted({t for t in decided.values() if isinstance(t, str)})
    if targets:
        existing.update(tx.get_many("customer", targets))
    return decided


def duplicate_check(
    on_duplicate: object, model: object, threshold: object
) -> DuplicateCheck | None:
    """The import's check, or ``None`` for ``"create"``; refuses bad arguments with codes.

    Raises:
        InvalidArgument: ``on_duplicate`` is none of the choices, or ``"skip"``,
            ``"merge"`` or a callable without a ``duplicate_model``.
        WrongType: ``duplicate_model`` is not a fitted :class:`MatchModel`.
        ValidationError: ``duplicate_threshold`` is not a probability
            (``dedupe.threshold_invalid``).
    """
    if on_duplicate == "create" and not callable(on_duplicate):
        return None
    if not callable(on_duplicate) and on_duplicate not in _CHOICES:
        raise InvalidArgument(
            f'on_duplicate must be "create", "skip", "merge" or a callable, not {on_duplicate!r}'
        )
    if model is None:
        raise InvalidArgument(
            "on_duplicate needs duplicate_model: a fitted MatchModel "
            "(crmcore.rules.dedupe.fit, or the model of a find_duplicates result)"
        )
    if not isinstance(model, MatchModel):
        raise WrongType(
            f"duplicate_model: expected a fitted MatchModel, got {type(model).__name__}"
        )
    check_threshold(threshold, "import_customers", path="$.duplicate_threshold")
    return DuplicateCheck(
        choice=cast(OnDuplicate, on_duplicate), model=model, threshold=float(cast(float, threshold))
    )
