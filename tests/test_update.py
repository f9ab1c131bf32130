"""`certguard update`: a signed CT log list fetched from a loopback HTTPS server standing in for gstatic.com.

Every rejection test first stores a good list and then checks that it survived byte for byte.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import certifi
import ctlog
import pki
import pytest
from conftest import CheckRun
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from servers import HTTPSFiles, Route

from certguard.data import update
from certguard.errors import DataError, FetchError

LIST, SIG = "/ct/log_list/v3/log_list.json", "/ct/log_list/v3/log_list.sig"


@pytest.fixture(scope="module")
def signer() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def pub_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def make_list(version: str, age: timedelta = timedelta(hours=2)) -> bytes:
    doc = json.loads(ctlog.log_list([ctlog.TestLog("Log A", "Operator A"), ctlog.TestLog("Log B", "Operator B")],
                                    timestamp=datetime.now(UTC).replace(microsecond=0) - age))
    doc["version"] = version
    return json.dumps(doc).encode()


@pytest.fixture
def gstatic(public_issuing: pki.CA) -> Iterator[HTTPSFiles]:
    leaf = public_issuing.leaf("127.0.0.1")
    with HTTPSFiles([leaf.cert, public_issuing.cert], leaf.key) as server:
        yield server


@pytest.fixture
def run_update(gstatic: HTTPSFiles, ca_bundle: Path, signer: rsa.RSAPrivateKey,
               tmp_path: Path) -> Callable[..., update.UpdateResult]:
    feed = dataclasses.replace(update.CT_LOG_LIST, url=gstatic.url(LIST), signature_url=gstatic.url(SIG),
                               key_pem=pub_pem(signer))

    def run(**kw: object) -> update.UpdateResult:
        return update.update(feed, tmp_path / "data", datetime.now(UTC), cafile=str(ca_bundle), timeout=5,
                             **kw)  # type: ignore[arg-type]
    return run


def publish(server: HTTPSFiles, body: bytes, sig: bytes, **route: object) -> None:
    server.routes[LIST] = Route(body, **route)  # type: ignore[arg-type]
    server.routes[SIG] = Route(sig, content_type="application/octet-stream")


@pytest.fixture
def stored(gstatic: HTTPSFiles, signer: rsa.RSAPrivateKey, run_update: Callable[..., update.UpdateResult]) -> bytes:
    """A good list already stored; returns its bytes."""
    body = make_list("1.1", age=timedelta(days=1))
    publish(gstatic, body, sign(signer, body))
    result = run_update()
    assert result.changed and result.version == "1.1"
    assert result.path.read_bytes() == body
    return body


def test_good_list_is_verified_and_stored_with_metadata(stored: bytes, tmp_path: Path) -> None:
    data = tmp_path / "data"
    meta = json.loads((data / "ct_log_list.json.meta.json").read_text())
    assert meta["version"] == "1.1" and meta["summary"] == "2 logs"
    assert (data / "ct_log_list.json.sig").is_file()
    assert not (data / "ct_log_list.json.previous").exists()


def test_newer_list_replaces_and_keeps_previous(stored: bytes, gstatic: HTTPSFiles, signer: rsa.RSAPrivateKey,
                                                run_update: Callable[..., update.UpdateResult],
                                                tmp_path: Path) -> None:
    newer = make_list("1.2")
    publish(gstatic, newer, sign(signer, newer))
    result = run_update()
    assert result.changed and result.previous_version == "1.1"
    assert result.path.read_bytes() == newer
    assert (tmp_path / "data" / "ct_log_list.json.previous").read_bytes() == stored
    # same document again: nothing to do
    assert run_update().changed is False


@pytest.mark.parametrize("case", ["bad_signature", "signature_of_other_list", "truncated", "html_block_page",
                                  "server_error", "signature_missing", "not_a_log_list", "replayed_older",
                                  "stale", "from_the_future"])
def test_rejected_downloads_leave_the_stored_copy_intact(case: str, stored: bytes, gstatic: HTTPSFiles,
                                                         signer: rsa.RSAPrivateKey, tmp_path: Path,
                                                         run_update: Callable[..., update.UpdateResult]) -> None:
    body = make_list("2.0")
    good_sig = sign(signer, body)
    expected: type[Exception] = FetchError
    if case == "bad_signature":
        publish(gstatic, body, good_sig[:-1] + bytes([good_sig[-1] ^ 1]))
        reason = "signature does not match"
    elif case == "signature_of_other_list":
        publish(gstatic, body, sign(signer, stored))
        reason = "signature does not match"
    elif case == "truncated":
        publish(gstatic, body, good_sig, truncate_to=len(body) // 2)
        reason = "truncated"
    elif case == "html_block_page":
        publish(gstatic, body, good_sig, content_type="text/html")
        reason = "unexpected content type 'text/html'"
    elif case == "server_error":
        publish(gstatic, body, good_sig, status=500)
        reason = "HTTP 500"
    elif case == "signature_missing":
        publish(gstatic, body, good_sig)
        del gstatic.routes[SIG]
        reason = "HTTP 404"
    elif case == "not_a_log_list":
        junk = b'{"hello": "world"}'
        publish(gstatic, junk, sign(signer, junk))
        expected, reason = DataError, "not a CT log list"
    elif case == "replayed_older":
        older = make_list("1.0", age=timedelta(days=3))
        publish(gstatic, older, sign(signer, older))
        reason = "older than the stored copy"
    elif case == "stale":
        old = make_list("0.9", age=timedelta(days=71))
        publish(gstatic, old, sign(signer, old))
        reason = "more than 70 days ago"
    else:
        future = make_list("9.9", age=timedelta(days=-3))
        publish(gstatic, future, sign(signer, future))
        reason = "in the future"
    with pytest.raises(expected, match=reason):
        run_update()
    data = tmp_path / "data"
    assert (data / "ct_log_list.json").read_bytes() == stored
    assert json.loads((data / "ct_log_list.json.meta.json").read_text())["version"] == "1.1"
    assert not (data / "ct_log_list.json.previous").exists()
    assert not [p for p in data.iterdir() if p.name.startswith(".")], "no temporary file left behind"


def test_download_through_an_untrusted_tls_server_is_refused(signer: rsa.RSAPrivateKey, tmp_path: Path,
                                                            ca_bundle: Path) -> None:
    """An interceptor's certificate for the download host: refused before any byte is used."""
    rogue = pki.root("Qaznet Trust Network", c="KZ")
    leaf = rogue.leaf("127.0.0.1")
    body = make_list("3.0")
    with HTTPSFiles([leaf.cert], leaf.key, {LIST: Route(body), SIG: Route(sign(signer, body))}) as server:
        feed = dataclasses.replace(update.CT_LOG_LIST, url=server.url(LIST), signature_url=server.url(SIG),
                                   key_pem=pub_pem(signer))
        with pytest.raises(FetchError, match="not trusted"):
            update.update(feed, tmp_path, datetime.now(UTC), cafile=str(ca_bundle), timeout=5)
        assert server.requests == []
    assert not (tmp_path / "ct_log_list.json").exists()


