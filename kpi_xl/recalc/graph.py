"""Group-level dependency graph: which groups write the cells a group reads, and an
evaluation order (strongly connected components, dependencies first)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from kpi_xl.recalc.compile import Group, Rect


class OutputIndex:
    """Where each group writes: column intervals, plus the ranges of array formulas."""

    def __init__(self, groups: list[Group]) -> None:
        intervals: dict[tuple[str, int], list[tuple[int, int, int]]] = {}
        self.areas: list[tuple[Rect, int]] = []
        for gid, group in enumerate(groups):
            if group.target is not None:
                r1, c1, r2, c2 = group.target
                self.areas.append(((group.sheet, r1, r2, c1, c2), gid))
            else:
                intervals.setdefault((group.sheet, group.col), []).append(
                    (group.row0, group.last_row, gid))
        self.columns: dict[tuple[str, int], tuple[list[int], list[int], list[int]]] = {}
        self.sheet_columns: dict[str, list[int]] = {}
        for (sheet, col), items in intervals.items():
            items.sort()
            self.columns[(sheet, col)] = ([i[0] for i in items], [i[1] for i in items],
                                          [i[2] for i in items])
            self.sheet_columns.setdefault(sheet, []).append(col)
        for cols in self.sheet_columns.values():
            cols.sort()

    def writers(self, rect: Rect) -> set[int]:
        sheet, r1, r2, c1, c2 = rect
        found: set[int] = set()
        cols = self.sheet_columns.get(sheet, [])
        lo, hi = bisect.bisect_left(cols, c1), bisect.bisect_right(cols, c2)
        for col in cols[lo:hi]:
            starts, ends, gids = self.columns[(sheet, col)]
            first = bisect.bisect_left(ends, r1)
            last = bisect.bisect_right(starts, r2)
            found.update(gids[first:last])
        for (s, a1, a2, b1, b2), gid in self.areas:
            if s == sheet and a1 <= r2 and a2 >= r1 and b1 <= c2 and b2 >= c1:
                found.add(gid)
        return found


def dependencies(groups: list[Group]) -> list[set[int]]:
    index = OutputIndex(groups)
    return [set().union(*(index.writers(rect) for rect in group.refs)) if group.refs else set()
            for group in groups]


def components(edges: list[set[int]]) -> Iterable[list[int]]:
    """Tarjan's SCCs (iterative); each component comes after all it depends on."""
    count = len(edges)
    index_of = [-1] * count
    low = [0] * count
    on_stack = [False] * count
    stack: list[int] = []
    counter = 0
    for root in range(count):
        if index_of[root] != -1:
            continue
        work = [(root, iter(edges[root]))]
        index_of[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if index_of[child] == -1:
                    index_of[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack[child] = True
                    work.append((child, iter(edges[child])))
                    advanced = True
                    break
                if on_stack[child]:
                    low[node] = min(low[node], index_of[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index_of[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component.append(member)
                    if member == node:
                        break
                yield component
