"""A local anvil node run as a managed subprocess.

Starts on a free port, waits for JSON-RPC with a deadline (no blind sleeps), persists chain state
to a file (``--state``) so anchors survive restarts, and always stops (SIGINT, then terminate,
then kill).  SIGINT lets anvil dump its state before exiting.
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from chain.errors import NodeError

REPO_ROOT = Path(__file__).resolve().parent.parent


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


def rpc_ready(url: str, timeout: float = 0.5) -> bool:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (local URL)
            return "result" in json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        return False


class AnvilNode:
    """Context manager owning one anvil process."""

    def __init__(
        self,
        *,
        state_path: Path | None = None,
        chain_id: int = 31337,
        port: int | None = None,
        state_interval: int = 1,
        extra_args: tuple[str, ...] = (),
        log_path: Path | None = None,
    ) -> None:
        self.state_path = state_path
        self.chain_id = chain_id
        self.port = port
        self.state_interval = state_interval
        self.extra_args = extra_args
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self._lock_fd: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, deadline_s: float = 30.0) -> AnvilNode:
        if self.port is None:
            self.port = free_port()
        args = [
            find_anvil(),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--accounts", "2",
            "--silent",
            *self.extra_args,
        ]  # fmt: skip
        if self.state_path is not None:
            self._lock_state()
            self._check_state()
            args += ["--state", str(self.state_path), "--state-interval", str(self.state_interval)]
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent
        )
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                self._unlock()
                raise NodeError(f"anvil exited with code {self.proc.returncode} on start (args: {' '.join(args)})")
            if rpc_ready(self.url):
                return self
            time.sleep(0.05)
        self.stop()
        raise NodeError(f"anvil did not answer on {self.url} within {deadline_s:.0f} s")

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

    def _check_state(self) -> None:
        """Keep a last-known-good copy of the state; fall back to it if the file is torn."""
        assert self.state_path is not None
        backup = self.state_path.with_suffix(".bak")
        if not self.state_path.exists():
            return
        try:
            json.loads(self.state_path.read_bytes())
            shutil.copyfile(self.state_path, backup)
        except ValueError as exc:
            try:
                json.loads(backup.read_bytes())
            except (OSError, ValueError):
                raise NodeError(f"chain state {self.state_path} is corrupt and has no usable backup") from exc
            shutil.copyfile(backup, self.state_path)

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def stop(self, timeout_s: float = 10.0) -> None:
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
