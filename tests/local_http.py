"""A tiny HTTP server on 127.0.0.1 for download tests: no test ever reaches the internet.

``LocalServer(routes)`` serves each path in ``routes`` as described by a ``Route``: its body, status,
extra headers, the Content-Length it announces (which may be a lie, to make a truncated transfer), how
much of the body it really sends, and how slowly. Anything else is a 404. It runs a
``ThreadingHTTPServer`` on port 0 in a thread; ``close()`` (or leaving the ``with`` block) stops it and
joins every thread.

``HostileServer(behaviour)`` is a raw TCP server for what no HTTP server does on purpose: ``silent``
(accepts, never answers), ``trickle`` (sends its status line one byte every ``trickle_delay`` seconds)
and ``reset`` (accepts, reads the request, resets the connection).
"""
from __future__ import annotations

import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Literal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    #: Content-Length to announce: ``len(body)`` by default, ``-1`` for none (the end is the close).
    announce: int | None = None
    #: Bytes of the body actually sent before closing (default: all of it).
    send: int | None = None
    #: Send in pieces of this size, sleeping ``delay`` seconds between them (0: all at once).
    piece: int = 0
    delay: float = 0.0
    #: Extra response headers (e.g. a Location that sends the client round in a loop).
    headers: dict[str, str] = field(default_factory=dict)
    requests: int = field(default=0, init=False)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # BaseHTTPRequestHandler's name
        pass  # keep the test output clean

    def do_GET(self) -> None:  # BaseHTTPRequestHandler's name
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404, "Not Found")
            return
        route.requests += 1
        body = route.body[:route.send] if route.send is not None else route.body
        announce = len(route.body) if route.announce is None else route.announce
        self.send_response(route.status)
        self.send_header("Content-Type", "application/zip")
        for name, value in route.headers.items():
            self.send_header(name, value)
        if announce >= 0:
            self.send_header("Content-Length", str(announce))
        self.end_headers()
        piece = route.piece or max(len(body), 1)
        try:
            for start in range(0, len(body), piece):
                if self.server.stopping.is_set():
                    break
                self.wfile.write(body[start:start + piece])
                self.wfile.flush()
                if route.delay:
                    time.sleep(route.delay)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a cancelled download): expected
        # Close after every response, so a short body is a truncated transfer, not a pause.
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = False       # server_close() joins the handler threads
    block_on_close = True

    def __init__(self, routes: dict[str, Route]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes = routes
        self.stopping = threading.Event()


class LocalServer:
    """Serves ``routes`` on 127.0.0.1 until closed."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self._server = _Server(routes)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="local-http", daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def close(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def closed_port_url(path: str = "/digits.zip") -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


class HostileServer:
    """A raw TCP server on 127.0.0.1 that misbehaves as ``behaviour`` says (see the module docstring)."""

    def __init__(self, behaviour: Literal["silent", "trickle", "reset"], trickle_delay: float = 5.0) -> None:
        self.behaviour = behaviour
        self.trickle_delay = trickle_delay
        self.connections = 0
        self._stopping = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, name="hostile-http", daemon=True)
        self._accepting.start()

    def url(self, path: str = "/digits.zip") -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}{path}"

    def _accept(self) -> None:
        while not self._stopping.is_set():
            ready, _, _ = select.select([self._listener], [], [], 0.05)
            if not ready:
                continue
            connection, _ = self._listener.accept()
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            try:
                if self.behaviour == "reset":
                    connection.recv(4096)
                    # SO_LINGER 0: close() sends RST instead of FIN.
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                status = b"HTTP/1.1 200 OK\r\n"
                sent = 0
                while not self._stopping.wait(self.trickle_delay if self.behaviour == "trickle" else 0.05):
                    if self.behaviour == "trickle" and sent < len(status):
                        connection.sendall(status[sent:sent + 1])
                        sent += 1
            except OSError:
                pass  # the client went away: expected

    def close(self) -> None:
        self._stopping.set()
        self._accepting.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
