"""Property tests (hypothesis) over everything that reads bytes certguard does not control: received certificates,
saved chains, data files and CT log lists.

The promises under test (DESIGN.md §3 "Fail closed", §4 exit codes):
1. ``certs.view`` never raises, whatever the bytes.
2. ``analyze_chain`` never raises and never answers ``error`` for chains of mutated certificates; a forged leaf for
   the host stays ``intercepted`` whatever extras are sent with it.
3. The TOML loaders raise only ``DataError`` / ``ConfigError``.
4. ``CTLogList.from_json`` raises only ``DataError``.
5. ``certs.split_pem_or_der`` raises only ``DataError``.

Budget: ``CERTGUARD_FUZZ_EXAMPLES`` examples per property (default below: the whole file in well under 60 s on two
cores). A long run by hand: ``CERTGUARD_FUZZ_EXAMPLES=20000 .venv/bin/pytest -s tests/test_fuzz.py``; each property
prints how many inputs it ran (``-s``). No example database is written (``database=None``): a failure prints the
falsifying example, which then becomes a plain regression test in tests/test_loaders.py (or a report to the owner
of the module).
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import ctlog
import pki
import pytest
from cryptography import x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certguard.data import intel, pins, targets
from certguard.errors import ConfigError, DataError
from certguard.judge import certs
from certguard.judge.analyze import TrustContext, analyze_chain
from certguard.judge.ctlog import CTLogList
from certguard.judge.models import Status
from certguard.judge.verify import AnchorSet

EXAMPLES = int(os.environ.get("CERTGUARD_FUZZ_EXAMPLES", "200"))
DEEP = 700  # past the recursion limits of tomllib and json (both ~1000 frames, less what pytest uses)
HOST = "www.example.test"
RUNS: Counter[str] = Counter()
T = TypeVar("T")


# No deadline: the first example of a property pays for imports and caches. No example database: nothing is
# written into the tree; a failure prints the falsifying example and a blob to replay it with @reproduce_failure.
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def report(name: str) -> None:
    """How many inputs the property really ran (``-s`` shows it; hypothesis may stop early when it has exhausted
    a small search space)."""
    print(f"\n[fuzz] {name}: {RUNS[name]} inputs (CERTGUARD_FUZZ_EXAMPLES={EXAMPLES})", file=sys.stdout)


# ---- the world: a public PKI, an interceptor, CT logs, data files, two contexts -----------------------------------

@dataclass(frozen=True)
class World:
    public_root: pki.CA
    public_issuing: pki.CA
    rogue: pki.CA
    forged: bytes  # a leaf for HOST from the rogue CA: what an interceptor serves
    seeds: tuple[bytes, ...]  # real certificates of many shapes, the starting points of mutation
    contexts: tuple[TrustContext, ...]
    log_list: bytes
    tmp: Path


def _der(c: x509.Certificate) -> bytes:
    return pki.der(c)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("fuzz")
    public_root = pki.root("Test Public Root", "Test Public CA Inc", "US")
    public_issuing = public_root.child_ca("Test Public Issuing CA", "Test Public CA Inc", "US")
    rogue = pki.root("Qaznet Trust Network", "Test State", "ZZ")
    rsa_ca = pki.CA(subject=pki.name("RSA Issuing CA"), key=pki.new_key("rsa"), parent=public_root)
    logs = [ctlog.TestLog("Fuzz log A", "Op A"), ctlog.TestLog("Fuzz log B", "Op B")]
    log_list = ctlog.log_list(logs)
    with_scts = ctlog.leaf_with_scts(public_issuing, HOST, [(logs[0], None, False), (logs[1], None, False)])
    forged = rogue.leaf(HOST).cert
    seeds = (
        _der(public_issuing.leaf(HOST).cert),
        _der(with_scts.cert),
        _der(forged),
        _der(rsa_ca.leaf(HOST, "192.0.2.7", "*.example.test").cert),
        _der(public_issuing.leaf("xn--80ak6aa92e.test", "xn--fdaf6a.example.test").cert),
        _der(public_issuing.leaf(HOST, precert_poison=True).cert),
        _der(public_issuing.leaf().cert),  # no SAN at all
        _der(public_issuing.cert),
        _der(public_root.cert),
        _der(rsa_ca.cert),
        _der(rogue.cert),
    )
    pin_file = tmp / "pins.toml"
    pin_file.write_text(f'[[pinsets]]\nname = "fuzz"\nhosts = ["example.test"]\ninclude_subdomains = true\n'
                        f'keys = ["{certs.spki_sha256(public_root.cert)}"]\n')
    intel_file = tmp / "intel.toml"
    intel_file.write_text(f'[[interceptor]]\nid = "zz-fuzz"\nname = "Fuzz State"\nkind = "state"\ncountry = "ZZ"\n'
                          f'spki_sha256 = ["{certs.spki_sha256(rogue.cert)}"]\n')
    ct_logs = CTLogList.from_json(log_list, "fuzz")
    plain = TrustContext(mozilla=AnchorSet("fuzz public", (public_root.cert,)), device=None,
                         pins=pins.load(), intel=intel.load())
    full = TrustContext(mozilla=AnchorSet("fuzz public", (public_root.cert,)),
                        device=AnchorSet("fuzz device", (public_root.cert, rogue.cert)),
                        pins=pins.load([pin_file]), intel=intel.load([intel_file]), ct_logs=ct_logs)
    return World(public_root, public_issuing, rogue, _der(forged), seeds, (plain, full), log_list, tmp)


# ---- byte mutation ---------------------------------------------------------------------------------------------

# Bytes that mean something in DER: tags, length forms, booleans, and the extremes.
INTERESTING = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0C, 0x13, 0x16, 0x17, 0x18, 0x1E, 0x30, 0x31, 0x7F,
               0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x88, 0xA0, 0xA3, 0xFF]


@st.composite
def mutated(draw: st.DrawFn, seeds: tuple[bytes, ...]) -> bytes:
    """A real certificate with a few flips, insertions, deletions, overwrites, truncations or splices."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "splice", "dup"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[pos] = draw(st.sampled_from(INTERESTING) | st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8) | st.sampled_from([b"\x00", b"\x80", b"\xff\xff"]))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 16))]
        elif op == "truncate":
            del data[pos:]
        elif op == "splice":
            other = draw(st.sampled_from(seeds))
            start = draw(st.integers(0, len(other) - 1))
            data[pos:pos + draw(st.integers(0, 64))] = other[start:start + draw(st.integers(1, 128))]
        elif op == "dup":
            data[pos:pos] = data[pos:pos + draw(st.integers(1, 64))]
    return bytes(data)


