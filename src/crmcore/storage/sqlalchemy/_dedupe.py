"""Duplicate candidates inside the database: a self-join of the blocking-key entries.

With :data:`~crmcore.storage.indexing.DEDUPE_PATH` declared, every customer's
blocking keys (:func:`crmcore.rules.dedupe.blocking_keys`) are rows of
``crm_customer_index`` under ``@dedupe.<pass>``, written with the customer. A block is
the rows of one ``(path, text_value)``; the database counts the blocks, cuts those over
the cap, and joins the index with itself on the kept ones::

    SELECT a.customer_id, b.customer_id, a.path, a.text_value
    FROM (SELECT path, text_value FROM crm_customer_index
          WHERE path IN (:passes) AND text_full IS NULL
          GROUP BY path, text_value HAVING COUNT(*) BETWEEN 2 AND :cap) AS k
    JOIN crm_customer_index a ON a.path = k.path AND a.text_value = k.text_value
    JOIN crm_customer_index b ON b.path = a.path AND b.text_value = a.text_value
                             AND b.customer_id > a.customer_id

Only the pairs (one row per shared key), the block-size histogram and the cut blocks
come out. Keys longer than the ``text_value`` column (held whole in ``text_full``, rare:
an identifier of hundreds of characters) are blocked in Python from their rows, so no
comparison ever depends on how a dialect compares long text. The result is exactly
:func:`crmcore.rules.dedupe.candidate_pairs` over the same keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import combinations

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from crmcore.rules.dedupe import BlockingSpec, CandidatePair, Candidates, CutBlock
from crmcore.rules.dedupe.blocking import blocking_report, tally_blocks
from crmcore.storage.indexing import IndexSet, dedupe_entry_path
from crmcore.storage.sqlalchemy._schema import INDEX, INDEX_TEXT_LENGTH, TABLES

__all__ = ["candidates", "customer_ids", "customers_with_keys"]

_CUSTOMERS = TABLES["customer"]
_STREAM = 20_000


def customer_ids(conn: Connection) -> list[str]:
    """Every customer's id, in code point order."""
    return sorted(conn.execute(select(_CUSTOMERS.c.id)).scalars())


def customers_with_keys(
    conn: Connection, keys: Sequence[str], index_set: IndexSet
) -> list[str] | None:
    """The customers whose ``@dedupe`` entries hold one of ``keys`` (``"<pass>:<value>"``).

    ``None`` when ``@dedupe`` is not declared. Each key is one lookup of the index's
    (path, text_value) key; a value longer than the indexed prefix is compared in full.
    """
    if not index_set.dedupe:
        return None
    c = INDEX.c
    found: set[str] = set()
    for key in keys:
        name, _, value = key.partition(":")
        head = value[:INDEX_TEXT_LENGTH]
        rest = c.text_full.is_(None) if head == value else c.text_full == value
        where = and_(c.path == dedupe_entry_path(name), c.text_value == head, rest)
        found.update(str(i) for i in conn.execute(select(c.customer_id).where(where)).scalars())
    return sorted(found)


def candidates(conn: Connection, spec: BlockingSpec, index_set: IndexSet) -> Candidates | None:
    """The candidate pairs of ``spec`` from the index, or ``None`` when it cannot say.

    ``None`` when the database does not index the blocking keys (``@dedupe`` not
    declared) or ``spec`` reads phones with a default region (the stored keys have none).
    """
    if not index_set.dedupe or spec.region is not None:
        return None
    names = {dedupe_entry_path(p): str(p) for p in spec.passes}
    cap = spec.max_block_size
    c = INDEX.c
    short = and_(c.path.in_(list(names)), c.text_value.is_not(None), c.text_full.is_(None))
    size = func.count()
    keys = int(
        conn.execute(
            select(func.count()).select_from(INDEX).where(c.path.in_(list(names)))
        ).scalar_one()
    )
    customers = int(conn.execute(select(func.count()).select_from(_CUSTOMERS)).scalar_one())
    blocks = (
        select(c.path, size.label("n"))
        .where(short)
        .group_by(c.path, c.text_value)
        .having(size >= 2)
        .subquery()
    )
    histogram = conn.execute(
        select(blocks.c.path, blocks.c.n, func.count()).group_by(blocks.c.path, blocks.c.n)
    ).all()
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for path, n, count in histogram:
        tally_blocks(stats[names[path]], int(n), int(count), cap)
    cut = [
        CutBlock(key=f"{names[path]}:{value}", size=int(n), pairs=int(n) * (int(n) - 1) // 2)
        for path, value, n in conn.execute(
            select(c.path, c.text_value, size).where(short).group_by(c.path, c.text_value)
            .having(size > cap)
        )
    ]  # fmt: skip
    shared: dict[tuple[str, str], list[str]] = defaultdict(list)
    kept = (
        select(c.path, c.text_value)
        .where(short)
        .group_by(c.path, c.text_value)
        .having(and_(size >= 2, size <= cap))
        .subquery()
    )
    a, b = INDEX.alias("a"), INDEX.alias("b")
    pairs = (
        select(a.c.customer_id, b.c.customer_id, a.c.path, a.c.text_value)
        .select_from(
            kept.join(a, and_(a.c.path == kept.c.path, a.c.text_value == kept.c.text_value)).join(
                b,
                and_(
                    b.c.path == a.c.path,
                    b.c.text_value == a.c.text_value,
                    b.c.customer_id > a.c.customer_id,
                ),
            )
        )
        .where(a.c.text_full.is_(None), b.c.text_full.is_(None))
    )
    rows = conn.execution_options(yield_per=_STREAM).execute(pairs)
    for left, right, path, value in rows:
        shared[(left, right)].append(f"{names[path]}:{value}")
    _long_keys(conn, names, cap, stats, cut, shared)
    found = tuple(
        CandidatePair(left=left, right=right, keys=tuple(sorted(shared[(left, right)])))
        for left, right in sorted(shared)
    )
    report = blocking_report(
        customers=customers, keys=keys, pairs=len(found), max_block_size=cap, stats=stats, cut=cut
    )
    return Candidates(pairs=found, report=report)


def _long_keys(
    conn: Connection,
    names: dict[str, str],
    cap: int,
    stats: dict[str, list[int]],
    cut: list[CutBlock],
    shared: dict[tuple[str, str], list[str]],
) -> None:
    """Block the keys held whole in ``text_full`` (too long for ``text_value``) in Python."""
    c = INDEX.c
    rows = conn.execute(
        select(c.path, c.text_full, c.customer_id).where(
            c.path.in_(list(names)), c.text_full.is_not(None)
        )
    ).all()
    members: dict[str, set[str]] = defaultdict(set)
    for path, value, customer_id in rows:
        members[f"{names[path]}:{value}"].add(customer_id)
    for key, ids in members.items():
        size = len(ids)
        if size < 2:
            continue
        if not tally_blocks(stats[key.split(":", 1)[0]], size, 1, cap):
            cut.append(CutBlock(key=key, size=size, pairs=size * (size - 1) // 2))
            continue
        for left, right in combinations(sorted(ids), 2):
            shared[(left, right)].append(key)
