"""Blocking keys and candidate pairs."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmcore.errors import ValidationError
from crmcore.models import Customer, Identifier, IdentifierKind, NameOrder, PersonName
from crmcore.rules.dedupe import (
    HAS_PINYIN,
    BlockingPass,
    BlockingSpec,
    blocking_keys,
    candidate_pairs,
    key_pass,
)

from ._build import person


def test_full_width_and_local_phone_formats_share_the_e164_key() -> None:
    """A phone typed with full-width digits or spaces blocks with its E.164 form."""
    a = person("a", "王", "芳", phone="１３８ ００１３ ８０００")
    b = person("b", "王", "芳", phone="+8613800138000")
    assert "phone:+8613800138000" in blocking_keys(a)
    assert "phone:+8613800138000" in blocking_keys(b)


def test_swapped_family_and_given_names_share_the_name_key() -> None:
    """Anna Schmidt and Schmidt Anna (swapped fields) have the same name key."""
    a = person("a", "Schmidt", "Anna")
    b = person("b", "Anna", "Schmidt")
    assert "name:anna schmidt" in set(blocking_keys(a)) & set(blocking_keys(b))


def test_the_name_key_carries_the_birth_year_or_else_the_postal_code() -> None:
    """张伟 born 1990 and 张伟 born 1985 are namesakes: no shared name key; same year: one."""
    born_1990 = person("a", "张", "伟", born=dt.date(1990, 3, 4), postal="100080", street="x")
    again = person("b", "張", "偉", born=dt.date(1990, 8, 9))
    born_1985 = person("c", "张", "伟", born=dt.date(1985, 3, 4), postal="100080", street="x")
    no_birthday = person("d", "张", "伟", postal="１０００８０", street="人民路1号")
    nothing = person("e", "Zhang", "Wei")
    names = {c.id: {k for k in blocking_keys(c) if k.startswith("name:")} for c in
             (born_1990, again, born_1985, no_birthday, nothing)}  # fmt: skip
    if HAS_PINYIN:
        assert names["a"] == names["b"] == {"name:wei zhang|1990"}
    assert names["c"] == ({"name:wei zhang|1985"} if HAS_PINYIN else {"name:伟 张|1985"})
    assert names["d"] == ({"name:wei zhang|cn:100080"} if HAS_PINYIN else {"name:伟 张|cn:100080"})
    assert names["e"] == {"name:wei zhang"}


def _parts(customer: Customer) -> set[str]:
    return {k for k in blocking_keys(customer) if k.startswith("name_part:")}


def test_a_typo_in_one_word_keeps_a_name_part_key() -> None:
    """Schmidt/Anna and Schmitd/Anna (same birth year) share the key of the intact word."""
    a = _parts(person("a", "Schmidt", "Anna", born=dt.date(1990, 5, 1)))
    b = _parts(person("b", "Schmitd", "Anna", born=dt.date(1990, 5, 2)))
    assert a & b == {"name_part:anna|s|1990"}
    moved = _parts(person("c", "Schmidt", "Anna", postal="１０００８０", street="x"))
    assert moved == {"name_part:anna|s|cn:100080", "name_part:schmidt|a|cn:100080"}


def test_cjk_and_romanised_names_with_a_typo_share_a_name_part_key() -> None:
    """Zhang Wei and Zhang Wie (a typo) born in 1990 share zhang|w|1990; with pinyin,
    张伟 and 張偉 share both keys with Zhang Wei."""
    born, other_day = dt.date(1990, 3, 4), dt.date(1990, 11, 30)
    typo = _parts(person("a", "Zhang", "Wei", born=born)) & _parts(
        person("b", "Zhang", "Wie", born=other_day)
    )
    assert typo == {"name_part:zhang|w|1990"}
    han = _parts(person("c", "张", "伟", born=born)) & _parts(person("d", "張", "偉", born=born))
    if HAS_PINYIN:
        assert han == {"name_part:wei|z|1990", "name_part:zhang|w|1990"}
        assert han == _parts(person("e", "Zhang", "Wei", born=born))


def _household(customer: Customer) -> set[str]:
    return {k for k in blocking_keys(customer) if k.startswith("address:")}


def test_address_keys_keep_the_house_number() -> None:
    """One household meets (full-width digits, a longer street word); the next house
    on the street does not: a long street's block stays one building."""
    a = _household(person("a", "王", "芳", postal="100080", street="中关村大街 27号"))
    b = _household(person("b", "李", "娜", postal="100080", street="中关村大街２７号"))
    c = _household(person("c", "李", "娜", postal="100080", street="中关村大街 29号"))
    assert a == b == {"address:cn:100080|中关村大街号|27"}
    assert not a & c
    d = _household(person("d", "Schmidt", "Anna", postal="10115", street="Hauptstraße 12a"))
    e = _household(person("e", "Meier", "Jan", postal="10115", street="Hauptstrasse 12 A"))
    assert d == e == {"address:cn:10115|hauptstr|12"}
    flat = _household(person("f", "Li", "Na", postal="1", street="12 High Street, Flat 3"))
    assert flat == {"address:cn:1|highstre|12-3"}
    assert not _household(person("g", "Li", "Na", postal="1", street="12"))  # a number alone


