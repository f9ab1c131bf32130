"""probe.py against real loopback servers: the chain is captured exactly as served; failures are values."""

from __future__ import annotations

import errno
import socket
import threading
import time
from typing import Any

import pki
import pytest
import servers

from certguard.data import intel, pins
from certguard.judge.analyze import TrustContext, analyze_batch
from certguard.judge.models import ProbeFailure, Status, Target, exit_code
from certguard.judge.verify import AnchorSet
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


# ---- issue 13: DNS bounded by the connect deadline; a chain over OpenSSL's limit is its own, loud, failure

def test_a_resolver_that_never_answers_is_a_dns_failure_within_the_deadline(serve: Any) -> None:
    # Given a resolver that swallows the query (it answers only when the test lets it, after the probe is over)
    release, answered = threading.Event(), threading.Event()
    s = pki.site_chain(HOST)
    srv = serve("tls", s.served, s.leaf.key)

    def swallowing(host: str, port: int, **kw: Any) -> list[tuple[Any, ...]]:
        release.wait(20)  # bounded even if the test failed before setting it
        answered.set()
        return socket.getaddrinfo("127.0.0.1", srv.port, type=socket.SOCK_STREAM)

    # When the site is probed
    a = fetch_chain(Target(HOST), ProbeOptions(timeout=0.3, resolve=swallowing))
    # Then it is a DNS failure, decided while the resolver still had not answered (no wait for it)
    assert a.failure is ProbeFailure.DNS and "no answer in time" in a.detail
    assert not answered.is_set()
    release.set()
    assert answered.wait(5)


def test_a_resolver_that_answers_late_but_in_time_still_connects(serve: Any) -> None:
    # Negative control: the same resolver in a thread, answering within the deadline, gives the chain.
    s = pki.site_chain(HOST)
    srv = serve("tls", s.served, s.leaf.key)

    def slow(host: str, port: int, **kw: Any) -> list[tuple[Any, ...]]:
        time.sleep(0.05)
        return socket.getaddrinfo("127.0.0.1", srv.port, type=socket.SOCK_STREAM)

    a = fetch_chain(Target(HOST), ProbeOptions(timeout=5, resolve=slow))
    assert a.ok and list(a.chain) == [pki.der(c) for c in s.served]


