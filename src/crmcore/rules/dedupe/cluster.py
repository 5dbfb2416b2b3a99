"""Duplicate groups from matched pairs, never joining a known non-duplicate pair.

Pairs at or above the caller's probability threshold are taken strongest first
(highest total weight, then by ids) and join their customers' groups, as in
single-linkage clustering, except that two groups are never joined when a
stored :class:`NotDuplicate` decision names one customer of each: such a pair is
recorded in the group as kept apart, with the decision that kept it. So a group
never holds a pair someone said is not a duplicate, and each group lists the
pairs that joined it (a spanning tree of its members) and the other matched
pairs inside it.
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
    """

    threshold: float
    groups: tuple[DuplicateGroup, ...]
    kept_apart: tuple[KeptApart, ...] = ()

    def group_of(self, customer_id: str) -> DuplicateGroup | None:
        """The group holding ``customer_id``, if any."""
        for group in self.groups:
            if customer_id in group.members:
                return group
        return None


def check_threshold(threshold: object, subject: str) -> None:
    """Refuse a ``threshold`` that is not a match probability from 0 to 1.

    Raises:
        ValidationError: coded ``dedupe.threshold_invalid`` at ``$.threshold``.
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
                    path="$.threshold",
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
    """Group the pairs whose match probability is at least ``threshold`` (0 to 1)."""
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
    return Clustering(threshold=float(threshold), groups=tuple(groups), kept_apart=tuple(kept))
