"""What keeps a namesake out: house numbers, anchors that nothing contradicts, weakest links.

Three behaviours found on the hard synthetic bench, each a cause of false matches
between different people who share a name:

* street lines that differ only in the house number ("Nanjing Road 12" and
  "Nanjing Road 13") are "similar", not "close", and so are close street lines
  under postal codes that differ;
* an anchor (a pair the fit counts as a duplicate) needs names close and either
  two ruled fields the same, or one the same and none different: namesakes who
  share a family email but not a birthday are left for EM to weigh;
* clustering does not join two groups when a pair between them weighs more
  against than the joining pair weighs for.
"""

from __future__ import annotations

import functools
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore._fastpaths import set_fast_paths
from crmcore.models import Customer
from crmcore.rules.dedupe import (
    ExplainedPairs,
    cluster,
    compare,
    features,
    find_duplicates,
    fit,
    probability,
)

from ._build import person, scored_pair
from ._synthetic import generate


def _address(a: Customer, b: Customer) -> int:
    return next(c.level for c in compare(features(a), features(b)) if c.field == "address")


def test_street_lines_with_other_house_numbers_are_not_close() -> None:
    """Same road, same postal code, number 12 against 13: "house number typo" (3), below
    "close"; a typo in the road with the same number: "close" (4); the same line: exact
    (5), also when only a space moved."""
    home = person("a", "Li", "Na", street="Nanjing Road 12", postal="200001")
    assert _address(home, person("b", "Li", "Na", street="Nanjing Road 13", postal="200001")) == 3
    assert _address(home, person("b", "Li", "Na", street="Nanjnig Road 12", postal="200001")) == 4
    assert _address(home, person("b", "Li", "Na", street="Nanjing Road 12", postal="200001")) == 5
    assert _address(home, person("b", "Li", "Na", street="Nanjing Road1 2", postal="200001")) == 5
    # full-width digits are the same house number
    assert _address(home, person("b", "Li", "Na", street="Nanjnig Road １２", postal="200001")) == 4
    # numbers two edits apart are other houses: "similar"
    assert _address(home, person("b", "Li", "Na", street="Nanjing Road 45", postal="200001")) == 2


def test_a_letter_typed_into_the_house_number_is_a_typo_not_another_house() -> None:
    """Hauptstrasse 183 and Hauptstrasse w83 (or 1s83) under one postal code are "close"
    (4); 183 and 113, 1183, 18 or 138 (a digit changed, added, dropped, two swapped) are
    "house number typo" (3), and the letter typo under another postal code is "similar"."""
    home = person("a", "Li", "Na", street="Hauptstrasse 183", postal="80331")
    for typo in ("Hauptstrasse w83", "Hauptstrasse 1s83"):
        assert _address(home, person("b", "Li", "Na", street=typo, postal="80331")) == 4
    for other in ("Hauptstrasse 113", "Hauptstrasse 1183", "Hauptstrasse 18", "Hauptstrasse 138"):
        assert _address(home, person("b", "Li", "Na", street=other, postal="80331")) == 3
    moved = person("b", "Li", "Na", street="Hauptstrasse w83", postal="10115")
    assert _address(home, moved) == 2
    han = person("a", "王", "芳", street="天河路 139", postal="510000")
    assert _address(han, person("b", "王", "芳", street="天河路 319", postal="510000")) == 3
    assert _address(han, person("b", "王", "芳", street="天河路 319", postal="510001")) == 2


def test_close_street_lines_under_different_postal_codes_are_similar() -> None:
    """A typo in the road but another postal code: "similar" (2), not "close"."""
    home = person("a", "Li", "Na", street="Nanjing Road 12", postal="200001")
    assert _address(home, person("b", "Li", "Na", street="Nanjnig Road 12", postal="310002")) == 2
    assert _address(home, person("b", "Li", "Na", street="Nanjnig Road 12")) == 4
    # another house number without a postal code on one side is no typo level
    assert _address(home, person("b", "Li", "Na", street="Nanjing Road 13")) == 2


# vectors: name, birthday, phone, email, identifier, address, gender
_NAMESAKES_SHARING_AN_EMAIL = (7, 0, 0, 3, -1, 0, 1)
_SAME_EMAIL_NOTHING_AGAINST = (7, -1, -1, 3, -1, -1, 1)
_TWO_THE_SAME_ONE_DIFFERENT = (7, 3, 0, 3, -1, -1, 1)
_DIFFERENT = (0, 0, 0, 0, -1, 0, 0)


