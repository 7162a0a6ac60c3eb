"""The anchoring worker: pending outbox rows -> Merkle batch -> root on chain; tree stored, proofs read from it.

Crash safety.  Every step is a committed state the next run resumes from:

1. ``prepare``: the tree (its node array; each item its leaf's index in it) and the *signed*
   transaction are stored with the batch (status ``prepared``) in the same DB transaction that
   assigns the items to it.
2. ``send``: the stored raw transaction is broadcast (re-broadcasting it is harmless), status ``sent``.
3. ``confirm``: receipt and confirmations; the embedded node's state is dumped to disk
   (``persist``) and only then is the batch recorded ``anchored``, so the chain on disk never
   falls behind the database.

On resume a batch that is not ``anchored`` is first looked up on chain (``anchorOf(root)``): if
the root is there, its RootAnchored log gives the transaction and block; if not, the stored
transaction is re-broadcast, or re-signed with a fresh nonce if its nonce was used meanwhile.
The contract refuses a root anchored twice, and an item is never put in two batches, so no
event is lost and no root is anchored twice.  While the chain is unreachable the worker backs
off; capture is unaffected.  At start, after an outage and every ``anchor_reconcile_s``, anchored
batches are checked against the chain and any whose root is missing is anchored again
(:mod:`traceability_api.anchoring.reconcile`).
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from chain import merkle
from chain.client import AnchorContract, Receipt, SentTx
from chain.errors import AnchorError, ChainUnavailable, RootAlreadyAnchored
from traceability_api.anchoring import lease
from traceability_api.anchoring.chain_runtime import ChainRuntime
from traceability_api.anchoring.models import AnchorBatch, AnchorItem, AnchorTree, BatchStatus
from traceability_api.anchoring.reconcile import reopen_missing
from traceability_api.background import BackgroundLoop
from traceability_api.config import Settings
from traceability_api.timeutil import utcnow

log = logging.getLogger(__name__)
LEASE = "anchoring"
# crash points, in the order a batch passes them (during_dump is hit inside the node's dump)
FAULT_POINTS = ("after_prepare", "before_send", "after_send", "after_receipt", "during_dump", "after_dump")
LEASE_RETRY_S = 5.0  # a worker without the lease asks for it this often (the holder renews it well before expiry)
RECENT_BATCHES = 100  # how many of the newest anchored batches a periodic reconciliation checks


class AnchoringWorker:
    def __init__(
        self,
        engine: Engine,
        contract: AnchorContract,
        settings: Settings,
        *,
        fault: Callable[[str], None] | None = None,
        persist: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.contract = contract
        self.settings = settings
        self.holder = lease.holder_id()
        self.fault = fault or _fault_from_env()
        self.persist = persist  # puts the chain state on disk (embedded node) before an anchor is recorded
        self.chain_id = contract.chain_id()
        self.full_check = True  # reconcile every anchored batch on the next pass
        self._checked_at = 0.0
        self._renew_at = 0.0  # monotonic time the lease is renewed next (0: not held)
        self._retry_at = 0.0  # while another process holds the lease: when to ask again

    # ---- one pass --------------------------------------------------------------------------
    def run_once(self, *, force: bool = True) -> int:
        """Resume unfinished batches, then anchor one new batch if due.  Returns items anchored."""
        if not self.hold_lease():
            return 0
        self.reconcile()
        anchored = self.resume()
        batch_id, reused = self.prepare(force=force)
        if batch_id is not None:
            anchored += self.finish(batch_id, fresh=True)
        return anchored + reused

    def hold_lease(self) -> bool:
        """Take or renew the worker lease.  The holder renews it once a third of its time has
        passed, not on every pass: the worker polls every ``anchor_poll_s`` and a write per poll
        would compete with capture for the database."""
        now = time.monotonic()
        if now < self._renew_at:
            return True
        if now < self._retry_at:
            return False  # another process holds it: ask again a few seconds later, not every poll
        ttl = self.lease_ttl_s
        if not lease.acquire(self.engine, LEASE, self.holder, ttl_s=ttl):
            self._renew_at, self._retry_at = 0.0, now + LEASE_RETRY_S
            return False
        self._renew_at = now + ttl / 3
        return True

    @property
    def lease_ttl_s(self) -> float:
        """Long enough to outlast one pass waiting for a receipt, so a live holder never loses it."""
        return max(30.0, 2 * self.settings.anchor_rpc_timeout_s)

    def reconcile(self) -> list[int]:
        """Reopen anchored batches whose root the chain lacks (all of them after start or an
        outage, else the newest few every ``anchor_reconcile_s``)."""
        if not self.full_check and time.monotonic() - self._checked_at < self.settings.anchor_reconcile_s:
            return []
        limit = None if self.full_check else RECENT_BATCHES
        reopened = reopen_missing(self.engine, self.contract, lambda b: self._sign(b, None), limit)
        self.full_check, self._checked_at = False, time.monotonic()
        return reopened

    def resume(self) -> int:
        with Session(self.engine) as s:
            open_ids = s.exec(
                select(AnchorBatch.id)
                .where(AnchorBatch.status.in_([BatchStatus.prepared, BatchStatus.sent]))  # type: ignore[attr-defined]
                .order_by(AnchorBatch.id)  # type: ignore[arg-type]
            ).all()
        return sum(self.finish(bid) for bid in open_ids if bid is not None)

    # ---- step 1 -----------------------------------------------------------------------------
    def prepare(self, *, force: bool) -> tuple[int | None, int]:
        """Build and sign the next batch.  Returns (new batch id, items that joined an already
        anchored batch with the same root, which happens when every leaf was anchored before)."""
        st = self.settings
        with Session(self.engine) as s:
            pending = select(AnchorItem).where(AnchorItem.batch_id.is_(None))  # type: ignore[union-attr]
            if not force:
                n, oldest = s.exec(
                    select(func.count(), func.min(AnchorItem.created_at)).where(AnchorItem.batch_id.is_(None))  # type: ignore[union-attr]
                ).one()
                # due: a full batch, or the oldest item has waited anchor_max_delay_s for company
                if n == 0 or (n < st.anchor_batch_max and oldest > utcnow() - timedelta(seconds=st.anchor_max_delay_s)):
                    return None, 0
            items = s.exec(pending.order_by(AnchorItem.id).limit(st.anchor_batch_max).with_for_update()).all()  # type: ignore[arg-type]
            if not items:
                return None, 0
            leaves = _leaves_of(items)
            tree = merkle.build(list(leaves.values()), merge_duplicates=True)  # identical events share one leaf

            def assign(batch_id: int | None, stored_tree: bool) -> None:
                # with the batch's tree stored, an item keeps its leaf's index in it (its proof is
                # read from the tree on demand); a batch anchored before the trees were stored keeps
                # a proof per item
                rows: list[dict[str, Any]]
                if stored_tree:
                    at = tree.positions
                    rows = [{"id": it.id, "batch_id": batch_id, "leaf": leaves[it.id].hex(), "node": at[leaves[it.id]],
                             "proof": None} for it in items]  # fmt: skip
                else:
                    rows = [{"id": it.id, "batch_id": batch_id, "leaf": leaves[it.id].hex(), "node": None,
                             "proof": [p.hex() for p in tree.proof(leaves[it.id])]} for it in items]  # fmt: skip
                s.execute(update(AnchorItem), rows)

            same = s.exec(select(AnchorBatch).where(AnchorBatch.root == tree.root.hex())).first()
            if same is not None and same.status == BatchStatus.anchored:
                # the same root is the same set of leaves, so the same tree
                has_tree = s.exec(select(AnchorTree.batch_id).where(AnchorTree.batch_id == same.id)).first() is not None
                assign(same.id, has_tree)
                s.commit()
                return None, len(items)
            batch = AnchorBatch(
                root=tree.root.hex(), leaf_count=tree.leaf_count, chain_id=self.chain_id,
                contract_address=self.contract.address,
            )  # fmt: skip
            s.add(batch)
            s.flush()
            assert batch.id is not None
            try:
                tx_hash: str | None = self._sign(batch, None).tx_hash
            except RootAlreadyAnchored:
                # the chain holds this root already (a database restored from before the batch was
                # recorded, its chain state from after): no transaction; ``finish`` records the
                # batch from the chain's own record of the root
                tx_hash = None
            s.add(batch)
            s.add(AnchorTree(batch_id=batch.id, nodes=b"".join(tree.nodes)))
            assign(batch.id, True)
            s.commit()
            log.info("prepared batch %s: %d items, root %s, tx %s", batch.id, len(items), batch.root, tx_hash)
            self._hit("after_prepare")
            return batch.id, 0

    def _sign(self, batch: AnchorBatch, nonce: int | None) -> SentTx:
        assert batch.id is not None
        tx = self.contract.build_anchor_tx(bytes.fromhex(batch.root), batch.id % 2**32, batch.leaf_count, nonce=nonce)
        batch.raw_tx, batch.tx_hash, batch.nonce = tx.raw, tx.tx_hash, tx.nonce
        return tx

    # ---- steps 2 and 3 ------------------------------------------------------------------------
    def finish(self, batch_id: int, *, fresh: bool = False) -> int:
        """Send, confirm and record a batch.  ``fresh``: prepared in this very pass, so its
        transaction was simulated and signed with the current nonce moments ago and the chain
        lookups that a resumed batch needs (root already there? nonce used meanwhile?) are skipped."""
        with Session(self.engine) as s:
            batch = s.get(AnchorBatch, batch_id)
            assert batch is not None
            if batch.status == BatchStatus.anchored:
                return 0
            root = bytes.fromhex(batch.root)
            gas: int | None = None
            if fresh and batch.raw_tx is not None:  # else prepared without a transaction: the root is on chain
                assert batch.tx_hash is not None and batch.nonce is not None
                self._broadcast(s, batch, SentTx(batch.tx_hash, batch.raw_tx, batch.nonce))
                receipt = self._wait(batch, root)
                receipt_block, gas = receipt.block_number, receipt.gas_used
            else:
                if self.contract.anchor_of(root) is None:
                    self._send(s, batch)
                receipt_block = self._confirmed_block(batch, root)
            self._hit("after_receipt")
            tx_block = self.contract.find_anchor_tx(root, from_block=max(0, receipt_block - 1))
            if tx_block is None:
                raise AnchorError(f"batch {batch_id}: root {batch.root} confirmed but its RootAnchored log is missing")
            sent_hash = batch.tx_hash
            batch.tx_hash, batch.block_number = tx_block
            batch.block_timestamp = self.contract.block_timestamp(batch.block_number)
            same_tx = gas is not None and sent_hash == batch.tx_hash  # the receipt we waited for is the anchor's
            batch.gas_used = gas if same_tx and gas is not None else self.contract.gas_used(batch.tx_hash)
            batch.status = BatchStatus.anchored
            batch.anchored_at = utcnow()
            if self.persist is not None:
                self.persist()  # the chain state with this root is on disk before the DB says so
            self._hit("after_dump")
            s.add(batch)
            s.commit()
            n = s.exec(select(func.count()).where(AnchorItem.batch_id == batch_id)).one()
            log.info("anchored batch %s (%d items) in block %s", batch_id, n, batch.block_number)
            return int(n)

    def _send(self, s: Session, batch: AnchorBatch) -> None:
        # sign (again) with a fresh nonce: a batch prepared while the chain held its root, which it
        # no longer does (a chain reset), has no transaction; a stored one's nonce may have gone to
        # another transaction
        if (
            batch.raw_tx is None
            or batch.tx_hash is None
            or batch.nonce is None
            or (self.contract.pending_nonce() > batch.nonce and not self._known(batch.tx_hash))
        ):
            try:
                self._sign(batch, None)
            except RootAlreadyAnchored:
                return
            s.add(batch)
            s.commit()
        assert batch.raw_tx is not None and batch.tx_hash is not None and batch.nonce is not None
        self._broadcast(s, batch, SentTx(batch.tx_hash, batch.raw_tx, batch.nonce))

    def _broadcast(self, s: Session, batch: AnchorBatch, sent: SentTx) -> None:
        self._hit("before_send")
        self.contract.broadcast(sent)
        if batch.status == BatchStatus.prepared:
            batch.status = BatchStatus.sent
            s.add(batch)
            s.commit()
        self._hit("after_send")

    def _known(self, tx_hash: str) -> bool:
        return bool(tx_hash) and self.contract.tx_known(tx_hash)

    def _confirmed_block(self, batch: AnchorBatch, root: bytes) -> int:
        if self.contract.anchor_of(root) is not None and not self._known(batch.tx_hash or ""):
            found = self.contract.find_anchor_tx(root)
            assert found is not None
            return found[1]
        return self._wait(batch, root).block_number

    def _wait(self, batch: AnchorBatch, root: bytes) -> Receipt:
        assert batch.tx_hash is not None
        receipt = self.contract.wait(
            batch.tx_hash,
            timeout_s=self.settings.anchor_rpc_timeout_s,
            confirmations=self.settings.anchor_confirmations,
        )
        if receipt.status != 1 and self.contract.anchor_of(root) is None:
            raise AnchorError(f"anchoring transaction {batch.tx_hash} of batch {batch.id} reverted")
        return receipt

    def _hit(self, point: str) -> None:
        if self.fault is not None:
            self.fault(point)


def _leaves_of(items: Sequence[AnchorItem]) -> dict[int | None, bytes]:
    """Each item's Merkle leaf: the one its row got when it was queued, else (rows queued by a
    version before leaves were computed at capture) computed from its digest now."""
    out = {it.id: bytes.fromhex(it.leaf) for it in items if it.leaf is not None}
    missing = [it for it in items if it.leaf is None]
    if missing:
        digests = [bytes.fromhex(it.digest) for it in missing]
        out.update(zip([it.id for it in missing], merkle.leaves_of_digests(digests), strict=True))
    return out


def _fault_from_env() -> Callable[[str], None] | None:
    """AGRITRACE_FAULT=<point>: SIGKILL this process at that point (crash tests only)."""
    target = os.environ.get("AGRITRACE_FAULT")
    if not target:
        return None

    def die(point: str) -> None:
        if point == target:
            os.kill(os.getpid(), signal.SIGKILL)

    return die


def pending_count(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).where(AnchorItem.batch_id.is_(None))).one())  # type: ignore[union-attr]


class WorkerLoop(BackgroundLoop):
    """Runs the worker until stopped: a pass as soon as items are due, else a look every
    ``anchor_poll_s`` (a read of the pending count); after a failure it waits
    ``anchor_interval_s``, doubling up to a minute while the chain is unreachable.  The service
    runs it in a thread (:meth:`start`), ``agritrace anchor --no-once`` in the foreground (:meth:`run`)."""

    thread_name = "anchoring-worker"
    failure = "anchoring pass failed; will retry"
    join_timeout_s = 30.0

    def __init__(self, worker: AnchoringWorker, on_pass: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self.worker = worker
        self.on_pass = on_pass  # called with the items a pass anchored, when it anchored any
        self.interval_s = worker.settings.anchor_interval_s
        self.poll_s = worker.settings.anchor_poll_s
        self.backoff_s = self.interval_s

    def stop(self) -> None:
        super().stop()
        lease.release(self.worker.engine, LEASE, self.worker.holder)

    def round(self) -> float:
        try:
            n = self.worker.run_once(force=False)
        except ChainUnavailable as exc:
            self.worker.full_check = True  # the node may have come back with less state
            self.backoff_s = min(60.0, self.backoff_s * 2)
            log.warning("chain unavailable, events wait (retry in %.0f s): %s", self.backoff_s, exc)
            return self.backoff_s
        self.backoff_s = self.interval_s
        if n:
            if self.on_pass is not None:
                self.on_pass(n)
            return 0.0  # more may be due already (a full batch left items behind)
        return self.poll_s

    def retry_s(self) -> float:
        return self.interval_s


def make_worker(engine: Engine, chain: ChainRuntime, settings: Settings) -> AnchoringWorker:
    """The worker of this chain, persisting the embedded node's state before each anchor."""
    worker = AnchoringWorker(engine, chain.contract, settings, persist=chain.persist)
    if chain.node is not None:
        chain.node.fault = worker.fault
    return worker
