"""Record ids: time-ordered UUID version 7 (RFC 9562), increasing within a process."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import re
import sys
import threading
import time
import uuid
from collections import Counter
from itertools import combinations, pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crmcore.models._ids as ids_module
from crmcore.models import ChangeOperation, ChangeRecord, Customer, Email, Phone
from crmcore.models._ids import new_id
from crmcore.rules.dedupe import random_pairs
from crmcore.serialization import from_dict

HEX = re.compile(r"[0-9a-f]{32}")


def _ms(record_id: str) -> int:
    """The Unix milliseconds of an id (its first 48 bits)."""
    return int(record_id[:12], 16)


def _counter(record_id: str) -> int:
    """The 42-bit counter of an id (rand_a, then the 30 bits after the variant)."""
    value = int(record_id, 16)
    return (((value >> 64) & 0xFFF) << 30) | ((value >> 32) & 0x3FFF_FFFF)


@pytest.fixture
def fresh_sequence(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start from no last id (for a fixed clock); the process's own state comes back after."""
    monkeypatch.setattr(ids_module, "_last_ms", -1)
    monkeypatch.setattr(ids_module, "_last_counter", 0)


def _check_form(record_id: str) -> None:
    assert HEX.fullmatch(record_id), record_id
    parsed = uuid.UUID(hex=record_id)
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert parsed.hex == record_id


@settings(max_examples=25, deadline=None)
@given(count=st.integers(1, 5_000))
def test_ids_are_version_7_hex_strictly_increasing_and_unique(count: int) -> None:
    """Many ids in a row: 32 lowercase hex, version 7, RFC variant, increasing, unique."""
    before = time.time_ns() // 1_000_000
    made = [new_id() for _ in range(count)]
    after = time.time_ns() // 1_000_000
    for record_id in made:
        _check_form(record_id)
    assert all(a < b for a, b in pairwise(made))
    assert len(set(made)) == count
    assert before <= _ms(made[0])
    # the timestamp runs ahead of the clock only when a millisecond's counter is spent
    assert _ms(made[-1]) <= after + 1


@pytest.mark.usefixtures("fresh_sequence")
def test_the_timestamp_is_the_clock_in_milliseconds(monkeypatch: pytest.MonkeyPatch) -> None:
    """An id's first 48 bits are the Unix time in milliseconds when it was minted."""
    monkeypatch.setattr(ids_module, "time_ns", lambda: 1_796_000_000_123_456_789)
    record_id = new_id()
    assert _ms(record_id) == 1_796_000_000_123
    assert record_id.startswith(f"{1_796_000_000_123:012x}")


@pytest.mark.usefixtures("fresh_sequence")
def test_within_a_millisecond_the_counter_goes_up_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids of one millisecond share the timestamp; the counter counts, the tail is random."""
    monkeypatch.setattr(ids_module, "time_ns", lambda: 1_796_000_000_500_000_000)
    made = [new_id() for _ in range(1_000)]
    assert {_ms(i) for i in made} == {1_796_000_000_500}
    counters = [_counter(i) for i in made]
    assert counters == list(range(counters[0], counters[0] + 1_000))
    assert counters[0] < 2**41  # a new millisecond starts below the guard bit
    assert len({i[-8:] for i in made}) > 990  # 32 random bits each


@pytest.mark.usefixtures("fresh_sequence")
def test_a_clock_stepping_back_never_makes_a_smaller_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the clock goes back, ids keep the last timestamp and count on."""
    now = [1_796_000_001_000_000_000]
    monkeypatch.setattr(ids_module, "time_ns", lambda: now[0])
    first = new_id()
    now[0] -= 5_000_000_000  # five seconds back
    later = [new_id() for _ in range(10)]
    assert all(_ms(i) == _ms(first) for i in later)
    assert [first, *later] == sorted({first, *later})
    now[0] += 10_000_000_000  # the clock passes the last id's time: a new millisecond
    newest = new_id()
    assert _ms(newest) == 1_796_000_006_000
    assert newest > later[-1]


