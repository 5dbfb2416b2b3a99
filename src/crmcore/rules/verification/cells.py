"""Spreadsheet-shaped cells: the values a feed exported from a spreadsheet really sends.

A JSON feed built from a spreadsheet carries dates as the sheet showed them
(``"1990/5/1"``) and blank cells as empty strings. crmcore's converter is strict
(ISO 8601 dates only, blank text where the model refuses it is an error), and the
normalisation pipeline works on models that are already typed; these functions are
the one place where such cells are read, for the edges that meet raw rows:

* :func:`read_date` reads year-first dates in the shapes spreadsheets export;
* :func:`blank_to_none` turns a blank cell into an absent value (the pipeline does
  this for every optional text field of a customer it normalises).
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["blank_to_none", "read_date"]

# year first, then month and day, separated by -, /, . or written 1990年5月1日
_DATE = re.compile(r"(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?")


def read_date(text: str) -> dt.date | None:
    """Read a year-first date as spreadsheets write it, or return ``None``.

    Accepted: ``1990-05-01``, ``1990-5-1``, ``1990/5/1``, ``1990.5.1`` and
    ``1990年5月1日`` (surrounding spaces, full-width digits too). Day-first and
    month-first dates (``5/1/1990``) are refused: which is the day cannot be known.
    So are impossible dates (``1990/2/30``).

    >>> read_date("1990/5/1")
    datetime.date(1990, 5, 1)
    >>> read_date("5/1/1990") is None
    True
    """
    match = _DATE.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def blank_to_none(text: str | None) -> str | None:
    r"""``None`` for a blank cell (empty or only whitespace, ideographic spaces too), else ``text``.

    >>> blank_to_none("\u3000"), blank_to_none(" A ")
    (None, ' A ')
    """
    if text is None or text.strip():
        return text
    return None
