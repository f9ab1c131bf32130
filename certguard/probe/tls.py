"""THE network module: the only code in certguard that opens sockets.

``fetch_chain(target)`` makes one TCP connection (directly or through an HTTP CONNECT proxy), does a TLS
handshake with the site's real SNI, and returns a ``ProbeAttempt`` holding the certificate chain exactly as the
server sent it. It never verifies anything (that is ``verify``/``analyze``'s job on the captured bytes) and never
sends application data. Every expected failure is a ``ProbeFailure`` value, never an exception.

The package's other modules are the other ways out: ``https`` downloads signed data (``certguard update``) and
``local`` talks to a certguard daemon on 127.0.0.1.
"""

from __future__ import annotations

import base64
import errno
import logging
import re
import select
import socket
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from OpenSSL import SSL, crypto

from certguard.errors import ConfigError
from certguard.judge.models import ProbeAttempt, ProbeFailure, Target, TLSInfo

log = logging.getLogger(__name__)

# Browsers offer these; a middlebox that keys on the ClientHello should see a browser-like one.
_ALPN = [b"h2", b"http/1.1"]
_MAX_PROXY_RESPONSE = 16 * 1024


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int
    authorization: str | None = None

    @classmethod
    def from_url(cls, url: str) -> Proxy:
        """Parse ``http://[user:pass@]host:port``.

        Raises:
            ConfigError: not an http:// proxy URL.
        """
        parts = urlsplit(url if "://" in url else "http://" + url)
        if parts.scheme != "http" or not parts.hostname:
            raise ConfigError(f"proxy {url!r}: only http://HOST:PORT proxies (HTTP CONNECT) are supported")
        try:
            port = parts.port or 8080
        except ValueError as exc:
            raise ConfigError(f"proxy {url!r}: bad port") from exc
        auth = None
        if parts.username is not None:
            creds = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            auth = "Basic " + base64.b64encode(creds).decode("ascii")
        return cls(parts.hostname, port, auth)


@dataclass(frozen=True)
class ProbeOptions:
    """``timeout`` bounds the TCP connect (all addresses together) and, separately, the TLS handshake."""

    timeout: float = 10.0
    proxy: Proxy | None = None
    # getaddrinfo by default; replaceable so tests can exercise DNS failures without asking a real resolver.
    resolve: Callable[..., list[tuple[Any, ...]]] = socket.getaddrinfo


class _Failed(Exception):
    """Internal control flow: carries a ProbeFailure out of the nested steps. Never leaves this module."""

    def __init__(self, failure: ProbeFailure, detail: str) -> None:
        super().__init__(detail)
        self.failure = failure
        self.detail = detail


def _wait(sock: socket.socket, *, write: bool, deadline: float, failure: ProbeFailure, what: str) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _Failed(failure, f"{what} timed out")
    r, w, _ = select.select([] if write else [sock], [sock] if write else [], [], remaining)
    if not r and not w:
        raise _Failed(failure, f"{what} timed out")


def _connect_one(family: int, addr: tuple[str, int] | tuple[str, int, int, int], deadline: float) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        err = sock.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
            raise OSError(err, errno.errorcode.get(err, str(err)))
        if err:
            _wait(sock, write=True, deadline=deadline, failure=ProbeFailure.CONNECT_TIMEOUT, what="TCP connect")
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, errno.errorcode.get(err, str(err)))
        return sock
    except BaseException:
        sock.close()
        raise


def _connect(host: str, port: int, deadline: float, resolve: Callable[..., list[tuple[Any, ...]]]) -> socket.socket:
    """Resolve ``host`` and connect to its addresses in order until one answers, within ``deadline``."""
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise _Failed(ProbeFailure.DNS, f"cannot resolve {host}: {exc.strerror}") from exc
    last: _Failed | None = None
    for family, _, _, _, addr in infos:
        try:
            return _connect_one(family, addr, deadline)
        except _Failed as exc:
            last = exc
            break  # the deadline is shared: a timeout on one address leaves no time for the next
        except OSError as exc:
            last = _Failed(_os_failure(exc), f"connect to {addr[0]} port {addr[1]}: {exc.strerror or exc}")
    assert last is not None
    raise last


