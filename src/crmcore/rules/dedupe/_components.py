"""Connected components of customers joined pair by pair (union-find, path halving)."""

from __future__ import annotations

__all__ = ["Components"]


class Components:
    """Ids joined pair by pair into groups; an id never joined is in no group.

    >>> parts = Components()
    >>> parts.join("a", "b"); parts.join("c", "b"); parts.join("x", "y")
    >>> parts.together("a", "c"), parts.together("a", "x"), parts.together("a", "zz")
    (True, False, False)
    >>> sorted(parts.groups())
    [['a', 'b', 'c'], ['x', 'y']]
    """

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def root(self, node: str) -> str:
        """The representative of ``node``'s group (``node`` joins as its own group if new)."""
        parent = self._parent
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def join(self, a: str, b: str) -> None:
        """Put ``a`` and ``b`` (and their groups) in one group."""
        ra, rb = self.root(a), self.root(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)

    def together(self, a: str, b: str) -> bool:
        """Whether ``a`` and ``b`` were both joined and are in one group."""
        return a in self._parent and b in self._parent and self.root(a) == self.root(b)

    def groups(self) -> list[list[str]]:
        """Each group of two or more ids, its ids in joining order."""
        found: dict[str, list[str]] = {}
        for node in list(self._parent):
            found.setdefault(self.root(node), []).append(node)
        return [g for g in found.values() if len(g) > 1]