def some_certificate(w: World) -> st.SearchStrategy[bytes]:
    return st.one_of(mutated(w.seeds), st.sampled_from(w.seeds), st.binary(max_size=256))


# ---- (1) certs.view ----------------------------------------------------------------------------------------------

def test_view_never_raises_on_arbitrary_bytes() -> None:
    @FUZZ
    @given(st.binary(max_size=2048))
    def prop(data: bytes) -> None:
        RUNS["view/arbitrary bytes"] += 1
        v = certs.view(data)
        assert v.der == data and v.sha256 == certs.sha256_hex(data)
        certs.cert_info(v)
        v.claims(HOST)

    prop()
    report("view/arbitrary bytes")


def test_view_never_raises_on_mutated_certificates(world: World) -> None:
    @FUZZ
    @given(mutated(world.seeds), st.integers(0, 5))
    def prop(data: bytes, position: int) -> None:
        RUNS["view/mutated certificates"] += 1
        v = certs.view(data, position)
        assert v.der == data and v.position == position
        certs.cert_info(v)
        v.claims(HOST)
        v.claims("192.0.2.7")

    prop()
    report("view/mutated certificates")


# ---- (2) analyze_chain -------------------------------------------------------------------------------------------

def test_analyze_chain_never_raises_nor_answers_error(world: World) -> None:
    @FUZZ
    @given(st.lists(some_certificate(world), min_size=1, max_size=4), st.sampled_from(world.contexts),
           st.sampled_from([HOST, "example.test", "192.0.2.7", "other.test"]))
    def prop(chain: list[bytes], ctx: TrustContext, host: str) -> None:
        RUNS["analyze/mutated chains"] += 1
        v = analyze_chain(host, 443, chain, ctx, pki.NOW)
        assert v.status is not Status.ERROR, v.findings
        v.to_dict()

    prop()
    report("analyze/mutated chains")


