"""The public anchors: Mozilla's program (certifi, or --ca-bundle) and the roots that left it (package data).

Mozilla's set is the reference for "publicly trusted". The device's own stores are never used for that (they may
be poisoned: that is the point of certguard); ``certguard.device`` reads them only to say "your device trusts it".
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import certifi
from cryptography import x509

from certguard.data import files
from certguard.errors import DataError
from certguard.judge import certs
from certguard.judge.exroots import DISTRUSTED, RETIRED, ExRoot, ExRoots
from certguard.judge.verify import AnchorSet

EXROOTS_FILE = "legacy_roots.toml"


def mozilla(ca_bundle: Path | None = None) -> AnchorSet:
    """Mozilla's roots from certifi, or the anchors in ``ca_bundle`` instead (for tests and audits).

    Raises:
        DataError: the bundle is unreadable or holds no certificate.
    """
    if ca_bundle is None:
        path, source = Path(certifi.where()), f"mozilla (certifi {certifi.__version__})"
    else:
        path, source = ca_bundle, f"ca-bundle {ca_bundle}"
    data = files.read_bounded(path, 16 << 20)  # certifi's bundle is ~290 KB; a user's may be larger, not unbounded
    # Per process, keyed by the file's exact content: the daemon and the API rebuild trust contexts (settings
    # changes, checks) and would otherwise parse the same ~120 roots and build the same Store each time. A file
    # that changed by one byte is another key.
    key = (source, hashlib.sha256(data).digest())
    with _MOZILLA_LOCK:
        cached = _MOZILLA.get(key)
    if cached is not None:
        return cached
    anchors = AnchorSet.from_pem_file(source, data)
    with _MOZILLA_LOCK:
        if len(_MOZILLA) >= 8:
            _MOZILLA.clear()
        _MOZILLA[key] = anchors
    return anchors


_MOZILLA: dict[tuple[str, bytes], AnchorSet] = {}
_MOZILLA_LOCK = threading.Lock()


def exroots(current: AnchorSet) -> ExRoots:
    """The shipped roots that left Mozilla's program, minus any that ``current`` (today's Mozilla set) holds.

    Raises:
        DataError: the shipped file is malformed (a packaging bug: every entry is checked by the test suite).
    """
    loaded = files.load_builtin(EXROOTS_FILE)
    src = loaded.source
    retired: list[x509.Certificate] = []
    distrusted: list[x509.Certificate] = []
    info: dict[str, ExRoot] = {}
    for i, t in enumerate(files.tables(loaded.doc, "root", src)):
        where = f"root[{i}]"
        reason = files.opt_str(t, "reason", where, src)
        if reason not in (RETIRED, DISTRUSTED):
            raise DataError(src, f"{where}: reason must be {RETIRED!r} or {DISTRUSTED!r}")
        pem = files.opt_str(t, "pem", where, src) or ""
        ders = certs.split_pem_or_der(pem.encode("ascii", "replace"), f"{src} {where}")
        sha = files.hex64(t.get("sha256"), f"{where}.sha256", src)
        if len(ders) != 1 or certs.sha256_hex(ders[0]) != sha:
            raise DataError(src, f"{where}: the pem is not the one certificate with sha256 {sha}")
        if sha in current.sha256s:
            continue
        try:
            cert = certs.parse(ders[0])
        except ValueError as exc:
            raise DataError(src, f"{where}: not a certificate ({exc})") from exc
        (retired if reason == RETIRED else distrusted).append(cert)
        info[sha] = ExRoot(name=files.opt_str(t, "name", where, src) or sha[:16], sha256=sha,
                           spki_sha256=files.hex64(t.get("spki_sha256"), f"{where}.spki_sha256", src),
                           reason=reason, last_certifi=str(t.get("last_certifi", "")),
                           removed_in_certifi=str(t.get("removed_in_certifi", "")),
                           references=files.str_list(t, "references", where, src))
    return ExRoots(
        retired=AnchorSet("mozilla, retired roots", tuple(retired)) if retired else None,
        distrusted=AnchorSet("mozilla, distrusted roots", tuple(distrusted)) if distrusted else None,
        info=info, sha256=loaded.sha256, source=src)


class LazyExRoots(ExRoots):
    """``exroots(...)``, read from the shipped file on first use of any attribute.

    Only a chain that no Mozilla root vouches for looks at the ex-Mozilla roots (and a report's provenance), and
    parsing that TOML file of 109 PEM roots costs more than judging 200 chains: a run of genuine chains never pays it.

    Raises (on first use):
        DataError: the shipped file is malformed (a packaging bug the test suite rules out).
    """

    def __init__(self, load: Callable[[], ExRoots]) -> None:  # no super().__init__: every field is a property here
        object.__setattr__(self, "_load", load)
        object.__setattr__(self, "_value", None)
        object.__setattr__(self, "_lock", threading.Lock())

    def _get(self) -> ExRoots:
        with self._lock:
            if self._value is None:
                object.__setattr__(self, "_value", self._load())
            value: ExRoots = self._value
            return value

    def __getattribute__(self, name: str) -> Any:
        if name in _EXROOTS_FIELDS:
            return getattr(object.__getattribute__(self, "_get")(), name)
        return object.__getattribute__(self, name)


_EXROOTS_FIELDS = frozenset({"retired", "distrusted", "info", "sha256", "source"})
