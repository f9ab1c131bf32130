"""Certificate files and folders, and what every reader shares: the command runner and the bundle parser.

Readers only read files and run local commands (``certutil``, ``security``, ``trust``); never the network.
Platform-specific commands are injectable (``run``), so their parsers are tested against recorded output.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from certguard.errors import DataError
from certguard.judge import certs
from certguard.judge.storescan import TRUSTED, Installed, Problem, StoreScan

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[bytes]"]


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(argv), capture_output=True, timeout=60, check=False)  # noqa: S603


def _certs_from_bytes(data: bytes, store: str, location: str, trust: str, scan: StoreScan) -> None:
    """Add every certificate of a PEM bundle or DER file; a bad one is a problem, the good ones still count."""
    try:
        ders = certs.split_pem_or_der(data, location)
    except DataError as exc:
        scan.problems.append(Problem(store, location, exc.message, exc.key, tuple(exc.params.items())))
        return
    for i, der in enumerate(ders):
        try:
            certs.parse(der)
        except ValueError as exc:
            scan.problems.append(Problem(store, f"{location} #{i + 1}", f"not a readable certificate ({exc})",
                                         "problem.not_certificate", (("detail", str(exc)),)))
            continue
        scan.entries.append(Installed(der, store, location, trust))


def read_file(path: Path, store: str = "file", trust: str = TRUSTED) -> StoreScan:
    scan = StoreScan()
    try:
        data = path.read_bytes()
    except OSError as exc:
        scan.problems.append(Problem(store, str(path), f"cannot read: {exc.strerror or exc}", "problem.cannot_read",
                                     (("detail", str(exc.strerror or exc)),)))
        return scan
    scan.scanned.append((store, str(path)))
    _certs_from_bytes(data, store, str(path), trust, scan)
    return scan


_CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")


def read_folder(folder: Path, store: str = "file", trust: str = TRUSTED) -> StoreScan:
    """Every certificate file directly in ``folder`` (as OpenSSL's hashed directories and anchor folders)."""
    scan = StoreScan()
    try:
        names = sorted(p for p in folder.iterdir() if p.suffix.lower() in _CERT_SUFFIXES or re.fullmatch(
            r"[0-9a-f]{8}\.\d+", p.name))
    except OSError as exc:
        scan.problems.append(Problem(store, str(folder), f"cannot list: {exc.strerror or exc}", "problem.cannot_list",
                                     (("detail", str(exc.strerror or exc)),)))
        return scan
    scan.scanned.append((store, str(folder)))
    for p in names:
        one = read_file(p, store, trust)
        scan.entries += one.entries
        scan.problems += one.problems
    return scan
