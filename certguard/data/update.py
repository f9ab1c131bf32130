"""Verified downloads of the data certguard relies on (``certguard update``).

A feed is a document plus a detached signature, both fetched over HTTPS (TLS checked against Mozilla's roots), the
signature checked with a key written into this source, the document parsed and checked for freshness, and only
then stored. Anything wrong leaves the stored copy untouched: on an intercepted network the interceptor can stop an
update, never replace the data. Pins and intel can be served the same way later: describe them as a ``Feed``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from certguard.data.files import write_atomic
from certguard.errors import DataError, FetchError
from certguard.judge.ct import MAX_LIST_AGE
from certguard.judge.ctlog import CTLogList
from certguard.judge.models import iso, parse_iso
from certguard.probe.https import HttpResponse, https_get
from certguard.probe.tls import Proxy

# Google's key for Chrome's CT log list (RSA-4096, PKCS#1 v1.5 with SHA-256), as published at
# https://www.gstatic.com/ct/log_list/v3/log_list_pubkey.pem. Written here, not downloaded: a key fetched beside
# the data it checks proves nothing. Cross-checked 2026-11-28 against the same key embedded in Google's
# certificate-transparency-go (submission/loglist) and AOSP's CertificateTransparencyDownloader.
GOOGLE_CT_LOG_LIST_KEY = b"""-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAsu0BHGnQ++W2CTdyZyxv
HHRALOZPlnu/VMVgo2m+JZ8MNbAOH2cgXb8mvOj8flsX/qPMuKIaauO+PwROMjiq
fUpcFm80Kl7i97ZQyBDYKm3MkEYYpGN+skAR2OebX9G2DfDqFY8+jUpOOWtBNr3L
rmVcwx+FcFdMjGDlrZ5JRmoJ/SeGKiORkbbu9eY1Wd0uVhz/xI5bQb0OgII7hEj+
i/IPbJqOHgB8xQ5zWAJJ0DmG+FM6o7gk403v6W3S8qRYiR84c50KppGwe4YqSMkF
bLDleGQWLoaDSpEWtESisb4JiLaY4H+Kk0EyAhPSb+49JfUozYl+lf7iFN3qRq/S
IXXTh6z0S7Qa8EYDhKGCrpI03/+qprwy+my6fpWHi6aUIk4holUCmWvFxZDfixox
K0RlqbFDl2JXMBquwlQpm8u5wrsic1ksIv9z8x9zh4PJqNpCah0ciemI3YGRQqSe
/mRRXBiSn9YQBUPcaeqCYan+snGADFwHuXCd9xIAdFBolw9R9HTedHGUfVXPJDiF
4VusfX6BRR/qaadB+bqEArF/TzuDUr6FvOR4o8lUUxgLuZ/7HO+bHnaPFKYHHSm+
+z1lVDhhYuSZ8ax3T0C3FZpb7HMjZtpEorSV5ElKJEJwrhrBCMOD8L01EoSPrGlS
1w22i9uGHMn/uGQKo28u7AsCAwEAAQ==
-----END PUBLIC KEY-----
"""

_MAX_SIGNATURE = 16 * 1024
# A signed list from the future by more than this is refused (clock trouble or a forged timestamp).
_FUTURE_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class Parsed:
    """What a feed's parser learned from a verified document."""

    version: str
    timestamp: datetime
    summary: str  # one line for the user: "75 logs"


@dataclass(frozen=True)
class Feed:
    name: str
    url: str
    signature_url: str
    key_pem: bytes
    filename: str  # stored as DATA_DIR/filename, signature beside it as filename + ".sig"
    content_types: tuple[str, ...]
    max_bytes: int
    parse: Callable[[bytes, str], Parsed]  # raises DataError


def _parse_ct(raw: bytes, source: str) -> Parsed:
    logs = CTLogList.from_json(raw, source)
    return Parsed(logs.version, logs.timestamp, f"{len(logs.logs)} logs")


CT_LOG_LIST = Feed(
    name="CT log list",
    url="https://www.gstatic.com/ct/log_list/v3/log_list.json",
    signature_url="https://www.gstatic.com/ct/log_list/v3/log_list.sig",
    key_pem=GOOGLE_CT_LOG_LIST_KEY,
    filename="ct_log_list.json",
    content_types=("application/json",),
    max_bytes=8 << 20,
    parse=_parse_ct,
)


@dataclass(frozen=True)
class UpdateResult:
    feed: str
    path: Path
    version: str
    timestamp: datetime
    sha256: str
    summary: str
    changed: bool  # False: the stored copy already was this document
    previous_version: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"feed": self.feed, "path": str(self.path), "version": self.version, "timestamp": iso(self.timestamp),
                "sha256": self.sha256, "summary": self.summary, "changed": self.changed,
                "previous_version": self.previous_version}


def verify_signature(key_pem: bytes, data: bytes, signature: bytes, what: str) -> None:
    """Check a detached signature (RSA PKCS#1 v1.5, ECDSA or Ed25519; SHA-256).

    Raises:
        FetchError: the signature does not verify, or the key is of an unsupported type.
    """
    key = serialization.load_pem_public_key(key_pem)
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        else:
            raise FetchError(what, f"unsupported signing key type {type(key).__name__}", key="error.update.key_type",
                             kind=type(key).__name__)
    except InvalidSignature as exc:
        raise FetchError(what, "the signature does not match: the download was altered, truncated or forged; "
                               "nothing was changed", key="error.update.signature") from exc


