"""Duplicate groups from matched pairs, never joining a known non-duplicate pair.

Pairs at or above the caller's probability threshold are taken strongest first
(highest total weight, then by ids) and join their customers' groups, as in
single-linkage clustering, with two exceptions that keep a group's weakest link
explained:

* two groups are never joined when a stored :class:`NotDuplicate` decision names
  one customer of each: such a pair is recorded in the clustering as kept apart,
  with the decision that kept it;
* two groups are not joined when a scored pair between them says "different"
  more strongly than the joining pair says "same" (its total is below minus the
  joining pair's total): one namesake matched to one copy of a person whose other
  copies plainly differ from it stays out. Such a pair is recorded as
  :class:`Outweighed`, with the pair that outweighed it. Only the pairs given
  count: pass the pairs below the threshold too (or at least those inside the
  groups the matched pairs make, as :meth:`.explain.ExplainedPairs.linked` gives).

So a group never holds a pair someone said is not a duplicate, every pair inside
it has a total of at least minus its strongest joining pair's, and each group
lists the pairs that joined it (a spanning tree of its members) and the other
matched pairs inside it.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from crmcore.errors import Problem, ValidationError
from crmcore.models.decision import NotDuplicate
from crmcore.rules.dedupe.explain import PairExplanation

__all__ = [
    "Clustering",
    "DuplicateGroup",
    "KeptApart",
    "NotDuplicate",
    "Outweighed",
    "check_threshold",
    "cluster",
]


@attrs.frozen(kw_only=True)
class KeptApart:
    """A matched pair that was not allowed to join two groups.

    Attributes:
        pair: The matched pair.
        decision: The non-duplicate decision between the two groups that forbade it.
    """

    pair: PairExplanation
    decision: NotDuplicate


@attrs.frozen(kw_only=True)
class Outweighed:
    """A matched pair that did not join two groups: a pair between them says otherwise.

    Attributes:
        pair: The matched pair.
        against: The scored pair between the two groups with the lowest total, which
            is below minus ``pair``'s total.
    """

    pair: PairExplanation
    against: PairExplanation


@attrs.frozen(kw_only=True)
class DuplicateGroup:
    """Customers found to be one, with the pairs that made them one.

    Attributes:
        members: The customer ids, sorted.
        joined_by: The pairs that joined the group, in the order they did.
        also_matched: Other pairs above the threshold inside the group.
    """

    members: tuple[str, ...]
    joined_by: tuple[PairExplanation, ...]
    also_matched: tuple[PairExplanation, ...] = ()


@attrs.frozen(kw_only=True)
class Clustering:
    """The groups at one threshold, and the pairs kept apart by decisions.

    Attributes:
        threshold: The match probability a pair needed.
        groups: Groups of two or more customers, by their smallest member id.
        kept_apart: Matched pairs refused because of a non-duplicate decision.
        outweighed: Matched pairs refused because a pair between the two groups
            weighs more against than they weigh for.
    """

    threshold: float
    groups: tuple[DuplicateGroup, ...]
    kept_apart: tuple[KeptApart, ...] = ()
    outweighed: tuple[Outweighed, ...] = ()

    def group_of(self, customer_id: str) -> DuplicateGroup | None:
        """The group holding ``customer_id``, if any."""
        for group in self.groups:
            if customer_id in group.members:
                return group
        return None


def check_threshold(threshold: object, subject: str, *, path: str = "$.threshold") -> None:
    """Refuse a ``threshold`` that is not a match probability from 0 to 1.

    ``path`` names the argument as the caller spells it (``$.duplicate_threshold`` for
    ``import_customers``).

    Raises:
        ValidationError: coded ``dedupe.threshold_invalid`` at ``path``.
    """
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not (0.0 <= threshold <= 1.0)
    ):
        raise ValidationError(
            [
                Problem(
                    code="dedupe.threshold_invalid",
                    path=path,
                    message="a match probability from 0 to 1",
                )
            ],
            subject=subject,
        )


def cluster(
    pairs: Iterable[PairExplanation],
    *,
    threshold: float,
    not_duplicates: Iterable[NotDuplicate] = (),
) -> Clustering:
    """Group the pairs whose match probability is at least ``threshold`` (0 to 1).

    Pairs below the threshold join nothing, but one between two groups can keep
    them apart (see the module docs).
    """
    check_threshold(threshold, "cluster")
    pairs = list(pairs)
    decisions = list(not_duplicates)
    for name, items, cls in (
        ("pairs", pairs, PairExplanation),
        ("not_duplicates", decisions, NotDuplicate),
    ):
        for index, item in enumerate(items):
            if not isinstance(item, cls):
                raise ValidationError(
                    [
                        Problem(
                            code="type.invalid",
                            path=f"$.{name}[{index}]",
                            message=f"expected a {cls.__name__}, got {type(item).__name__}",
                        )
                    ],
                    subject="cluster",
                )
    apart: dict[str, dict[str, NotDuplicate]] = {}
    for decision in decisions:
        a, b = decision.pair
        apart.setdefault(a, {})[b] = decision
        apart.setdefault(b, {})[a] = decision
    matched = sorted(
        (p for p in pairs if p.probability >= threshold and p.left != p.right),
        key=lambda p: (-p.total, p.left, p.right),
    )
    # each customer's scored pairs with a negative total: the evidence against a join
    against: dict[str, list[tuple[str, PairExplanation]]] = {}
    for pair in pairs:
        if pair.total < 0 and pair.left != pair.right:
            against.setdefault(pair.left, []).append((pair.right, pair))
            against.setdefault(pair.right, []).append((pair.left, pair))
    parent: dict[str, str] = {}
    members: dict[str, list[str]] = {}

    def root(node: str) -> str:
        if node not in parent:
            parent[node] = node
            members[node] = [node]
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    joined: list[PairExplanation] = []
    inside: list[PairExplanation] = []
    kept: list[KeptApart] = []
    outweighed: list[Outweighed] = []
    for pair in matched:
        ra, rb = root(pair.left), root(pair.right)
        if ra == rb:
            inside.append(pair)
            continue
        small, large = sorted((ra, rb), key=lambda r: len(members[r]))
        other = set(members[large])
        forbidden: NotDuplicate | None = next(
            (d for x in members[small] for y, d in sorted(apart.get(x, {}).items()) if y in other),
            None,
        )
        if forbidden is not None:
            kept.append(KeptApart(pair=pair, decision=forbidden))
            continue
        worst = _strongest_against(members[small], other, against)
        if worst is not None and worst.total < -pair.total:
            outweighed.append(Outweighed(pair=pair, against=worst))
            continue
        parent[small] = large
        members[large].extend(members.pop(small))
        joined.append(pair)
    by_root: dict[str, tuple[list[PairExplanation], list[PairExplanation]]] = {}
    for pair in joined:
        by_root.setdefault(root(pair.left), ([], []))[0].append(pair)
    for pair in inside:
        by_root.setdefault(root(pair.left), ([], []))[1].append(pair)
    groups = sorted(
        (
            DuplicateGroup(
                members=tuple(sorted(members[r])), joined_by=tuple(j), also_matched=tuple(i)
            )
            for r, (j, i) in by_root.items()
        ),
        key=lambda g: g.members[0],
    )
    return Clustering(
        threshold=float(threshold),
        groups=tuple(groups),
        kept_apart=tuple(kept),
        outweighed=tuple(outweighed),
    )


def _strongest_against(
    small: list[str], large: set[str], against: dict[str, list[tuple[str, PairExplanation]]]
) -> PairExplanation | None:
    """The pair with the lowest total between a member of ``small`` and one of ``large``."""
    worst: PairExplanation | None = None
    for member in small:
        for other, pair in against.get(member, ()):
            if other in large and (
                worst is None
                or (pair.total, pair.left, pair.right) < (worst.total, worst.left, worst.right)
            ):
                worst = pair
    return worst