def _sorted_household(customer: Customer) -> set[str]:
    return {k for k in blocking_keys(customer) if k.startswith("address_sorted:")}


def test_a_postcode_with_two_digits_swapped_keeps_the_address_sorted_key() -> None:
    """6085 and 6058 (FEBRL's postcode damage) under another name share the household's
    address_sorted key and no address key; another postcode or house number does not."""
    a = person("a", "Gaskin", "Kirra", postal="6085", street="Minchin Street 11")
    b = person("b", "Stubbs", "Kirra", postal="6058", street="Minchin St 11")
    assert _sorted_household(a) == _sorted_household(b) == {"address_sorted:cn:0568|minchins|11"}
    assert not _household(a) & _household(b)
    assert not set(blocking_keys(a)) - _sorted_household(a) & set(blocking_keys(b))
    other_code = person("c", "Stubbs", "Kirra", postal="6086", street="Minchin St 11")
    other_house = person("d", "Stubbs", "Kirra", postal="6058", street="Minchin St 13")
    assert not _sorted_household(a) & _sorted_household(other_code)
    assert not _sorted_household(a) & _sorted_household(other_house)
    assert not _sorted_household(person("e", "Li", "Na", postal="1", street="12"))
    assert not _sorted_household(person("f", "Li", "Na", street="Minchin St 11"))


@settings(max_examples=150, deadline=None)
@given(
    family=st.sampled_from(["Schmidt", "张", "Nguyễn", "山田"]),
    given_name=st.sampled_from(["Anna", "伟", "Thị", "太郎"]),
    born=st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31)),
    number=st.integers(1, 9999),
)
def test_swapped_days_full_width_numbers_and_swapped_names_keep_the_keys(
    family: str, given_name: str, born: dt.date, number: int
) -> None:
    """A copy with family and given name swapped, day and month swapped (when both can
    be a month) and the house number in full-width digits has the same name_part and
    address keys."""
    street = f"Rue de Rivoli {number}"
    wide = street.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    other = dt.date(born.year, born.day, born.month) if born.day <= 12 else born
    a = person("a", family, given_name, born=born, postal="75001", street=street)
    b = person("b", given_name, family, born=other, postal="75001", street=wide)
    assert _parts(a) == _parts(b)
    assert _household(a) == _household(b) == {f"address:cn:75001|ruederiv|{number}"}


def test_email_keys_fold_case_and_full_width() -> None:
    """Ｚhang.Wei@Example.COM blocks with zhang.wei@example.com."""
    a = blocking_keys(person("a", "Zhang", "Wei", email="Zhang.Wei@Example.COM"))
    b = blocking_keys(person("b", "Zhang", "Wei", email="zhang.wei@example.com"))
    assert "email:zhang.wei@example.com" in set(a) & set(b)


def test_a_swapped_birth_day_and_month_shares_the_birth_key() -> None:
    """Born 1990-03-04 and 1990-04-03 block together (with the same initials)."""
    a = blocking_keys(person("a", "Li", "Na", born=dt.date(1990, 3, 4)))
    b = blocking_keys(person("b", "Li", "Na", born=dt.date(1990, 4, 3)))
    assert "birth:1990-03-04|ln" in set(a) & set(b)


