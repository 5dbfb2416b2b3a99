"""Person names: Unicode NFKC, tidy whitespace, family/given order and a display form.

The entry standard (domain brief, section 3) is "name as family name + given name".
:func:`normalise_name`:

* applies Unicode NFKC to each part (full-width ``Ｚｈａｎｇ`` becomes ``Zhang``,
  the ideographic space becomes a plain space) and collapses runs of whitespace;
* sets the order to family-first when the name is written in CJK script (a CJK name
  is never written given-first), reporting ``name.order_corrected``;
* with :attr:`NamePolicy.split_cjk_full_names`, splits a Chinese (Han) full name
  typed into a single part (``given="欧阳娜娜"``, no family name) into family and given name by
  the Chinese surname rule: a known two-character (compound) surname, else the first
  character (``name.split``, info). Kana, Hangul and Western full names are
  never split automatically (``van der Berg`` defeats any simple rule); use
  :func:`split_full_name` when importing a single name column.

The display form is :attr:`crmcore.models.PersonName.display` of the result.
"""

from __future__ import annotations

import unicodedata

import attrs

from crmcore.errors import Problem
from crmcore.models import NameOrder, PersonName, is_cjk, replace
from crmcore.rules.verification._spec import Spec
from crmcore.rules.verification.messages import finding

__all__ = [
    "COMPOUND_SURNAMES",
    "NamePolicy",
    "normalise_name",
    "normalise_text",
    "split_full_name",
]

COMPOUND_SURNAMES: frozenset[str] = frozenset(
    {
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "夏侯", "轩辕", "令狐", "钟离", "端木", "申屠", "太史", "澹台",
        "呼延", "南宫", "独孤", "闻人", "万俟", "司空", "西门", "东郭", "百里", "公冶",
        "赫连", "拓跋", "第五", "濮阳", "淳于", "单于", "公羊", "羊舌", "谷梁", "乐正",
    }
)  # fmt: skip
"""Two-character Chinese surnames recognised when splitting a full name."""


def normalise_text(text: str) -> str:
    r"""NFKC-normalise ``text``, trim it and collapse each run of whitespace to one space.

    >>> normalise_text("  Ｚｈａｎｇ\u3000 Wei ")
    'Zhang Wei'
    """
    if text.isascii():
        return " ".join(text.split())
    return " ".join(unicodedata.normalize("NFKC", text).split())


@attrs.frozen(kw_only=True)
class NamePolicy(Spec):
    """How names are normalised.

    Attributes:
        correct_cjk_order: Set CJK names to family-first order.
        split_cjk_full_names: Split a CJK full name typed into one part.
    """

    TAG = "name_policy"
    kind: str = "name_policy"
    correct_cjk_order: bool = True
    split_cjk_full_names: bool = True


_DEFAULT_POLICY = NamePolicy()


def _is_han(text: str) -> bool:
    return bool(text) and all(unicodedata.name(c, "").startswith("CJK UNIFIED") for c in text)


def _split_cjk(full: str) -> tuple[str, str]:
    compact = "".join(full.split())
    if len(compact) > 2 and compact[:2] in COMPOUND_SURNAMES:
        return compact[:2], compact[2:]
    return compact[:1], compact[1:]


def split_full_name(full: str, *, order: NameOrder | None = None) -> PersonName:
    """Split a full name written in one string into a :class:`PersonName`.

    CJK names split by the surname rule (compound surname, else first character);
    ``"Family, Given"`` splits at the comma; other names are given-first unless
    ``order`` says family-first, splitting at the last (or first) space.

    >>> split_full_name("欧阳娜娜").family
    '欧阳'
    >>> split_full_name("Anna Maria Schmidt").family
    'Schmidt'
    >>> split_full_name("Zhang Wei", order=NameOrder.FAMILY_FIRST).given
    'Wei'
    """
    text = normalise_text(full)
    if is_cjk(text) and " " not in text:
        family, given = _split_cjk(text)
        return PersonName(family=family, given=given, order=NameOrder.FAMILY_FIRST)
    if "," in text:
        family, _, given = text.partition(",")
        return PersonName(
            family=family.strip(),
            given=given.strip(),
            order=order or NameOrder.GIVEN_FIRST,
        )
    if order is NameOrder.FAMILY_FIRST or (order is None and is_cjk(text)):
        family, _, given = text.partition(" ")
        return PersonName(family=family, given=given.strip(), order=NameOrder.FAMILY_FIRST)
    given, _, family = text.rpartition(" ")
    if not given:
        return PersonName(given=family, order=NameOrder.GIVEN_FIRST)
    return PersonName(family=family, given=given, order=NameOrder.GIVEN_FIRST)


def normalise_name(
    name: PersonName,
    *,
    policy: NamePolicy = _DEFAULT_POLICY,
    locale: str = "en",
) -> tuple[PersonName, tuple[Problem, ...]]:
    """Normalise a :class:`PersonName`; findings have paths relative to the name (``$``).

    Returns the same object when the name is already in normal form.

    >>> name, found = normalise_name(PersonName(given="张伟"))
    >>> (name.family, name.given, name.display, found[0].code)
    ('张', '伟', '张伟', 'name.split')
    """
    family = normalise_text(name.family)
    given = normalise_text(name.given)
    order = name.order
    findings: list[Problem] = []
    if policy.split_cjk_full_names and bool(family) != bool(given):
        full = family or given
        compact = "".join(full.split())
        if _is_han(compact) and len(compact) >= 2 and not (family and compact in COMPOUND_SURNAMES):
            family, given = _split_cjk(compact)
            findings.append(
                finding("name.split", locale=locale, full=full, family=family, given=given)
            )
    full_text = family + given
    if (
        policy.correct_cjk_order
        and order is not NameOrder.FAMILY_FIRST
        and not full_text.isascii()  # ASCII letters are never CJK
        and is_cjk(full_text)
    ):
        order = NameOrder.FAMILY_FIRST
        findings.append(finding("name.order_corrected", "$.order", locale=locale))
    changes: dict[str, object] = {}
    if family != name.family:
        changes["family"] = family
    if given != name.given:
        changes["given"] = given
    if order is not name.order:
        changes["order"] = order
    return (replace(name, **changes) if changes else name), tuple(findings)
