"""Pausing Python's cyclic garbage collector around bulk work."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic collector while building many small containers that all stay alive (a
    read book, a recalculation's results, a refresh's rows): with millions of objects alive,
    each full collection it would start walks them all, to find no cycles worth collecting.
    The collector's previous state is restored on the way out, error or not; cycles made
    meanwhile are collected once it runs again. Also usable as a decorator."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
