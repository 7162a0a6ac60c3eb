"""Golden vectors of the anchored record digests (consensus/records.py) and the proof checks
(consensus/proofs.py).  The digests were computed by the code that anchored them before the core
existed; a change here changes what is already on chain."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chain import merkle
from traceability_api.consensus.proofs import leaf_of_digest_hex, leaf_of_hash_id, proof_leads_to
from traceability_api.consensus.records import (
    canonical_json,
    correction_digest,
    event_digest,
    readings_digest,
    write_log_digest,
)

HASH_ID = "ni:///sha-256;" + "ab" * 32 + "?ver=CBV2.0"


def test_canonical_json_is_compact_and_key_sorted() -> None:
    assert canonical_json({"b": 1, "a": ["é", 2]}, ascii_only=False) == '{"a":["é",2],"b":1}'
    assert canonical_json({"b": 1, "a": ["é", 2]}, ascii_only=True) == '{"a":["\\u00e9",2],"b":1}'


def test_event_digest_is_the_hex_inside_the_hash_id() -> None:
    assert event_digest(HASH_ID) == "ab" * 32
    for bad in ("sha256:" + "ab" * 32, "ni:///sha-256;abcd?ver=CBV2.0"):
        with pytest.raises(ValueError):
            event_digest(bad)


def test_correction_digest_vector() -> None:
    decl = {"declarationTime": "2025-03-01T10:00:00+07:00", "reason": "urn:epcglobal:cbv:er:incorrect_data",
            "correctiveEventIDs": ["ni:///x"], "agri:ghi chú": "sai số lượng"}  # fmt: skip
    assert correction_digest(HASH_ID, decl) == "0107b7415943067425d903deca287583521fb6d03dfdba26e573c3895283ba08"


def test_write_log_digest_vector() -> None:
    at = datetime(2025, 3, 1, 3, 0, 0, 123456, tzinfo=UTC)
    digest = write_log_digest(at, 3, None, "POST", "/api/v1/places/7/nhật-ký", 201)
    assert digest == "8c148e7168c43f7b1683943783a655e4a3f7bea4d7980356be9302118797d5e5"


def test_readings_digest_vector() -> None:
    readings = [(datetime(2025, 3, 1, 0, 0, tzinfo=UTC), 28.5), (datetime(2025, 3, 1, 0, 5, tzinfo=UTC), 29.0)]
    assert readings_digest(readings) == "ad9acfeecf03974c61398772084366d2b154207d58e1385ed76c1a77cab6a8ef"


def test_proof_check_accepts_the_tree_and_rejects_a_changed_leaf() -> None:
    digests = [f"{i:064x}" for i in range(1, 6)]
    tree = merkle.build([leaf_of_digest_hex(d) for d in digests])
    root = "0x" + tree.root.hex()
    for d in digests:
        leaf = leaf_of_digest_hex(d)
        proof = ["0x" + p.hex() for p in tree.proof(leaf)]
        assert proof_leads_to(leaf, proof, root)
        assert proof_leads_to(leaf, [p[2:] for p in proof], root[2:])  # stored rows carry bare hex
    assert not proof_leads_to(leaf_of_hash_id(HASH_ID), ["0x" + p.hex() for p in tree.proof(tree.nodes[-1])], root)