def _expect(resp: HttpResponse, content_types: tuple[str, ...] | None) -> bytes:
    if resp.status != 200:
        raise FetchError(resp.url, f"the server answered HTTP {resp.status}; nothing was changed",
                         key="error.update.http_status", status=resp.status)
    if content_types is not None and resp.content_type not in content_types:
        # A captive portal or block page answers 200 with HTML: say that, rather than "bad signature".
        raise FetchError(resp.url, f"unexpected content type {resp.content_type or 'none'!r} (expected "
                                   f"{' or '.join(content_types)}): a login or block page?; nothing was changed",
                         key="error.update.content_type", content_type=repr(resp.content_type or "none"),
                         expected=" or ".join(content_types))
    return resp.body


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        return meta if isinstance(meta, dict) else {}
    except (OSError, ValueError):
        return {}


def update(feed: Feed, directory: Path, now: datetime, *, cafile: str, timeout: float = 30.0,
           proxy: Proxy | None = None, fetch: Callable[..., HttpResponse] = https_get) -> UpdateResult:
    """Download, verify and store ``feed`` in ``directory``; the previous copy is kept as ``*.previous``.

    Raises:
        FetchError: download failed, wrong status/content type, bad signature, stale or replayed document.
        DataError: the signed document is not what the feed's parser accepts.
    """
    body = _expect(fetch(feed.url, cafile=cafile, timeout=timeout, max_bytes=feed.max_bytes, proxy=proxy),
                   feed.content_types)
    signature = _expect(fetch(feed.signature_url, cafile=cafile, timeout=timeout, max_bytes=_MAX_SIGNATURE,
                              proxy=proxy), None)
    verify_signature(feed.key_pem, body, signature, feed.url)
    parsed = feed.parse(body, feed.url)
    if parsed.timestamp > now + _FUTURE_SLACK:
        raise FetchError(feed.url, f"signed {iso(parsed.timestamp)}, in the future: check this device's clock",
                         key="error.update.future", signed=iso(parsed.timestamp))
    if now - parsed.timestamp > MAX_LIST_AGE:
        raise FetchError(feed.url, f"signed {iso(parsed.timestamp)}, more than {MAX_LIST_AGE.days} days ago: an "
                                   "old copy is being replayed; nothing was changed",
                         key="error.update.too_old", signed=iso(parsed.timestamp), days=MAX_LIST_AGE.days)

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / feed.filename
    meta_path = directory / (feed.filename + ".meta.json")
    meta = _read_meta(meta_path)
    digest = hashlib.sha256(body).hexdigest()
    old_ts = meta.get("timestamp")
    if isinstance(old_ts, str) and path.is_file():
        try:
            stored_at = parse_iso(old_ts)
        except ValueError:
            stored_at = None
        # Rollback protection: an attacker can replay an older, validly signed list that still trusts a log
        # since disqualified. Never go back in time.
        if stored_at is not None and parsed.timestamp < stored_at:
            raise FetchError(feed.url, f"signed {iso(parsed.timestamp)}, older than the stored copy "
                                       f"({old_ts}): refusing to go back; nothing was changed",
                             key="error.update.rollback", signed=iso(parsed.timestamp), stored=old_ts)
    previous_version = meta.get("version") if isinstance(meta.get("version"), str) else None
    if path.is_file() and meta.get("sha256") == digest:
        return UpdateResult(feed.name, path, parsed.version, parsed.timestamp, digest, parsed.summary, False,
                            previous_version)

    # Copies, then atomic replaces: at every instant a complete current copy exists.
    for name in (feed.filename, feed.filename + ".sig"):
        if (directory / name).is_file():
            write_atomic(directory / (name + ".previous"), (directory / name).read_bytes())
    write_atomic(directory / (feed.filename + ".sig"), signature)
    write_atomic(path, body)
    write_atomic(meta_path, json.dumps({
        "feed": feed.name, "url": feed.url, "version": parsed.version, "timestamp": iso(parsed.timestamp),
        "sha256": digest, "fetched_at": iso(now), "summary": parsed.summary}, indent=2).encode())
    return UpdateResult(feed.name, path, parsed.version, parsed.timestamp, digest, parsed.summary, True,
                        previous_version)


def local_fetch(files: dict[str, Path], content_type: str) -> Callable[..., HttpResponse]:
    """A ``fetch`` that reads files instead of URLs: an update carried on a USB stick into a censored network
    is verified exactly like a download."""
    def fetch(url: str, *, max_bytes: int, **_: object) -> HttpResponse:
        path = files[url]
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise FetchError(str(path), f"cannot read: {exc.strerror or exc}", key="error.file.unreadable",
                             detail=exc.strerror or exc) from exc
        if len(body) > max_bytes:
            raise FetchError(str(path), f"larger than the {max_bytes} bytes allowed", key="error.update.file_too_large",
                             limit=max_bytes)
        return HttpResponse(str(path), 200, content_type, body)
    return fetch


def load_key(path: Path) -> bytes:
    """A PEM public key from a file (for mirrors signing with their own key, and for tests).

    Raises:
        DataError: unreadable or not a PEM public key.
    """
    try:
        raw = path.read_bytes()
        serialization.load_pem_public_key(raw)
    except OSError as exc:
        raise DataError(str(path), f"cannot read: {exc.strerror or exc}", key="error.file.unreadable",
                        detail=exc.strerror or exc) from exc
    except ValueError as exc:
        raise DataError(str(path), f"not a PEM public key ({exc})", key="error.update.not_pem_key",
                        detail=exc) from exc
    return raw