def _with_id(cid: str, family: str, given: str, value: str) -> Customer:
    ids = (Identifier(kind=IdentifierKind.NATIONAL_ID, value=value),)
    return person(cid, family, given, identifiers=ids)


def _near(customer: Customer) -> set[str]:
    return {k for k in blocking_keys(customer) if k.startswith("identifier_near:")}


def test_identifiers_one_typo_apart_share_an_identifier_near_key() -> None:
    """FEBRL's ids 4178304 and 4173804 (swapped neighbours), ０１２３４５６ and 0123956 meet."""
    swapped = _near(_with_id("a", "Cupo", "Joshua", "4178304")) & _near(
        _with_id("b", "Dolan", "Joshua", "4173804")
    )
    assert swapped == {"identifier_near:national_id:417304", "identifier_near:national_id:417804"}
    changed = _near(_with_id("c", "李", "娜", "０１２３４５６")) & _near(
        _with_id("d", "Li", "Na", "0123956")
    )
    assert changed == {"identifier_near:national_id:012356"}
    dropped = _near(_with_id("e", "Li", "Na", "0123456")) & _near(
        _with_id("f", "Li", "Na", "012456")
    )
    assert dropped == {"identifier_near:national_id:012456"}
    assert not _near(_with_id("g", "Li", "Na", "1234"))  # too short to tell a typo


def test_long_identifiers_key_by_their_halves() -> None:
    """An 18-character id makes two near keys; a changed character keeps the other half."""
    a = _near(_with_id("a", "王", "芳", "11010119900307123X"))
    b = _near(_with_id("b", "王", "芳", "11010119900307124X"))
    assert a == {"identifier_near:national_id:18<110101199",
                 "identifier_near:national_id:18>00307123X"}  # fmt: skip
    assert a & b == {"identifier_near:national_id:18<110101199"}


@settings(max_examples=200, deadline=None)
@given(
    value=st.text("0123456789ABX", min_size=5, max_size=12),
    edit=st.sampled_from(["change", "add", "drop", "swap"]),
    where=st.integers(0, 20),
    char=st.sampled_from("0123456789ABX"),
)
def test_every_one_typo_identifier_up_to_12_characters_shares_a_near_key(
    value: str, edit: str, where: int, char: str
) -> None:
    """A change, an added or dropped character, or swapped neighbours always meet."""
    i = where % len(value)
    typo = {
        "change": value[:i] + char + value[i + 1 :],
        "add": value[:i] + char + value[i:],
        "drop": value[:i] + value[i + 1 :],
        "swap": value[:i] + value[i + 1 : i + 2] + value[i : i + 1] + value[i + 2 :],
    }[edit]
    if len(typo) < 5 or len(typo) > 12:
        return
    assert _near(_with_id("a", "Li", "Na", value)) & _near(_with_id("b", "Li", "Na", typo))


def test_email_local_parts_meet_across_domains() -> None:
    """chloe.esposito48@corp.example.org and its domain typo .ogr share email_local."""
    login = "chloe.esposito48@corp.example"
    a = set(blocking_keys(person("a", "Esposito", "Chloe", email=f"{login}.org")))
    b = set(blocking_keys(person("b", "Esdosito", "Clhoe", email=f"{login}.ogr")))
    assert a & b == {"email_local:chloe.esposito48"}
    short = blocking_keys(person("c", "Li", "Na", email="li@example.com"))
    assert not [k for k in short if k.startswith("email_local:")]  # too short to say much


@pytest.mark.skipif(not HAS_PINYIN, reason="needs crmcore[cjk] (pypinyin)")
def test_traditional_simplified_and_pinyin_names_share_the_name_key() -> None:
    """张伟, 張偉 and Zhang Wei (family first) all have name:wei zhang."""
    names = [
        person("a", "张", "伟"),
        person("b", "張", "偉"),
        person("c", "Zhang", "Wei", order=NameOrder.FAMILY_FIRST),
    ]
    shared = set.intersection(*(set(blocking_keys(c)) for c in names))
    assert "name:wei zhang" in shared


