"""A local anvil node run as a managed subprocess.

Starts on a free port, waits for JSON-RPC with a deadline (no blind sleeps), and always stops
(state dump, then SIGINT, terminate, kill).  Chain state is persisted to a file that only we
write, atomically (``dump_state``: ``anvil_dumpState`` -> temporary file -> fsync -> rename), so a
kill at any moment leaves either the previous or the new state on disk, never a torn one; the
anchoring worker dumps after each receipt, before the database records the batch as anchored.
The genesis block has a fixed timestamp, so a node started afresh (state lost) has the same
genesis hash as before.
"""

from __future__ import annotations

import fcntl
import glob
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from chain.errors import NodeError
from chain.node_files import check_state, write_atomically

REPO_ROOT = Path(__file__).resolve().parent.parent
GENESIS_TIMESTAMP = 1_704_067_200  # 2024-01-01T00:00:00Z: a stable genesis hash across fresh starts


def find_anvil() -> str:
    """Locate the anvil binary: $ANVIL_BIN, the npm-installed one in .tools, or PATH."""
    explicit = os.environ.get("ANVIL_BIN")
    if explicit:
        return explicit
    pattern = str(REPO_ROOT / ".tools/node_modules/@foundry-rs/anvil-*/bin/anvil")
    found = sorted(glob.glob(pattern))
    if found:
        return found[0]
    on_path = shutil.which("anvil")
    if on_path:
        return on_path
    raise NodeError("anvil not found: run the setup script (npm install in .tools) or set ANVIL_BIN")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: have the kernel send SIGINT to anvil if the service dies without stopping it."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _rpc(url: str, method: str, params: list[object], timeout: float) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (local URL)
        answer = json.loads(resp.read())
    if "result" not in answer:
        raise NodeError(f"{method} failed: {answer.get('error')}")
    return answer["result"]


def rpc_ready(url: str, timeout: float = 0.5) -> bool:
    try:
        _rpc(url, "eth_chainId", [], timeout)
    except (urllib.error.URLError, OSError, ValueError, NodeError):
        return False
    return True


def running_node_url(state_path: Path) -> str | None:
    """URL of the node a running service holds on ``state_path``, if it answers (read-only use).
    A URL left behind by a node that is gone (its state lock is free) is not trusted."""
    try:
        fd = os.open(state_path.with_suffix(".lock"), os.O_RDWR)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return None  # nobody holds the state: no running node
    except BlockingIOError:
        pass
    finally:
        os.close(fd)
    try:
        url = state_path.with_suffix(".url").read_text().strip()
    except OSError:
        return None
    return url if url and rpc_ready(url) else None


class AnvilNode:
    """Context manager owning one anvil process."""

    def __init__(
        self,
        *,
        state_path: Path | None = None,
        chain_id: int = 31337,
        port: int | None = None,
        genesis_timestamp: int = GENESIS_TIMESTAMP,
        extra_args: tuple[str, ...] = (),
        log_path: Path | None = None,
    ) -> None:
        self.state_path = state_path
        self.chain_id = chain_id
        self.port = port
        self.genesis_timestamp = genesis_timestamp
        self.extra_args = extra_args
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None
        self.fault: Callable[[str], None] | None = None  # crash tests: called inside dump_state
        self._dump_lock = threading.Lock()
        self._life = threading.RLock()  # start/restart/stop never interleave (the supervisor restarts)
        self.wanted = False  # started and not stopped: a dead process is to be restarted

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, deadline_s: float = 30.0) -> AnvilNode:
        if self.port is None:
            self.port = free_port()
        if self.state_path is not None and self._lock_fd is None:
            self._lock_state()
        try:
            self._spawn(deadline_s)
        except BaseException:
            self._unlock()
            raise
        if self.state_path is not None:
            write_atomically(self.state_path.with_suffix(".url"), self.url.encode())
        self.wanted = True
        return self

    def restart(self, deadline_s: float = 30.0) -> AnvilNode:
        """Start again on the same port and state after the process died (keeps the state lock)."""
        with self._life:
            if self.running or not self.wanted:
                return self
            self.proc = None
            self._spawn(deadline_s)
            return self

    def _spawn(self, deadline_s: float) -> None:
        args = [
            find_anvil(),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--accounts", "2",
            "--timestamp", str(self.genesis_timestamp),
            "--silent",
            *self.extra_args,
        ]  # fmt: skip
        if self.state_path is not None:
            check_state(self.state_path)
            if self.state_path.exists():
                args += ["--load-state", str(self.state_path)]
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent
        )
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise NodeError(f"anvil exited with code {self.proc.returncode} on start (args: {' '.join(args)})")
            if rpc_ready(self.url):
                self._clock_to_now()
                return
            time.sleep(0.05)
        self._signal_until_gone(self.proc, 5.0)
        self.proc = None
        raise NodeError(f"anvil did not answer on {self.url} within {deadline_s:.0f} s")

    def _clock_to_now(self) -> None:
        """``--timestamp`` fixes the genesis block's time but would also start the clock there:
        set the clock to now, so that new blocks carry the real time."""
        try:
            _rpc(self.url, "anvil_setTime", [int(time.time())], 5.0)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise NodeError(f"anvil did not accept its clock: {exc}") from exc

    def dump_state(self, timeout_s: float = 30.0) -> None:
        """Write the node's current state to the state file, atomically; no-op without one."""
        if self.state_path is None:
            return
        with self._dump_lock:
            try:
                hexed = _rpc(self.url, "anvil_dumpState", [], timeout_s)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise NodeError(f"cannot dump chain state: {exc.__class__.__name__}") from exc
            assert isinstance(hexed, str)
            data = gzip.decompress(bytes.fromhex(hexed.removeprefix("0x")))
            if self.fault is not None:
                self.fault("during_dump")
            write_atomically(self.state_path, data)

    def _lock_state(self) -> None:
        """One node per state file: a second service on the same data directory fails fast."""
        assert self.state_path is not None
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.state_path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise NodeError(f"chain state {self.state_path} is in use by another running node") from exc
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def stop(self, timeout_s: float = 10.0) -> None:
        self.wanted = False
        with self._life:
            self._stop(timeout_s)

    def _stop(self, timeout_s: float) -> None:
        if self.running:
            try:
                self.dump_state()
            except NodeError:
                pass  # the last dump (after the last anchor) stays on disk
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            self._unlock()
            return
        try:
            self._signal_until_gone(proc, timeout_s)
        finally:
            self._unlock()

    @staticmethod
    def _signal_until_gone(proc: subprocess.Popen[bytes], timeout_s: float) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            try:
                proc.send_signal(sig)
                proc.wait(timeout=timeout_s)
                return
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                return

    def kill(self) -> None:
        """Simulate a crash: SIGKILL, no state dump."""
        self.wanted = False
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        self._unlock()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> AnvilNode:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