def test_an_anchor_needs_two_ruled_fields_or_nothing_against() -> None:
    """Namesakes with one email but other birthdays and phones are not anchors; a
    shared email with nothing different is one, and so are two fields the same."""
    for vector, anchors in (
        (_NAMESAKES_SHARING_AN_EMAIL, 0),
        (_SAME_EMAIL_NOTHING_AGAINST, 1),
        (_TWO_THE_SAME_ONE_DIFFERENT, 1),
    ):
        model = fit([vector, *[_DIFFERENT] * 50])
        assert model.diagnostics is not None
        assert model.diagnostics.anchors == anchors, vector


def test_namesakes_sharing_an_email_do_not_teach_the_fit_that_birthdays_change() -> None:
    """Forty namesake pairs sharing an email (other birthday) beside 200 true copies:
    a different birthday weighs at least 5 bits against (2.5 when they were anchors),
    and the namesakes stay below 0.9 (they were at 0.99999)."""
    copies = [(7, 3, 2, 3, -1, 5, 1)] * 120 + [(6, 3, -1, 2, -1, 5, 1)] * 80
    vectors = [*copies, *[_NAMESAKES_SHARING_AN_EMAIL] * 40, *[_DIFFERENT] * 2000]
    model = fit(vectors)
    assert model.weight(1, 0) < -5
    assert probability(model.total(_NAMESAKES_SHARING_AN_EMAIL)) < 0.9


def test_a_weak_link_outweighed_by_a_pair_between_the_groups_joins_nothing() -> None:
    """c1-c2 are one (30 bits); c3 matches c2 by 4 bits but differs from c1 by 12:
    c3 stays out, and the clustering names the pair that outweighed the link."""
    pairs = [scored_pair("c1", "c2", 30), scored_pair("c2", "c3", 4), scored_pair("c1", "c3", -12)]
    result = cluster(pairs, threshold=0.9)
    assert [g.members for g in result.groups] == [("c1", "c2")]
    [refused] = result.outweighed
    assert (refused.pair.left, refused.pair.right) == ("c2", "c3")
    assert (refused.against.left, refused.against.right) == ("c1", "c3")


def test_a_link_stronger_than_the_evidence_against_still_joins() -> None:
    """The same, with c1-c3 at -3 bits (a copy damaged twice): c3 joins."""
    pairs = [scored_pair("c1", "c2", 30), scored_pair("c2", "c3", 4), scored_pair("c1", "c3", -3)]
    result = cluster(pairs, threshold=0.9)
    assert [g.members for g in result.groups] == [("c1", "c2", "c3")]
    assert result.outweighed == ()


ids = st.sampled_from([f"c{i}" for i in range(8)])
edges = st.lists(st.tuples(ids, ids, st.floats(-30, 30)).filter(lambda e: e[0] < e[1]), max_size=25)


@given(edges, st.floats(0, 1))
@settings(max_examples=300, deadline=None)
def test_every_pair_in_a_group_weighs_less_against_than_its_strongest_link_for(
    scored: list[tuple[str, str, float]], threshold: float
) -> None:
    """Whatever the pairs: each group lies within one component of the matched pairs,
    and no given pair inside it has a total below minus its strongest joining pair's."""
    pairs = [scored_pair(a, b, w) for a, b, w in scored]
    result = cluster(pairs, threshold=threshold)
    component = _components([(p.left, p.right) for p in pairs if p.probability >= threshold])
    for group in result.groups:
        assert len({component[m] for m in group.members}) == 1
        strongest = max(p.total for p in group.joined_by)
        inside = set(itertools.combinations(group.members, 2))
        assert all(p.total >= -strongest for p in pairs if (p.left, p.right) in inside)
    for refused in result.outweighed:
        assert refused.against.total < -refused.pair.total


def _components(links: list[tuple[str, str]]) -> dict[str, str]:
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in links:
        parent[root(a)] = root(b)
    return {x: root(x) for x in parent}


@functools.cache
def _hard() -> tuple[Customer, ...]:
    return generate(600, seed=11, hard=True).customers


def test_clustering_the_linked_pairs_gives_the_groups_of_clustering_every_pair() -> None:
    """``ExplainedPairs.linked`` leaves out only pairs that cannot keep groups apart,
    and the fast path's groups are the reference's (every pair clustered)."""
    previous = set_fast_paths(False)
    try:
        reference = find_duplicates(_hard(), threshold=0.9, sample_pairs=3_000)
        set_fast_paths(True)
        result = find_duplicates(_hard(), threshold=0.9, sample_pairs=3_000)
    finally:
        set_fast_paths(previous)
    assert isinstance(reference.pairs, ExplainedPairs)
    assert result.clustering == reference.clustering
    assert isinstance(result.pairs, ExplainedPairs)
    everything = cluster(list(result.pairs), threshold=0.9)
    assert cluster(result.pairs.linked(0.9), threshold=0.9) == everything
    assert result.clustering == everything
    reaching = result.pairs.reaching(0.9)
    assert set(reaching) <= set(result.pairs.linked(0.9))
