"""A real uvicorn server on 127.0.0.1 and a random free port, in a thread, for clients that need a socket
(the `openai` SDK, Chromium)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

_START_TIMEOUT_S = 60.0


@contextmanager
def serve(app: FastAPI, send_buffer_bytes: int | None = None) -> Iterator[str]:
    """Run `app` under uvicorn on 127.0.0.1:<free port> until the block ends; gives its base URL.

    `send_buffer_bytes` fixes the kernel send buffer of every connection (the listening socket passes it on), as a
    slow link far from the server would: loopback otherwise lets megabytes wait in the kernel for a client.
    """
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on"))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if send_buffer_bytes is not None:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer_bytes)
    listener.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start (see the log above)")
        time.sleep(0.05)
    (port,) = {socket.getsockname()[1] for listener in server.servers for socket in listener.sockets}
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()
