"""Windows: the ROOT and CA stores via ``ssl.enum_certificates`` (injectable, so tested off Windows)."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable
from typing import Any

from certguard.device import places
from certguard.judge import certs
from certguard.judge.storescan import TRUSTED, UNTRUSTED, Installed, Problem, StoreScan

_SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
EnumCerts = Callable[[str], Iterable[tuple[bytes, str, Any]]]


def read_windows(enum: EnumCerts | None = None) -> StoreScan:
    """ROOT and CA via ``ssl.enum_certificates`` (CryptoAPI's merged view of the machine and user stores)."""
    if enum is None:
        enum = ssl.enum_certificates  # type: ignore[attr-defined,unused-ignore]
    scan = StoreScan()
    for store in ("ROOT", "CA"):
        location = places.WINDOWS_STORE.format(name=store)
        try:
            rows = list(enum(store))
        except OSError as exc:
            scan.problems.append(Problem("windows", location, f"cannot enumerate: {exc}", "problem.cannot_enumerate",
                                         (("detail", str(exc)),)))
            continue
        scan.scanned.append(("windows", location))
        for der, encoding, purposes in rows:
            if encoding != "x509_asn":
                continue
            # purposes: True (all) or a set of EKU OIDs the store allows this certificate for
            ok = purposes is True or _SERVER_AUTH in purposes
            is_root = store == "ROOT"
            trust = TRUSTED if ok and is_root else UNTRUSTED
            detail = "all purposes" if purposes is True else ", ".join(sorted(purposes))
            try:
                certs.parse(der)
            except ValueError as exc:
                scan.problems.append(Problem("windows", location, f"not a readable certificate ({exc})",
                                             "problem.not_certificate", (("detail", str(exc)),)))
                continue
            scan.entries.append(Installed(der, "windows", location, trust,
                                          detail if is_root else f"intermediate store; {detail}"))
    return scan
