"""The public anchors: Mozilla's program (certifi, or --ca-bundle) and the roots that left it (package data).

Mozilla's set is the reference for "publicly trusted". The device's own stores are never used for that (they may
be poisoned: that is the point of certguard); ``certguard.device`` reads them only to say "your device trusts it".
"""

from __future__ import annotations

from pathlib import Path

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
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    return AnchorSet.from_pem_file(source, data)


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