def test_a_cjk_name_blocks_by_its_other_name_without_pinyin_too() -> None:
    """A customer entered as 张伟 with the other name Wei Zhang blocks with Wei Zhang."""
    a = person("a", "张", "伟", other=PersonName(family="Zhang", given="Wei"))
    b = person("b", "Zhang", "Wei")
    assert "name:wei zhang" in set(blocking_keys(a)) & set(blocking_keys(b))


def test_passes_can_be_chosen_and_keys_name_their_pass() -> None:
    """Only the chosen passes make keys; key_pass reads the pass back."""
    spec = BlockingSpec(passes=(BlockingPass.PHONE,))
    keys = blocking_keys(person("a", "Li", "Na", phone="+8613800138000"), spec=spec)
    assert keys == ("phone:+8613800138000",)
    assert {key_pass(k) for k in blocking_keys(person("b", "Li", "Na"))} <= set(BlockingPass)


def test_blocks_over_the_cap_are_cut_and_reported() -> None:
    """A key shared by more customers than the cap makes no pairs; the report says so."""
    keyed = [(f"c{i}", ["name:wei zhang"]) for i in range(5)] + [
        ("c0", ["phone:+1"]),
    ]
    with pytest.raises(ValidationError) as refused:
        candidate_pairs(keyed, max_block_size=3)
    assert refused.value.codes == ("dedupe.duplicate_id",)
    keyed = [(f"c{i}", ["name:wei zhang", *(["phone:+1"] if i < 2 else [])]) for i in range(5)]
    found = candidate_pairs(keyed, max_block_size=3)
    assert [(p.left, p.right, p.keys) for p in found.pairs] == [("c0", "c1", ("phone:+1",))]
    assert found.report.cut[0].key == "name:wei zhang"
    assert (found.report.cut[0].size, found.report.cut_pairs) == (5, 10)
    name = next(p for p in found.report.passes if p.name == "name")
    assert (name.cut_blocks, name.cut_pairs, name.pairs) == (1, 10, 0)


def test_a_cap_below_two_is_refused() -> None:
    """max_block_size=1 is refused with dedupe.block_size_invalid."""
    with pytest.raises(ValidationError) as refused:
        candidate_pairs([], max_block_size=1)
    assert refused.value.codes == ("dedupe.block_size_invalid",)


_keyed = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=3),
    st.lists(st.sampled_from(["k:1", "k:2", "k:3", "n:x", "n:y"]), max_size=4),
    max_size=25,
)


@given(_keyed, st.integers(2, 30))
@settings(max_examples=150, deadline=None)
def test_blocking_never_pairs_a_customer_with_itself_and_yields_each_pair_once(
    keyed: dict[str, list[str]], cap: int
) -> None:
    """Pairs are distinct, ordered, never a self pair, and exactly the shared-key pairs."""
    found = candidate_pairs(keyed.items(), max_block_size=cap)
    pairs = [(p.left, p.right) for p in found.pairs]
    assert len(pairs) == len(set(pairs))
    assert all(left < right for left, right in pairs)
    sizes: dict[str, int] = {}
    for keys in keyed.values():
        for key in set(keys):
            sizes[key] = sizes.get(key, 0) + 1
    expected = {
        (a, b)
        for a, b in itertools.combinations(sorted(keyed), 2)
        if any(sizes[k] <= cap for k in set(keyed[a]) & set(keyed[b]))
    }
    assert set(pairs) == expected
    assert found.report.candidate_pairs == len(pairs)


def test_candidate_pairs_grow_far_slower_than_all_pairs() -> None:
    """Four times the customers gives well under 16 times the pairs (all pairs would)."""
    from ._synthetic import generate

    def pairs(people: int) -> int:
        data = generate(people, seed=3)
        keyed = [(c.id, blocking_keys(c)) for c in data.customers]
        found = candidate_pairs(keyed, max_block_size=50)
        assert len(found.pairs) <= len(keyed) * max(map(len, (k for _, k in keyed))) * 49 / 2
        return len(found.pairs)

    small, large = pairs(400), pairs(1600)
    assert large < 8 * small
