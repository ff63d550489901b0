"""What the issue-28 tests and `bench/probe.py` need to probe a gateway process: cheap long uploads, a client that
leaves, and the process's CPU time and memory from /proc."""

from __future__ import annotations

import io
import os
import socket
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import soundfile

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def one_hz_wav(duration_s: int, seed: int = 0) -> bytes:
    """A WAV whose samples are read as 1 Hz: `duration_s` seconds of loud noise once resampled, in ~2 bytes a second.

    The gateway resamples it to 16 kHz like any file, so a 7 KB upload is an hour the model hears in every window.
    """
    samples = np.random.default_rng(seed).integers(-20_000, 20_000, duration_s).astype(np.int16)
    return wav_bytes(samples, 1)


def silent_flac(duration_s: int) -> bytes:
    """`duration_s` of digital silence at 16 kHz as FLAC (an hour is 180 KB)."""
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(duration_s * 16_000, np.int16), 16_000, format="FLAC")
    return buffer.getvalue()


def wav_bytes(samples: np.ndarray, sample_rate_hz: int) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, sample_rate_hz, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def upload_and_keep_waiting(url: str, body: bytes) -> socket.socket:
    """POST `body` to /v1/transcribe as a raw `audio/wav` body and leave the connection open.

    Closing the returned socket is the client leaving: what a browser tab or a timed-out client does.
    """
    port = int(url.rsplit(":", 1)[1])
    connection = socket.create_connection(("127.0.0.1", port))
    head = (
        "POST /v1/transcribe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/wav\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    connection.sendall(head.encode() + body)
    return connection


def metric(url: str, name: str) -> float:
    """Return the value of the unlabelled metric `name` from the gateway's /metrics."""
    for line in httpx.get(url + "/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise KeyError(f"{name} is not in /metrics")


def wait_for_requests_in_flight(url: str, count: int, timeout_s: float = 60.0) -> None:
    """Return once the gateway has exactly `count` admitted requests (`asr_queue_depth`); raise after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while metric(url, "asr_queue_depth") != count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the gateway did not have {count} requests in flight within {timeout_s:g} s")
        time.sleep(0.1)


def cpu_s(pid: int) -> float:
    """CPU seconds the process has used (user + system), from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S


def reset_peak_rss(pid: int) -> None:
    """Reset the process's VmHWM to its current RSS (proc(5), /proc/PID/clear_refs: "5")."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


class Slowloris:
    """`count` connections that send a request head one byte every `interval_s` and never finish it.

    A thread trickles the bytes until `stop()`, which closes them all and returns how many the server had cut.
    """

    _HEAD = b"POST /v1/transcribe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/wav\r\nX-Padding: " + b"a" * 4096

    def __init__(self, url: str, count: int, interval_s: float) -> None:
        port = int(url.rsplit(":", 1)[1])
        self.connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        self.cut: set[int] = set()
        self._interval_s = interval_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        position = 0
        while not self._stopping.wait(0 if position == 0 else self._interval_s):
            byte = self._HEAD[position % len(self._HEAD) : position % len(self._HEAD) + 1]
            for index, connection in enumerate(self.connections):
                if index in self.cut:
                    continue
                try:
                    connection.sendall(byte)
                except OSError:  # reset or broken pipe: the server closed it
                    self.cut.add(index)
            position += 1

    def stop(self) -> int:
        """Stop trickling, close the connections; return how many the server had closed first."""
        self._stopping.set()
        self._thread.join()
        for index, connection in enumerate(self.connections):
            connection.setblocking(False)
            try:
                connection.recv(65536)  # an answer (a 408) or the end of the stream: the server let it go
                self.cut.add(index)
            except BlockingIOError:  # nothing came back: still open
                pass
            except OSError:
                self.cut.add(index)
            connection.close()
        return len(self.cut)