def _os_failure(exc: OSError) -> ProbeFailure:
    if exc.errno == errno.ECONNREFUSED:
        return ProbeFailure.REFUSED
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        return ProbeFailure.NETWORK_UNREACHABLE
    if exc.errno in (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED):
        return ProbeFailure.RESET
    if exc.errno == errno.ETIMEDOUT:
        return ProbeFailure.CONNECT_TIMEOUT
    return ProbeFailure.NETWORK_UNREACHABLE


def _tunnel(sock: socket.socket, proxy: Proxy, host: str, port: int, deadline: float) -> None:
    """Ask an HTTP proxy for a CONNECT tunnel. The proxy resolves ``host``; we never do."""
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    request = f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"
    if proxy.authorization:
        request += f"Proxy-Authorization: {proxy.authorization}\r\n"
    request += "\r\n"
    try:
        sock.sendall(request.encode("ascii"))
        response = b""
        while b"\r\n\r\n" not in response:
            _wait(sock, write=False, deadline=deadline, failure=ProbeFailure.PROXY_ERROR, what="proxy CONNECT")
            chunk = sock.recv(4096)
            if not chunk:
                raise _Failed(ProbeFailure.PROXY_ERROR, "proxy closed the connection during CONNECT")
            response += chunk
            if len(response) > _MAX_PROXY_RESPONSE:
                raise _Failed(ProbeFailure.PROXY_ERROR, "proxy sent an oversized CONNECT response")
    except OSError as exc:
        raise _Failed(ProbeFailure.PROXY_ERROR, f"proxy: {exc.strerror or exc}") from exc
    head, _, extra = response.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    if not re.match(r"^HTTP/1\.[01] 2\d\d", status_line):
        raise _Failed(ProbeFailure.PROXY_ERROR, f"proxy refused the tunnel: {status_line[:200]!r}")
    if extra:
        # A proxy must not send anything after its 200 before we speak: treat bytes here as a broken proxy.
        raise _Failed(ProbeFailure.PROXY_ERROR, "proxy sent data before the TLS handshake")


# OpenSSL names a received alert "sslv3 alert X", "tlsv1 alert X", "tlsv13 alert X" or, for a few, "tlsv1 X"
# (e.g. "tlsv1 unrecognized name").
_ALERT = re.compile(r"^(?:sslv3|tlsv1|tlsv13) (?:alert )?([a-z0-9 _]+)$")
_NOT_TLS = ("wrong version number", "packet length too long", "record layer failure", "http request",
            "unknown protocol", "record length mismatch", "bad record type", "unexpected record")


def _ssl_failure(exc: SSL.Error) -> _Failed:
    reasons = []
    for item in exc.args[0] if exc.args and isinstance(exc.args[0], list) else []:
        if isinstance(item, tuple) and len(item) >= 3:
            reasons.append(str(item[2]))
    text = "; ".join(reasons) or str(exc)
    for reason in reasons:
        m = _ALERT.match(reason)
        if m:
            return _Failed(ProbeFailure.TLS_ALERT, "server sent TLS alert: " + m.group(1).strip().replace(" ", "_"))
    if any(marker in text for marker in _NOT_TLS):
        return _Failed(ProbeFailure.NOT_TLS, f"the server does not speak TLS ({text})")
    return _Failed(ProbeFailure.HANDSHAKE_FAILED, text)


def _context() -> SSL.Context:
    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    # VERIFY_NONE on purpose: interception chains fail verification and are exactly what we must capture.
    # The decision is made later, on the bytes, against trust anchors we choose (never the OS default store).
    ctx.set_verify(SSL.VERIFY_NONE)
    # SECLEVEL=0 on purpose: certguard sends no secrets over this connection, and it must still capture chains
    # with weak keys (the 2019 Kazakh forger used RSA-1024 at first). TLS 1.0+ for the same reason.
    ctx.set_cipher_list(b"DEFAULT:@SECLEVEL=0")
    ctx.set_min_proto_version(SSL.TLS1_VERSION)
    ctx.set_alpn_protos(_ALPN)
    return ctx


