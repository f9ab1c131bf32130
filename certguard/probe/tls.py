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
import contextlib
import errno
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from OpenSSL import SSL, crypto

from certguard.errors import ConfigError
from certguard.judge.models import ProbeAttempt, ProbeFailure, Target, TLSInfo
from certguard.probe.loop import Failed as _Failed
from certguard.probe.loop import Steps, Want, run_all, run_one
from certguard.probe.loop import wait as _wait

log = logging.getLogger(__name__)

# Browsers offer these; a middlebox that keys on the ClientHello should see a browser-like one.
_ALPN = [b"h2", b"http/1.1"]
_MAX_PROXY_RESPONSE = 16 * 1024
_MAX_CERT_LIST = 100 * 1024  # OpenSSL's SSL_MAX_CERT_LIST_DEFAULT, which pyOpenSSL cannot change


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
            raise ConfigError(f"proxy {url!r}: only http://HOST:PORT proxies (HTTP CONNECT) are supported",
                              key="error.proxy.scheme", url=repr(url))
        try:
            port = parts.port or 8080
        except ValueError as exc:
            raise ConfigError(f"proxy {url!r}: bad port", key="error.proxy.port", url=repr(url)) from exc
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


def _connect_one(family: int, addr: tuple[str, int] | tuple[str, int, int, int], deadline: float) -> Steps:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        err = sock.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
            raise OSError(err, errno.errorcode.get(err, str(err)))
        if err:
            yield from _wait(sock, write=True, deadline=deadline, failure=ProbeFailure.CONNECT_TIMEOUT,
                             what="TCP connect")
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, errno.errorcode.get(err, str(err)))
        return sock
    except BaseException:
        sock.close()
        raise


# At most this many lookups in flight: as many as probes may be (``--workers`` goes up to 256). getaddrinfo cannot
# be cancelled: a resolver that swallows queries keeps its thread until the system resolver gives up (10 s and
# more), so the threads are daemons (they never hold up exit) and bounded (hung lookups do not pile up threads).
_LOOKUPS_MAX = 256
_LOOKUPS = threading.BoundedSemaphore(_LOOKUPS_MAX)


