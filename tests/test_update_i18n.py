"""`certguard update`, `--ct-logs` and `--pins` errors in the user's language.

Real `python -m certguard` runs on local files only (``update --file/--signature-file``, ``inspect``, ``pins``):
nothing here opens a socket. Each localized line sits beside a control: the same run in English, or a good file
that gives no error at all. In-process checks then show that every new catalog key says in English exactly what
``str(exc)`` says.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ctlog
import pki
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, rsa
from test_cli_i18n import catalog, run  # a real `python -m certguard` in one language, and the catalogs
from test_update import pub_pem, sign

from certguard.data import pins as pin_data
from certguard.data import update
from certguard.errors import CertguardError, DataError, FetchError
from certguard.i18n import Translator
from certguard.judge.ctlog import CTLogList
from certguard.judge.models import iso
from certguard.probe import https
from certguard.probe.https import HttpResponse

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "certguard" / "locales"
PREFIX = {"en": "certguard: error: ", "fr": "certguard : erreur : ", "ru": "certguard: ошибка: ",
          "kk": "certguard: қате: "}


@pytest.fixture(scope="module")
def signer() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_list(signed: datetime) -> bytes:
    return ctlog.log_list([ctlog.TestLog("Log A", "Operator A"), ctlog.TestLog("Log B", "Operator B")],
                          timestamp=signed)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def write_feed(tmp_path: Path, signer: rsa.RSAPrivateKey, body: bytes, *,
               tamper: bool = False) -> tuple[Path, Path, Path]:
    """The list, its signature (over the untampered body) and the signing key, as files."""
    f, s, k = tmp_path / "log_list.json", tmp_path / "log_list.sig", tmp_path / "mirror.pem"
    s.write_bytes(sign(signer, body))
    f.write_bytes(body.replace(b'"Log A"', b'"Log X"') if tamper else body)
    k.write_bytes(pub_pem(signer))
    return f, s, k


def update_args(data: Path, f: Path, s: Path, k: Path) -> list[str]:
    return ["update", "--data-dir", str(data), "--file", str(f), "--signature-file", str(s), "--signing-key", str(k)]


def assert_one_line(out: subprocess.CompletedProcess[str], expected: str) -> None:
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""
    assert out.stderr == expected + "\n"


# ---- certguard update --file -------------------------------------------------------------------------------------

def test_tampered_file_is_one_french_signature_line(tmp_path: Path, signer: rsa.RSAPrivateKey) -> None:
    fr, en = catalog("fr"), catalog("en")
    f, s, k = write_feed(tmp_path, signer, make_list(now() - timedelta(hours=2)), tamper=True)
    data = tmp_path / "data"
    out = run("fr", *update_args(data, f, s, k))
    assert_one_line(out, f"{PREFIX['fr']}{f}\u00a0: {fr['error.update.signature']}")  # French spacing
    assert "la signature ne correspond pas" in out.stderr and "does not match" not in out.stderr
    assert not (data / "ct_log_list.json").exists()
    # control: the same run in English says the English message (what str(exc) says)
    out = run("en", *update_args(data, f, s, k))
    assert_one_line(out, f"{PREFIX['en']}{f}: {en['error.update.signature']}")
    assert "the signature does not match" in out.stderr and "la signature" not in out.stderr


def test_untampered_file_is_stored_in_french(tmp_path: Path, signer: rsa.RSAPrivateKey) -> None:
    # control for the test above: the same files, untampered, verify and are stored (no error line at all)
    f, s, k = write_feed(tmp_path, signer, make_list(now() - timedelta(hours=2)))
    data = tmp_path / "data"
    out = run("fr", *update_args(data, f, s, k))
    assert out.returncode == 0, out.stderr
    assert out.stderr == "" and "vérifiée et enregistrée" in out.stdout
    assert (data / "ct_log_list.json").read_bytes() == f.read_bytes()


def test_list_signed_in_the_future_in_kazakh(tmp_path: Path, signer: rsa.RSAPrivateKey) -> None:
    signed = now() + timedelta(days=3)
    f, s, k = write_feed(tmp_path, signer, make_list(signed))
    stamp = iso(signed)
    out = run("kk", *update_args(tmp_path / "data", f, s, k))
    assert_one_line(out, f"{PREFIX['kk']}{f}: қол қойылған уақыты {stamp}, яғни болашақта: "
                         "осы құрылғының сағатын тексеріңіз")
    out = run("en", *update_args(tmp_path / "data", f, s, k))
    assert_one_line(out, f"{PREFIX['en']}{f}: signed {stamp}, in the future: check this device's clock")


def test_a_signing_key_that_is_not_pem_in_russian(tmp_path: Path, signer: rsa.RSAPrivateKey) -> None:
    f, s, k = write_feed(tmp_path, signer, make_list(now() - timedelta(hours=2)))
    k.write_text("not a key\n")
    out = run("ru", *update_args(tmp_path / "data", f, s, k))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.startswith(f"{PREFIX['ru']}{k}: это не открытый ключ PEM (")
    out = run("en", *update_args(tmp_path / "data", f, s, k))
    assert out.returncode == 2 and out.stderr.startswith(f"{PREFIX['en']}{k}: not a PEM public key (")


# ---- --ct-logs ---------------------------------------------------------------------------------------------------

def swapped_log_ids(raw: bytes) -> bytes:
    doc = json.loads(raw)
    logs = doc["operators"][0]["logs"]
    other = ctlog.TestLog("Other", "Operator A")
    logs[0]["log_id"] = base64.b64encode(other.log_id).decode()
    return json.dumps(doc).encode()


def two_states(raw: bytes) -> bytes:
    doc = json.loads(raw)
    doc["operators"][1]["logs"][0]["state"] = {"usable": {}, "retired": {}}
    return json.dumps(doc).encode()


@pytest.mark.parametrize(("corrupt", "russian", "english"), [
    (swapped_log_ids, "operators[0].logs[0] (log 'Log A'): log_id не является SHA-256 его ключа",
     "operators[0].logs[0] (log 'Log A'): log_id is not the SHA-256 of its key"),
    (two_states, "operators[1].logs[0].state (log 'Log B'): должно указывать ровно одно состояние, а не 2",
     "operators[1].logs[0].state (log 'Log B'): must name exactly one state, not 2"),
])
def test_malformed_ct_log_list_is_one_russian_line(tmp_path: Path, corrupt: Callable[[bytes], bytes],
                                                   russian: str, english: str) -> None:
    site = pki.site_chain("a.test")
    chain = pki.write_bundle(tmp_path / "chain.pem", site.served)
    anchors = pki.write_bundle(tmp_path / "anchors.pem", [site.root.cert])
    good = tmp_path / "good.json"
    good.write_bytes(make_list(now() - timedelta(days=1)))
    bad = tmp_path / "bad.json"
    bad.write_bytes(corrupt(good.read_bytes()))
    args = ["inspect", str(chain), "--host", "a.test", "--no-device-store", "--ca-bundle", str(anchors),
            "--data-dir", str(tmp_path / "data"), "--ct-logs"]
    assert_one_line(run("ru", *args, str(bad)), f"{PREFIX['ru']}{bad}: {russian}")
    # controls: English says the English message; the uncorrupted list gives a verdict, not an error line
    assert_one_line(run("en", *args, str(bad)), f"{PREFIX['en']}{bad}: {english}")
    out = run("ru", *args, str(good))
    assert out.returncode in (0, 1), out.stderr
    assert PREFIX["ru"] not in out.stderr and "Traceback" not in out.stderr


# ---- --pins ------------------------------------------------------------------------------------------------------

HEX = "ab" * 32


def test_pins_include_subdomains_not_a_boolean_in_french(tmp_path: Path) -> None:
    bad = tmp_path / "pins.toml"
    bad.write_text(f'[[pinsets]]\nname = "t"\nhosts = ["a.test"]\nkeys = ["{HEX}"]\ninclude_subdomains = "yes"\n')
    assert_one_line(run("fr", "pins", "--pins", str(bad)),
                    f"{PREFIX['fr']}{bad}\u00a0: pinsets[0] : include_subdomains doit valoir true ou false")
    assert_one_line(run("en", "pins", "--pins", str(bad)),
                    f"{PREFIX['en']}{bad}: pinsets[0]: include_subdomains must be true or false")
    # control: the same file with a boolean loads and lists the pinset
    good = tmp_path / "good.toml"
    good.write_text(bad.read_text().replace('"yes"', "true"))
    out = run("fr", "pins", "--pins", str(good))
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert "a.test" in out.stdout


# ---- every new key says in English what str(exc) says -----------------------------------------------------------

def _raises(call: Callable[[], object]) -> CertguardError:
    with pytest.raises(CertguardError) as info:
        call()
    return info.value


def _ct(change: Callable[[dict[str, object]], object]) -> Callable[[], object]:
    doc = json.loads(make_list(now()))
    change(doc)
    return lambda: CTLogList.from_json(json.dumps(doc).encode(), "list.json")


def _log(doc: dict[str, object]) -> dict[str, object]:
    return doc["operators"][0]["logs"][0]  # type: ignore[index, no-any-return]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def sha(raw: bytes) -> bytes:
    return hashlib.sha256(raw).digest()


def _pins(tmp_path: Path, text: str) -> Callable[[], object]:
    path = tmp_path / "p.toml"

    def load() -> object:
        path.write_text(text)
        return pin_data.load([path])
    return load


def _fetch(status: int, content_type: str, body: bytes = b"") -> Callable[..., HttpResponse]:
    return lambda url, **_: HttpResponse(url, status, content_type, body)


def _update(feed: update.Feed, directory: Path, fetch: Callable[..., HttpResponse]) -> Callable[[], object]:
    return lambda: update.update(feed, directory, datetime.now(UTC), cafile="-", fetch=fetch)


def raised_errors(tmp_path: Path, signer: rsa.RSAPrivateKey) -> dict[str, CertguardError]:
    """One error per new key (plus error.file.unreadable, reused), each raised by the code it belongs to."""
    feed = update.Feed("CT log list", "https://a.test/l.json", "https://a.test/l.sig", pub_pem(signer),
                       "ct.json", ("application/json",), 1 << 20, update.CT_LOG_LIST.parse)

    def signed(at: datetime) -> Callable[..., HttpResponse]:
        body = make_list(at)
        sig = sign(signer, body)
        return lambda url, **_: HttpResponse(url, 200, "application/json", body if url == feed.url else sig)

    stored = tmp_path / "stored"
    update.update(feed, stored, now(), cafile="-", fetch=signed(now() - timedelta(hours=1)))
    big = tmp_path / "big"
    big.write_bytes(b"x" * 10)
    notkey = tmp_path / "notkey.pem"
    notkey.write_text("x")
    ed = ed448.Ed448PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    ed_der = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    calls: dict[str, Callable[[], object]] = {
        "error.update.signature": lambda: update.verify_signature(pub_pem(signer), b"a", sign(signer, b"b"), "u"),
        "error.update.key_type": lambda: update.verify_signature(ed, b"a", b"b", "u"),
        "error.update.http_status": _update(feed, tmp_path / "d", _fetch(404, "text/html")),
        "error.update.content_type": _update(feed, tmp_path / "d", _fetch(200, "text/html")),
        "error.update.future": _update(feed, tmp_path / "d", signed(now() + timedelta(days=3))),
        "error.update.too_old": _update(feed, tmp_path / "d", signed(now() - timedelta(days=100))),
        "error.update.rollback": _update(feed, stored, signed(now() - timedelta(days=2))),
        "error.update.file_too_large": lambda: update.local_fetch({"u": big}, "x")("u", max_bytes=5),
        "error.file.unreadable": lambda: update.local_fetch({"u": tmp_path / "none"}, "x")("u", max_bytes=5),
        "error.update.not_pem_key": lambda: update.load_key(notkey),
        "error.fetch.https_only": lambda: https.https_get("http://a.test/", cafile="-"),
        "error.fetch.anchors": lambda: https.https_get("https://a.test/", cafile=str(tmp_path / "none.pem")),
        "error.ctlog.string": _ct(lambda d: d.update(version=None)),
        "error.ctlog.object": _ct(lambda d: d.update(operators=[5])),
        "error.ctlog.array": _ct(lambda d: d.update(operators={})),
        "error.ctlog.time_type": _ct(lambda d: d.update(log_list_timestamp=5)),
        "error.ctlog.time": _ct(lambda d: d.update(log_list_timestamp="yesterday")),
        "error.ctlog.base64_type": _ct(lambda d: _log(d).update(key=None)),
        "error.ctlog.base64": _ct(lambda d: _log(d).update(key="!!")),
        "error.ctlog.log_id": _ct(lambda d: _log(d).update(log_id=b64(b"x" * 32))),
        "error.ctlog.key": _ct(lambda d: _log(d).update(key=b64(b"\0\0\0"), log_id=b64(sha(b"\0\0\0")))),
        "error.ctlog.key_type": _ct(lambda d: _log(d).update(key=b64(ed_der), log_id=b64(sha(ed_der)))),
        "error.ctlog.state": _ct(lambda d: _log(d).update(state={})),
        "error.pins.table_of": _pins(tmp_path, "keys = 5\n"),
        "error.pins.table": _pins(tmp_path, "[cas]\nx = 5\n"),
        "error.pins.subdomains": _pins(tmp_path, f'[[pinsets]]\nhosts = ["a"]\nkeys = ["{HEX}"]\n'
                                                 "include_subdomains = 1\n"),
        "error.pins.date": _pins(tmp_path, f'[[pinsets]]\nhosts = ["a"]\nkeys = ["{HEX}"]\ndate = 5\n'),
    }
    return {key: _raises(call) for key, call in calls.items()}


def test_every_new_key_says_in_english_what_the_exception_says(tmp_path: Path, signer: rsa.RSAPrivateKey) -> None:
    en, fr = Translator("en"), Translator("fr")
    errors = raised_errors(tmp_path, signer)
    for key, exc in errors.items():
        assert exc.key == key, (key, str(exc))
        assert isinstance(exc, DataError | FetchError)
        assert exc.localized(en) == str(exc), key
        french = exc.localized(fr)
        assert french != str(exc) and not re.search(r"\{[a-z_]+\}", french), key  # translated, all filled
    # control: a message whose catalog text drifted from the source is caught by the same comparison
    exc = errors["error.update.signature"]
    assert isinstance(exc, FetchError)
    drifted = FetchError(exc.url, exc.message, key="error.fetch.failed", detail="x")
    assert drifted.localized(en) != str(drifted)
    # control: an error without a key stays English in every language
    plain = FetchError("u", "something")
    assert plain.localized(fr) == str(plain) == "u: something"