@pytest.mark.usefixtures("fresh_sequence")
def test_a_spent_counter_moves_to_the_next_millisecond(monkeypatch: pytest.MonkeyPatch) -> None:
    """At the counter's end the timestamp goes up one millisecond; ids still increase."""
    monkeypatch.setattr(ids_module, "time_ns", lambda: 1_796_000_002_000_000_000)
    first = new_id()
    monkeypatch.setattr(ids_module, "_last_counter", 2**42 - 2)
    last = new_id()
    assert _counter(last) == 2**42 - 1
    assert _ms(last) == 1_796_000_002_000
    following = new_id()
    _check_form(following)
    assert _ms(following) == 1_796_000_002_001
    assert _counter(following) < 2**41
    assert first < last < following
    assert new_id() > following  # the clock is still behind: count on in the new millisecond


def test_threads_minting_at_once_get_unique_increasing_ids() -> None:
    """Ids minted by several threads at once are unique; each thread's increase."""
    made: list[list[str]] = [[] for _ in range(4)]

    def mint(into: list[str]) -> None:
        for _ in range(5_000):
            into.append(new_id())

    threads = [threading.Thread(target=mint, args=(into,)) for into in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [i for into in made for i in into]
    assert len(set(everything)) == len(everything)
    for into in made:
        assert into == sorted(into)


def _child_ids(count: int) -> tuple[str, list[str]]:
    """In a forked child: the last id the parent minted (as inherited), and new ones."""
    inherited = f"{ids_module._last_ms:012x}:{ids_module._last_counter}"
    return inherited, [new_id() for _ in range(count)]


@pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX")
def test_a_forked_child_starts_its_own_sequence() -> None:
    """A forked worker does not count on from its parent: its ids are its own, unique."""
    parent = [new_id() for _ in range(100)]
    with multiprocessing.get_context("fork").Pool(1) as pool:
        inherited, child = pool.apply(_child_ids, (1_000,))
    parent += [new_id() for _ in range(1_000)]
    assert inherited == "-00000000001:0"  # reset at fork (-1 ms, counter 0)
    for record_id in child:
        _check_form(record_id)
    assert child == sorted(child)
    assert not set(child) & set(parent)


def test_every_model_mints_time_ordered_ids() -> None:
    """Customers, their contact points and history entries get version 7 ids, in order."""
    customer = Customer.person_named(
        family="王", given="芳", phones=(Phone(number="+8613800000000"),)
    )
    email = Email(address="wang.fang@example.cn")
    row = {"kind": "person", "display_name": "李娜", "person": {"name": {"family": "李"}}}
    structured = from_dict(row, Customer)
    entry = ChangeRecord(
        customer_id=customer.id,
        operation=ChangeOperation.CREATED,
        at=dt.datetime(2026, 12, 4, tzinfo=dt.UTC),
        version=1,
    )
    made = [customer.phones[0].id, customer.id, email.id, structured.id, entry.id]
    for record_id in made:
        _check_form(record_id)
    assert customer.id < email.id < structured.id < entry.id


def test_random_pairs_over_time_ordered_ids_are_drawn_evenly() -> None:
    """The EM fit's random pairs stay uniform when ids sort in creation order.

    ``random_pairs`` draws positions among the sorted ids, so only the ids' order
    matters (not their prefixes), and every pair is about as likely as any other.
    """
    made = [new_id() for _ in range(6)]
    drawn = random_pairs(made, 30_000, seed=3)
    relabelled = random_pairs([f"x{made.index(i)}" for i in made], 30_000, seed=3)
    assert [(f"x{made.index(a)}", f"x{made.index(b)}") for a, b in drawn] == relabelled
    counts = Counter(frozenset(pair) for pair in drawn)
    assert set(counts) == {frozenset(p) for p in combinations(made, 2)}
    expected = 30_000 / 15
    assert all(abs(n - expected) < 0.1 * expected for n in counts.values()), counts
    # the first-created id is as often the pair's left as its right
    left = sum(a == made[0] for a, _ in drawn)
    right = sum(b == made[0] for _, b in drawn)
    assert abs(left - right) < 0.1 * (left + right)
