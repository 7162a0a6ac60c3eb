#!/usr/bin/env python
"""Benchmark: Merkle tree with every proof, against a minimal reference tree on the same keccak.

    .venv/bin/python scripts/bench/merkle.py [--leaves 1000000] [--repeat 3]

Both sides start from the same random 32-byte digests and end with the root and every leaf's
proof available: leaf hashing (keccak(keccak(digest))), sorting, the inner nodes and the proofs.
The project side is what the anchoring worker runs for a batch since migration 0023
(``chain.merkle``): leaves, tree, each leaf's node index (stored per item) and the node array
(stored once per batch, ``anchor_tree``), from which any proof is ~log2(n) node reads
(``merkle.proof_at``).  "all hex proofs" is the form stored per item before (every proof built
as hex strings at once, ``MerkleTree.hex_proofs``), still measured.  The reference is the
~20-line level-list tree below with the same keccak binding (safe-pysha3), every proof built as
bytes (its tree is the level-list shape, not OpenZeppelin's, so its root differs unless n is a
power of two: a yardstick of the same work).  Each run checks (untimed) that the stored node
array gives the same root and, for a sample of leaves, the same proofs as all hex proofs.  Prints
each repetition, min and median, and the ratio project/reference (lower is better).  A figure,
not a test.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sha3 import keccak_256  # noqa: E402  the keccak binding chain.merkle uses

from chain import merkle  # noqa: E402


def reference(digests: list[bytes]) -> tuple[bytes, dict[bytes, list[bytes]]]:
    """Minimal sorted-pair keccak tree: a list per level, proofs by walking the levels."""

    def k(b: bytes) -> bytes:
        return keccak_256(b).digest()  # type: ignore[no-any-return]

    leaves = sorted(k(k(d)) for d in digests)
    levels = [leaves]
    while len(levels[-1]) > 1:
        lv = levels[-1]
        nxt = [k(a + b) if a < b else k(b + a) for a, b in zip(lv[::2], lv[1::2], strict=False)]
        if len(lv) % 2:
            nxt.append(lv[-1])
        levels.append(nxt)
    proofs = {}
    for i, leaf in enumerate(leaves):
        path, j = [], i
        for lv in levels[:-1]:
            s = j ^ 1
            if s < len(lv):
                path.append(lv[s])
            j //= 2
        proofs[leaf] = path
    return levels[-1][0], proofs


def reference_no_gc(digests: list[bytes]) -> tuple[bytes, dict[bytes, list[bytes]]]:
    """The same reference with the cyclic GC paused, as chain.merkle does (a stricter yardstick)."""
    gc.disable()
    try:
        return reference(digests)
    finally:
        gc.enable()


def project(digests: list[bytes]) -> tuple[bytes, tuple[bytes, dict[bytes, int]]]:
    """The worker's batch: leaves, tree, each leaf's node index and the node array it stores."""
    tree = merkle.build(merkle.leaves_of_digests(digests))
    return tree.root, (b"".join(tree.nodes), tree.positions)


def project_from_kept_leaves(hex_leaves: list[str]) -> tuple[bytes, tuple[bytes, dict[bytes, int]]]:
    """The worker's batch since leaves are computed at capture (``outbox.enqueue``, two keccak
    calls per event there): the stored hex leaves read back, identical leaves merged, the tree,
    each leaf's node index and the node array it stores."""
    tree = merkle.build(list(map(bytes.fromhex, hex_leaves)), merge_duplicates=True)
    return tree.root, (b"".join(tree.nodes), tree.positions)


def project_all_hex(digests: list[bytes]) -> tuple[bytes, dict[bytes, list[str]]]:
    """Every proof built at once as hex strings (the per-item proof JSON of batches before 0023)."""
    tree = merkle.build(merkle.leaves_of_digests(digests))
    return tree.root, tree.hex_proofs()


SAMPLE = 1000  # leaves whose proofs are compared after each run (untimed)


def timed(fn, digests, check=None):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn(digests)
    dt = time.perf_counter() - t0
    if check is not None:
        check(out)
    return dt, out


def sample_of(out: tuple[bytes, dict[bytes, list[str]]]) -> tuple[bytes, dict[bytes, list[str]]]:
    root, hp = out
    return root, {lf: hp[lf] for lf in list(hp)[:: max(1, len(hp) // SAMPLE)]}


def same_as(expected: tuple[bytes, dict[bytes, list[str]]]):  # type: ignore[no-untyped-def]
    """Check of a stored tree: same root and, for the sample, the same proofs as all hex proofs."""
    root, sample = expected

    def check(out) -> None:  # type: ignore[no-untyped-def]
        r, (blob, positions) = out
        nodes = [blob[i : i + 32] for i in range(0, len(blob), 32)]
        assert r == root and len(nodes) == 2 * len(positions) - 1
        assert all([p.hex() for p in merkle.proof_at(nodes, positions[lf])] == sample[lf] for lf in sample)

    return check


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--leaves", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    digests = [os.urandom(32) for _ in range(a.leaves)]
    proj: list[float] = []
    hexp: list[float] = []
    ref: list[float] = []
    ref_ng: list[float] = []
    kept: list[float] = []  # the batch from leaves computed at capture
    queue: list[float] = []  # those leaves, computed all at once here (spread over captures in the service)
    for i in range(a.repeat):
        ref.append(timed(reference, digests)[0])
        ref_ng.append(timed(reference_no_gc, digests)[0])
        dt, out = timed(project_all_hex, digests)
        hexp.append(dt)
        expected = sample_of(out)
        del out
        proj.append(timed(project, digests, same_as(expected))[0])
        t0 = time.perf_counter()
        hex_leaves = [lf.hex() for lf in merkle.leaves_of_digests(digests)]  # at capture, event by event
        queue.append(time.perf_counter() - t0)
        kept.append(timed(project_from_kept_leaves, hex_leaves, same_as(expected))[0])
        del hex_leaves
        print(f"run {i + 1}: project {proj[-1]:.2f} s (from leaves kept at capture {kept[-1]:.2f} s + "  # noqa: T201
              f"{queue[-1]:.2f} s of leaf hashing at capture; all hex proofs {hexp[-1]:.2f} s)   "
              f"reference {ref[-1]:.2f} s (GC paused {ref_ng[-1]:.2f} s)   "
              f"ratio {proj[-1] / ref[-1]:.2f} ({proj[-1] / ref_ng[-1]:.2f})")  # fmt: skip
    pm, hm, rm, rn, km, qm = (statistics.median(x) for x in (proj, hexp, ref, ref_ng, kept, queue))
    print(  # noqa: T201
        f"merkle {a.leaves:,} leaves, root + every proof available (tree stored, node index per leaf): "
        f"project min {min(proj):.2f} / median {pm:.2f} s; reference min {min(ref):.2f} / median {rm:.2f} s; "
        f"ratio (median) {pm / rm:.2f}; reference with GC paused min {min(ref_ng):.2f} / median {rn:.2f} s; "
        f"ratio {pm / rn:.2f}; all hex proofs built: min {min(hexp):.2f} / median {hm:.2f} s (ratio {hm / rm:.2f}); "
        f"the worker's batch from leaves computed at capture: min {min(kept):.2f} / median {km:.2f} s "
        f"(ratio {km / rm:.2f}), those leaves' hashing {qm:.2f} s ({qm / a.leaves * 1e6:.2f} µs per event at capture)"
    )


if __name__ == "__main__":
    main()
