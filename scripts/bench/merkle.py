#!/usr/bin/env python
"""Benchmark: Merkle tree with every proof, against a minimal reference tree on the same keccak.

    .venv/bin/python scripts/bench/merkle.py [--leaves 1000000] [--repeat 3]

Both sides start from the same random 32-byte digests and end with the root and every leaf's
proof: leaf hashing (keccak(keccak(digest))), sorting, the inner nodes and the proofs.  The
project side is what the anchoring worker runs (``chain.merkle``: tree, then every proof as hex
strings, the form stored per item); the reference is the ~20-line level-list tree below with the
same keccak binding (safe-pysha3), proofs as bytes.  Prints each repetition, min and median of
both, and the ratio project/reference (lower is better).  A figure, not a test.
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


def project(digests: list[bytes]) -> tuple[bytes, dict[bytes, list[str]]]:
    tree = merkle.build([merkle.leaf_of_digest(d) for d in digests])
    return tree.root, tree.hex_proofs()


def timed(fn, digests):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    root, proofs = fn(digests)
    dt = time.perf_counter() - t0
    assert len(proofs) == len(digests)
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--leaves", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    digests = [os.urandom(32) for _ in range(a.leaves)]
    proj: list[float] = []
    ref: list[float] = []
    ref_ng: list[float] = []
    for i in range(a.repeat):
        ref.append(timed(reference, digests))
        ref_ng.append(timed(reference_no_gc, digests))
        proj.append(timed(project, digests))
        print(f"run {i + 1}: project {proj[-1]:.2f} s   reference {ref[-1]:.2f} s (GC paused {ref_ng[-1]:.2f} s)   "  # noqa: T201
              f"ratio {proj[-1] / ref[-1]:.2f} ({proj[-1] / ref_ng[-1]:.2f})")  # fmt: skip
    pm, rm, rn = statistics.median(proj), statistics.median(ref), statistics.median(ref_ng)
    print(  # noqa: T201
        f"merkle {a.leaves:,} leaves, root + all proofs: project min {min(proj):.2f} / median {pm:.2f} s; "
        f"reference min {min(ref):.2f} / median {rm:.2f} s; ratio (median) {pm / rm:.2f}; "
        f"reference with GC paused min {min(ref_ng):.2f} / median {rn:.2f} s; ratio {pm / rn:.2f}"
    )


if __name__ == "__main__":
    main()