def test_forged_leaf_with_any_extras_is_intercepted(world: World) -> None:
    genuine = (_der(world.public_issuing.cert), _der(world.public_root.cert))

    @FUZZ
    @given(st.lists(st.one_of(some_certificate(world), st.sampled_from(genuine)), max_size=4),
           st.sampled_from(world.contexts))
    def prop(extras: list[bytes], ctx: TrustContext) -> None:
        RUNS["analyze/forged leaf + extras"] += 1
        v = analyze_chain(HOST, 443, [world.forged, *extras], ctx, pki.NOW)
        assert v.status is Status.INTERCEPTED, (v.status, v.rule, [f.id for f in v.findings])

    prop()
    report("analyze/forged leaf + extras")


def test_mutated_forged_leaf_is_never_quieter_than_captive_or_misconfigured(world: World) -> None:
    """A mutated forged leaf may stop naming the host (then captive_portal is honest); it must never come out
    ``ok`` or ``error``: nothing the rogue CA signed chains to a public root."""

    @FUZZ
    @given(mutated((world.forged,)), st.lists(some_certificate(world), max_size=3), st.sampled_from(world.contexts))
    def prop(leaf: bytes, extras: list[bytes], ctx: TrustContext) -> None:
        RUNS["analyze/mutated forged leaf"] += 1
        v = analyze_chain(HOST, 443, [leaf, *extras], ctx, pki.NOW)
        assert v.status not in (Status.OK, Status.ERROR), (v.status, v.rule, [f.id for f in v.findings])

    prop()
    report("analyze/mutated forged leaf")


def _paths(node: object, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def mutate_tree(draw: st.DrawFn, doc: Any, values: st.SearchStrategy[Any], keys: list[str]) -> Any:
    """A few nodes of a valid document replaced, deleted, or given a new key or item (in place; returns ``doc``)."""
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = doc
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(keys))] = draw(values)
        else:
            parent.append(draw(values))
    return doc


# ---- (3) TOML loaders --------------------------------------------------------------------------------------------

KEYS = ["pinsets", "keys", "cas", "interceptor", "site", "host", "port", "hosts", "name", "spki_sha256", "sha256",
        "kind", "id", "issuer_patterns", "cn", "o", "c", "include_subdomains", "confidence", "bad_keys", "roots",
        "sensitive", "legitimate_domains", "references", "date", "source", "country", "years"]
TOKENS = ["[[pinsets]]", "[[interceptor]]", "[[site]]", "[keys.k]", "[cas.c]", "[", "]", "[[", "]]", "{", "}", "=",
          ",", ".", '"', "'", '"""', "'''", "\n", " ", "#", "\\", "\\u", "true", "false", "inf", "nan", "-", "+",
          "0x", "0o", "0b", "1979-05-27T07:32:00Z", "0001-01-01T00:00:00+01:00", "07:32:00", "1_000", "e",
          '"' + "ab" * 32 + '"', '"state"', '"unknown"', '"a.test"', "443", "70000", '["k"]', '["c"]', *KEYS,
          # the known crashes, so that the fuzzer keeps covering them: nesting past tomllib's recursion, an integer
          # past int()'s 4300 digits, a regular expression past re's recursion, a port of non-ASCII digits
          "x = " + "[" * DEEP + "]" * DEEP + "\n", "x = " + "1" * 5000 + "\n", '"' + "(" * 1000 + ")" * 1000 + '"',
          '"a{99999999999}"', "a.test:²\n", '"a.test:²"', "0x" + "f" * 3900]


def loaders(tmp: Path) -> Iterator[Callable[[], object]]:
    """Every way a user's TOML text reaches a loader, each with the file written under its own name."""
    yield lambda: pins.load([tmp / "pins.toml"])
    yield lambda: intel.load([tmp / "intel.toml"])
    yield lambda: targets.load_site_list(tmp / "sites.toml")
    yield lambda: targets.load_site_list(tmp / "sites.txt")