def _handshake(sock: socket.socket, sni: str | None, deadline: float) -> SSL.Connection:
    conn = SSL.Connection(_context(), sock)
    if sni:
        conn.set_tlsext_host_name(sni.encode("idna"))
    conn.set_connect_state()
    while True:
        try:
            conn.do_handshake()
            return conn
        except SSL.WantReadError:
            _wait(sock, write=False, deadline=deadline, failure=ProbeFailure.HANDSHAKE_TIMEOUT, what="TLS handshake")
        except SSL.WantWriteError:
            _wait(sock, write=True, deadline=deadline, failure=ProbeFailure.HANDSHAKE_TIMEOUT, what="TLS handshake")
        except SSL.ZeroReturnError as exc:
            raise _Failed(ProbeFailure.RESET, "connection closed during the TLS handshake") from exc
        except SSL.SysCallError as exc:
            code = exc.args[0] if exc.args else None
            if code == errno.ECONNRESET:
                raise _Failed(ProbeFailure.RESET, "connection reset during the TLS handshake") from exc
            raise _Failed(ProbeFailure.RESET, "connection closed during the TLS handshake "
                          f"({exc.args[1] if len(exc.args) > 1 else exc})") from exc
        except SSL.Error as exc:
            raise _ssl_failure(exc) from exc


def _sni_for(host: str) -> str | None:
    # RFC 6066 §3: literal IP addresses are not permitted in SNI.
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
        return None
    except OSError:
        return host


def fetch_chain(target: Target, options: ProbeOptions | None = None) -> ProbeAttempt:
    """Connect to ``target`` and capture the certificate chain it serves. Never raises for network trouble."""
    options = options or ProbeOptions()
    started = datetime.now(UTC)
    connect_host = target.address or target.host
    connect_port = target.address_port or target.port
    peer: str | None = None
    connect_ms: float | None = None
    sock: socket.socket | None = None
    try:
        t0 = time.monotonic()
        if options.proxy:
            try:
                sock = _connect(options.proxy.host, options.proxy.port, t0 + options.timeout, options.resolve)
            except _Failed as exc:
                raise _Failed(ProbeFailure.PROXY_ERROR, f"proxy {options.proxy.host}: {exc.detail}") from exc
            _tunnel(sock, options.proxy, connect_host, connect_port, t0 + options.timeout)
        else:
            sock = _connect(connect_host, connect_port, t0 + options.timeout, options.resolve)
            peer = str(sock.getpeername()[0])
        t1 = time.monotonic()
        connect_ms = (t1 - t0) * 1000
        conn = _handshake(sock, _sni_for(target.host), t1 + options.timeout)
        handshake_ms = (time.monotonic() - t1) * 1000
        x509s = conn.get_peer_cert_chain() or []
        # Raw DER as OpenSSL received it, so that a certificate cryptography cannot parse is still evidence.
        chain = tuple(crypto.dump_certificate(crypto.FILETYPE_ASN1, c) for c in x509s)
        if not chain:
            raise _Failed(ProbeFailure.NO_CERTIFICATE, "the server sent no certificate")
        alpn = conn.get_alpn_proto_negotiated()
        tls = TLSInfo(version=conn.get_protocol_version_name(), cipher=conn.get_cipher_name() or "",
                      alpn=alpn.decode("ascii", "replace") if alpn else None)
        return ProbeAttempt(target, started, peer, chain, tls, None, "", connect_ms, handshake_ms)
    except _Failed as exc:
        return ProbeAttempt(target, started, peer, failure=exc.failure, detail=exc.detail, connect_ms=connect_ms)
    except OSError as exc:
        return ProbeAttempt(target, started, peer, failure=_os_failure(exc), detail=str(exc.strerror or exc),
                            connect_ms=connect_ms)
    except Exception as exc:  # a bug in certguard must show as one, never as a network finding
        log.exception("internal error while probing %s", target.label)
        return ProbeAttempt(target, started, peer, failure=ProbeFailure.INTERNAL_ERROR,
                            detail=f"{type(exc).__name__}: {exc}")
    finally:
        if sock is not None:
            sock.close()


def fetch_all(targets: Sequence[Target], options: ProbeOptions | None = None, *, workers: int = 16,
              on_done: Callable[[ProbeAttempt], None] | None = None) -> list[ProbeAttempt]:
    """Probe ``targets`` concurrently (threads: the wait is on the network); results in the input order."""
    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets)))) as pool:
        futures = [pool.submit(fetch_chain, t, options) for t in targets]
        if on_done:
            for f in as_completed(futures):
                on_done(f.result())
        return [f.result() for f in futures]
