"""Selective disclosure (consensus/disclosure.py): golden vectors of the commitment format, checked
against an independent computation (hashlib, json, eth_hash keccak), and properties."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import VECTORS
from traceability_api.consensus import disclosure as d

CASES = json.loads((VECTORS / "disclosure" / "disclosure-vectors.json").read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_golden_vectors(case: dict[str, Any]) -> None:
    event, fields = case["event"], case["fields"]
    assert [(f["path"], f["value"]) for f in fields] == d.fields_of(event)
    for f in fields:
        # independent of the module: the spec's words, in the standard library and eth_hash
        text = json.dumps([f["salt"], f["path"], f["value"]], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == f["digest"]
        assert keccak(keccak(bytes.fromhex(f["digest"]))).hex() == f["leaf"]
    salts = {f["path"]: f["salt"] for f in fields}
    assert d.commit(event, salts).root_hex == case["root"]
    bound = f"agritrace-disclosure\n{case['hashId']}\n{case['root']}".encode()
    assert hashlib.sha256(bound).hexdigest() == case["commitmentDigest"]
    assert d.commitment_digest(case["hashId"], case["root"]) == case["commitmentDigest"]
    revealed = [{k: f[k] for k in ("salt", "path", "value", "proof")} for f in fields]
    assert d.check_revealed(case["root"], revealed) == []


def test_vectors_cover_escapes_utf8_and_nested_fields() -> None:
    paths = {f["path"] for c in CASES for f in c["fields"]}
    assert {"/agri:buyer/a~1b~0c", "/agri:diary/dose", "/agri:buyer/empty"} <= paths
    assert all(not p.startswith("/@context") for p in paths)
    assert d.value_at(CASES[1]["event"], "/agri:buyer/a~1b~0c") is True


def test_a_changed_value_salt_or_path_fails() -> None:
    case = CASES[0]
    f = next(x for x in case["fields"] if x["path"] == "/agri:diary/phi_days")
    good = {k: f[k] for k in ("salt", "path", "value", "proof")}
    assert d.check_revealed(case["root"], [good]) == []
    for change in ({"value": 0}, {"value": "7"}, {"salt": f["salt"] + "x"}, {"path": "/agri:diary/dose"},
                   {"proof": good["proof"][:-1]}):  # fmt: skip
        assert d.check_revealed(case["root"], [good | change]), change
    assert d.check_revealed(case["root"], [good, good])  # the same field twice
    assert d.check_revealed(case["root"], ["not an object"])
    with pytest.raises(ValueError):
        d.commitment_digest("not a hash id", case["root"])


json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
events = st.dictionaries(st.text(min_size=1, max_size=10).filter(lambda k: k not in d.NOT_FIELDS), json_values,
                         min_size=1, max_size=8)  # fmt: skip


def _leaves(obj: Any) -> bool:
    return bool(d.fields_of(obj))


@settings(max_examples=150, deadline=None)
@given(events.filter(_leaves), st.data())
def test_any_subset_of_fields_reveals_and_verifies(event: dict[str, Any], data: st.DataObject) -> None:
    salts = d.salts_for(event)
    root = d.commit(event, salts).root_hex
    paths = [p for p, _ in d.fields_of(event)]
    chosen = data.draw(st.lists(st.sampled_from(paths), unique=True))
    revealed = d.reveal(event, salts, chosen)
    assert [r["path"] for r in revealed] == chosen
    assert d.check_revealed(root, revealed) == []
    redacted = d.redacted(revealed)
    for r in revealed:  # the redacted object holds exactly the revealed values
        assert d.value_at(redacted, r["path"]) == r["value"]
    if revealed:  # any change of a revealed value fails
        bad = dict(revealed[0], value=["changed", revealed[0]["value"]])
        assert d.check_revealed(root, [bad])


@settings(max_examples=100, deadline=None)
@given(events.filter(_leaves))
def test_fresh_salts_hide_equal_values(event: dict[str, Any]) -> None:
    """Two commitments of the same event differ (salts are random), so a root reveals nothing."""
    assert d.commit(event, d.salts_for(event)).root_hex != d.commit(event, d.salts_for(event)).root_hex