def test_the_resolver_runs_off_the_probe_thread_but_its_errors_map_as_before() -> None:
    def refusing(host: str, port: int, **kw: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def buggy(host: str, port: int, **kw: Any) -> list[tuple[Any, ...]]:
        raise RuntimeError("resolver bug")

    assert fetch_chain(Target(HOST), ProbeOptions(timeout=2, resolve=refusing)).failure is ProbeFailure.DNS
    assert fetch_chain(Target(HOST), ProbeOptions(timeout=2, resolve=buggy)).failure is ProbeFailure.INTERNAL_ERROR


def _junk_roots(count: int) -> list[Any]:
    # Self-signed CAs with long names: about 640 bytes each, so the size of the chain is easy to aim.
    return [pki.root(f"Padding Root {i} " + "x" * 40, o="O" * 60).cert for i in range(count)]


def test_a_chain_over_openssls_limit_is_oversized_and_suspicious_not_blocked(serve: Any) -> None:
    # Given a server whose chain is padded past OpenSSL's 100 KiB certificate-message limit, beside a normal site
    s = pki.site_chain(HOST)
    served = [*s.served, *_junk_roots(200)]
    assert sum(len(pki.der(c)) for c in served) > 100 * 1024
    big = serve("tls", served, s.leaf.key)
    normal = serve("tls", s.served, s.leaf.key)
    # When both are probed and judged in one run
    attempts = fetch_all([target(big), target(normal, "other.example.test")], ProbeOptions(timeout=5))
    # Then the padded one is its own failure, with OpenSSL's words as evidence ...
    assert attempts[0].failure is ProbeFailure.OVERSIZED_CHAIN
    assert "excessive message size" in attempts[0].detail and "100 KiB" in attempts[0].detail
    verdict = analyze_batch(attempts, TrustContext(mozilla=AnchorSet("t", (s.root.cert,)), device=None,
                                                   pins=pins.load(), intel=intel.load()), pki.NOW)[0]
    # ... and the verdict is loud (suspicious, exit 1), never "blocked"
    assert verdict.status is Status.SUSPICIOUS and verdict.rule == "oversized_chain"
    assert [f.id for f in verdict.findings] == ["OVERSIZED_CHAIN"]
    assert exit_code([verdict]) == 1


def test_a_large_chain_under_the_limit_is_captured_whole(serve: Any) -> None:
    # Negative control: 60 KiB of extra certificates is read, kept and judged like any chain.
    s = pki.site_chain(HOST)
    served = [*s.served, *_junk_roots(95)]
    assert 50 * 1024 < sum(len(pki.der(c)) for c in served) < 95 * 1024
    a = fetch_chain(target(serve("tls", served, s.leaf.key)), ProbeOptions(timeout=5))
    assert a.ok and list(a.chain) == [pki.der(c) for c in served]


# ---- issue 17: many probes in one thread (loop.run_all)

def test_one_thread_probes_many_a_hanging_site_and_a_hung_resolver_hold_up_no_other(serve: Any) -> None:
    # Given good sites, one that never answers the handshake, and one whose resolver swallows the query
    s = pki.site_chain(HOST)
    good, hang = serve("tls", s.served, s.leaf.key), serve("hang")
    release = threading.Event()

    def resolver(host: str, port: int, **kw: Any) -> list[tuple[Any, ...]]:
        if host == "swallowed.test":
            release.wait(20)
        if host.endswith(".test"):
            return socket.getaddrinfo("127.0.0.1", good.port, type=socket.SOCK_STREAM)
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)  # the literal 127.0.0.1 of the others

    targets = [Target(f"s{i}.test", 443, "127.0.0.1", good.port) for i in range(30)]
    targets[3] = Target("hang.test", 443, "127.0.0.1", hang.port)
    targets[7] = Target("swallowed.test", 443)
    targets[9] = Target("resolved.test", 443)  # through the same resolver, answering at once
    done: list[str] = []
    try:
        # When they are probed together, 8 at a time
        results = fetch_all(targets, ProbeOptions(timeout=0.5, resolve=resolver), workers=8,
                            on_done=lambda a: done.append(a.target.host))
    finally:
        release.set()
    # Then each has its own outcome, in input order: the hung ones time out, nothing else waits for them
    assert [r.target.host for r in results] == [t.host for t in targets]
    assert results[3].failure is ProbeFailure.HANDSHAKE_TIMEOUT
    assert results[7].failure is ProbeFailure.DNS
    assert all(r.ok for i, r in enumerate(results) if i not in (3, 7))  # the control: the rest, resolver included
    assert sorted(done) == sorted(t.host for t in targets)


def test_one_probe_alone_and_in_the_loop_give_the_same_attempt(serve: Any) -> None:
    s = pki.site_chain(HOST)
    srv = serve("tls", s.served, s.leaf.key)
    alone = fetch_chain(target(srv), ProbeOptions(timeout=5))
    looped = fetch_all([target(srv)], ProbeOptions(timeout=5))[0]
    assert (alone.ok, alone.chain, alone.tls, alone.address) == (looped.ok, looped.chain, looped.tls, looped.address)


def test_hung_lookups_fill_a_bounded_pool_and_the_next_fails_at_once_instead_of_stalling(
        serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from certguard.probe import tls

    monkeypatch.setattr(tls, "_LOOKUPS", threading.BoundedSemaphore(1))
    s = pki.site_chain(HOST)
    srv = serve("tls", s.served, s.leaf.key)
    release = threading.Event()

    def resolver(host: str, port: int, **kw: Any) -> list[tuple[Any, ...]]:
        if host == "swallowed.test":
            release.wait(20)
        return socket.getaddrinfo("127.0.0.1", srv.port, type=socket.SOCK_STREAM)

    options = ProbeOptions(timeout=0.3, resolve=resolver)
    try:
        assert fetch_chain(Target("swallowed.test"), options).failure is ProbeFailure.DNS  # holds the only slot
        crowded = fetch_chain(Target(HOST), options)
        assert crowded.failure is ProbeFailure.DNS and "still unanswered" in crowded.detail
    finally:
        release.set()
    # the control: once the hung lookup has returned, the same probe resolves and connects
    for _ in range(50):
        if tls._LOOKUPS.acquire(timeout=0.1):
            tls._LOOKUPS.release()
            break
    assert fetch_chain(Target(HOST), options).ok
