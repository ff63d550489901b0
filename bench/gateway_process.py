"""A gateway in a subprocess for the benches: started, waited for until `/readyz` answers 200, then stopped."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

READY_POLL_S = 0.5


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    """`VmRSS` (now) or `VmHWM` (peak since it was last reset) of the process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


@contextlib.contextmanager
def running_gateway(
    command: Sequence[str],
    port: int,
    env: dict[str, str],
    cwd: Path,
    ready_timeout_s: float,
    stop_timeout_s: float,
    **popen_options,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Yields `(url, process)` once the gateway on `port` is ready; raises if it exits or is not ready in time."""
    process = subprocess.Popen(list(command), cwd=cwd, env=env, **popen_options)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_timeout_s
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the gateway did not become ready (exit code {process.poll()})")
            time.sleep(READY_POLL_S)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=stop_timeout_s)
