"""The anchoring worker: pending outbox rows -> Merkle batch -> root on chain -> proofs stored.

Crash safety.  Every step is a committed state the next run resumes from:

1. ``prepare``: tree, proofs and the *signed* transaction are stored with the batch (status
   ``prepared``) in the same DB transaction that assigns the items to it.
2. ``send``: the stored raw transaction is broadcast (re-broadcasting it is harmless), status ``sent``.
3. ``confirm``: receipt and confirmations, status ``anchored``.

On resume a batch that is not ``anchored`` is first looked up on chain (``anchorOf(root)``): if
the root is there, its RootAnchored log gives the transaction and block; if not, the stored
transaction is re-broadcast, or re-signed with a fresh nonce if its nonce was used meanwhile.
The contract refuses a root anchored twice, and an item is never put in two batches, so no
event is lost and no root is anchored twice.  While the chain is unreachable the worker backs
off; capture is unaffected.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from chain import merkle
from chain.client import AnchorContract, SentTx
from chain.errors import AnchorError, ChainError, ChainUnavailable, RootAlreadyAnchored
from traceability_api.anchoring import lease
from traceability_api.anchoring.models import AnchorBatch, AnchorItem, BatchStatus
from traceability_api.config import Settings
from traceability_api.timeutil import utcnow

log = logging.getLogger(__name__)
LEASE = "anchoring"
FAULT_POINTS = ("after_prepare", "after_send", "after_receipt")


class AnchoringWorker:
    def __init__(
        self,
        engine: Engine,
        contract: AnchorContract,
        settings: Settings,
        *,
        fault: Callable[[str], None] | None = None,
    ) -> None:
        self.engine = engine
        self.contract = contract
        self.settings = settings
        self.holder = lease.holder_id()
        self.fault = fault or _fault_from_env()
        self.chain_id = int(contract.w3.eth.chain_id)

    # ---- one pass --------------------------------------------------------------------------
    def run_once(self, *, force: bool = True) -> int:
        """Resume unfinished batches, then anchor one new batch if due.  Returns items anchored."""
        if not lease.acquire(self.engine, LEASE, self.holder, ttl_s=max(30.0, self.settings.anchor_interval_s * 6)):
            return 0
        anchored = self.resume()
        batch_id, reused = self.prepare(force=force)
        if batch_id is not None:
            anchored += self.finish(batch_id)
        return anchored + reused

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
                if n == 0 or (n < st.anchor_batch_max and oldest > utcnow() - timedelta(seconds=st.anchor_interval_s)):
                    return None, 0
            items = s.exec(pending.order_by(AnchorItem.id).limit(st.anchor_batch_max).with_for_update()).all()  # type: ignore[arg-type]
            if not items:
                return None, 0
            leaves = {it.id: merkle.leaf_of_digest(bytes.fromhex(it.digest)) for it in items}
            tree = merkle.build(list(set(leaves.values())))  # identical events share one leaf
            proofs = {leaf: [p.hex() for p in tree.proof(leaf)] for leaf in tree.positions}

            def assign(batch_id: int | None) -> None:
                rows = [{"id": it.id, "batch_id": batch_id, "leaf": leaves[it.id].hex(), "proof": proofs[leaves[it.id]]}
                        for it in items]  # fmt: skip
                s.execute(update(AnchorItem), rows)

            same = s.exec(select(AnchorBatch).where(AnchorBatch.root == tree.root.hex())).first()
            if same is not None and same.status == BatchStatus.anchored:
                assign(same.id)
                s.commit()
                return None, len(items)
            batch = AnchorBatch(
                root=tree.root.hex(), leaf_count=len(tree.positions), chain_id=self.chain_id,
                contract_address=self.contract.address,
            )  # fmt: skip
            s.add(batch)
            s.flush()
            assert batch.id is not None
            tx = self._sign(batch, None)
            s.add(batch)
            assign(batch.id)
            s.commit()
            log.info("prepared batch %s: %d items, root %s, tx %s", batch.id, len(items), batch.root, tx.tx_hash)
            self._hit("after_prepare")
            return batch.id, 0

    def _sign(self, batch: AnchorBatch, nonce: int | None) -> SentTx:
        assert batch.id is not None
        tx = self.contract.build_anchor_tx(bytes.fromhex(batch.root), batch.id % 2**32, batch.leaf_count, nonce=nonce)
        batch.raw_tx, batch.tx_hash, batch.nonce = tx.raw, tx.tx_hash, tx.nonce
        return tx

    # ---- steps 2 and 3 ------------------------------------------------------------------------
    def finish(self, batch_id: int) -> int:
        with Session(self.engine) as s:
            batch = s.get(AnchorBatch, batch_id)
            assert batch is not None
            if batch.status == BatchStatus.anchored:
                return 0
            root = bytes.fromhex(batch.root)
            if self.contract.anchor_of(root) is None:
                self._send(s, batch)
            receipt_block = self._confirmed_block(batch, root)
            self._hit("after_receipt")
            tx_block = self.contract.find_anchor_tx(root, from_block=max(0, receipt_block - 1))
            assert tx_block is not None
            tx_hash, block_number = tx_block
            block = self.contract.w3.eth.get_block(block_number)
            batch.status = BatchStatus.anchored
            batch.tx_hash = tx_hash
            batch.block_number = block_number
            batch.block_timestamp = int(block["timestamp"])
            batch.anchored_at = utcnow()
            if tx_hash == batch.tx_hash:
                receipt = self.contract.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
                batch.gas_used = int(receipt["gasUsed"])
            s.add(batch)
            s.commit()
            n = s.exec(select(func.count()).where(AnchorItem.batch_id == batch_id)).one()
            log.info("anchored batch %s (%d items) in block %s", batch_id, n, block_number)
            return int(n)

    def _send(self, s: Session, batch: AnchorBatch) -> None:
        assert batch.raw_tx is not None and batch.tx_hash is not None and batch.nonce is not None
        sent = SentTx(batch.tx_hash, batch.raw_tx, batch.nonce)
        w3 = self.contract.w3
        account = self.contract.account
        assert account is not None
        if w3.eth.get_transaction_count(account.address, "pending") > sent.nonce and not self._known(sent.tx_hash):
            # the stored transaction's nonce went to another transaction: sign again with a fresh one
            try:
                sent = self._sign(batch, None)
            except RootAlreadyAnchored:
                return
            s.add(batch)
            s.commit()
        self.contract.broadcast(sent)
        if batch.status == BatchStatus.prepared:
            batch.status = BatchStatus.sent
            s.add(batch)
            s.commit()
        self._hit("after_send")

    def _known(self, tx_hash: str) -> bool:
        try:
            return self.contract.w3.eth.get_transaction(tx_hash) is not None  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - TransactionNotFound and friends
            return False

    def _confirmed_block(self, batch: AnchorBatch, root: bytes) -> int:
        if self.contract.anchor_of(root) is not None and not self._known(batch.tx_hash or ""):
            found = self.contract.find_anchor_tx(root)
            assert found is not None
            return found[1]
        assert batch.tx_hash is not None
        receipt = self.contract.wait(
            batch.tx_hash,
            timeout_s=self.settings.anchor_rpc_timeout_s,
            confirmations=self.settings.anchor_confirmations,
        )
        if receipt.status != 1 and self.contract.anchor_of(root) is None:
            raise AnchorError(f"anchoring transaction {batch.tx_hash} of batch {batch.id} reverted")
        return receipt.block_number

    def _hit(self, point: str) -> None:
        if self.fault is not None:
            self.fault(point)


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


class WorkerThread:
    """Runs the worker every ``anchor_interval_s`` in the service process."""

    def __init__(self, worker: AnchoringWorker, interval_s: float) -> None:
        self.worker = worker
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="anchoring-worker", daemon=True)
        self.backoff_s = interval_s

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        lease.release(self.worker.engine, LEASE, self.worker.holder)

    def _loop(self) -> None:
        while not self._stop.is_set():
            delay = self.interval_s / 2
            try:
                self.worker.run_once(force=False)
                self.backoff_s = self.interval_s
            except ChainUnavailable as exc:
                self.backoff_s = min(60.0, self.backoff_s * 2)
                delay = self.backoff_s
                log.warning("chain unavailable, events wait (retry in %.0f s): %s", delay, exc)
            except (ChainError, Exception):  # noqa: BLE001 - keep the worker alive, log loudly
                log.exception("anchoring pass failed; will retry")
                delay = self.interval_s
            self._stop.wait(delay)
