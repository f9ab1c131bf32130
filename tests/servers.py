"""Loopback servers that behave like real sites, interceptors and censors. They stop by themselves."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import os
import select
import socket
import ssl
import struct
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Self

import pki
from cryptography import x509

MAX_LIFETIME = 30.0  # no server outlives this, whatever the test does


class Server:
    """Accepts connections on 127.0.0.1 (or ::1) and handles each according to ``mode``:

    tls      full TLS server presenting ``chain`` exactly in the given order (extras and disorder included)
    reset    accepts, then closes with RST (SO_LINGER 0) as soon as the ClientHello arrives
    hang     accepts and never answers
    http     answers the ClientHello like a plain-HTTP server
    garbage  answers with bytes that are not TLS
    alert    TLS server that rejects the SNI with an unrecognized_name alert
    """

    def __init__(self, mode: str = "tls", chain: Sequence[x509.Certificate] = (), key: pki.PrivateKey | None = None,
                 host: str = "127.0.0.1") -> None:
        self.mode = mode
        self.stop_event = threading.Event()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.host = host
        self.port: int = self.sock.getsockname()[1]
        self.connections = 0
        self.sni_seen: list[str | None] = []
        self.ctx: ssl.SSLContext | None = None
        if mode in ("tls", "alert"):
            assert chain and key is not None
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            with tempfile.TemporaryDirectory() as d:
                cert_file = Path(d) / "chain.pem"
                key_file = Path(d) / "key.pem"
                pki.write_bundle(cert_file, list(chain))
                key_file.write_bytes(pki.key_pem(key))
                os.chmod(key_file, 0o600)
                self.ctx.load_cert_chain(cert_file, key_file)
            self.ctx.sni_callback = self._on_sni
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _on_sni(self, sslobj: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> int | None:
        self.sni_seen.append(name)
        if self.mode == "alert":
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        return None

    def __enter__(self) -> Self:
        self.thread.start()
        self._timer = threading.Timer(MAX_LIFETIME, self.stop_event.set)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self._timer.cancel()
        self.thread.join(timeout=5)
        self.sock.close()

    def _serve(self) -> None:
        workers = []
        while not self.stop_event.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            self.connections += 1
            t = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            t.start()
            workers.append(t)
        for t in workers:
            t.join(timeout=2)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with contextlib.suppress(OSError, ssl.SSLError), conn:
            if self.mode == "hang":
                self.stop_event.wait(MAX_LIFETIME)
            elif self.mode == "reset":
                conn.recv(1)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif self.mode == "http":
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            elif self.mode == "garbage":
                conn.recv(4096)
                conn.sendall(b"\x00\xff" * 512)
            else:
                assert self.ctx is not None
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)  # the client closes after the handshake; this just waits for that


@contextlib.contextmanager
def serve(mode: str = "tls", chain: Sequence[x509.Certificate] = (), key: pki.PrivateKey | None = None,
          host: str = "127.0.0.1") -> Iterator[Server]:
    with Server(mode, chain, key, host) as s:
        yield s


class ConnectProxy(Server):
    """A minimal HTTP CONNECT proxy that only ever tunnels to loopback (and refuses anything else, so a test
    can never make it reach a real host). ``mode``: ``ok`` or ``deny`` (answers 403)."""

    def __init__(self, mode: str = "ok") -> None:
        super().__init__("hang")
        self.proxy_mode = mode
        self.requests: list[str] = []

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with contextlib.suppress(OSError), conn:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 8192:
                chunk = conn.recv(1024)
                if not chunk:
                    return
                head += chunk
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            self.requests.append(line)
            method, authority, _ = line.split(" ", 2)
            host, _, port = authority.rpartition(":")
            host = host.strip("[]")
            if self.proxy_mode == "deny" or method != "CONNECT" or host not in ("127.0.0.1", "::1", "localhost"):
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            with socket.create_connection((host, int(port)), timeout=5) as upstream:
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                relay(conn, upstream, self.stop_event)


def relay(a: socket.socket, b: socket.socket, stop: threading.Event) -> None:
    """Copy bytes both ways until either side closes or ``stop`` is set."""
    while not stop.is_set():
        readable, _, _ = select.select([a, b], [], [], 0.5)
        for s in readable:
            data = s.recv(65536)
            if not data:
                return
            (b if s is a else a).sendall(data)


@dataclasses.dataclass
class Route:
    body: bytes
    content_type: str = "application/json"
    status: int = 200
    truncate_to: int | None = None  # announce the full length, send only this many bytes, close


class HTTPSFiles:
    """A loopback HTTPS server answering GETs from a table of routes (a stand-in for www.gstatic.com)."""

    def __init__(self, chain: Sequence[x509.Certificate], key: pki.PrivateKey,
                 routes: dict[str, Route] | None = None) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[str] = []
        files = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                files.requests.append(self.path)
                route = files.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body[:route.truncate_to] if route.truncate_to is not None else route.body)
                if route.truncate_to is not None:
                    self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as d:
            pki.write_bundle(Path(d) / "chain.pem", list(chain))
            (Path(d) / "key.pem").write_bytes(pki.key_pem(key))
            ctx.load_cert_chain(Path(d) / "chain.pem", Path(d) / "key.pem")
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port: int = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> HTTPSFiles:
        self.thread.start()
        self._timer = threading.Timer(MAX_LIFETIME, self.httpd.shutdown)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class Switch(Server):
    """A loopback TCP forwarder whose upstream can be changed while it runs: the network path that starts (or
    stops) intercepting between two checks."""

    def __init__(self, upstream: int) -> None:
        super().__init__("hang")
        self.upstream = upstream

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with contextlib.suppress(OSError), conn, socket.create_connection(("127.0.0.1", self.upstream), 5) as up:
            relay(conn, up, self.stop_event)
