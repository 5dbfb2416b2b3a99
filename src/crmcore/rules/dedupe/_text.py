"""Text folding shared by the blocking keys and the comparisons.

``fold`` is the one normal form names, streets and identifiers are compared in:
Unicode NFKC (full-width ``Ｚｈａｎｇ`` is ``zhang``), case folded, Latin diacritics
removed (``Müller`` is ``muller``), punctuation dropped and whitespace collapsed.
CJK text keeps its characters (NFKC only: Hangul is never split into jamo).

``romanise`` gives the Latin form a name is matched in across scripts: a Han name
is written in pinyin without tones (``张伟`` and ``張偉`` are both ``zhang`` + ``wei``)
when the optional ``pypinyin`` package is installed (``pip install 'crmcore[cjk]'``);
without it a Han name is its own romanisation and only matches Han text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "HAS_PINYIN", "fold", "fold_reference", "has_han", "initial", "romanise", "strip_marks",
]  # fmt: skip

from collections.abc import Callable

from crmcore._fastpaths import fast_paths_enabled, on_switch

_lazy_pinyin: Callable[[str], list[str]] | None
try:  # pragma: no cover - which branch runs depends on the environment
    from pypinyin import lazy_pinyin as _lazy_pinyin

    HAS_PINYIN = True
except ImportError:  # pragma: no cover
    _lazy_pinyin = None
    HAS_PINYIN = False


def _is_han(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2FFFF
        or 0xF900 <= code <= 0xFAFF
    )


def has_han(text: str) -> bool:
    """True when ``text`` holds at least one Han (Chinese) character."""
    return not text.isascii() and any(map(_is_han, text))


def strip_marks(text: str) -> str:
    """Remove combining marks from Latin, Greek and Cyrillic letters (``é`` -> ``e``)."""
    if text.isascii():
        return text
    out: list[str] = []
    for char in text:
        if char.isascii() or unicodedata.category(char)[0] != "L" or _keeps_marks(char):
            out.append(char)
            continue
        decomposed = unicodedata.normalize("NFD", char)
        out.append("".join(c for c in decomposed if not unicodedata.combining(c)) or char)
    return "".join(out)


def _keeps_marks(char: str) -> bool:
    name = unicodedata.name(char, "")
    return name.startswith(("CJK ", "HANGUL", "HIRAGANA", "KATAKANA"))


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """The folded form of ``text``: NFKC, case folded, no diacritics, no punctuation.

    >>> fold("  Müller-Lüdenscheidt ")
    'muller ludenscheidt'
    >>> fold("Ｚｈａｎｇ　Ｗｅｉ")
    'zhang wei'
    >>> fold("張 偉")
    '張 偉'
    """
    if text.isascii() and fast_paths_enabled():
        # Fast path: ASCII is its own NFKC form, case folds as lower() does and has no
        # marks; one substitution replaces what is not a letter or digit.
        return " ".join(_NOT_ASCII_ALNUM.sub(" ", text.lower()).split())
    return fold_reference(text)


_NOT_ASCII_ALNUM = re.compile(r"[^0-9a-z]+")
on_switch(fold.cache_clear)  # the reference then folds every text itself


def fold_reference(text: str) -> str:
    """:func:`fold` character by character, for any text (the reference of its ASCII path)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = strip_marks(text)
    kept = [c if c.isalnum() else " " for c in text]
    return " ".join("".join(kept).split())


@lru_cache(maxsize=65536)
def romanise(text: str) -> str:
    """The Latin form of folded ``text``: pinyin syllables run together for Han characters.

    Text without Han characters is returned as it is. Without ``pypinyin`` Han text
    is returned unchanged.
    """
    if _lazy_pinyin is None or not has_han(text):
        return text
    words = []
    for word in text.split():
        words.append("".join(fold(s) for s in _lazy_pinyin(word)))
    return " ".join(w for w in words if w)


def initial(token: str) -> str:
    """The first character of a token (its first letter for Latin, a character for CJK)."""
    return token[:1]