def test_oversize_response_is_refused(gstatic: HTTPSFiles, run_update: Callable[..., update.UpdateResult],
                                      signer: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch) -> None:
    body = make_list("4.0")
    publish(gstatic, body, sign(signer, body))
    monkeypatch.setattr(update, "_MAX_SIGNATURE", 16)
    with pytest.raises(FetchError, match="larger than the 16 bytes"):
        run_update()


def test_only_https_urls() -> None:
    feed = dataclasses.replace(update.CT_LOG_LIST, url="http://127.0.0.1:9/list.json")
    with pytest.raises(FetchError, match="only https"):
        update.update(feed, Path("/nonexistent"), datetime.now(UTC), cafile="/dev/null", timeout=1)


@pytest.mark.parametrize("kind", ["rsa", "ecdsa", "ed25519"])
def test_signature_algorithms(kind: str) -> None:
    data = b"signed feed"
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    if kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        sig = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    elif kind == "ecdsa":
        key = ec.generate_private_key(ec.SECP256R1())
        sig = key.sign(data, ec.ECDSA(hashes.SHA256()))
    else:
        key = ed25519.Ed25519PrivateKey.generate()
        sig = key.sign(data)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    update.verify_signature(pem, data, sig, "test")
    with pytest.raises(FetchError, match="does not match"):
        update.verify_signature(pem, data + b"!", sig, "test")


