"""Where `asr wyoming` listens (`tcp://HOST:PORT`, `unix://PATH`, `stdio://`), and every connection's reader.

Our own listener rather than `wyoming.server.AsyncServer`: its readers take asyncio's limit explicitly (the header
line cap of `event_reader`), connection tasks are cancelled when the server stops (SIGTERM stops it cleanly, as
`AsyncServer` does), and a TCP address beyond loopback is logged as a warning, since the Wyoming protocol has no
authentication.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from wyoming.event import async_get_stdout

from service.wyoming.event_reader import MAX_JSON_BYTES

logger = logging.getLogger(__name__)

# Called with each connection's reader and writer, and whether it is stdio (one client: the parent process).
ConnectionHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, bool], Awaitable[None]]


class InvalidUriError(ValueError):
    """`--uri` is not `tcp://HOST:PORT`, `unix://PATH` or `stdio://`."""


@dataclass(frozen=True)
class ListenAddress:
    """A parsed `--uri`: its scheme and where it points."""

    uri: str
    scheme: str
    host: str | None = None
    port: int | None = None
    path: Path | None = None

    @classmethod
    def parse(cls, uri: str) -> ListenAddress:
        """Return the address `uri` names, or raise `InvalidUriError` saying what is expected."""
        parsed = urlparse(uri)
        if parsed.scheme == "tcp":
            try:
                port = parsed.port
            except ValueError:
                port = None
            if not parsed.hostname or port is None:
                raise InvalidUriError(f"{uri!r} needs a host and a port: tcp://HOST:PORT")
            return cls(uri, "tcp", host=parsed.hostname, port=port)
        if parsed.scheme == "unix" and parsed.path:
            return cls(uri, "unix", path=Path(parsed.path))
        if parsed.scheme == "stdio":
            return cls(uri, "stdio")
        raise InvalidUriError(f"{uri!r} is not tcp://HOST:PORT, unix://PATH or stdio://")

    @property
    def is_loopback(self) -> bool:
        """Whether only this machine can connect (a Unix socket and stdio are local; a TCP host may not be)."""
        if self.scheme != "tcp":
            return True
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host or "").is_loopback
        except ValueError:
            return False  # a host name: it may resolve to any interface


async def listen(address: ListenAddress, handle: ConnectionHandler) -> None:
    """Serve connections at `address` with `handle` until SIGTERM (then return) or cancellation.

    Over stdio the one client is served, then it returns.
    """
    loop = asyncio.get_running_loop()
    serving = loop.create_task(_serve_stdio(handle) if address.scheme == "stdio" else _serve_sockets(address, handle))
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # signal handlers: main thread, Unix
        loop.add_signal_handler(signal.SIGTERM, serving.cancel)
    try:
        await serving
    except asyncio.CancelledError:
        if asyncio.current_task().cancelling():
            raise  # our caller cancelled us: not a SIGTERM
        logger.info("wyoming server stopped on SIGTERM")
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGTERM)


async def _serve_stdio(handle: ConnectionHandler) -> None:
    reader = asyncio.StreamReader(limit=MAX_JSON_BYTES)
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await handle(reader, await async_get_stdout(), True)


async def _serve_sockets(address: ListenAddress, handle: ConnectionHandler) -> None:
    connections: set[asyncio.Task] = set()

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        connections.add(task)
        try:
            await handle(reader, writer, False)
        finally:
            connections.discard(task)

    if address.scheme == "tcp":
        server = await asyncio.start_server(on_connection, address.host, address.port, limit=MAX_JSON_BYTES)
    else:
        address.path.unlink(missing_ok=True)  # a socket left by a server that did not stop cleanly
        server = await asyncio.start_unix_server(on_connection, address.path, limit=MAX_JSON_BYTES)
    if not address.is_loopback:
        logger.warning(
            "wyoming listens on %s, beyond this machine: the Wyoming protocol has no authentication, so anyone "
            "who can reach this port can use the model (bind 127.0.0.1 unless the network is trusted)",
            address.uri,
        )
    try:
        async with server:
            await server.serve_forever()
    finally:
        for task in connections:
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        if address.path is not None:
            address.path.unlink(missing_ok=True)