def _is_ip_literal(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
        return True
    except OSError:
        return False


def _resolve(host: str, port: int, deadline: float, resolve: Callable[..., list[tuple[Any, ...]]]) -> Steps:
    """``resolve(host, port)`` bounded by ``deadline``, the same deadline as the connect that follows: a lookup
    that does not answer in time is a DNS failure like one that says no. The lookup runs in a daemon thread and
    wakes the probe through a socket pair, so the probe waits like for any socket."""
    if resolve is socket.getaddrinfo and _is_ip_literal(host):
        return resolve(host, port, type=socket.SOCK_STREAM)  # a literal asks no resolver: no thread needed
    # Never blocks: the thread driving this probe may be driving many others (loop.run_all).
    if not _LOOKUPS.acquire(blocking=False):
        raise _Failed(ProbeFailure.DNS, f"cannot resolve {host}: {_LOOKUPS_MAX} earlier lookups still unanswered")
    box: dict[str, Any] = {}
    try:
        wake, signal = socket.socketpair()
    except BaseException:
        _LOOKUPS.release()
        raise

    def lookup() -> None:
        try:
            box["infos"] = resolve(host, port, type=socket.SOCK_STREAM)
        except BaseException as exc:  # handed to the probe, which maps it like an inline call's
            box["error"] = exc
        finally:
            _LOOKUPS.release()
            with contextlib.suppress(OSError):  # the probe gave up and closed its end
                signal.send(b"!")
            signal.close()

    try:
        threading.Thread(target=lookup, name=f"resolve {host}", daemon=True).start()
        try:
            yield from _wait(wake, write=False, deadline=deadline, failure=ProbeFailure.DNS,
                             what="DNS lookup")
        except _Failed as exc:
            raise _Failed(ProbeFailure.DNS, f"cannot resolve {host}: no answer in time") from exc
    finally:
        wake.close()
    if "error" in box:
        raise box["error"]
    infos: list[tuple[Any, ...]] = box["infos"]
    return infos


def _connect(host: str, port: int, deadline: float, resolve: Callable[..., list[tuple[Any, ...]]]) -> Steps:
    """Resolve ``host`` and connect to its addresses in order until one answers, within ``deadline``."""
    try:
        infos = yield from _resolve(host, port, deadline, resolve)
    except socket.gaierror as exc:
        raise _Failed(ProbeFailure.DNS, f"cannot resolve {host}: {exc.strerror}") from exc
    last: _Failed | None = None
    for family, _, _, _, addr in infos:
        try:
            return (yield from _connect_one(family, addr, deadline))
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


def _tunnel(sock: socket.socket, proxy: Proxy, host: str, port: int, deadline: float) -> Steps:
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
            yield from _wait(sock, write=False, deadline=deadline, failure=ProbeFailure.PROXY_ERROR,
                             what="proxy CONNECT")
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
    if "excessive message size" in reasons:
        # OpenSSL reads at most 100 KiB of certificate message (and less of the other server messages) and gives
        # up before any of it reaches us: the chain cannot be kept, only the fact that it was too large.
        return _Failed(ProbeFailure.OVERSIZED_CHAIN, "the server sent a handshake message over OpenSSL's limit "
                       f"(certificate chains: {_MAX_CERT_LIST // 1024} KiB); OpenSSL: {text}")
    for reason in reasons:
        m = _ALERT.match(reason)
        if m:
            return _Failed(ProbeFailure.TLS_ALERT, "server sent TLS alert: " + m.group(1).strip().replace(" ", "_"))
    if any(marker in text for marker in _NOT_TLS):
        return _Failed(ProbeFailure.NOT_TLS, f"the server does not speak TLS ({text})")
    return _Failed(ProbeFailure.HANDSHAKE_FAILED, text)


_CONTEXT: list[SSL.Context] = []  # the one context, once built
_CONTEXT_LOCK = threading.Lock()


def _context() -> SSL.Context:
    """The one client context, built once: it never changes after it is set up (OpenSSL shares a configured
    SSL_CTX between threads), and building one per probe cost more than a loopback handshake's capture."""
    with _CONTEXT_LOCK:
        if not _CONTEXT:
            _CONTEXT.append(_new_context())
        return _CONTEXT[0]


def _new_context() -> SSL.Context:
    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    # VERIFY_NONE on purpose: interception chains fail verification and are exactly what we must capture.
    # The decision is made later, on the bytes, against trust anchors we choose (never the OS default store).
    ctx.set_verify(SSL.VERIFY_NONE)
    # SECLEVEL=0 on purpose: certguard sends no secrets over this connection, and it must still capture chains
    # with weak keys (the 2019 Kazakh forger used RSA-1024 at first). TLS 1.0+ for the same reason.
    ctx.set_cipher_list(b"DEFAULT:@SECLEVEL=0")
    ctx.set_min_proto_version(SSL.TLS1_VERSION)
    ctx.set_alpn_protos(_ALPN)
    # No session cache on purpose: a resumed session skips the Certificate message, and every probe must see the
    # chain the server sends now (OpenSSL clients cache nothing by default; this says so whatever the build).
    ctx.set_session_cache_mode(SSL.SESS_CACHE_OFF)
    # OpenSSL refuses a certificate message over 100 KiB (SSL_CTX_set_max_cert_list). pyOpenSSL does not expose
    # that call, and cryptography's bundled OpenSSL hides its symbols, so the limit cannot be raised from here:
    # such a chain becomes ProbeFailure.OVERSIZED_CHAIN instead (see _ssl_failure).
    return ctx


def _handshake(sock: socket.socket, sni: str | None, deadline: float) -> Steps:
    conn = SSL.Connection(_context(), sock)
    if sni:
        conn.set_tlsext_host_name(sni.encode("idna"))
    conn.set_connect_state()
    while True:
        try:
            conn.do_handshake()
            return conn
        except SSL.WantReadError:
            yield from _wait(sock, write=False, deadline=deadline, failure=ProbeFailure.HANDSHAKE_TIMEOUT,
                             what="TLS handshake")
        except SSL.WantWriteError:
            yield from _wait(sock, write=True, deadline=deadline, failure=ProbeFailure.HANDSHAKE_TIMEOUT,
                             what="TLS handshake")
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
    return None if _is_ip_literal(host) else host


def fetch_chain(target: Target, options: ProbeOptions | None = None) -> ProbeAttempt:
    """Connect to ``target`` and capture the certificate chain it serves. Never raises for network trouble."""
    return run_one(probe(target, options))


def probe(target: Target, options: ProbeOptions | None = None) -> Generator[Want, None, ProbeAttempt]:
    """``fetch_chain`` as steps, for a driver to run (``run_one``, ``loop.run_all``)."""
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
                sock = yield from _connect(options.proxy.host, options.proxy.port, t0 + options.timeout,
                                           options.resolve)
            except _Failed as exc:
                raise _Failed(ProbeFailure.PROXY_ERROR, f"proxy {options.proxy.host}: {exc.detail}") from exc
            yield from _tunnel(sock, options.proxy, connect_host, connect_port, t0 + options.timeout)
        else:
            sock = yield from _connect(connect_host, connect_port, t0 + options.timeout, options.resolve)
            peer = str(sock.getpeername()[0])
        t1 = time.monotonic()
        connect_ms = (t1 - t0) * 1000
        conn = yield from _handshake(sock, _sni_for(target.host), t1 + options.timeout)
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
    """Probe ``targets`` concurrently, at most ``workers`` at once, all in this thread (``loop.run_all``);
    results in the input order, ``on_done`` called as each finishes."""
    return run_all([probe(t, options) for t in targets], workers, on_done)