def test_embedded_google_key_is_rsa_4096() -> None:
    key = serialization.load_pem_public_key(update.GOOGLE_CT_LOG_LIST_KEY)
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 4096


def test_cli_uses_googles_key_by_default(gstatic: HTTPSFiles, signer: rsa.RSAPrivateKey, ca_bundle: Path,
                                         tmp_path: Path, run_cli: Callable[..., CheckRun]) -> None:
    """A list signed by anyone but Google is refused by the real command; with the mirror's key it is accepted,
    and `check --data-dir` then uses it."""
    body = make_list("5.0")
    publish(gstatic, body, sign(signer, body))
    data = tmp_path / "data"
    common = ["update", "--data-dir", str(data), "--url", gstatic.url(LIST), "--signature-url", gstatic.url(SIG),
              "--ca-bundle", str(ca_bundle), "--timeout", "5"]
    refused = run_cli(*common)
    assert refused.exit_code == 2
    assert "signature does not match" in refused.stderr
    assert not (data / "ct_log_list.json").exists()

    key_file = tmp_path / "mirror.pem"
    key_file.write_bytes(pub_pem(signer))
    accepted = run_cli(*common, "--signing-key", str(key_file), "--json")
    assert accepted.exit_code == 0, accepted.stderr
    assert accepted.doc["version"] == "5.0" and accepted.doc["changed"] is True

    inspect = run_cli("inspect", str(pki.write_bundle(tmp_path / "c.pem", [pki.root("X").cert])), "--host", "x.test",
                      "--data-dir", str(data), "--no-device-store", "--json")
    assert inspect.doc["data"]["ct_log_list"]["version"] == "5.0"
    control = run_cli("inspect", str(tmp_path / "c.pem"), "--host", "x.test", "--data-dir", str(tmp_path / "empty"),
                      "--no-device-store", "--json")
    # without a stored list: the snapshot shipped with the package, never nothing
    assert control.doc["data"]["ct_log_list"]["source"].startswith("pinned_roots/ct_log_list.json")


def test_cli_imports_a_carried_copy(signer: rsa.RSAPrivateKey, tmp_path: Path,
                                    run_cli: Callable[..., CheckRun]) -> None:
    body = make_list("6.0")
    (tmp_path / "list.json").write_bytes(body)
    (tmp_path / "list.sig").write_bytes(sign(signer, body))
    (tmp_path / "key.pem").write_bytes(pub_pem(signer))
    args = ["update", "--data-dir", str(tmp_path / "d"), "--file", str(tmp_path / "list.json"),
            "--signature-file", str(tmp_path / "list.sig"), "--signing-key", str(tmp_path / "key.pem")]
    assert run_cli(*args).exit_code == 0
    assert (tmp_path / "d" / "ct_log_list.json").read_bytes() == body
    (tmp_path / "list.json").write_bytes(body.replace(b"Log A", b"Log Z"))
    tampered = run_cli(*args)
    assert tampered.exit_code == 2 and "signature does not match" in tampered.stderr
    assert (tmp_path / "d" / "ct_log_list.json").read_bytes() == body
    alone = run_cli("update", "--file", str(tmp_path / "list.json"))
    assert alone.exit_code == 2 and "go together" in alone.stderr


@pytest.mark.internet
def test_live_gstatic_list_verifies_with_the_embedded_key(tmp_path: Path) -> None:
    """Off by default (contacts www.gstatic.com): the real list and signature verify with the key in the source."""
    result = update.update(update.CT_LOG_LIST, tmp_path, datetime.now(UTC), cafile=certifi.where())
    assert result.changed and result.summary.endswith("logs")
