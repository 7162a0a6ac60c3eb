"""Layered layout of a lineage graph, a pure function: each node in the column of its distance from
the lot in view (upstream to the left, downstream to the right), nodes of a column ordered by the
mean row of their neighbours in the column nearer the centre (one barycentre sweep outwards each
way, which keeps most edges from crossing), then placed on a grid of fixed-size boxes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

NODE_W, NODE_H = 220, 84
GAP_X, GAP_Y = 70, 24
MARGIN = 12


@dataclass(frozen=True)
class Box:
    id: int
    x: int
    y: int
    column: int  # distance from the lot in view: negative upstream, positive downstream
    row: int


@dataclass(frozen=True)
class Layout:
    boxes: dict[int, Box]
    width: int
    height: int

    def edge(self, parent: int, child: int) -> tuple[int, int, int, int]:
        """(x1, y1, x2, y2): from the right side of the parent's box to the left side of the child's."""
        a, b = self.boxes[parent], self.boxes[child]
        return a.x + NODE_W, a.y + NODE_H // 2, b.x, b.y + NODE_H // 2


def layout(distances: dict[int, int], edges: list[tuple[int, int]]) -> Layout:
    """Boxes for nodes ``{id: column}`` joined by ``edges`` (parent, child)."""
    if not distances:
        return Layout({}, 0, 0)
    columns: dict[int, list[int]] = defaultdict(list)
    for node, col in distances.items():
        columns[col].append(node)
    neighbours: dict[int, set[int]] = defaultdict(set)
    for a, b in edges:
        if a in distances and b in distances:
            neighbours[a].add(b)
            neighbours[b].add(a)
    row_of: dict[int, float] = {}
    order = sorted(columns, key=lambda c: (abs(c), c))  # centre first, then outwards
    for col in order:
        inner = col - 1 if col > 0 else col + 1
        nodes = sorted(columns[col])
        if col != 0:
            nodes.sort(key=lambda n: _mean([row_of[m] for m in neighbours[n] if distances[m] == inner], n))
        for i, n in enumerate(nodes):
            row_of[n] = float(i)
        columns[col] = nodes
    lo = min(columns)
    tallest = max(len(v) for v in columns.values())
    boxes: dict[int, Box] = {}
    for col, nodes in columns.items():
        offset = (tallest - len(nodes)) * (NODE_H + GAP_Y) // 2  # centre short columns
        for row, n in enumerate(nodes):
            x = MARGIN + (col - lo) * (NODE_W + GAP_X)
            y = MARGIN + offset + row * (NODE_H + GAP_Y)
            boxes[n] = Box(n, x, y, col, row)
    width = 2 * MARGIN + (max(columns) - lo + 1) * (NODE_W + GAP_X) - GAP_X
    height = 2 * MARGIN + tallest * (NODE_H + GAP_Y) - GAP_Y
    return Layout(boxes, width, height)


def _mean(rows: list[float], node: int) -> tuple[float, int]:
    return (sum(rows) / len(rows) if rows else float("inf"), node)
