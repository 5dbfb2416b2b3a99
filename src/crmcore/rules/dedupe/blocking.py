"""Candidate pairs from blocking keys, with capped blocks and a report of what was cut.

Customers sharing a key form a block; every two customers of a block are a
candidate pair, found once however many keys they share, and never a customer
with itself. A block larger than the cap makes no pairs at all (it is listed in
the report with the pairs it would have made): its key says too little, so it
would add many pairs and few matches. With at most ``k`` keys a customer and
blocks of at most ``B`` customers, there are at most ``n * k * (B - 1) / 2``
pairs, a linear bound; below it, a key with few possible values (a postal code, a
year) makes blocks that grow with the customers and pairs with their square, so the
passes' keys are each about one person or household (:mod:`.keys`), and the report
counts each pass's pairs to show one that is not.

The same pairs come out of SQL over an index table ``dedupe_keys(customer_id, key)``::

    SELECT a.customer_id, b.customer_id
    FROM dedupe_keys a JOIN dedupe_keys b
      ON a.key = b.key AND a.customer_id < b.customer_id
    WHERE a.key IN (SELECT key FROM dedupe_keys GROUP BY key HAVING COUNT(*) <= :cap)
    GROUP BY a.customer_id, b.customer_id

>>> found = candidate_pairs([("c1", ["phone:+1"]), ("c2", ["phone:+1", "name:x"]),
...                          ("c3", ["name:x"])], max_block_size=10)
>>> [(p.left, p.right, p.keys) for p in found.pairs]
[('c1', 'c2', ('phone:+1',)), ('c2', 'c3', ('name:x',))]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import combinations, groupby
from operator import itemgetter
from typing import TypeVar

import attrs

from crmcore._fastpaths import fast_paths_enabled
from crmcore.errors import Problem, ValidationError
from crmcore.rules.dedupe.keys import key_pass

__all__ = ["BlockingReport", "CandidatePair", "Candidates", "CutBlock", "PassReport",
           "blocking_report", "candidate_pairs", "tally_blocks"]  # fmt: skip


_K = TypeVar("_K")
_V = TypeVar("_V", int, str)


@attrs.frozen(kw_only=True)
class CandidatePair:
    """Two customers that share at least one blocking key (``left < right``).

    Attributes:
        left: The smaller customer id.
        right: The larger customer id.
        keys: The keys they share, sorted.
    """

    left: str
    right: str
    keys: tuple[str, ...]


@attrs.frozen(kw_only=True)
class CutBlock:
    """A block larger than the cap: it made no pairs.

    Attributes:
        key: The shared key.
        size: How many customers share it.
        pairs: The pairs it would have made.
    """

    key: str
    size: int
    pairs: int


@attrs.frozen(kw_only=True)
class PassReport:
    """What one pass did.

    Attributes:
        name: The pass (``phone``, ``name``, ...).
        blocks: Blocks of two or more customers, cut ones included.
        pairs: Pairs from the kept blocks of this pass (a pair other passes found
            too counts here as well).
        cut_blocks: Blocks over the cap.
        cut_pairs: Pairs the cut blocks would have made.
    """

    name: str
    blocks: int
    pairs: int
    cut_blocks: int
    cut_pairs: int


@attrs.frozen(kw_only=True)
class BlockingReport:
    """What blocking did: keys, pairs, and what the cap cut.

    Attributes:
        customers: Customers blocked.
        keys: Keys over all customers (a key counted once per customer).
        candidate_pairs: Distinct candidate pairs.
        max_block_size: The cap.
        passes: One report per pass, by name.
        cut: The cut blocks, largest first (then by key).
    """

    customers: int
    keys: int
    candidate_pairs: int
    max_block_size: int
    passes: tuple[PassReport, ...]
    cut: tuple[CutBlock, ...]

    @property
    def cut_pairs(self) -> int:
        """The pairs every cut block together would have made."""
        return sum(block.pairs for block in self.cut)


@attrs.frozen(kw_only=True)
class Candidates:
    """Candidate pairs, sorted by ``(left, right)``, and the report of how they were found."""

    pairs: tuple[CandidatePair, ...]
    report: BlockingReport


def candidate_pairs(
    keyed: Iterable[tuple[str, Sequence[str]]], *, max_block_size: int = 100
) -> Candidates:
    """The candidate pairs of customers given as ``(customer_id, keys)``.

    A customer id given twice is refused (``dedupe.duplicate_id``), as is a cap
    below 2 (``dedupe.block_size_invalid``).
    """
    if isinstance(max_block_size, bool) or not isinstance(max_block_size, int):
        raise _refused("type.invalid", "$.max_block_size", "expected an int")
    if max_block_size < 2:
        raise _refused("dedupe.block_size_invalid", "$.max_block_size", "must be at least 2")
    if fast_paths_enabled():
        seen_count, key_count, pairs, stats, cut = _blocks_by_key(keyed, max_block_size)
    else:
        seen_count, key_count, pairs, stats, cut = _blocks_sorted(keyed, max_block_size)
    report = blocking_report(
        customers=seen_count,
        keys=key_count,
        pairs=len(pairs),
        max_block_size=max_block_size,
        stats=stats,
        cut=cut,
    )
    return Candidates(pairs=pairs, report=report)


def blocking_report(
    *,
    customers: int,
    keys: int,
    pairs: int,
    max_block_size: int,
    stats: dict[str, list[int]],
    cut: list[CutBlock],
) -> BlockingReport:
    """The report of a blocking run from its counts (also the SQL storage's).

    ``stats`` holds each pass's ``[blocks, pairs, cut blocks, cut pairs]``
    (:func:`tally_blocks`); the passes come out by name, the cut blocks largest first.
    """
    return BlockingReport(
        customers=customers,
        keys=keys,
        candidate_pairs=pairs,
        max_block_size=max_block_size,
        passes=tuple(
            PassReport(name=name, blocks=s[0], pairs=s[1], cut_blocks=s[2], cut_pairs=s[3])
            for name, s in sorted(stats.items())
        ),
        cut=tuple(sorted(cut, key=lambda b: (-b.size, b.key))),
    )


def tally_blocks(stat: list[int], size: int, blocks: int, cap: int) -> bool:
    """Count ``blocks`` blocks of ``size`` customers into a pass's ``stat``; False over the cap.

    ``stat`` is the pass's ``[blocks, pairs, cut blocks, cut pairs]``.
    """
    would = size * (size - 1) // 2
    stat[0] += blocks
    if size > cap:
        stat[2] += blocks
        stat[3] += blocks * would
        return False
    stat[1] += blocks * would
    return True


_Found = tuple[int, int, tuple[CandidatePair, ...], dict[str, list[int]], list[CutBlock]]
"""Customers, keys, the pairs, per-pass ``[blocks, pairs, cut blocks, cut pairs]``, the cut."""


def _counted(
    key: str, size: int, max_block_size: int, stats: dict[str, list[int]], cut: list[CutBlock]
) -> bool:
    """Count a block of ``size`` (at least 2) in its pass; False when the cap cuts it."""
    if tally_blocks(stats[key_pass(key)], size, 1, max_block_size):
        return True
    cut.append(CutBlock(key=key, size=size, pairs=size * (size - 1) // 2))
    return False


def _blocks_sorted(keyed: Iterable[tuple[str, Sequence[str]]], max_block_size: int) -> _Found:
    """The reference: ``(key, customer)`` entries sorted and grouped by key, as SQL does."""
    # Sorted (key, customer) entries grouped by key, as a database sorts an index:
    # far fewer live containers than a dict of lists, so far less collector work.
    seen: set[str] = set()
    entries: list[tuple[str, str]] = []
    for index, item in enumerate(keyed):
        customer_id, keys = _entry(item, index)
        if customer_id in seen:
            raise _refused("dedupe.duplicate_id", "$", f"customer {customer_id!r} given twice")
        seen.add(customer_id)
        entries.extend((key, customer_id) for key in set(keys))
    key_count = len(entries)
    entries.sort()
    found: list[tuple[str, str, str]] = []
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    cut: list[CutBlock] = []
    for key, block in groupby(entries, key=itemgetter(0)):
        members = [customer_id for _, customer_id in block]
        if len(members) < 2 or not _counted(key, len(members), max_block_size, stats, cut):
            continue
        found.extend((left, right, key) for left, right in combinations(members, 2))
    found.sort()
    pairs = tuple(
        CandidatePair(left=left, right=right, keys=tuple(k for _, _, k in shared))
        for (left, right), shared in groupby(found, key=itemgetter(0, 1))
    )
    return len(seen), key_count, pairs, stats, cut


def _blocks_by_key(keyed: Iterable[tuple[str, Sequence[str]]], max_block_size: int) -> _Found:
    """The fast path of :func:`_blocks_sorted`: blocks as lists of customer ranks.

    Each customer is its rank among the sorted ids, a block the list of its
    members' ranks, and a pair the integer ``left * n + right``: no ``(key, id)``
    tuple per key and no sort of them, one dict entry per pair (its one key, or
    the list of its keys), and pairs sorted as integers are sorted by id. Keys of one
    customer (most of them) hold a plain index, not a list.
    """
    ids: list[str] = []
    seen: set[str] = set()
    # A key of one customer holds its index (an int, which the collector never
    # visits); a list only from the second customer on.
    blocks: dict[str, int | list[int]] = {}
    key_count = 0
    for index, item in enumerate(keyed):
        customer_id, keys = _entry_quick(item, index)
        if customer_id in seen:
            raise _refused("dedupe.duplicate_id", "$", f"customer {customer_id!r} given twice")
        seen.add(customer_id)
        ids.append(customer_id)
        distinct = set(keys)
        key_count += len(distinct)
        for key in distinct:
            _collect(blocks, key, index)
    ordered = sorted(ids)
    count = len(ordered)
    rank = {customer_id: position for position, customer_id in enumerate(ordered)}
    ranks = [rank[customer_id] for customer_id in ids]
    found: dict[int, str | list[str]] = {}
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    cut: list[CutBlock] = []
    for key, block in blocks.items():
        if isinstance(block, int) or not _counted(key, len(block), max_block_size, stats, cut):
            continue
        members = sorted([ranks[i] for i in block])
        for left, right in combinations(members, 2):
            _collect(found, left * count + right, key)
    pairs = []
    for code in sorted(found):
        left, right = divmod(code, count)
        shared = found[code]
        keys = (shared,) if isinstance(shared, str) else tuple(sorted(shared))
        pairs.append(CandidatePair(left=ordered[left], right=ordered[right], keys=keys))
    return len(seen), key_count, tuple(pairs), stats, cut


def _collect(table: dict[_K, _V | list[_V]], key: _K, value: _V) -> None:
    """Add ``value`` under ``key``: held alone at first, in a list from the second on.

    A lone value (an int or a str, which the collector never visits) is no container;
    ``_V`` must not be a list itself.
    """
    held = table.get(key)
    if held is None:
        table[key] = value
    elif type(held) is list:
        held.append(value)
    else:
        table[key] = [held, value]  # type: ignore[list-item]


def _entry(item: object, index: int) -> tuple[str, Sequence[str]]:
    """``(customer_id, keys)`` checked: an id and a collection of key strings."""
    if isinstance(item, tuple) and len(item) == 2:
        customer_id, keys = item
        if (
            isinstance(customer_id, str)
            and not isinstance(keys, str)
            and isinstance(keys, Sequence | set | frozenset)
            and all(isinstance(k, str) for k in keys)
        ):
            return customer_id, keys  # type: ignore[return-value]
    raise _refused(
        "type.invalid", f"$[{index}]", "expected (customer_id, keys), an id and key strings"
    )


_KEY_COLLECTIONS = (tuple, list, set, frozenset)


def _entry_quick(item: object, index: int) -> tuple[str, Sequence[str]]:
    """:func:`_entry` for the usual item: an id and a tuple of keys.

    One join checks every key is text; anything else is checked (and refused) by
    :func:`_entry`.
    """
    if type(item) is tuple and len(item) == 2:
        customer_id, keys = item
        if type(customer_id) is str and type(keys) in _KEY_COLLECTIONS:
            try:
                "".join(keys)
            except TypeError:
                pass
            else:
                return customer_id, keys
    return _entry(item, index)


def _refused(code: str, path: str, message: str) -> ValidationError:
    return ValidationError([Problem(code=code, path=path, message=message)], subject="blocking")