def load_all(tmp: Path, raw: bytes) -> None:
    for name in ("pins.toml", "intel.toml", "sites.toml", "sites.txt"):
        (tmp / name).write_bytes(raw)
    for load in loaders(tmp):
        with contextlib.suppress(DataError, ConfigError):  # anything else fails the property
            load()


def toml_ish() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(TOKENS) | st.text(max_size=6), max_size=60).map("".join)


def test_toml_loaders_on_toml_ish_text(world: World) -> None:
    @FUZZ
    @given(toml_ish())
    def prop(text: str) -> None:
        RUNS["toml/text"] += 1
        load_all(world.tmp, text.encode("utf-8", "surrogatepass"))

    prop()
    report("toml/text")


def test_toml_loaders_on_arbitrary_bytes(world: World) -> None:
    @FUZZ
    @given(st.binary(max_size=512))
    def prop(raw: bytes) -> None:
        RUNS["toml/bytes"] += 1
        load_all(world.tmp, raw)

    prop()
    report("toml/bytes")


def _toml_str(s: str) -> str:
    # JSON's escapes are a subset of TOML's basic-string escapes, except that TOML also wants DEL escaped.
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return hex(v) if v > 2**100 else str(v)  # str() refuses more than 4300 digits; TOML takes any hex
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_str(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    assert isinstance(v, datetime | date | time), v
    return v.isoformat()


def to_toml(doc: dict[str, Any]) -> str:
    """A TOML document for ``doc``, every table inline (valid TOML that parses back to ``doc``)."""
    return "".join(f"{_toml_str(k)} = {_toml_value(v)}\n" for k, v in doc.items())


class HugeHex(int):
    """An integer TOML can hold (in hex) but ``repr()`` cannot print (more than 4300 digits): this one prints."""

    def __repr__(self) -> str:
        return f"HugeHex(<{self.bit_length()} bits>)"


HEX_VALUES = st.sampled_from(["ab" * 32, "AB" * 32, "ab" * 31, "k", "c", ""])
TOML_LEAVES = st.one_of(
    st.text(max_size=12), HEX_VALUES, st.sampled_from(["state", "unknown", "corporate", "high", "medium", "a.test",
                                                       "a.test:99999", "[::1]:443", "https://a.test/", "(", "a{9}",
                                                       "a{99999999999}", "(" * 1000 + ")" * 1000, "a.test:²"]),
    st.integers(min_value=-(2**70), max_value=2**70), st.just(HugeHex(16**3900 - 1)), st.floats(), st.booleans(),
    # TOML offsets are whole minutes (zoneinfo's historic offsets in seconds would not be TOML).
    st.datetimes(timezones=st.none() | st.just(UTC)
                 | st.builds(timezone, st.integers(-1439, 1439).map(lambda m: timedelta(minutes=m)))),
    st.dates(), st.times(),
)
TOML_KEYS = st.sampled_from(KEYS) | st.text(max_size=8)


def toml_docs() -> st.SearchStrategy[dict[str, Any]]:
    values = st.recursive(TOML_LEAVES, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(TOML_KEYS, inner, max_size=5), max_leaves=25)
    # The shapes the loaders look for, filled with anything: pins, intel and site entries, key and CA tables.
    entry = st.dictionaries(TOML_KEYS, values, max_size=8)
    return st.fixed_dictionaries({}, optional={
        "pinsets": st.lists(entry, max_size=3) | values,
        "keys": st.dictionaries(TOML_KEYS, entry, max_size=3) | values,
        "cas": st.dictionaries(TOML_KEYS, entry, max_size=3) | values,
        "interceptor": st.lists(entry, max_size=3) | values,
        "site": st.lists(entry, max_size=3) | values,
    }) | st.dictionaries(TOML_KEYS, values, max_size=5)


def test_toml_loaders_on_generated_documents(world: World) -> None:
    @FUZZ
    @given(toml_docs())
    def prop(doc: dict[str, Any]) -> None:
        RUNS["toml/documents"] += 1
        load_all(world.tmp, to_toml(doc).encode())

    prop()
    report("toml/documents")


def valid_docs() -> list[dict[str, Any]]:
    """One valid document per loader, with every table and reference the loaders follow."""
    hex64 = "ab" * 32
    return [
        {"keys": {"k": {"spki_sha256": hex64, "name": "K"}}, "cas": {"c": {"roots": ["k", hex64], "name": "C"}},
         "pinsets": [{"name": "t", "hosts": ["a.test"], "keys": ["k"], "bad_keys": [hex64], "cas": ["c"],
                      "include_subdomains": True, "confidence": "high", "date": "2026-12-01"}]},
        {"interceptor": [{"id": "x", "name": "X", "kind": "state", "country": "ZZ", "spki_sha256": [hex64],
                          "sha256": [hex64], "issuer_patterns": [{"cn": "^X$", "o": "Y", "c": "ZZ"}],
                          "legitimate_domains": ["gov.test"], "references": ["https://example.test/"]}]},
        {"site": [{"host": "a.test", "port": 443, "sensitive": True}, {"host": "[::1]:8443"}]},
    ]


@st.composite
def near_valid_toml(draw: st.DrawFn) -> dict[str, Any]:
    """A valid pins, intel or site document with a few nodes changed: reaches the checks past the first one."""
    values = st.recursive(TOML_LEAVES, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(TOML_KEYS, inner, max_size=3), max_leaves=10)
    doc: dict[str, Any] = mutate_tree(draw, draw(st.sampled_from(valid_docs())), values, KEYS)
    return doc


def test_toml_loaders_on_near_valid_documents(world: World) -> None:
    @FUZZ
    @given(near_valid_toml())
    def prop(doc: dict[str, Any]) -> None:
        RUNS["toml/near-valid documents"] += 1
        load_all(world.tmp, to_toml(doc).encode())

    prop()
    report("toml/near-valid documents")


def test_the_valid_documents_load(world: World) -> None:
    # negative control for the property above: unmutated, each document loads
    pins_doc, intel_doc, sites_doc = valid_docs()
    for name, doc in (("p.toml", pins_doc), ("i.toml", intel_doc), ("s.toml", sites_doc)):
        (world.tmp / name).write_text(to_toml(doc))
    assert pins.load([world.tmp / "p.toml"]).pinsets[0].name == "t"
    assert any(e.entry_id == "x" for e in intel.load([world.tmp / "i.toml"]).entries)
    assert [t.port for t in targets.load_site_list(world.tmp / "s.toml")] == [443, 8443]


def test_toml_writer_round_trips() -> None:
    """The fuzzer's TOML writer is right, so the documents above reach the loaders as generated."""
    import tomllib

    @settings(max_examples=min(EXAMPLES, 100), deadline=None, database=None)
    @given(toml_docs())
    def prop(doc: dict[str, Any]) -> None:
        back = tomllib.loads(to_toml(doc))
        assert back == doc or _has_nan(doc)

    prop()


def _has_nan(v: object) -> bool:
    if isinstance(v, float):
        return math.isnan(v)
    if isinstance(v, dict):
        return any(_has_nan(x) for x in v.values())
    if isinstance(v, list):
        return any(_has_nan(x) for x in v)
    return False


# ---- (4) CTLogList.from_json -------------------------------------------------------------------------------------

CT_KEYS = ["operators", "name", "logs", "tiled_logs", "key", "log_id", "description", "state", "usable", "retired",
           "timestamp", "temporal_interval", "start_inclusive", "end_exclusive", "log_list_timestamp", "version"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10)
    | st.sampled_from(["2024-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "x",
                       "AAAA", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(CT_KEYS) | st.text(max_size=6),
                                                               inner, max_size=5),
    max_leaves=30)


@st.composite
def mutated_log_list(draw: st.DrawFn, raw: bytes) -> bytes:
    """The real list with a few nodes replaced, deleted or given a new key; sometimes then byte-mutated."""
    out = json.dumps(mutate_tree(draw, json.loads(raw), JSON_VALUES, CT_KEYS)).encode()
    if draw(st.booleans()):
        out = draw(mutated((out,)))
    return out


def _from_json_only_data_error(raw: bytes) -> None:
    try:
        CTLogList.from_json(raw, "fuzz.json")
    except DataError as exc:
        assert exc.source == "fuzz.json"


def test_ct_log_list_arbitrary_json() -> None:
    @FUZZ
    @given(JSON_VALUES)
    def prop(doc: object) -> None:
        RUNS["ctlog/arbitrary json"] += 1
        _from_json_only_data_error(json.dumps(doc).encode())

    prop()
    report("ctlog/arbitrary json")


def test_ct_log_list_arbitrary_bytes() -> None:
    @FUZZ
    @given(st.binary(max_size=256) | st.sampled_from([b"[" * 100_000, b'{"operators": ' * DEEP,
                                                       b'{"version": ' + b"9" * 5000 + b"}"]))
    def prop(raw: bytes) -> None:
        RUNS["ctlog/bytes"] += 1
        _from_json_only_data_error(raw)

    prop()
    report("ctlog/bytes")


def test_ct_log_list_mutated_real_lists(world: World) -> None:
    @FUZZ
    @given(mutated_log_list(world.log_list))
    def prop(raw: bytes) -> None:
        RUNS["ctlog/mutated lists"] += 1
        _from_json_only_data_error(raw)

    prop()
    report("ctlog/mutated lists")


# ---- (5) split_pem_or_der ----------------------------------------------------------------------------------------

BEGIN, END = b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----"


@st.composite
def pem_ish(draw: st.DrawFn, seeds: tuple[bytes, ...]) -> bytes:
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        body = base64.encodebytes(draw(mutated(seeds) | st.sampled_from(seeds)))
        body = draw(st.sampled_from([body, body[: len(body) // 2], body.replace(b"\n", b"\r\n"), body + b"=",
                                     body.replace(b"A", b"*", 1), b"", b"\x00" + body]))
        parts.append(draw(st.sampled_from([BEGIN, BEGIN[:-1], b""])) + b"\n" + body
                     + draw(st.sampled_from([END, END[:-1], b"", BEGIN])) + b"\n")
        parts.append(draw(st.binary(max_size=16)))
    return b"".join(parts)


def test_split_pem_or_der_raises_only_data_error(world: World) -> None:
    @FUZZ
    @given(st.one_of(st.binary(max_size=512), pem_ish(world.seeds),
                     st.lists(mutated(world.seeds) | st.sampled_from(world.seeds), max_size=3).map(b"".join)))
    def prop(data: bytes) -> None:
        RUNS["split_pem_or_der"] += 1
        try:
            blocks = certs.split_pem_or_der(data, "fuzz.pem")
        except DataError as exc:
            assert exc.source == "fuzz.pem"
            return
        assert all(isinstance(b, bytes) for b in blocks)

    prop()
    report("split_pem_or_der")


def test_split_then_view_a_real_bundle(world: World) -> None:
    # negative control: a clean bundle splits into exactly its certificates, each viewed clean
    bundle = b"".join(pki.pem(x509.load_der_x509_certificate(d)) for d in world.seeds[:3])
    blocks = certs.split_pem_or_der(bundle, "b.pem")
    assert blocks == list(world.seeds[:3]) and all(certs.view(b).clean for b in blocks[:1])


def test_the_contexts_judge_clean_chains_as_expected(world: World) -> None:
    # negative control for property (2): unmutated, the site's chain is ok (with SCTs where CT is checked) and the
    # forged leaf intercepted
    for ctx, leaf in zip(world.contexts, (world.seeds[0], world.seeds[1]), strict=True):
        assert analyze_chain(HOST, 443, [leaf, _der(world.public_issuing.cert)], ctx, pki.NOW).status is Status.OK
        assert analyze_chain(HOST, 443, [world.forged], ctx, pki.NOW).status is Status.INTERCEPTED


def test_sct_seed_is_really_judged_with_valid_scts(world: World) -> None:
    ctx = world.contexts[1]
    v = analyze_chain(HOST, 443, [world.seeds[1], _der(world.public_issuing.cert)], ctx, pki.NOW)
    assert v.status is Status.OK and v.ct is not None

