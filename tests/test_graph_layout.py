"""The lineage graph's layered layout (a pure function): columns by distance, upstream left,
no overlapping boxes, neighbours kept in order so edges do not cross needlessly."""

from __future__ import annotations

from traceability_api.console.graph_layout import GAP_Y, NODE_H, NODE_W, layout


def test_columns_follow_distance_upstream_left() -> None:
    lay = layout({1: -2, 2: -1, 3: 0, 4: 1, 5: 1}, [(1, 2), (2, 3), (3, 4), (3, 5)])
    xs = {n: b.x for n, b in lay.boxes.items()}
    assert xs[1] < xs[2] < xs[3] < xs[4] == xs[5]
    assert lay.width == max(b.x for b in lay.boxes.values()) + NODE_W + 12
    x1, y1, x2, y2 = lay.edge(2, 3)
    assert x1 == lay.boxes[2].x + NODE_W and x2 == lay.boxes[3].x and y1 == lay.boxes[2].y + NODE_H // 2


def test_boxes_never_overlap() -> None:
    distances = {i: (i % 5) - 2 for i in range(1, 30)}
    lay = layout(distances, [(i, i + 1) for i in range(1, 29)])
    boxes = list(lay.boxes.values())
    assert len(boxes) == 29
    for a in boxes:
        for b in boxes:
            if a.id != b.id and a.x == b.x:
                assert abs(a.y - b.y) >= NODE_H + GAP_Y
    assert all(0 <= b.y and b.y + NODE_H <= lay.height for b in boxes)


def test_barycentre_keeps_children_next_to_their_parents() -> None:
    # upstream: 10 feeds 20, 11 feeds 21; the root's inputs 20 (row 1) and 21 (row 0) by id order would cross
    lay = layout({30: 0, 21: -1, 20: -1, 11: -2, 10: -2}, [(20, 30), (21, 30), (10, 21), (11, 20)])
    rows = {n: b.row for n, b in lay.boxes.items()}
    assert (rows[10] < rows[11]) == (rows[21] < rows[20])  # no crossing between columns -2 and -1


def test_empty_graph() -> None:
    lay = layout({}, [])
    assert lay.boxes == {} and lay.width == 0
