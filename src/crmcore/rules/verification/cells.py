"""Spreadsheet-shaped cells: the values a feed exported from a spreadsheet really sends.

A JSON feed built from a spreadsheet carries dates as the sheet showed them
(``"1990/5/1"``) and blank cells as empty strings. crmcore's converter reads both
(year-first dates, and a blank optional text field as absent); these functions read
such cells for the edges that meet raw rows outside the converter:

* :func:`read_date` reads year-first dates in the shapes spreadsheets export;
* :func:`blank_to_none` turns a blank cell into an absent value (the pipeline does
  this for every optional text field of a customer it normalises).
"""

from __future__ import annotations

import datetime as dt

from crmcore.models._atoms import read_year_first_date

__all__ = ["blank_to_none", "read_date"]


def read_date(text: str) -> dt.date | None:
    """Read a year-first date as spreadsheets write it, or return ``None``.

    Accepted: ``1990-05-01``, ``1990-5-1``, ``1990/5/1``, ``1990.5.1`` and
    ``1990年5月1日`` (surrounding spaces, full-width digits too). Day-first and
    month-first dates (``5/1/1990``) are refused: which is the day cannot be known.
    So are impossible dates (``1990/2/30``). The converter reads dates the same way
    (``crmcore.models._atoms.read_year_first_date``, this function's implementation).

    >>> read_date("1990/5/1")
    datetime.date(1990, 5, 1)
    >>> read_date("5/1/1990") is None
    True
    """
    return read_year_first_date(text)


def blank_to_none(text: str | None) -> str | None:
    r"""``None`` for a blank cell (empty or only whitespace, ideographic spaces too), else ``text``.

    >>> blank_to_none("\u3000"), blank_to_none(" A ")
    (None, ' A ')
    """
    if text is None or text.strip():
        return text
    return None
