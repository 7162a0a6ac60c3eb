"""The JSON fields of a stored event that the FSMA 204 rows read, extracted by the database (one
text column each) instead of decoding the event's lists in Python for every row: the reference
documents of ``bizTransactionList`` and the first party of a kind in ``sourceList`` /
``destinationList``.  PostgreSQL (``json_array_elements ... WITH ORDINALITY``) and SQLite
(``json_each``) give the same text; list order is kept (ordinality / key).

The rules are those the Python path applied to decoded lists: only JSON objects count; an entry's
``type`` matches a kind when it ends with it (``owning_party`` matches the CBV URI and the bare
word); its party is ``source``, else (absent, null or empty) ``destination``, and must be a string."""

from __future__ import annotations

from typing import Any

from sqlalchemy import literal_column

SEP = "\x1f"  # unit separator between the reference documents of one event (not in identifiers)


def _elements_pg(field: str) -> str:
    doc = f"event.document -> '{field}'"
    return (
        f"json_array_elements(CASE WHEN json_typeof({doc}) = 'array' THEN {doc} END) "
        "WITH ORDINALITY AS t(x, n) WHERE json_typeof(x) = 'object'"
    )


def _elements_sqlite(field: str) -> str:
    return (
        f"json_each(CASE WHEN json_type(event.document, '$.{field}') = 'array' "
        f"THEN json_extract(event.document, '$.{field}') END) AS t WHERE t.type = 'object'"
    )


def doc_list(dialect: str, key: str, label: str) -> Any:
    """``bizTransactionList``'s ``key`` (``type`` or ``bizTransaction``) of every entry, joined by
    ``SEP`` in list order ('' for an absent or null key; NULL when there is no entry)."""
    if dialect == "postgresql":
        sql = (
            f"(SELECT string_agg(coalesce(x ->> '{key}', ''), chr(31) ORDER BY n) "
            f"FROM {_elements_pg('bizTransactionList')})"
        )
    else:
        sql = (
            f"(SELECT group_concat(v, char(31)) FROM (SELECT coalesce(json_extract(t.value, '$.{key}'), '') AS v "
            f"FROM {_elements_sqlite('bizTransactionList')} ORDER BY t.key))"
        )
    return literal_column(sql).label(label)


def first_party(dialect: str, field: str, kinds: tuple[str, ...], label: str) -> Any:
    """The party (URI) of the first entry of ``field`` whose type ends with ``kinds[0]``, else with
    ``kinds[1]`` ...; NULL when none."""
    if dialect == "postgresql":
        typ = "coalesce(x ->> 'type', '')"
        src, dst = "x -> 'source'", "x -> 'destination'"
        party = (
            f"CASE WHEN json_typeof({src}) = 'string' AND x ->> 'source' <> '' THEN x ->> 'source' "
            f"WHEN ({src} IS NULL OR json_typeof({src}) = 'null' OR x ->> 'source' = '') "
            f"AND json_typeof({dst}) = 'string' THEN x ->> 'destination' END"
        )
        rank = " ".join(f"WHEN right({typ}, {len(k)}) = '{k}' THEN {i}" for i, k in enumerate(kinds))
        sql = (
            f"(SELECT p FROM (SELECT {party} AS p, CASE {rank} END AS r, n FROM {_elements_pg(field)}) s "
            "WHERE p IS NOT NULL AND r IS NOT NULL ORDER BY r, n LIMIT 1)"
        )
    else:
        typ = "coalesce(json_extract(t.value, '$.type'), '')"
        st, dt = "json_type(t.value, '$.source')", "json_type(t.value, '$.destination')"
        src, dst = "json_extract(t.value, '$.source')", "json_extract(t.value, '$.destination')"
        party = (
            f"CASE WHEN {st} = 'text' AND {src} <> '' THEN {src} "
            f"WHEN ({st} IS NULL OR {st} = 'null' OR ({st} = 'text' AND {src} = '')) "
            f"AND {dt} = 'text' THEN {dst} END"
        )
        rank = " ".join(f"WHEN substr({typ}, -{len(k)}) = '{k}' THEN {i}" for i, k in enumerate(kinds))
        sql = (
            f"(SELECT p FROM (SELECT {party} AS p, CASE {rank} END AS r, t.key AS n FROM {_elements_sqlite(field)}) s "
            "WHERE p IS NOT NULL AND r IS NOT NULL ORDER BY r, n LIMIT 1)"
        )
    return literal_column(sql).label(label)
