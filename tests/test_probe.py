"""probe.py against real loopback servers: the chain is captured exactly as served; failures are values."""

from __future__ import annotations

import errno
import socket
import time
from typing import Any

import pki
import pytest
import servers

from certguard.judge.models import ProbeFailure, Target
from certguard.probe.tls import ProbeOptions, Proxy, fetch_all, fetch_chain

HOST = "site.example.test"


def target(srv: Any, host: str = HOST) -> Target:
    return Target(host, 443, srv.host, srv.port)


def test_captures_chain_exactly_as_served_with_extras_and_disorder(serve: Any) -> None:
    s = pki.site_chain(HOST)
    stray = pki.root("Stray Root")
    served = [s.leaf.cert, s.root.cert, stray.cert, s.intermediate.cert]  # out of order, with an extra
    srv = serve("tls", served, s.leaf.key)
    a = fetch_chain(target(srv))
    assert a.ok and a.failure is None
    assert list(a.chain) == [pki.der(c) for c in served]
    assert a.address == "127.0.0.1"
    assert a.tls is not None and a.tls.version.startswith("TLS")
    assert srv.sni_seen == [HOST]
    assert a.connect_ms is not None and a.handshake_ms is not None


def test_mitm_chain_is_captured_unchanged(serve: Any) -> None:
    qaznet = pki.root("Qaznet Trust Network", None, "KZ")
    mid = qaznet.child_ca("Security Certificate", None, "KZ")
    leaf = mid.leaf(HOST)
    srv = serve("tls", [leaf.cert, mid.cert], leaf.key)
    assert list(fetch_chain(target(srv)).chain) == [pki.der(leaf.cert), pki.der(mid.cert)]


def test_ipv6_loopback(serve: Any) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    s = pki.site_chain(HOST)
    try:
        srv = serve("tls", s.served, s.leaf.key, host="::1")
    except OSError as exc:
        pytest.skip(f"::1 not available: {exc}")
    a = fetch_chain(target(srv))
    assert a.ok and a.address == "::1"


def test_no_sni_for_ip_literal_hosts(serve: Any) -> None:
    ca = pki.root("IP CA")
    leaf = ca.leaf("127.0.0.1")
    srv = serve("tls", [leaf.cert], leaf.key)
    a = fetch_chain(Target("127.0.0.1", srv.port))
    assert a.ok and srv.sni_seen == [None]  # RFC 6066: no IP literals in SNI


def test_refused_is_a_value_not_an_exception() -> None:
    with socket.socket() as s:  # bind, learn a free port, close: nothing listens there any more
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    a = fetch_chain(Target(HOST, 443, "127.0.0.1", port), ProbeOptions(timeout=2))
    assert (a.failure, a.chain) == (ProbeFailure.REFUSED, ())


def test_connect_timeout_within_budget() -> None:
    # A listener whose accept queue is full drops further SYNs (Linux): a real black hole on loopback.
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    fillers = []
    try:
        for _ in range(8):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(lst.getsockname())
            fillers.append(c)
        time.sleep(0.2)
        t0 = time.monotonic()
        a = fetch_chain(Target(HOST, 443, "127.0.0.1", lst.getsockname()[1]), ProbeOptions(timeout=0.5))
        elapsed = time.monotonic() - t0
    finally:
        for c in fillers:
            c.close()
        lst.close()
    if a.failure is ProbeFailure.HANDSHAKE_TIMEOUT:
        pytest.skip("this kernel accepted the connection despite the full backlog")
    assert a.failure is ProbeFailure.CONNECT_TIMEOUT
    assert elapsed < 2


def test_handshake_timeout_within_budget(serve: Any) -> None:
    srv = serve("hang")
    t0 = time.monotonic()
    a = fetch_chain(target(srv), ProbeOptions(timeout=0.5))
    assert a.failure is ProbeFailure.HANDSHAKE_TIMEOUT
    assert time.monotonic() - t0 < 2


def test_dns_failure_without_asking_a_real_resolver() -> None:
    def no_such_host(*args: Any, **kw: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    a = fetch_chain(Target("censored.example.test"), ProbeOptions(timeout=1, resolve=no_such_host))
    assert a.failure is ProbeFailure.DNS
    assert "censored.example.test" in a.detail


def test_a_bug_is_internal_error_not_a_network_finding() -> None:
    def broken(*args: Any, **kw: Any) -> list[Any]:
        raise RuntimeError("boom")

    a = fetch_chain(Target(HOST), ProbeOptions(resolve=broken))
    assert a.failure is ProbeFailure.INTERNAL_ERROR and "boom" in a.detail


def test_errno_mapping_and_resolved_address_is_used() -> None:
    def discard_port(*args: Any, **kw: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 9))]

    # Loopback cannot produce ENETUNREACH, so the errno mapping is checked directly; the resolver's answer
    # (127.0.0.1:9, where nothing listens) must be the address connected to.
    from certguard.probe.tls import _os_failure

    assert _os_failure(OSError(errno.ENETUNREACH, "x")) is ProbeFailure.NETWORK_UNREACHABLE
    assert _os_failure(OSError(errno.ECONNRESET, "x")) is ProbeFailure.RESET
    assert fetch_chain(Target(HOST), ProbeOptions(timeout=1, resolve=discard_port)).failure is ProbeFailure.REFUSED


def test_through_http_connect_proxy(serve: Any) -> None:
    s = pki.site_chain(HOST)
    site = serve("tls", s.served, s.leaf.key)
    with servers.ConnectProxy() as proxy:
        a = fetch_chain(target(site), ProbeOptions(timeout=2, proxy=Proxy.from_url(f"http://127.0.0.1:{proxy.port}")))
        assert a.ok, a.detail
        assert list(a.chain) == [pki.der(c) for c in s.served]
        assert proxy.requests == [f"CONNECT 127.0.0.1:{site.port} HTTP/1.1"]
    assert site.sni_seen == [HOST]


def test_proxy_refusal_is_proxy_error(serve: Any) -> None:
    s = pki.site_chain(HOST)
    site = serve("tls", s.served, s.leaf.key)
    with servers.ConnectProxy("deny") as proxy:
        a = fetch_chain(target(site), ProbeOptions(timeout=2, proxy=Proxy.from_url(f"http://127.0.0.1:{proxy.port}")))
    assert a.failure is ProbeFailure.PROXY_ERROR and "403" in a.detail


def test_proxy_url_validation() -> None:
    from certguard.errors import ConfigError

    assert Proxy.from_url("http://u:p%40ss@127.0.0.1:3128").authorization == "Basic dTpwQHNz"
    with pytest.raises(ConfigError, match="only http://"):
        Proxy.from_url("socks5://127.0.0.1:1080")


def test_fetch_all_keeps_order_and_reports_progress(serve: Any) -> None:
    s = pki.site_chain(HOST)
    good = serve("tls", s.served, s.leaf.key)
    bad = serve("reset")
    done: list[str] = []
    targets = [Target("a.test", 443, "127.0.0.1", good.port), Target("b.test", 443, "127.0.0.1", bad.port),
               Target("c.test", 443, "127.0.0.1", good.port)]
    results = fetch_all(targets, ProbeOptions(timeout=2), on_done=lambda a: done.append(a.target.host))
    assert [r.target.host for r in results] == ["a.test", "b.test", "c.test"]
    assert [r.ok for r in results] == [True, False, True]
    assert sorted(done) == ["a.test", "b.test", "c.test"]
