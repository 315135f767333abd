"""Headless .xlsx I/O: read a workbook into :class:`BookData`, edit parts, save atomically.

The implementation lives in small modules; this one gathers the public API:

* :func:`read_book` (``xlsx_read``) — values, formulas (shared ones expanded), array formulas,
  cached results and defined names, straight from the zip with lxml.
* :class:`XlsxEditor` (``xlsx_write``) — ``set_cached_values``, ``set_cells``,
  ``replace_sheet_rows``, ``save``; every part it does not own is copied byte for byte.
* :class:`Formula` (``cellvalues``) — a formula cell for ``replace_sheet_rows``.
* :func:`workbook_lock`, :func:`atomic_write`, :class:`WorkbookBusy` (``atomic``).
* :func:`shift_formula` (``refs``) — move relative references like Excel's fill-down.
"""

from __future__ import annotations

from .atomic import (
    WorkbookBusy,
    atomic_write,
    backup_path,
    check_not_open_in_excel,
    excel_owner_file,
    lock_file,
    workbook_lock,
)
from .cellvalues import Formula
from .ooxml import WorkbookFormatError
from .refs import shift_formula
from .xlsx_read import read_book
from .xlsx_write import XlsxEditor

__all__ = [
    "Formula",
    "WorkbookBusy",
    "WorkbookFormatError",
    "XlsxEditor",
    "atomic_write",
    "backup_path",
    "check_not_open_in_excel",
    "excel_owner_file",
    "lock_file",
    "read_book",
    "shift_formula",
    "workbook_lock",
]
