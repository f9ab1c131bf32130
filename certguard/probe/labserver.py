"""The workshop lab's TLS server: a loopback-only server that presents a given chain (``certguard lab``).

It lives in ``probe/`` because that is the only package allowed to open sockets. It binds 127.0.0.1 on a port the
kernel picks, answers each TLS handshake with the chain it was given (in that order, as an interceptor would), and
stops when the lab closes it — or by itself after ``max_lifetime`` seconds, whatever the caller does.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
MAX_LIFETIME = 120.0


class LabServer:
    """A TLS server on 127.0.0.1 presenting the PEM chain in ``chain_file`` with the key in ``key_file``."""

    def __init__(self, chain_file: Path, key_file: Path, *, max_lifetime: float = MAX_LIFETIME) -> None:
        self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ctx.load_cert_chain(chain_file, key_file)
        self._stop = threading.Event()
        self._max_lifetime = max_lifetime
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._sock.bind((LOOPBACK, 0))  # loopback only: the lab never listens where others could reach it
            self._sock.listen(16)
            self._sock.settimeout(0.2)
        except OSError:
            self._sock.close()
            raise
        self.port: int = self._sock.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, name=f"lab-server-{self.port}", daemon=True)
        self._timer = threading.Timer(max_lifetime, self._stop.set)
        self._timer.daemon = True

    def start(self) -> LabServer:
        self._thread.start()
        self._timer.start()
        return self

    def close(self) -> None:
        """Stop accepting, wait for the serving thread, close the listening socket."""
        self._stop.set()
        self._timer.cancel()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._sock.close()

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            self.connections += 1
            # One connection at a time: a lab probe is one handshake; a stuck client is cut after 5 s.
            conn.settimeout(5)
            with contextlib.suppress(OSError, ssl.SSLError), conn, \
                    self._ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)  # certguard closes after the handshake: this only waits for that
