"""A column of results with an error slot per cell."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from kpi_xl.core.errors import KpiError


def no_errors(size: int) -> np.ndarray:
    return np.full(size, None, dtype=object)


def present(cells: np.ndarray) -> np.ndarray:
    """Boolean mask of the elements of an object array that are not ``None`` (compared with
    ``==``, which for what these arrays hold — errors, numbers, text — is the same)."""
    return ~np.equal(cells, None)


@dataclass(frozen=True)
class Column:
    """``values[i]`` is the result of cell i unless ``errors[i]`` holds a :class:`KpiError`.

    ``values`` is float64 (NaN where there is an error) for numeric results, or an object
    array for labels and mixed results.
    """

    values: np.ndarray
    errors: np.ndarray

    @classmethod
    def numeric(cls, values: np.ndarray, errors: np.ndarray | None = None) -> Column:
        values = np.asarray(values, dtype=np.float64)
        return cls(values, no_errors(values.shape[0]) if errors is None else errors)

    def __len__(self) -> int:
        return int(self.values.shape[0])

    @property
    def failed(self) -> np.ndarray:
        """Boolean mask of cells holding an error."""
        return present(self.errors)

    def cells(self) -> Iterator[object]:
        """Each cell as a Python value or its KpiError."""
        for value, error in zip(self.values.tolist(), self.errors, strict=True):
            yield error if error is not None else value

    def first_error(self) -> KpiError | None:
        for error in self.errors:
            if error is not None:
                return error
        return None


def merge_errors(*error_arrays: np.ndarray) -> np.ndarray:
    """Per cell, the first error among several inputs (left to right)."""
    merged = error_arrays[0].copy()
    for errors in error_arrays[1:]:
        empty = ~present(merged)
        merged[empty] = errors[empty]
    return merged
