"""`WS /v1/stream` against a client that stops reading for a while and then reads everything: it must get every
event sent before the stream was ended, the `slow_client` error event and the close frame with 1008, not a TCP
reset that drops them.

The client is a raw socket with a small receive buffer speaking WebSocket through `websockets`' sans-I/O client, so
that not reading really leaves the server's writes unacknowledged (a threaded client would read in the background).
"""

from __future__ import annotations

import json
import select
import socket
import time
from urllib.parse import urlparse

import numpy as np
import pytest
from websockets.client import ClientProtocol
from websockets.frames import Close
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from bench.live_server import serve
from service import create_app
from tests.service.gateway_fixtures import speechlike

pytestmark = pytest.mark.slow  # the client must stay silent longer than the stream used to wait for it

_FRAME_S = 0.1
_SAMPLE_RATE_HZ = 16_000
# The ~80 KB of events that fill the buffers between the server and a client that does not read take ~5 s of
# partials; this is 10 s more (how long the stream used to wait for its last event and close frame), and well within
# the idle timeout the stream now gives a late reader.
_READS_LATE_S = 18.0


class _LateReader:
    """A WebSocket client on a raw socket that sends audio in real time and reads only when told to."""

    def __init__(self, url: str) -> None:
        address = urlparse(url)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: it sets the TCP window
        self.sock.connect((address.hostname, address.port))
        self.sock.setblocking(False)
        self.protocol = ClientProtocol(parse_uri(f"ws://{address.hostname}:{address.port}/v1/stream"))
        self.protocol.send_request(self.protocol.connect())
        self.outgoing = b""
        self.events: list[dict] = []
        self.close: Close | None = None
        self.reset = False
        self.eof = False
        self._flush(wait_s=5.0)
        deadline = time.monotonic() + 10.0
        while self.protocol.state is not State.OPEN and time.monotonic() < deadline:
            self._read_once(1.0)

    def _collect(self) -> None:
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                continue
            if event.opcode.name == "TEXT":
                self.events.append(json.loads(event.data))
            elif event.opcode.name == "CLOSE":
                self.close = self.protocol.close_rcvd
        self.outgoing += b"".join(self.protocol.data_to_send())

    def _flush(self, wait_s: float = 0.0) -> None:
        """Write what fits into the socket now (the server may have stopped reading us)."""
        self.outgoing += b"".join(self.protocol.data_to_send())
        deadline = time.monotonic() + wait_s
        while self.outgoing:
            try:
                sent = self.sock.send(self.outgoing)
            except BlockingIOError:
                sent = 0
            except (BrokenPipeError, ConnectionResetError):
                self.reset, self.outgoing = True, b""
                return
            self.outgoing = self.outgoing[sent:]
            if not sent and time.monotonic() >= deadline:
                return
            if not sent:
                select.select([], [self.sock], [], 0.05)

    def _read_once(self, timeout_s: float) -> bool:
        """Read one chunk; returns False at the end of the connection."""
        readable, _, _ = select.select([self.sock], [], [], timeout_s)
        if not readable:
            return True
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            self.reset = True
            return False
        if not data:
            self.eof = True
            self.protocol.receive_eof()
            self._collect()
            return False
        self.protocol.receive_data(data)
        self._collect()
        self._flush()
        return True

    def send_json(self, message: dict) -> None:
        self.protocol.send_text(json.dumps(message).encode())
        self._flush(wait_s=1.0)

    def send_audio_without_reading(self, audio: np.ndarray, duration_s: float) -> None:
        """Send `audio` in real time for `duration_s` (looping it), reading nothing."""
        frame = int(_FRAME_S * _SAMPLE_RATE_HZ)
        started = time.monotonic()
        index = 0
        while (elapsed_s := time.monotonic() - started) < duration_s:
            if not self.outgoing:  # a real-time client drops the audio the server will not take
                start = (index * frame) % (len(audio) - frame)
                self.protocol.send_binary(
                    (np.clip(audio[start : start + frame], -1, 1) * 32767).astype("<i2").tobytes()
                )
            self._flush()
            index += 1
            time.sleep(max(0.0, index * _FRAME_S - elapsed_s - _FRAME_S))

    def read_to_end(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self._read_once(deadline - time.monotonic()):
            pass
        self.sock.close()


def test_a_client_that_reads_late_gets_its_events_the_error_and_close_1008(make_settings) -> None:
    settings = make_settings(stream_max_pending_events=4, stream_hop_s=0.05, stream_idle_timeout_s=20.0)
    audio = speechlike(8.0, _SAMPLE_RATE_HZ, seed=5)
    with serve(create_app(settings), send_buffer_bytes=4096) as url:
        client = _LateReader(url)
        client.send_json({"type": "config", "sample_rate_hz": _SAMPLE_RATE_HZ, "encoding": "pcm_s16le"})
        client.send_audio_without_reading(audio, _READS_LATE_S)
        client.read_to_end(timeout_s=30.0)
    assert not client.reset, "a TCP reset: the events the client had not read yet were dropped"
    assert len(client.events) > 4 and {event["type"] for event in client.events[:-1]} <= {"partial", "final"}
    assert client.events[-1]["type"] == "error"
    assert client.events[-1]["error"]["code"] == "client_not_reading"
    assert client.close is not None and client.close.code == 1008
